"""factory_boy factories for transactions and their meter values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from chargepoints.models import OcppVersion
from chargepoints.tests.factories import T0, ChargePointFactory
from transactions.models import ENERGY_REGISTER, MeterValue, Transaction, TransactionStatus


class TransactionFactory(DjangoModelFactory):
    class Meta:
        model = Transaction

    charge_point = factory.SubFactory(ChargePointFactory)
    ocpp_transaction_id = factory.Sequence(str)
    ocpp_version = OcppVersion.V16
    evse_id = 1
    connector_id = 1
    status = TransactionStatus.ACTIVE
    id_token_value = "TAG000001"
    authorization_status = "Accepted"
    started_at = factory.Sequence(lambda n: T0 + timedelta(hours=n))
    meter_start_wh = Decimal("1000.000")


class MeterValueFactory(DjangoModelFactory):
    class Meta:
        model = MeterValue

    transaction = factory.SubFactory(TransactionFactory)
    # The transaction's charger, or a charger of its own for an unlinked value.
    charge_point = factory.Maybe(
        "transaction",
        yes_declaration=factory.SelfAttribute("transaction.charge_point"),
        no_declaration=factory.SubFactory(ChargePointFactory),
    )
    evse_id = 1
    connector_id = 1
    timestamp = factory.Sequence(lambda n: T0 + timedelta(minutes=n))
    measurand = ENERGY_REGISTER
    unit = "Wh"
    context = "Sample.Periodic"
    value = factory.Sequence(lambda n: str(1000 + 10 * n))
    numeric_value = factory.LazyAttribute(lambda o: Decimal(o.value))
