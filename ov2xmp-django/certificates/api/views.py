from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from certificates.api.filters import (
    CertificateSigningRequestFilter,
    CertificateStatusRequestFilter,
    EvCertificateRequestFilter,
    IssuedCertificateFilter,
)
from certificates.api.serializers import (
    CertificateSigningRequestSerializer,
    CertificateStatusRequestSerializer,
    EvCertificateRequestSerializer,
    IssuedCertificateSerializer,
    RevokeSerializer,
)
from certificates.models import (
    CertificateSigningRequest,
    CertificateStatusRequest,
    EvCertificateRequest,
    IssuedCertificate,
)
from certificates.services import CertificateAlreadyRevoked, issued_certificate_revoke
from core.api.permissions import ChangeOnPost
from core.api.views import Conflict
from core.time import utc_now


class CertificateSigningRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """CSRs chargers sent (SignCertificate), what was answered, and the
    certificate issued for each (null until signed), newest first."""

    queryset: QuerySet[CertificateSigningRequest] = (
        CertificateSigningRequest.objects.select_related("certificate")
    )
    serializer_class = CertificateSigningRequestSerializer
    filterset_class = CertificateSigningRequestFilter
    ordering_fields = ["received_at", "updated_at"]


class IssuedCertificateViewSet(viewsets.ReadOnlyModelViewSet):
    """Certificates our CA issued, newest first. OCSP (GetCertificateStatus)
    answers from this list."""

    queryset = IssuedCertificate.objects.all()
    serializer_class = IssuedCertificateSerializer
    filterset_class = IssuedCertificateFilter
    ordering_fields = ["created_at", "not_after", "revoked_at"]

    @extend_schema(request=RevokeSerializer, responses=IssuedCertificateSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPost])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the certificate: OCSP answers revoked from now on. Final;
        revoking again answers 409."""
        certificate = self.get_object()
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            certificate = issued_certificate_revoke(
                certificate=certificate, reason=body.validated_data.get("reason", ""), at=utc_now()
            )
        except CertificateAlreadyRevoked as error:
            raise Conflict(str(error)) from error
        return Response(IssuedCertificateSerializer(certificate).data)


class CertificateStatusRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """GetCertificateStatus (OCSP) requests and their answers, newest first."""

    queryset = CertificateStatusRequest.objects.all()
    serializer_class = CertificateStatusRequestSerializer
    filterset_class = CertificateStatusRequestFilter
    ordering_fields = ["received_at"]


class EvCertificateRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Get15118EVCertificate requests (EV contract certificates) and their
    answers, newest first."""

    queryset = EvCertificateRequest.objects.all()
    serializer_class = EvCertificateRequestSerializer
    filterset_class = EvCertificateRequestFilter
    ordering_fields = ["received_at"]
