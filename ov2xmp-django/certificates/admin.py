from django.contrib import admin

from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
)
from core.admin import ReadOnlyAdmin


@admin.register(CertificateSigningRequest)
class CertificateSigningRequestAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "certificate_type", "status", "reason_code", "received_at"]
    list_filter = ["status", "certificate_type", "ocpp_version"]
    search_fields = ["charge_point__id", "subject"]


@admin.register(IssuedCertificate)
class IssuedCertificateAdmin(ReadOnlyAdmin):
    """Revocation goes through the API (POST …/revoke/), which OCSP answers from."""

    list_display = ["serial_number", "subject", "charge_point", "not_after", "revoked_at"]
    list_filter = ["certificate_type"]
    search_fields = ["serial_number", "subject", "charge_point__id"]


@admin.register(CertificateStatusRequest)
class CertificateStatusRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "charge_point",
        "serial_number",
        "status",
        "answered_by",
        "certificate_status",
        "received_at",
    ]
    list_filter = ["status", "answered_by", "certificate_status"]
    search_fields = ["charge_point__id", "serial_number"]


@admin.register(EvCertificateRequest)
class EvCertificateRequestAdmin(ReadOnlyAdmin):
    list_display = ["charge_point", "action", "iso15118_schema_version", "status", "received_at"]
    list_filter = ["status", "action"]
    search_fields = ["charge_point__id"]
