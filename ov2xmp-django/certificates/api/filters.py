import django_filters

from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
)
from core.api.filters import charge_point_filter


class CertificateSigningRequestFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    received_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = CertificateSigningRequest
        fields = ["charge_point", "status", "certificate_type", "ocpp_version", "received_at"]


class IssuedCertificateFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, help_text="Revoked or not"
    )
    not_after = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = IssuedCertificate
        fields = ["charge_point", "certificate_type", "serial_number", "revoked", "not_after"]


class CertificateStatusRequestFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    received_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = CertificateStatusRequest
        fields = [
            "charge_point",
            "status",
            "answered_by",
            "certificate_status",
            "serial_number",
            "received_at",
        ]


class EvCertificateRequestFilter(django_filters.FilterSet):
    charge_point = charge_point_filter()
    received_at = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = EvCertificateRequest
        fields = ["charge_point", "status", "action", "received_at"]
