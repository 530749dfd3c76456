"""Smart charging's background work: rebalancing load groups."""

from __future__ import annotations

from celery import shared_task

from commands.services import command_dispatch_queue
from core.background import run_in_background, run_on_thread, run_or_queue
from core.time import utc_now
from smartcharging.load_management import load_group_ids_of, load_group_rebalance, load_groups_due


@shared_task
def load_group_rebalance_task(group_id: int) -> int:
    commands = load_group_rebalance(group_id=group_id, at=utc_now())
    for command in commands:
        command_dispatch_queue(command=command)
    return len(commands)


@shared_task
def load_groups_rebalance_for_charger(charge_point_id: str) -> int:
    # No longer queued (sessions_changed looks the groups up first); kept so
    # that tasks an earlier version queued still run after an upgrade.
    return sum(
        load_group_rebalance_task(group_id) for group_id in load_group_ids_of(charge_point_id)
    )


@shared_task
def load_groups_refresh() -> int:
    """Periodic: groups whose profiles run out get new ones (a session can
    outlast the day a profile covers)."""
    return sum(load_group_rebalance_task(group_id) for group_id in load_groups_due(at=utc_now()))


def sessions_changed(charge_point_id: str) -> None:
    """Called once a session's start or end on the charger is committed. The
    charger's groups are looked up on the thread, before anything is queued:
    most chargers are in none, and the query costs the csms a fraction of
    queueing a task that would find none (docs/performance.md)."""
    run_on_thread(
        "load-management",
        _rebalance_groups_of,
        charge_point_id,
        failure=f"the load groups of {charge_point_id} could not be rebalanced",
    )


def _rebalance_groups_of(charge_point_id: str) -> None:
    for group_id in load_group_ids_of(charge_point_id):
        run_or_queue(
            load_group_rebalance_task,
            group_id,
            failure=f"load group {group_id} could not be rebalanced",
        )


def load_group_changed(group_id: int) -> None:
    run_in_background(
        "load-management",
        load_group_rebalance_task,
        group_id,
        failure=f"load group {group_id} could not be rebalanced",
    )
