from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from chargepoints.models import ChargePoint
from locations.api.filters import LocationFilter
from locations.api.serializers import LocationSerializer
from locations.models import Location
from locations.selectors import locations_within

DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 1000.0


def _near(request: Request) -> tuple[float, float, float] | None:
    """(latitude, longitude, radius in km) of ``?near=lat,lon&radius_km=``."""
    near = request.query_params.get("near")
    if near is None:
        return None
    try:
        latitude, longitude = (float(part) for part in near.split(","))
    except ValueError:
        raise ValidationError(
            {"near": "Use near=<latitude>,<longitude>, e.g. near=38.72,-9.14."}
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationError({"near": "Latitude is -90 to 90, longitude -180 to 180."})
    try:
        radius = float(request.query_params.get("radius_km", DEFAULT_RADIUS_KM))
    except ValueError:
        raise ValidationError({"radius_km": "A number of kilometres."}) from None
    if not 0 < radius <= MAX_RADIUS_KM:
        raise ValidationError({"radius_km": f"Above 0, at most {MAX_RADIUS_KM:g}."})
    return latitude, longitude, radius


class LocationViewSet(viewsets.ModelViewSet):
    """Locations (OCPI 2.2.1-shaped) with their chargers and connectors. Deleting
    one leaves its chargers without a location."""

    queryset = Location.objects.prefetch_related(
        Prefetch("chargers", queryset=ChargePoint.objects.prefetch_related("evses__connectors"))
    )
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["name", "city", "created_at"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "near",
                OpenApiTypes.STR,
                description="Nearby search: <latitude>,<longitude>. Results come nearest "
                "first, each with distance_km; locations without coordinates are left out.",
            ),
            OpenApiParameter(
                "radius_km",
                OpenApiTypes.NUMBER,
                description=f"Radius of the nearby search (default {DEFAULT_RADIUS_KM:g}, "
                f"at most {MAX_RADIUS_KM:g}).",
            ),
        ]
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        near = _near(request)
        if near is None:
            return super().list(request, *args, **kwargs)
        latitude, longitude, radius = near
        found = []
        queryset: QuerySet[Location] = self.filter_queryset(self.get_queryset())
        for location, distance in locations_within(
            queryset, latitude=latitude, longitude=longitude, radius_km=radius
        ):
            location.distance_km = distance  # type: ignore[attr-defined]
            found.append(location)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
