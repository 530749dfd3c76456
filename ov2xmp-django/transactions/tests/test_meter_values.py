"""MeterValues of many chargers written together (the csms batches them)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.tests.factories import T0, ChargePointFactory
from core.testing import generic_plan
from transactions.meter_values import MeterValuesReport, _statement, meter_values_record
from transactions.models import MeterValue, Transaction
from transactions.services import MeterReading, SampledValue, transaction_stop
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def energy(session: Transaction, wh: str, at, *, ocpp_id: str | None = None) -> MeterValuesReport:
    return MeterValuesReport(
        charge_point_id=session.charge_point_id,
        evse_id=1,
        connector_id=1,
        ocpp_transaction_id=ocpp_id or session.ocpp_transaction_id,
        readings=[
            MeterReading(
                timestamp=at,
                sampled_values=[
                    SampledValue(value=wh, unit="Wh"),
                    SampledValue(value="7200", measurand="Power.Active.Import", unit="W"),
                ],
            )
        ],
    )


def test_each_message_is_linked_stored_once_and_moves_its_session_forward(caplog):
    first, second = TransactionFactory.create_batch(2, meter_last_wh=None, meter_last_at=None)
    resent = energy(first, "1500", T0 + timedelta(minutes=1))
    meter_values_record(reports=[resent])

    meter_values_record(
        reports=[
            resent,  # the charger missed our answer and sent it again
            energy(first, "1400", T0 + timedelta(seconds=30)),  # older: stored, not "last"
            energy(second, "2.5", T0 + timedelta(minutes=2)),
            energy(second, "9", T0 + timedelta(minutes=3), ocpp_id="999"),  # unknown session
        ]
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.meter_last_wh, first.meter_last_at) == (Decimal(1500), T0 + timedelta(minutes=1))
    assert (second.meter_last_wh, second.meter_last_at) == (
        Decimal("2.5"),
        T0 + timedelta(minutes=2),
    )
    assert first.meter_values.count() == 4  # two readings of two samples, none twice
    assert second.meter_values.count() == 2
    unlinked = MeterValue.objects.filter(transaction=None)
    assert sorted(v.value for v in unlinked) == ["7200", "9"]
    assert "meter values for unknown transaction 999 kept unlinked" in caplog.text
    assert "2 meter value(s) already stored" in caplog.text


def test_the_same_sample_twice_in_one_batch_is_stored_once():
    session = TransactionFactory()
    same = energy(session, "10", T0)
    meter_values_record(reports=[same, same])
    assert session.meter_values.count() == 2


def test_without_a_transaction_the_values_are_kept_on_the_charger():
    charger = ChargePointFactory()
    meter_values_record(
        reports=[
            MeterValuesReport(
                charge_point_id=charger.id,
                evse_id=0,
                connector_id=None,
                readings=[MeterReading(timestamp=T0, sampled_values=[SampledValue(value="5")])],
            )
        ]
    )
    assert list(MeterValue.objects.values_list("charge_point_id", "evse_id", "transaction")) == [
        (charger.id, 0, None)
    ]


def statements_for(count: int) -> int:
    sessions = TransactionFactory.create_batch(count)
    with CaptureQueriesContext(connection) as captured:
        meter_values_record(reports=[energy(s, "5000", T0 + timedelta(days=1)) for s in sessions])
    assert Transaction.objects.filter(
        pk__in=[s.pk for s in sessions], meter_last_wh=5000
    ).count() == (count)
    return len(captured)


def test_statements_do_not_grow_with_the_batch():
    assert statements_for(1) == statements_for(25)


def test_of_readings_at_the_same_time_the_later_one_is_last():
    session = TransactionFactory(meter_last_wh=None, meter_last_at=None)
    meter_values_record(
        reports=[
            energy(session, "10", T0),
            MeterValuesReport(
                charge_point_id=session.charge_point_id,
                evse_id=1,
                connector_id=1,
                ocpp_transaction_id=session.ocpp_transaction_id,
                readings=[
                    MeterReading(
                        timestamp=T0, sampled_values=[SampledValue(value="11", unit="Wh")]
                    ),
                    MeterReading(
                        timestamp=T0, sampled_values=[SampledValue(value="2", unit="kWh")]
                    ),
                ],
            ),
        ]
    )
    session.refresh_from_db()
    assert (session.meter_last_wh, session.meter_last_at) == (Decimal(2000), T0)


def test_signed_values_are_kept_whole_and_have_no_number():
    session = TransactionFactory()
    signed = {"signedMeterData": "abc", "signingMethod": "ECDSA", "encodingMethod": "OCMF"}
    sample = SampledValue(value="abc", format="SignedData", signed_meter_value=signed)
    report = MeterValuesReport(
        charge_point_id=session.charge_point_id,
        evse_id=1,
        connector_id=1,
        ocpp_transaction_id=session.ocpp_transaction_id,
        readings=[MeterReading(timestamp=T0, sampled_values=[sample])],
    )
    assert meter_values_record(reports=[report]) == 1
    stored = session.meter_values.get()
    assert (stored.signed_meter_value, stored.numeric_value) == (signed, None)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_on_postgresql_a_batch_is_one_statement():
    sessions = TransactionFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        meter_values_record(reports=[energy(s, "5000", T0 + timedelta(days=1)) for s in sessions])
    assert len(captured) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL writes it in one")
def test_the_statement_s_generic_plan_probes_indexes_and_reads_no_table_whole():
    # Planned while the tables are empty, as a prepared statement's plan is
    # kept: with a join in its place, each batch read the sessions and all
    # meter values stored so far.
    plan = generic_plan(_statement())
    assert "Seq Scan on transactions_metervalue" not in plan, plan
    assert "Seq Scan on transactions_transaction" not in plan, plan
    assert_stored_samples_probed_by_charger_and_time(plan)


def assert_stored_samples_probed_by_charger_and_time(plan: str) -> None:
    """The look-up of a sample stored before probes (charger, timestamp),
    not every sample the charger ever sent."""
    probe = plan[plan.index("on transactions_metervalue m") :]
    condition = probe.split("Index Cond:")[1].split("\n")[0]
    assert "charge_point_id" in condition, plan
    assert '"timestamp" =' in condition, plan


def flows(session: Transaction, at, **samples: tuple[str, str]) -> MeterValuesReport:
    """One reading of V2X flows: measurand keyword → (value, unit)."""
    names = {
        "export": "Energy.Active.Export.Register",
        "power_in": "Power.Active.Import",
        "power_out": "Power.Active.Export",
    }
    return MeterValuesReport(
        charge_point_id=session.charge_point_id,
        evse_id=1,
        connector_id=1,
        ocpp_transaction_id=session.ocpp_transaction_id,
        readings=[
            MeterReading(
                timestamp=at,
                sampled_values=[
                    SampledValue(value=value, unit=unit, measurand=names[name])
                    for name, (value, unit) in samples.items()
                ],
            )
        ],
    )


def test_v2x_flows_move_each_to_its_newest_reading_and_the_export_start_to_the_lowest():
    session = TransactionFactory()
    t = [T0 + timedelta(minutes=n) for n in range(4)]

    def state() -> tuple:
        session.refresh_from_db()
        return (
            session.export_start_wh,
            session.export_last_wh,
            session.power_import_w,
            session.power_export_w,
            session.flow_last_at,
        )

    # Out of order in one batch: each flow takes its newest reading.
    meter_values_record(
        reports=[
            flows(session, t[2], power_out=("5", "kW")),
            flows(session, t[1], export=("300", "Wh"), power_out=("3000", "W")),
        ]
    )
    assert state() == (300, 300, None, 5000, t[2])
    # Older than the last flow reading: only the export start can move (down).
    meter_values_record(reports=[flows(session, t[0], export=("0.1", "kWh"), power_in=("7", "kW"))])
    assert state() == (100, 300, None, 5000, t[2])
    meter_values_record(reports=[flows(session, t[3], export=("900", "Wh"), power_in=("0", "W"))])
    assert state() == (100, 900, 0, 5000, t[3])
    assert session.energy_exported_wh == 800
    assert session.meter_last_wh is None  # the import register: untouched


def test_numbers_no_column_can_hold_are_kept_as_text_and_fail_nothing_else():
    # PostgreSQL refuses them ("numeric field overflow"), which failed the batch.
    huge, fine = TransactionFactory.create_batch(2, meter_last_wh=None, meter_last_at=None)
    too_large = ["1e20", "100000000000000000"]  # Wh: beyond numeric_value, meter_last_wh
    meter_values_record(
        reports=[
            *(energy(huge, value, T0 + timedelta(minutes=n)) for n, value in enumerate(too_large)),
            energy(fine, "1500", T0),
        ]
    )

    huge.refresh_from_db()
    fine.refresh_from_db()
    assert (huge.meter_last_wh, fine.meter_last_wh) == (None, Decimal(1500))
    stored = MeterValue.objects.filter(transaction=huge, unit="Wh").order_by("timestamp")
    assert [(m.value, m.numeric_value) for m in stored] == [
        ("1e20", None),
        ("100000000000000000", Decimal("1e17")),
    ]


def test_readings_sent_with_a_stop_move_the_session_s_flows_too():
    session = TransactionFactory(started_at=T0)
    last = T0 + timedelta(minutes=4)
    readings = flows(session, last, export=("300", "Wh"), power_out=("7", "kW")).readings
    transaction_stop(
        charge_point_id=session.charge_point_id,
        ocpp_transaction_id=session.ocpp_transaction_id,
        stopped_at=T0 + timedelta(minutes=5),
        meter_stop_wh=Decimal(9000),
        readings=readings,
    )

    session.refresh_from_db()
    assert (session.export_start_wh, session.export_last_wh) == (300, 300)
    assert (session.power_export_w, session.flow_last_at) == (7000, last)
    assert (session.meter_stop_wh, session.meter_last_wh) == (9000, 9000)
