import django_filters

from core.api.filters import charge_point_filter
from idtokens.models import IdToken, LocalListUpdate


class IdTokenFilter(django_filters.FilterSet):
    expires_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = IdToken
        fields = {
            "value": ["exact", "icontains"],
            "type": ["exact"],
            "status": ["exact"],
            "owner": ["exact"],
            "parent": ["exact"],
        }


class LocalListUpdateFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    created_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = LocalListUpdate
        fields = ["charge_point", "update_type", "status", "version_number", "created_at"]
