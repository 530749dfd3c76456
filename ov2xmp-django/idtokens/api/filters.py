import django_filters

from idtokens.models import IdToken


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
