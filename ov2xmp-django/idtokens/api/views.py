from rest_framework import viewsets

from idtokens.api.filters import IdTokenFilter
from idtokens.api.serializers import IdTokenSerializer
from idtokens.models import IdToken


class IdTokenViewSet(viewsets.ModelViewSet):
    """Tokens drivers present (RFID cards, key codes, app tokens). Authorize
    and transaction starts are answered from here."""

    queryset = IdToken.objects.select_related("parent")
    serializer_class = IdTokenSerializer
    filterset_class = IdTokenFilter
    ordering_fields = ["value", "type", "status", "expires_at", "created_at"]
