"""OCPI 2.2.1 ``Hours``: when a location is open, checked as operators enter it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jsonschema import Draft7Validator

_TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_PERIOD = {
    "type": "object",
    "required": ["period_begin", "period_end"],
    "additionalProperties": False,
    "properties": {
        "period_begin": {"type": "string", "format": "date-time"},
        "period_end": {"type": "string", "format": "date-time"},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["twentyfourseven"],
    "additionalProperties": False,
    "properties": {
        "twentyfourseven": {"type": "boolean"},
        "regular_hours": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["weekday", "period_begin", "period_end"],
                "additionalProperties": False,
                "properties": {
                    "weekday": {"type": "integer", "minimum": 1, "maximum": 7},
                    "period_begin": _TIME,
                    "period_end": _TIME,
                },
            },
        },
        "exceptional_openings": {"type": "array", "items": _PERIOD},
        "exceptional_closings": {"type": "array", "items": _PERIOD},
    },
}
_VALIDATOR = Draft7Validator(SCHEMA)


def opening_times_errors(value: Any) -> list[str]:
    """What is wrong with an opening-times object (empty: valid). An empty
    object means not stated."""
    if value == {}:
        return []
    errors = [
        f"{'.'.join(map(str, error.absolute_path)) or '(opening_times)'}: {error.message}"
        for error in _VALIDATOR.iter_errors(value)
    ]
    if errors:
        return errors
    if value["twentyfourseven"] and value.get("regular_hours"):
        errors.append("regular_hours: not with twentyfourseven")
    for index, hours in enumerate(value.get("regular_hours", [])):
        if hours["period_begin"] == hours["period_end"]:
            errors.append(f"regular_hours.{index}: begins when it ends")
    for kind in ("exceptional_openings", "exceptional_closings"):
        for index, period in enumerate(value.get(kind, [])):
            try:
                begin = datetime.fromisoformat(period["period_begin"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(period["period_end"].replace("Z", "+00:00"))
            except ValueError:
                errors.append(f"{kind}.{index}: use ISO 8601 date-times")
                continue
            if begin.tzinfo is None or end.tzinfo is None:
                errors.append(f"{kind}.{index}: give date-times with a UTC offset")
            elif end <= begin:
                errors.append(f"{kind}.{index}: period_end must follow period_begin")
    return errors
