from rest_framework import viewsets

from ocpp_messages.api.filters import OcppMessageFilter
from ocpp_messages.api.serializers import OcppMessageSerializer
from ocpp_messages.models import OcppMessage


class OcppMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Every OCPP frame in and out, newest first. An answer carries the action
    of the request it answers."""

    queryset = OcppMessage.objects.all()
    serializer_class = OcppMessageSerializer
    filterset_class = OcppMessageFilter
    ordering_fields = ["timestamp", "id"]
