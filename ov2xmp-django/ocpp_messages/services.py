"""Writes on the OCPP message log."""

from __future__ import annotations

from collections.abc import Sequence

from ocpp_messages.models import OcppMessage


def ocpp_messages_record(*, messages: Sequence[OcppMessage]) -> int:
    """Store a batch of logged frames in one statement; returns how many."""
    return len(OcppMessage.objects.bulk_create(messages, batch_size=500))
