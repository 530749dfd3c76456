import django_filters
from django.db.models import QuerySet

from chargepoints.models import ConnectorStandard, PowerType
from locations.models import Access, Location, ParkingType
from locations.selectors import with_available_connector, with_connector

AC_POWER_TYPES = [
    PowerType.AC_1_PHASE,
    PowerType.AC_2_PHASE,
    PowerType.AC_2_PHASE_SPLIT,
    PowerType.AC_3_PHASE,
]


class LocationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    city = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    access = django_filters.ChoiceFilter(choices=Access.choices)
    parking_type = django_filters.ChoiceFilter(choices=ParkingType.choices)
    available = django_filters.BooleanFilter(
        method="filter_available",
        label="Has a connector Available now, on a connected charger (true), or none (false).",
    )
    connector_standard = django_filters.ChoiceFilter(
        choices=ConnectorStandard.choices,
        method="filter_connector_standard",
        label="Has a connector of this standard (OCPI ConnectorType).",
    )
    current = django_filters.ChoiceFilter(
        choices=[("AC", "AC"), ("DC", "DC")],
        method="filter_current",
        label="Has an AC or a DC connector.",
    )

    class Meta:
        model = Location
        fields = ["name", "city", "country", "access", "parking_type"]

    def filter_available(
        self, queryset: QuerySet[Location], name: str, value: bool
    ) -> QuerySet[Location]:
        available = with_available_connector()
        return queryset.filter(available if value else ~available)

    def filter_connector_standard(
        self, queryset: QuerySet[Location], name: str, value: str
    ) -> QuerySet[Location]:
        return queryset.filter(with_connector(standard=value))

    def filter_current(
        self, queryset: QuerySet[Location], name: str, value: str
    ) -> QuerySet[Location]:
        if value == "DC":
            return queryset.filter(with_connector(power_type=PowerType.DC))
        return queryset.filter(with_connector(power_type__in=AC_POWER_TYPES))
