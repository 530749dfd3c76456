"""Commands left behind (held past their hold, or stranded by a csms process
that stopped) are finished like any other: their waiters hear it, and what
they were sent for (a charging profile, a reservation) records the failure."""

from __future__ import annotations

from datetime import timedelta

from chargepoints.tests.factories import ChargePointFactory
from commands.models import Command, CommandStatus
from commands.services import commands_expire_held, commands_fail_stranded
from core.time import utc_now
from smartcharging.models import ChargingProfile, ChargingProfileStatus

LONG_AGO = timedelta(hours=1)


def command(status: str, **fields) -> Command:
    made = Command.objects.create(
        charge_point_id="CP-1",
        ocpp_version="1.6",
        action=fields.pop("action", "Reset"),
        request=fields.pop("request", {"type": "Soft"}),
        status=status,
        **fields,
    )
    Command.objects.filter(pk=made.pk).update(created_at=utc_now() - LONG_AGO)
    return made


def held_profile(sent_by: Command) -> ChargingProfile:
    """Profile 5 of CP-1, on its way with ``sent_by``."""
    return ChargingProfile.objects.create(
        charge_point_id="CP-1",
        profile_id=5,
        evse_id=1,
        stack_level=1,
        purpose="TxDefaultProfile",
        kind="Absolute",
        charging_rate_unit="A",
        periods=[{"start_period": 0, "limit": "16"}],
        status=ChargingProfileStatus.SENT,
        command=sent_by,
    )


def test_a_stranded_profile_command_fails_the_profile_too(db):
    ChargePointFactory(id="CP-1")
    sent = command(
        CommandStatus.SENT,
        action="SetChargingProfile",
        request={"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 5}},
        sent_at=utc_now() - LONG_AGO,
    )
    profile = held_profile(sent)
    queued = command(CommandStatus.QUEUED)
    answered = command(CommandStatus.ANSWERED, sent_at=utc_now() - LONG_AGO)
    failed = commands_fail_stranded(
        at=utc_now(), queued_for=timedelta(minutes=5), sent_for=timedelta(minutes=5)
    )
    assert failed == 2
    statuses = {c.pk: c.status for c in Command.objects.all()}
    assert statuses == {
        sent.pk: CommandStatus.FAILED,
        queued.pk: CommandStatus.FAILED,
        answered.pk: CommandStatus.ANSWERED,
    }
    profile.refresh_from_db()
    assert profile.status == ChargingProfileStatus.FAILED


def test_held_commands_past_their_hold_expire_and_say_so_to_what_they_carried(db):
    ChargePointFactory(id="CP-1")
    past = command(
        CommandStatus.HELD,
        action="SetChargingProfile",
        request={"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 5}},
        hold_until=utc_now() - timedelta(seconds=1),
    )
    profile = held_profile(past)
    still = command(CommandStatus.HELD, hold_until=utc_now() + timedelta(minutes=5))
    assert commands_expire_held(at=utc_now()) == 1
    past.refresh_from_db()
    still.refresh_from_db()
    assert (past.status, still.status) == (CommandStatus.EXPIRED, CommandStatus.HELD)
    assert past.finished_at is not None
    assert "did not reconnect" in past.error_description
    profile.refresh_from_db()
    assert profile.status == ChargingProfileStatus.FAILED
