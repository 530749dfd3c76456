import django_filters
from django.db.models import Q, QuerySet

from accounts.models import User


class UserFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the username, e-mail or name."
    )

    class Meta:
        model = User
        fields = ["role", "is_active", "vendor_name"]

    def filter_search(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(
            Q(username__icontains=value)
            | Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
        )
