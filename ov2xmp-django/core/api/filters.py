import django_filters
from django.db.models import F, QuerySet
from rest_framework.filters import OrderingFilter


def charge_point_filter(field_name: str = "charge_point_id") -> django_filters.CharFilter:
    """Filter by charger id. An unknown id gives an empty list, not an error,
    on every endpoint alike."""
    return django_filters.CharFilter(field_name=field_name, help_text="Charger id")


class NullsLastOrderingFilter(OrderingFilter):
    """``?ordering=`` with empty values last in both directions, so that
    SQLite and PostgreSQL (which differ here) give the same order."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        expressions = [
            F(field[1:]).desc(nulls_last=True)
            if field.startswith("-")
            else F(field).asc(nulls_last=True)
            for field in ordering
        ]
        return queryset.order_by(*expressions)
