import django_filters

from core.api.filters import charge_point_filter
from ocpp_messages.models import OcppMessage


class OcppMessageFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    timestamp = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = OcppMessage
        fields = [
            "charge_point",
            "direction",
            "message_type",
            "action",
            "unique_id",
            "error_code",
            "ocpp_version",
            "timestamp",
        ]
