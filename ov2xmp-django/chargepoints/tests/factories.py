"""factory_boy factories for charge points, EVSEs, connectors and their
status history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from factory.django import DjangoModelFactory

from chargepoints.models import (
    ChargePoint,
    Connector,
    Evse,
    OcppVersion,
    RegistrationStatus,
    StatusNotification,
)

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


class ChargePointFactory(DjangoModelFactory):
    class Meta:
        model = ChargePoint
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: f"CP-{n:04d}")
    registration_status = RegistrationStatus.ACCEPTED
    ocpp_version = OcppVersion.V16
    vendor = "Acme"
    model = "Wallbox-22"


class EvseFactory(DjangoModelFactory):
    class Meta:
        model = Evse

    charge_point = factory.SubFactory(ChargePointFactory)
    evse_id = factory.Sequence(lambda n: n + 1)


class ConnectorFactory(DjangoModelFactory):
    class Meta:
        model = Connector

    evse = factory.SubFactory(EvseFactory)
    connector_id = 1
    status = "Available"
    status_at = T0


class StatusNotificationFactory(DjangoModelFactory):
    class Meta:
        model = StatusNotification

    charge_point = factory.SubFactory(ChargePointFactory)
    evse_id = 1
    connector_id = 1
    status = "Available"
    error_code = "NoError"
    timestamp = factory.Sequence(lambda n: T0 + timedelta(minutes=n))
