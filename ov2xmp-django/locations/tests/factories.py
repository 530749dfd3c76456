"""factory_boy factories for locations."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from locations.models import Location


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Site {n}")
    address = "Rua Augusta 1"
    city = "Lisboa"
    postal_code = "1100-048"
    country = "PRT"
    latitude = Decimal("38.710000")
    longitude = Decimal("-9.137000")
    time_zone = "Europe/Lisbon"
