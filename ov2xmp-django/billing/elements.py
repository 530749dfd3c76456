"""A tariff version's elements as stored (OCPI 2.2.1 TariffElement JSON),
checked, and turned into the pricing engine's terms.

    [{"price_components": [{"type": "ENERGY", "price": "0.30", "step_size": 1}],
      "restrictions": {"start_time": "07:00", "end_time": "22:00",
                       "day_of_week": ["SATURDAY", "SUNDAY"], "min_kwh": 10}}]

Prices exclude VAT: per kWh (ENERGY), per session (FLAT), per hour (TIME,
PARKING_TIME). Prices are strings or numbers, read as decimals.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft7Validator

from billing.pricing import DIMENSIONS, Element, PriceComponent, Restrictions, Terms

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_NUMBER = {"type": ["number", "string"]}
SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["price_components"],
        "additionalProperties": False,
        "properties": {
            "price_components": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["type", "price"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": list(DIMENSIONS)},
                        "price": _NUMBER,
                        "step_size": {"type": "integer", "minimum": 1},
                    },
                },
            },
            "restrictions": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "start_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "end_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "start_date": {"type": "string", "format": "date"},
                    "end_date": {"type": "string", "format": "date"},
                    "min_kwh": _NUMBER,
                    "max_kwh": _NUMBER,
                    "min_power": _NUMBER,
                    "max_power": _NUMBER,
                    "min_duration": {"type": "integer", "minimum": 0},
                    "max_duration": {"type": "integer", "minimum": 0},
                    "day_of_week": {
                        "type": "array",
                        "items": {"enum": list(WEEKDAYS)},
                        "uniqueItems": True,
                    },
                },
            },
        },
    },
}
_VALIDATOR = Draft7Validator(SCHEMA)


def _decimal(value: Any) -> Decimal:
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidOperation(value)
    return number


def elements_errors(value: Any) -> list[str]:
    """What is wrong with a version's elements (empty: nothing)."""
    errors = [
        f"{'.'.join(map(str, error.absolute_path)) or '(elements)'}: {error.message}"
        for error in _VALIDATOR.iter_errors(value)
    ]
    if errors:
        return errors
    for index, element in enumerate(value):
        for part, component in enumerate(element["price_components"]):
            try:
                if _decimal(component["price"]) < 0:
                    errors.append(f"{index}.price_components.{part}.price: not below 0")
            except (InvalidOperation, ValueError):
                errors.append(f"{index}.price_components.{part}.price: not a number")
        restrictions = element.get("restrictions", {})
        for key in ("min_kwh", "max_kwh", "min_power", "max_power"):
            if key in restrictions:
                try:
                    _decimal(restrictions[key])
                except (InvalidOperation, ValueError):
                    errors.append(f"{index}.restrictions.{key}: not a number")
        for key in ("start_date", "end_date"):
            if key in restrictions:
                try:
                    date.fromisoformat(restrictions[key])
                except ValueError:
                    errors.append(f"{index}.restrictions.{key}: not a date (YYYY-MM-DD)")
    return errors


def terms_of(elements: list[dict[str, Any]], *, currency: str, vat_percent: Decimal) -> Terms:
    """The engine's terms for checked elements."""
    parsed = []
    for element in elements:
        restrictions = element.get("restrictions", {})

        def number(key: str, given: dict[str, Any] = restrictions) -> Decimal | None:
            return _decimal(given[key]) if key in given else None

        def moment(key: str, given: dict[str, Any] = restrictions) -> time | None:
            return time.fromisoformat(given[key]) if key in given else None

        def day(key: str, given: dict[str, Any] = restrictions) -> date | None:
            return date.fromisoformat(given[key]) if key in given else None

        parsed.append(
            Element(
                tuple(
                    PriceComponent(c["type"], _decimal(c["price"]), c.get("step_size", 1))
                    for c in element["price_components"]
                ),
                Restrictions(
                    start_time=moment("start_time"),
                    end_time=moment("end_time"),
                    start_date=day("start_date"),
                    end_date=day("end_date"),
                    min_kwh=number("min_kwh"),
                    max_kwh=number("max_kwh"),
                    min_power_kw=number("min_power"),
                    max_power_kw=number("max_power"),
                    min_duration_seconds=restrictions.get("min_duration"),
                    max_duration_seconds=restrictions.get("max_duration"),
                    days_of_week=frozenset(
                        WEEKDAYS.index(name) + 1 for name in restrictions.get("day_of_week", [])
                    ),
                ),
            )
        )
    return Terms(currency, vat_percent, tuple(parsed))
