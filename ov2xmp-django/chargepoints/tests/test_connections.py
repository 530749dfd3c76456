"""Connects, boots and disconnects of many chargers written together (the csms
batches them, so that a fleet reconnecting after an outage does not cost a
few statements per charger): each keeps its own meaning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.models import ChargePoint, RegistrationStatus
from chargepoints.services import (
    BootInfo,
    ConnectionReport,
    chargepoints_connect,
    chargepoints_disconnect,
    chargepoints_record_boot,
)
from chargepoints.tests.factories import T0, ChargePointFactory

pytestmark = pytest.mark.django_db


def connecting(charge_point_id: str, connection_id: str, **extra) -> ConnectionReport:
    return ConnectionReport(
        charge_point_id=charge_point_id,
        ocpp_version=extra.pop("ocpp_version", "1.6"),
        connection_id=connection_id,
        remote_address=extra.pop("remote_address", "192.0.2.1"),
        registration_status_if_new=extra.pop(
            "registration_status_if_new", RegistrationStatus.PENDING
        ),
        csms_channel=extra.pop("csms_channel", "csms.one"),
    )


def test_known_and_unknown_chargers_connect_in_one_batch():
    rejected = ChargePointFactory(registration_status=RegistrationStatus.REJECTED)
    accepted = ChargePointFactory(registration_status=RegistrationStatus.ACCEPTED)

    statuses = chargepoints_connect(
        reports=[
            connecting(rejected.id, "c1", ocpp_version="2.0.1"),
            connecting("NEW-1", "c2", remote_address="198.51.100.7"),
            connecting(accepted.id, "c3"),
        ],
        at=T0,
    )

    # Each answer belongs to its own charger, in the order asked.
    assert statuses == [
        RegistrationStatus.REJECTED,
        RegistrationStatus.PENDING,
        RegistrationStatus.ACCEPTED,
    ]
    new = ChargePoint.objects.get(id="NEW-1")
    assert new.registration_status == RegistrationStatus.PENDING
    assert (new.connection_id, new.remote_address, new.is_connected) == (
        "c2",
        "198.51.100.7",
        True,
    )
    rejected.refresh_from_db()
    assert (rejected.ocpp_version, rejected.connection_id, rejected.csms_channel) == (
        "2.0.1",
        "c1",
        "csms.one",
    )
    assert rejected.connected_at == rejected.last_seen_at == T0


def test_a_charger_created_meanwhile_elsewhere_keeps_its_status():
    """Another csms process (or the API) created the charger after this batch
    looked: the insert is skipped and the stored status answered."""
    ChargePointFactory(id="RACE-1", registration_status=RegistrationStatus.REJECTED)
    real_filter = ChargePoint.objects.filter
    calls = []

    def first_sees_nothing(*args, **kwargs):
        calls.append(kwargs)
        queryset = real_filter(*args, **kwargs)
        return queryset.none() if len(calls) == 1 else queryset

    ChargePoint.objects.filter = first_sees_nothing  # type: ignore[method-assign]
    try:
        statuses = chargepoints_connect(
            reports=[connecting("RACE-1", "c9", registration_status_if_new="Accepted")], at=T0
        )
    finally:
        del ChargePoint.objects.filter
    assert statuses == [RegistrationStatus.REJECTED]
    assert ChargePoint.objects.get(id="RACE-1").connection_id == "c9"


def test_only_the_current_connection_marks_its_charger_offline():
    replaced = ChargePointFactory(is_connected=True, connection_id="new")
    ended = ChargePointFactory(is_connected=True, connection_id="only", csms_channel="csms.one")
    untouched = ChargePointFactory(is_connected=True, connection_id="other")

    later = T0 + timedelta(minutes=1)
    chargepoints_disconnect(connections=[(replaced.id, "old"), (ended.id, "only")], at=later)

    for charge_point in (replaced, ended, untouched):
        charge_point.refresh_from_db()
    # A late close of a replaced connection does not hide the one that replaced it.
    assert (replaced.is_connected, replaced.connection_id) == (True, "new")
    assert (ended.is_connected, ended.connection_id, ended.csms_channel) == (False, "", "")
    assert ended.disconnected_at == later
    assert untouched.is_connected


def test_boots_of_many_chargers_are_stored_each_with_its_own_data():
    pending = ChargePointFactory(registration_status=RegistrationStatus.PENDING)
    accepted = ChargePointFactory(registration_status=RegistrationStatus.ACCEPTED)

    statuses = chargepoints_record_boot(
        boots=[
            (accepted.id, BootInfo(vendor="V1", model="M1", firmware_version="1.0")),
            (pending.id, BootInfo(vendor="V2", model="M2", reason="PowerUp", iccid="8931")),
        ],
        at=T0,
    )

    assert statuses == [RegistrationStatus.ACCEPTED, RegistrationStatus.PENDING]
    accepted.refresh_from_db()
    pending.refresh_from_db()
    assert (accepted.vendor, accepted.model, accepted.firmware_version) == ("V1", "M1", "1.0")
    assert (pending.vendor, pending.boot_reason, pending.iccid) == ("V2", "PowerUp", "8931")
    assert pending.last_boot_at == pending.last_seen_at == T0


def statements(write) -> int:
    with CaptureQueriesContext(connection) as captured:
        write()
    return len(captured)


# (Not more: SQLite takes at most 999 parameters, so Django splits larger inserts.)
@pytest.mark.parametrize("count", [1, 10])
def test_statements_do_not_grow_with_the_batch(count):
    known = [ChargePointFactory().id for _ in range(count)]
    unknown = [f"UNKNOWN-{count}-{n}" for n in range(count)]
    boot = BootInfo(vendor="V", model="M")
    counts = {
        "connect known": statements(
            lambda: chargepoints_connect(reports=[connecting(id, f"c-{id}") for id in known], at=T0)
        ),
        "connect unknown": statements(
            lambda: chargepoints_connect(
                reports=[connecting(id, f"c-{id}") for id in unknown], at=T0
            )
        ),
        "boot": statements(
            lambda: chargepoints_record_boot(boots=[(id, boot) for id in known], at=T0)
        ),
        "disconnect": statements(
            lambda: chargepoints_disconnect(connections=[(id, f"c-{id}") for id in known], at=T0)
        ),
    }
    # Savepoints aside, a fixed number of statements whatever the batch size.
    assert counts == {
        "connect known": 2 + 2,
        "connect unknown": 4 + 2,
        "boot": 2 + 2,
        "disconnect": 2 + 2,  # which are current (for the live updates), then the update
    }
    assert ChargePoint.objects.filter(id__in=known, is_connected=False).count() == count
