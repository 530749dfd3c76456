import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from commands.services import command_route, commands_expire_held, commands_fail_stranded
from core.time import utc_now

# Beyond its own bounds (queue wait, answer timeout), how long a command may
# stay Queued or Sent before it is given up as stranded (its csms process died).
STRANDED_MARGIN_SECONDS = 60.0


@shared_task(ignore_result=True)
def command_dispatch(command_id: str) -> None:
    """Pass a new command to the csms process that holds its charger."""
    command_route(command_id=uuid.UUID(command_id))


@shared_task(ignore_result=True)
def commands_expire() -> None:
    """Held commands past their hold expire; stranded ones fail."""
    config = settings.OV2XMP
    now = utc_now()
    commands_expire_held(at=now)
    commands_fail_stranded(
        at=now,
        queued_for=timedelta(seconds=config.command_queue_timeout + STRANDED_MARGIN_SECONDS),
        sent_for=timedelta(seconds=config.ocpp_response_timeout + STRANDED_MARGIN_SECONDS),
    )
