import django_filters

from core.api.filters import charge_point_filter
from smartcharging.models import (
    ChargingLimit,
    ChargingNeeds,
    ChargingProfile,
    DerEvent,
    EvChargingSchedule,
    ReportedChargingProfile,
)


class ChargingNeedsFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = ChargingNeeds
        fields = ["charge_point", "evse_id", "transaction", "requested_energy_transfer"]


class EvChargingScheduleFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = EvChargingSchedule
        fields = ["charge_point", "evse_id", "transaction"]


class ChargingLimitFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    active = django_filters.BooleanFilter(
        field_name="cleared_at", lookup_expr="isnull", help_text="Not cleared yet."
    )

    class Meta:
        model = ChargingLimit
        fields = ["charge_point", "evse_id", "source", "is_grid_critical", "active"]


class DerEventFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")

    class Meta:
        model = DerEvent
        fields = ["charge_point", "kind", "control_type", "request_id", "since"]


class ReportedChargingProfileFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = ReportedChargingProfile
        fields = ["charge_point", "request_id", "evse_id", "purpose", "charging_limit_source"]


class ChargingProfileFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()

    class Meta:
        model = ChargingProfile
        fields = ["charge_point", "evse_id", "purpose", "status", "transaction", "load_group"]
