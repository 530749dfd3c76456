import django_filters

from core.api.filters import charge_point_filter
from files.models import FileRequest, FirmwareUpdate, StoredFile


class StoredFileFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    created_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = StoredFile
        fields = ["charge_point", "kind", "created_at"]


class FileRequestFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    created_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = FileRequest
        fields = ["charge_point", "kind", "status", "created_at"]


class FirmwareUpdateFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    created_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = FirmwareUpdate
        fields = ["charge_point", "firmware", "status", "created_at"]
