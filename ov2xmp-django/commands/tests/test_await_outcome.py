"""The API waits for a command's outcome woken by the announcement that
``command_finish`` makes after its commit, not by polling the database.

As served, the API's view thread and the csms share one event loop (or
Redis): these tests run both from a running loop in the same way."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chargepoints.tests.factories import ChargePointFactory
from commands import selectors, services
from commands.catalog import command_spec
from commands.models import Command, CommandStatus
from commands.selectors import await_outcome
from commands.services import command_create, command_finish, command_route
from core.time import utc_now

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def sent_command() -> Command:
    return Command.objects.create(
        charge_point=ChargePointFactory(),
        ocpp_version="1.6",
        action="Reset",
        request={"type": "Soft"},
        status=CommandStatus.SENT,
    )


async def finish_after(command: Command, delay: float) -> None:
    await asyncio.sleep(delay)
    await database_sync_to_async(command_finish, thread_sensitive=False)(
        command_id=command.id,
        status=CommandStatus.ANSWERED,
        response={"status": "Accepted"},
        at=utc_now(),
    )


async def wait_for(command: Command, wait: float) -> Command:
    # As the csms and the API reach the ORM: their connections closed after use.
    return await database_sync_to_async(await_outcome, thread_sensitive=False)(command, wait)


async def test_the_waiter_is_woken_when_the_command_ends(monkeypatch):
    # Without the announcement the waiter would not look again for a minute.
    monkeypatch.setattr(selectors, "RECHECK_SECONDS", 60.0)
    command = await sent_command()
    started = time.monotonic()
    outcome, _ = await asyncio.gather(wait_for(command, 30), finish_after(command, 0.2))
    assert outcome.status == CommandStatus.ANSWERED
    assert time.monotonic() - started < 10  # not the 30 s of the wait


async def test_a_lost_announcement_costs_only_a_recheck(monkeypatch):
    monkeypatch.setattr(selectors, "RECHECK_SECONDS", 0.05)
    monkeypatch.setattr(services, "_announce_outcome", lambda command_id, status: None)
    command = await sent_command()
    outcome, _ = await asyncio.gather(wait_for(command, 30), finish_after(command, 0.1))
    assert outcome.status == CommandStatus.ANSWERED


async def test_without_an_end_the_command_is_returned_as_it_stands():
    command = await sent_command()
    outcome = await wait_for(command, 0.2)
    assert outcome.status == CommandStatus.SENT


async def held_after(command: Command, delay: float) -> None:
    """As the worker routes it in distributed mode: the charger is offline."""
    await asyncio.sleep(delay)
    await database_sync_to_async(command_route, thread_sensitive=False)(command_id=command.id)


async def test_a_command_held_for_an_offline_charger_ends_the_wait(monkeypatch):
    # The caller gets the held command (202) at once, not after a recheck.
    monkeypatch.setattr(selectors, "RECHECK_SECONDS", 60.0)
    command = await sync_to_async(command_create)(
        charge_point_id=(await sync_to_async(ChargePointFactory)()).id,
        spec=command_spec("1.6", "Reset"),
        payload={"type": "Soft"},
        hold_seconds=600,
    )
    started = time.monotonic()
    outcome, _ = await asyncio.gather(wait_for(command, 30), held_after(command, 0.2))
    assert outcome.status == CommandStatus.HELD
    assert time.monotonic() - started < 10  # not the 30 s of the wait


def test_the_outcome_is_read_with_its_creator(django_assert_num_queries):
    # The API's answer names who sent the command: no query of its own for that.
    creator = UserFactory()
    command = Command.objects.create(
        charge_point=ChargePointFactory(),
        ocpp_version="1.6",
        action="Reset",
        request={"type": "Soft"},
        created_by=creator,
    )
    command_finish(command_id=command.id, status=CommandStatus.ANSWERED, at=utc_now())
    outcome = await_outcome(Command.objects.get(id=command.id), 0)
    with django_assert_num_queries(0):
        assert outcome.created_by.username == creator.username
    assert outcome.status == CommandStatus.ANSWERED
