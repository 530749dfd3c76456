import asyncio
import contextlib
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from commands.models import Command, CommandStatus
from commands.services import outcome_group

# Re-read the command this often even without an announcement (one lost while
# Redis restarted, say): the database, not the announcement, is the truth.
RECHECK_SECONDS = 1.0
WITH_CREATOR = Command.objects.select_related("created_by")


def await_outcome(command: Command, wait: float) -> Command:
    """The command once it has ended (or is held), or as it stands after
    ``wait`` seconds. Woken by the announcement ``command_finish`` (or
    ``command_route``, holding it) makes after its commit, over the channel
    layer, so the outcome may come from any csms process."""
    layer = get_channel_layer()
    group = outcome_group(command.id)
    # Listening before reading: an end announced in between is not missed.
    channel = async_to_sync(_listen)(layer, group)
    try:
        deadline = time.monotonic() + wait
        while True:
            # With its creator, whom the API's answer names.
            command.refresh_from_db(from_queryset=WITH_CREATOR)
            remaining = deadline - time.monotonic()
            # A held command waits for a reconnect: no use keeping the caller.
            if command.status not in (CommandStatus.QUEUED, CommandStatus.SENT) or remaining <= 0:
                return command
            # Waiting, the request needs no database connection: give it back
            # to the pool (PostgreSQL), where the csms may need it for this
            # very command.
            if not connection.in_atomic_block:
                connection.close()
            async_to_sync(_receive)(layer, channel, min(remaining, RECHECK_SECONDS))
    finally:
        async_to_sync(layer.group_discard)(group, channel)


async def _listen(layer: Any, group: str) -> str:
    """A channel of its own, in the group: one hop to the event loop, not two."""
    channel: str = await layer.new_channel("command-wait.")
    await layer.group_add(group, channel)
    return channel


async def _receive(layer: Any, channel: str, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), seconds)
