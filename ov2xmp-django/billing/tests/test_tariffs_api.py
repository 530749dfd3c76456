"""Tariffs and their versions through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.models import Cdr, Tariff, TariffVersion
from billing.services import cdr_create
from chargepoints.tests.factories import ChargePointFactory
from locations.tests.factories import LocationFactory
from transactions.models import TransactionStatus
from transactions.tests.factories import TransactionFactory

ELEMENTS = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.30"},
            {"type": "PARKING_TIME", "price": 5},
        ],
        "restrictions": {
            "start_time": "07:00",
            "end_time": "22:00",
            "day_of_week": ["MONDAY", "FRIDAY"],
        },
    },
    {"price_components": [{"type": "ENERGY", "price": "0.15", "step_size": 100}]},
]


def test_a_tariff_and_its_versions_are_made_and_shown(api):
    site = LocationFactory()
    response = api.post(
        "/api/tariffs/",
        {
            "name": "Lisboa",
            "currency": "EUR",
            "vat_percent": "23.00",
            "location": site.pk,
            "current": "AC",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    tariff_id = response.json()["id"]
    version = api.post(
        "/api/tariff-versions/",
        {"tariff": tariff_id, "valid_from": "2026-03-01T00:00:00Z", "elements": ELEMENTS},
        format="json",
    )
    assert version.status_code == 201, version.json()
    shown = api.get(f"/api/tariffs/{tariff_id}/").json()
    assert shown["versions"][0]["elements"] == ELEMENTS


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        ([], "should be non-empty"),
        ([{"price_components": [{"type": "KWH", "price": 1}]}], "'KWH' is not one of"),
        ([{"price_components": [{"type": "ENERGY", "price": "-1"}]}], "not below 0"),
        ([{"price_components": [{"type": "ENERGY", "price": "cheap"}]}], "not a number"),
        (
            [
                {
                    "price_components": [{"type": "TIME", "price": 1}],
                    "restrictions": {"start_time": "25:00"},
                }
            ],
            "does not match",
        ),
        (
            [
                {
                    "price_components": [{"type": "TIME", "price": 1}],
                    "restrictions": {"day_of_week": ["MON"]},
                }
            ],
            "'MON' is not one of",
        ),
        (
            [
                {
                    "price_components": [{"type": "TIME", "price": 1}],
                    "restrictions": {"end_date": "2026-13-01"},
                }
            ],
            "not a date",
        ),
    ],
)
def test_bad_elements_are_refused_with_the_reason(api, elements, message):
    made = Tariff.objects.create(name="t", currency="EUR", vat_percent=Decimal(23))
    response = api.post(
        "/api/tariff-versions/",
        {"tariff": made.pk, "valid_from": "2026-03-01T00:00:00Z", "elements": elements},
        format="json",
    )
    assert response.status_code == 400
    assert message in str(response.json()["elements"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "euro"}, "currency"),
        ({"vat_percent": "120"}, "vat_percent"),
        ({"current": "HV"}, "current"),
    ],
)
def test_bad_tariffs_are_refused(api, body, field):
    response = api.post(
        "/api/tariffs/",
        {"name": "t", "currency": "EUR", "vat_percent": "23", **body},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()


def test_a_tariff_is_for_a_charger_or_a_location_not_both(api):
    ChargePointFactory(id="CP-1")
    site = LocationFactory()
    response = api.post(
        "/api/tariffs/",
        {
            "name": "t",
            "currency": "EUR",
            "vat_percent": "23",
            "charge_point": "CP-1",
            "location": site.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "not both" in str(response.json())


def test_what_priced_a_cdr_cannot_be_deleted(api):
    made = Tariff.objects.create(name="t", currency="EUR", vat_percent=Decimal(23))
    version = TariffVersion.objects.create(
        tariff=made, valid_from=datetime(2026, 1, 1, tzinfo=UTC), elements=ELEMENTS
    )
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    session = TransactionFactory(
        charge_point=ChargePointFactory(id="CP-1"),
        status=TransactionStatus.ENDED,
        started_at=start,
        stopped_at=start + timedelta(hours=1),
        meter_stop_wh=Decimal(5000),
    )
    assert cdr_create(transaction_id=session.pk, reason="test").tariff_version == version
    assert api.delete(f"/api/tariff-versions/{version.pk}/").status_code == 409
    assert api.delete(f"/api/tariffs/{made.pk}/").status_code == 409
    assert Cdr.objects.count() == 1
    unused = TariffVersion.objects.create(
        tariff=made, valid_from=datetime(2027, 1, 1, tzinfo=UTC), elements=ELEMENTS
    )
    assert api.delete(f"/api/tariff-versions/{unused.pk}/").status_code == 204


def test_an_evse_tariff_names_its_charger(api):
    ChargePointFactory(id="CP-1")
    body = {"name": "t", "currency": "EUR", "vat_percent": "23", "evse_id": 2}
    orphan = api.post("/api/tariffs/", body, format="json")
    assert orphan.status_code == 400
    assert "evse_id" in orphan.json()
    made = api.post("/api/tariffs/", {**body, "charge_point": "CP-1"}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["charge_point"], made.json()["evse_id"]) == ("CP-1", 2)
