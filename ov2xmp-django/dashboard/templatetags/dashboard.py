"""Formatting shared by the dashboard's templates."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

UNKNOWN = "\N{EN DASH}"

# Bootstrap colours of connector and charger statuses (1.6 and 2.0.1 names).
STATUS_COLOURS = {
    "Available": "success",
    "Preparing": "info",
    "Charging": "primary",
    "Occupied": "primary",
    "SuspendedEV": "warning",
    "SuspendedEVSE": "warning",
    "Finishing": "info",
    "Reserved": "secondary",
    "Unavailable": "dark",
    "Faulted": "danger",
}


@register.filter
def kwh(wh: Decimal | float | None) -> str:
    """Wh as kWh with two decimals (a dash when unknown)."""
    if wh is None:
        return UNKNOWN
    return f"{Decimal(wh) / 1000:,.2f} kWh"


@register.filter
def status_badge(status: str) -> SafeString:
    colour = STATUS_COLOURS.get(status, "light")
    return format_html(
        '<span class="badge text-bg-{}" data-status="{}">{}</span>', colour, status, status or "?"
    )


@register.simple_tag
def duration(start: datetime | None, end: datetime | None) -> str:
    """h:mm:ss from start to end (a dash when either is unknown)."""
    if start is None or end is None:
        return UNKNOWN
    seconds = max(int((end - start) / timedelta(seconds=1)), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@register.inclusion_tag("dashboard/_time.html")
def moment(at: datetime | None) -> dict[str, datetime | None]:
    """A <time> that the page's script shows in the reader's time zone."""
    return {"at": at}


@register.filter
def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.filter
def compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
