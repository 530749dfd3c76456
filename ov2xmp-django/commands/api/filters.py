import django_filters

from commands.models import Command, CommandStatus
from core.api.filters import charge_point_filter


class CommandFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    status = django_filters.MultipleChoiceFilter(choices=CommandStatus.choices)
    created_at = django_filters.IsoDateTimeFromToRangeFilter()
    created_by = django_filters.CharFilter(
        field_name="created_by__username", help_text="Username of who sent it"
    )

    class Meta:
        model = Command
        fields = ["charge_point", "action", "ocpp_version", "status", "created_at", "created_by"]
