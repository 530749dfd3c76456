import django_filters

from core.api.exports import (
    IntegerFilter,
    TimeRangeForm,
    location_filter,
    started_after,
    started_before,
    user_filter,
)
from core.api.filters import charge_point_filter
from transactions.models import MeterValue, Transaction, TransactionStatus


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


class SessionExportFilter(django_filters.FilterSet):
    """/api/exports/sessions.<format>: unknown ids give no rows, malformed
    values a 400."""

    started_after = started_after("started_at", "Sessions")
    started_before = started_before("started_at", "Sessions")
    location = location_filter("charge_point__location")
    charge_point = charge_point_filter()
    id_token_value = django_filters.CharFilter(help_text="The id token as presented")
    user = user_filter("id_token__owner")
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)

    class Meta:
        model = Transaction
        fields: list[str] = []
        form = TimeRangeForm


class MeterValueExportFilter(django_filters.FilterSet):
    """/api/exports/meter-values.<format>: the values of the sessions that
    the same filters select in the session export, or of one session."""

    started_after = started_after("transaction__started_at", "Values of sessions")
    started_before = started_before("transaction__started_at", "Values of sessions")
    location = location_filter("charge_point__location")
    charge_point = charge_point_filter()
    id_token_value = django_filters.CharFilter(
        field_name="transaction__id_token_value", help_text="The id token as presented"
    )
    user = user_filter("transaction__id_token__owner")
    session = IntegerFilter(field_name="transaction", help_text="One session's id")
    measurand = django_filters.CharFilter(help_text="e.g. Energy.Active.Import.Register")

    class Meta:
        model = MeterValue
        fields: list[str] = []
        form = TimeRangeForm
