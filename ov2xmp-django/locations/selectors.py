"""Reads on locations: the nearby search and the availability of their chargers."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from chargepoints.models import Connector
from locations.models import Location

EARTH_RADIUS_KM = 6371.0088
AVAILABLE = "Available"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def locations_within(
    locations: QuerySet[Location], *, latitude: float, longitude: float, radius_km: float
) -> list[tuple[Location, float]]:
    """The locations within ``radius_km``, nearest first, with their distance.
    A bounding box narrows them in the database; the exact distance decides."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    box = Q(
        latitude__gte=Decimal(str(latitude - dlat)), latitude__lte=Decimal(str(latitude + dlat))
    )
    cos_lat = math.cos(math.radians(latitude))
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)) if cos_lat > 1e-6 else 360.0
    if dlon < 180:
        west, east = longitude - dlon, longitude + dlon
        if west < -180 or east > 180:  # the box crosses the antimeridian
            box &= Q(longitude__gte=Decimal(str((west + 540) % 360 - 180))) | Q(
                longitude__lte=Decimal(str((east + 540) % 360 - 180))
            )
        else:
            box &= Q(longitude__gte=Decimal(str(west)), longitude__lte=Decimal(str(east)))
    found = []
    for location in locations.filter(box).exclude(latitude=None):
        assert location.latitude is not None
        assert location.longitude is not None
        distance = distance_km(
            latitude, longitude, float(location.latitude), float(location.longitude)
        )
        if distance <= radius_km:
            found.append((location, distance))
    return sorted(found, key=lambda pair: pair[1])


def with_available_connector() -> Exists:
    """A location where a connected charger has a connector Available now."""
    return Exists(
        Connector.objects.filter(
            evse__charge_point__location=OuterRef("pk"),
            evse__charge_point__is_connected=True,
            status=AVAILABLE,
        )
    )


def with_connector(**connector_fields: Any) -> Exists:
    return Exists(
        Connector.objects.filter(evse__charge_point__location=OuterRef("pk"), **connector_fields)
    )
