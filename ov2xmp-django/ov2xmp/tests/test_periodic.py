import asyncio
from datetime import timedelta

from chargepoints.models import ChargePoint
from commands.models import Command, CommandStatus
from core.time import utc_now
from csms.tests.helpers import eventually
from ov2xmp.services import run_beat_schedule


async def test_the_embedded_mode_runs_the_beat_schedule_itself(transactional_db, settings, caplog):
    settings.CELERY_BEAT_SCHEDULE = {
        "commands-expire": {"task": "commands.tasks.commands_expire", "schedule": 0.05},
        "broken": {"task": "no.such.task", "schedule": 0.05},
    }
    charge_point = await ChargePoint.objects.acreate(id="CP-1")
    held = await Command.objects.acreate(
        charge_point=charge_point,
        ocpp_version="1.6",
        action="Reset",
        request={"type": "Soft"},
        status=CommandStatus.HELD,
        hold_until=utc_now() - timedelta(seconds=1),
    )
    runner = asyncio.ensure_future(run_beat_schedule())

    async def expired() -> bool:
        return (await Command.objects.aget(id=held.id)).status == CommandStatus.EXPIRED

    try:
        await eventually(expired)
        # A task that fails is logged, and the others go on.
        await eventually(lambda: _logged(caplog, "periodic task broken failed"))
    finally:
        runner.cancel()


async def _logged(caplog, text: str) -> bool:
    return text in caplog.text
