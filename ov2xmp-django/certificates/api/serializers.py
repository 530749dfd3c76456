from rest_framework import serializers

from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
    RevocationReason,
)


class IssuedCertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = IssuedCertificate
        fields = [
            "id",
            "charge_point",
            "signing_request",
            "certificate_type",
            "serial_number",
            "subject",
            "issuer",
            "not_before",
            "not_after",
            "revoked_at",
            "revocation_reason",
            "certificate_pem",
            "created_at",
        ]
        read_only_fields = fields


class RevokeSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=RevocationReason.choices,
        required=False,
        allow_blank=True,
        help_text="RFC 5280 reason; optional.",
    )


class CertificateSigningRequestSerializer(serializers.ModelSerializer):
    certificate = IssuedCertificateSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CertificateSigningRequest
        fields = [
            "id",
            "charge_point",
            "ocpp_version",
            "certificate_type",
            "subject",
            "status",
            "reason_code",
            "reason",
            "received_at",
            "signed_at",
            "answered_at",
            "updated_at",
            "csr_pem",
            "certificate",
        ]
        read_only_fields = fields


class CertificateStatusRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificateStatusRequest
        fields = [
            "id",
            "charge_point",
            "hash_algorithm",
            "issuer_name_hash",
            "issuer_key_hash",
            "serial_number",
            "responder_url",
            "status",
            "answered_by",
            "certificate_status",
            "reason_code",
            "reason",
            "ocsp_result",
            "received_at",
        ]
        read_only_fields = fields


class EvCertificateRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvCertificateRequest
        fields = [
            "id",
            "charge_point",
            "iso15118_schema_version",
            "action",
            "status",
            "reason_code",
            "reason",
            "exi_request",
            "exi_response",
            "received_at",
        ]
        read_only_fields = fields
