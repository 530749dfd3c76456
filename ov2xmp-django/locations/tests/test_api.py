"""Locations through the API: create, validate, list with filters, the
nearby search, and the chargers and connectors they hold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chargepoints.models import ChargePoint, Connector
from chargepoints.tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory
from core.testing import listed
from locations.models import Location
from locations.selectors import distance_km
from locations.tests.factories import LocationFactory

SITE = {
    "name": "Parque das Nações",
    "address": "Alameda dos Oceanos 1",
    "city": "Lisboa",
    "postal_code": "1990-203",
    "country": "PRT",
    "latitude": "38.768000",
    "longitude": "-9.094000",
    "parking_type": "PARKING_GARAGE",
    "access": "semi_public",
    "time_zone": "Europe/Lisbon",
    "opening_times": {
        "twentyfourseven": False,
        "regular_hours": [
            {"weekday": day, "period_begin": "07:00", "period_end": "23:00"} for day in range(1, 8)
        ],
        "exceptional_closings": [
            {"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}
        ],
    },
}


def test_a_location_is_created_and_shown_with_its_chargers(api):
    response = api.post("/api/locations/", SITE, format="json")
    assert response.status_code == 201, response.json()
    location_id = response.json()["id"]
    charger = ChargePointFactory(id="CP-1")
    assert (
        api.patch("/api/chargepoints/CP-1/", {"location": location_id}, format="json").status_code
        == 200
    )
    evse = EvseFactory(charge_point=charger, evse_id=1)
    connector = ConnectorFactory(evse=evse, status="Available")
    api.patch(
        f"/api/connectors/{connector.pk}/",
        {
            "standard": "IEC_62196_T2",
            "format": "SOCKET",
            "power_type": "AC_3_PHASE",
            "max_electric_power": 22000,
        },
        format="json",
    )
    shown = api.get(f"/api/locations/{location_id}/").json()
    assert {key: shown[key] for key in SITE} == SITE
    assert shown["chargers"] == [
        {
            "id": "CP-1",
            "is_connected": False,
            "status": "",
            "connectors": [
                {
                    "evse_id": 1,
                    "connector_id": 1,
                    "status": "Available",
                    "standard": "IEC_62196_T2",
                    "format": "SOCKET",
                    "power_type": "AC_3_PHASE",
                    "max_electric_power": 22000,
                }
            ],
        }
    ]
    assert shown["distance_km"] is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"country": "PT"}, "country", "ISO 3166-1 alpha-3"),
        ({"time_zone": "Lisbon"}, "time_zone", "not an IANA time zone"),
        ({"latitude": "91"}, "latitude", "less than or equal to 90"),
        ({"longitude": None}, "latitude", "both latitude and longitude"),
        ({"parking_type": "ROOFTOP"}, "parking_type", "not a valid choice"),
        ({"access": "everyone"}, "access", "not a valid choice"),
        (
            {"opening_times": {"regular_hours": []}},
            "opening_times",
            "'twentyfourseven' is a required property",
        ),
        (
            {
                "opening_times": {
                    "twentyfourseven": False,
                    "regular_hours": [
                        {"weekday": 8, "period_begin": "07:00", "period_end": "23:00"}
                    ],
                }
            },
            "opening_times",
            "regular_hours.0.weekday: 8 is greater than the maximum of 7",
        ),
        (
            {
                "opening_times": {
                    "twentyfourseven": True,
                    "regular_hours": [
                        {"weekday": 1, "period_begin": "07:00", "period_end": "23:00"}
                    ],
                }
            },
            "opening_times",
            "not with twentyfourseven",
        ),
        (
            {
                "opening_times": {
                    "twentyfourseven": False,
                    "exceptional_closings": [
                        {
                            "period_begin": "2026-12-26T00:00:00Z",
                            "period_end": "2026-12-25T00:00:00Z",
                        }
                    ],
                }
            },
            "opening_times",
            "period_end must follow period_begin",
        ),
    ],
)
def test_bad_locations_are_refused_with_the_reason(api, change, field, message):
    response = api.post("/api/locations/", SITE | change, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not Location.objects.exists()


def test_the_nearby_search_finds_the_nearest_first_within_the_radius(api):
    LocationFactory(name="Baixa", latitude=Decimal("38.710"), longitude=Decimal("-9.137"))
    LocationFactory(name="Belém", latitude=Decimal("38.697"), longitude=Decimal("-9.206"))
    LocationFactory(name="Porto", latitude=Decimal("41.149"), longitude=Decimal("-8.611"))
    LocationFactory(name="Nowhere", latitude=None, longitude=None)

    body = api.get("/api/locations/?near=38.7075,-9.1365&radius_km=10").json()

    assert [location["name"] for location in body["results"]] == ["Baixa", "Belém"]
    assert body["count"] == 2
    baixa, belem = body["results"]
    assert baixa["distance_km"] == pytest.approx(0.29, abs=0.01)
    assert belem["distance_km"] == pytest.approx(
        distance_km(38.7075, -9.1365, 38.697, -9.206), abs=0.001
    )
    everywhere = api.get("/api/locations/?near=38.7075,-9.1365&radius_km=1000").json()
    assert [location["name"] for location in everywhere["results"]] == ["Baixa", "Belém", "Porto"]


def test_the_nearby_search_works_across_the_antimeridian(api):
    LocationFactory(name="Fiji west", latitude=Decimal("-17.8"), longitude=Decimal("179.9"))
    LocationFactory(name="Fiji east", latitude=Decimal("-17.8"), longitude=Decimal("-179.9"))
    body = api.get("/api/locations/?near=-17.8,179.95&radius_km=50").json()
    assert sorted(location["name"] for location in body["results"]) == ["Fiji east", "Fiji west"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("near=38.7", "near"),
        ("near=north,south", "near"),
        ("near=95,0", "near"),
        ("near=38.7,-9.1&radius_km=0", "radius_km"),
        ("near=38.7,-9.1&radius_km=far", "radius_km"),
    ],
)
def test_a_bad_nearby_search_is_a_400(api, query, field):
    response = api.get(f"/api/locations/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def charger_at(
    location: Location, charger_id: str, *, connected: bool, **connector: str
) -> Connector:
    charger = ChargePointFactory(id=charger_id, location=location, is_connected=connected)
    return ConnectorFactory(evse=EvseFactory(charge_point=charger, evse_id=1), **connector)


def test_locations_filter_by_availability_and_connector(api):
    free = LocationFactory(name="Free")
    busy = LocationFactory(name="Busy")
    offline = LocationFactory(name="Offline")
    charger_at(
        free,
        "CP-F",
        connected=True,
        status="Available",
        standard="IEC_62196_T2",
        power_type="AC_3_PHASE",
    )
    charger_at(
        busy,
        "CP-B",
        connected=True,
        status="Charging",
        standard="IEC_62196_T2_COMBO",
        power_type="DC",
    )
    charger_at(
        offline, "CP-O", connected=False, status="Available", standard="CHADEMO", power_type="DC"
    )

    def names(query: str) -> list[str]:
        return listed(api.get(f"/api/locations/?{query}"), "name")

    assert names("available=true") == ["Free"]
    assert names("available=false") == ["Busy", "Offline"]
    assert names("current=DC") == ["Busy", "Offline"]
    assert names("current=AC") == ["Free"]
    assert names("connector_standard=CHADEMO") == ["Offline"]
    assert names("current=DC&available=true") == []
    assert names("near=38.71,-9.137&available=true") == ["Free"]
    assert names("city=lisboa&access=public") == ["Busy", "Free", "Offline"]


def test_deleting_a_location_leaves_its_chargers(api):
    location = LocationFactory()
    ChargePointFactory(id="CP-1", location=location)
    assert api.delete(f"/api/locations/{location.pk}/").status_code == 204
    assert ChargePoint.objects.get(id="CP-1").location is None


def test_a_connectors_status_stays_the_chargers_to_report(api):
    connector = ConnectorFactory(status="Available")
    response = api.patch(
        f"/api/connectors/{connector.pk}/",
        {"status": "Faulted", "standard": "CHADEMO"},
        format="json",
    )
    assert response.status_code == 200
    connector.refresh_from_db()
    assert (connector.status, connector.standard) == ("Available", "CHADEMO")
