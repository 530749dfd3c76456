"""factory_boy factories for users."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import User

PASSWORD = "old-secret-Kx93"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"driver{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)
