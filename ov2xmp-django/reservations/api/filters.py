import django_filters

from core.api.filters import charge_point_filter
from reservations.models import Reservation


class ReservationFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    expires_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = Reservation
        fields = [
            "charge_point",
            "reservation_id",
            "evse_id",
            "status",
            "id_token_value",
            "expires_at",
        ]
