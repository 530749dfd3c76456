"""Where chargers stand: OCPI 2.2.1-shaped locations."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models


class ParkingType(models.TextChoices):
    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class Access(models.TextChoices):
    PUBLIC = "public"
    SEMI_PUBLIC = "semi_public", "semi-public (customers, residents, …)"
    PRIVATE = "private"


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Lisbon).") from None


country_code_validator = RegexValidator(r"^[A-Z]{3}$", "Use the ISO 3166-1 alpha-3 code (PRT).")


class Location(models.Model):
    name = models.CharField(max_length=255)
    address = models.CharField(max_length=45)
    city = models.CharField(max_length=45)
    postal_code = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=3, validators=[country_code_validator])
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=10,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    parking_type = models.CharField(max_length=20, choices=ParkingType.choices, blank=True)
    access = models.CharField(max_length=12, choices=Access.choices, default=Access.PUBLIC)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # OCPI Hours: {"twentyfourseven": true} or regular_hours and exceptions.
    opening_times = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="location_both_coordinates_or_none",
            )
        ]

    def __str__(self) -> str:
        return self.name
