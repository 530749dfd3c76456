from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction

from updates import publisher
from updates.events import Event

logger = logging.getLogger(__name__)


def events_publish(*, events: Sequence[Event]) -> None:
    """Hand events to this process's publisher once the current transaction
    commits (at once outside one), so that a client never hears of data it
    cannot read yet. A process without a publisher (a management command, say)
    drops them: nobody could be subscribed through it."""
    if not events:
        return
    events = list(events)

    def hand_over() -> None:
        current = publisher.current()
        if current is not None:
            current.put(events)

    transaction.on_commit(hand_over)


def events_watched(kind: str) -> bool:
    """Whether a client may be subscribed to topics of ``kind`` (a keyed one)
    through this process, as its publisher last knew (within
    ``interest.REFRESH_SECONDS``, as for any event): for events so frequent
    that making them costs more than asking (``ocpp.frame``, two per message
    handled). A process without a publisher has nobody to tell."""
    current = publisher.current()
    return current is not None and current.watches(kind)
