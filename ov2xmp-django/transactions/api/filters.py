import django_filters

from core.api.filters import charge_point_filter
from transactions.models import MeterValue, Transaction


class TransactionFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    started_at = django_filters.IsoDateTimeFromToRangeFilter()
    stopped_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = Transaction
        fields = [
            "charge_point",
            "status",
            "ocpp_version",
            "ocpp_transaction_id",
            "evse_id",
            "id_token",
            "id_token_value",
            "started_at",
            "stopped_at",
        ]


class MeterValueFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    timestamp = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = MeterValue
        fields = [
            "charge_point",
            "transaction",
            "evse_id",
            "measurand",
            "phase",
            "context",
            "location",
            "timestamp",
        ]
