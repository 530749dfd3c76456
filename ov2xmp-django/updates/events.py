"""The live-update events: what they carry, the topics a client subscribes
to, and the channel-layer group of each topic.

An event names what happened (``type``), when (``at``), and the ids that fetch
the full object from the API; ``data`` holds the few values a view shows at
once (a status, an energy reading). The shape is versioned by ``schema``: a
field may be added within a version, never changed or removed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.time import format_timestamp

SCHEMA_VERSION = 1

# Topic kinds: (takes a key, the permission a subscriber needs).
TOPIC_KINDS: dict[str, tuple[bool, str]] = {
    "chargers": (False, "chargepoints.view_chargepoint"),
    "charger": (True, "chargepoints.view_chargepoint"),
    "transaction": (True, "transactions.view_transaction"),
    "commands": (False, "commands.view_command"),
    "frames": (True, "ocpp_messages.view_ocppmessage"),
}
MAX_KEY_LENGTH = 64


class TopicError(ValueError):
    pass


@dataclass(frozen=True)
class Topic:
    kind: str
    key: str = ""

    @classmethod
    def parse(cls, text: object) -> Topic:
        """``chargers``, ``charger:<id>``, ``transaction:<id>``, ``commands``,
        ``frames:<charger id>``."""
        if not isinstance(text, str):
            raise TopicError("a topic is a string")
        kind, _, key = text.partition(":")
        if kind not in TOPIC_KINDS:
            raise TopicError(f"unknown topic {text!r}: one of {', '.join(TOPIC_KINDS)}")
        keyed, _ = TOPIC_KINDS[kind]
        if keyed and not key:
            raise TopicError(f"{kind!r} needs an id: {kind}:<id>")
        if not keyed and key:
            raise TopicError(f"{kind!r} takes no id")
        if len(key) > MAX_KEY_LENGTH:
            raise TopicError(f"an id is at most {MAX_KEY_LENGTH} characters")
        return cls(kind, key)

    @property
    def permission(self) -> str:
        return TOPIC_KINDS[self.kind][1]

    @property
    def group(self) -> str:
        return group_name(self.kind, self.key)

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}" if self.key else self.kind


@functools.lru_cache(maxsize=65536)
def group_name(kind: str, key: str) -> str:
    """Channel-layer group names allow only a few characters; charger ids
    allow more, so keys are hashed (once each: every event asks)."""
    if not key:
        return f"updates.{kind}"
    digest = hashlib.blake2s(key.encode(), digest_size=16).hexdigest()
    return f"{keyed_group_prefix(kind)}{digest}"


def keyed_group_prefix(kind: str) -> str:
    """What the group names of every key of a keyed topic kind begin with."""
    return f"updates.{kind}."


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    topics: tuple[Topic, ...]
    # The ids that fetch the objects from the API: charger_id, transaction_id, …
    ids: Mapping[str, Any] = field(default_factory=dict)
    # Or a function making it, where that costs more than an event nobody hears.
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict)

    def message(self, topic: Topic) -> dict[str, Any]:
        """As a client receives it, for one of its topics."""
        return {
            "type": self.type,
            "schema": SCHEMA_VERSION,
            "at": format_timestamp(self.at),
            "topic": str(topic),
            **self.ids,
            "data": dict(self.data() if callable(self.data) else self.data),
        }


def charger_topics(charge_point_id: str) -> tuple[Topic, ...]:
    return (Topic("chargers"), Topic("charger", charge_point_id))


def charger_event(kind: str, *, charge_point_id: str, at: datetime, **data: Any) -> Event:
    """charger.connected, charger.booted, connector.status, …: to ``chargers``
    and the charger's topic."""
    return Event(kind, at, charger_topics(charge_point_id), {"charger_id": charge_point_id}, data)


def transaction_event(
    kind: str, *, charge_point_id: str, transaction_id: int, at: datetime, **data: Any
) -> Event:
    """transaction.started and .ended: to ``chargers``, the charger's topic and
    the transaction's."""
    return Event(
        kind,
        at,
        (*charger_topics(charge_point_id), Topic("transaction", str(transaction_id))),
        {"charger_id": charge_point_id, "transaction_id": transaction_id},
        data,
    )


def meter_values_event(
    *,
    charge_point_id: str,
    transaction_id: int | None,
    at: datetime,
    data: Callable[[], Mapping[str, Any]],
) -> Event:
    """Frequent: only to the charger's topic and its transaction's, never to
    ``chargers``; ``data`` is made only when somebody listens."""
    topics: tuple[Topic, ...] = (Topic("charger", charge_point_id),)
    if transaction_id is not None:
        topics += (Topic("transaction", str(transaction_id)),)
    ids = {"charger_id": charge_point_id, "transaction_id": transaction_id}
    return Event("meter_values", at, topics, ids, data)


def frame_event(
    *, charge_point_id: str, at: datetime, data: Callable[[], Mapping[str, Any]]
) -> Event:
    """ocpp.frame: one logged OCPP frame, to ``frames:<charger id>``."""
    return Event(
        "ocpp.frame", at, (Topic("frames", charge_point_id),), {"charger_id": charge_point_id}, data
    )


def command_event(
    kind: str, *, command_id: object, charge_point_id: str, at: datetime, **data: Any
) -> Event:
    """command.queued, .sent, .finished: to ``commands`` and the charger's topic."""
    return Event(
        kind,
        at,
        (Topic("commands"), Topic("charger", charge_point_id)),
        {"command_id": str(command_id), "charger_id": charge_point_id},
        data,
    )
