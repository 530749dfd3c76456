"""Held commands of many chargers that reconnect together are taken in one
batch: each charger gets its own, oldest first, and expired ones are not sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargepoints.tests.factories import T0, ChargePointFactory
from commands.models import Command, CommandStatus
from commands.services import commands_take_held

pytestmark = pytest.mark.django_db


def held(charge_point, *, until, action="Reset") -> Command:
    return Command.objects.create(
        charge_point=charge_point,
        ocpp_version="1.6",
        action=action,
        request={},
        status=CommandStatus.HELD,
        hold_until=until,
    )


def test_each_charger_takes_its_own_held_commands_oldest_first():
    one, two, idle, other = (ChargePointFactory() for _ in range(4))
    later = T0 + timedelta(hours=1)
    first = held(one, until=later)
    expired = held(one, until=T0 - timedelta(seconds=1))
    second = held(one, until=later, action="ClearCache")
    of_two = held(two, until=later)
    not_asked = held(other, until=later)

    taken = commands_take_held(charge_point_ids=[two.id, idle.id, one.id], at=T0)

    assert taken == [[of_two.id], [], [first.id, second.id]]
    expired.refresh_from_db()
    assert expired.status == CommandStatus.EXPIRED
    assert expired.finished_at == T0
    not_asked.refresh_from_db()
    assert not_asked.status == CommandStatus.HELD
