"""factory_boy factories for id tokens."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from idtokens.models import IdToken, IdTokenStatus, IdTokenType


class IdTokenFactory(DjangoModelFactory):
    class Meta:
        model = IdToken

    value = factory.Sequence(lambda n: f"TAG{n:06d}")
    type = IdTokenType.ISO14443
    status = IdTokenStatus.ACCEPTED
