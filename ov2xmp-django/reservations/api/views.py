from rest_framework import viewsets

from reservations.api.filters import ReservationFilter
from reservations.api.serializers import ReservationSerializer
from reservations.models import Reservation


class ReservationViewSet(viewsets.ReadOnlyModelViewSet):
    """Reservations and how they ended: expired or removed (as the charger
    reports), or used by a transaction."""

    queryset = Reservation.objects.all()
    serializer_class = ReservationSerializer
    filterset_class = ReservationFilter
    ordering_fields = ["created_at", "expires_at", "status_at"]
