from rest_framework.routers import SimpleRouter

from certificates.api.views import (
    CertificateSigningRequestViewSet,
    CertificateStatusRequestViewSet,
    EvCertificateRequestViewSet,
    IssuedCertificateViewSet,
)

router = SimpleRouter()
router.register("certificate-signing-requests", CertificateSigningRequestViewSet)
router.register("issued-certificates", IssuedCertificateViewSet)
router.register("certificate-status-requests", CertificateStatusRequestViewSet)
router.register("ev-certificate-requests", EvCertificateRequestViewSet)

urlpatterns = router.urls
