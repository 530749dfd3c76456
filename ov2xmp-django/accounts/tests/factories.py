"""factory_boy factories for users and their vehicles."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import User, Vehicle

PASSWORD = "old-secret-Kx93"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class VehicleFactory(DjangoModelFactory):
    class Meta:
        model = Vehicle

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Car {n}")
