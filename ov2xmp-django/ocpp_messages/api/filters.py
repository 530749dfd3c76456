import django_filters

from ocpp_messages.models import OcppMessage


class OcppMessageFilter(django_filters.FilterSet):
    charge_point = django_filters.CharFilter(field_name="charge_point_id")
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
