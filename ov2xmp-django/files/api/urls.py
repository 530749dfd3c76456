from rest_framework.routers import SimpleRouter

from files.api.views import (
    FileRequestViewSet,
    FirmwareImageViewSet,
    FirmwareUpdateViewSet,
    StoredFileViewSet,
)

router = SimpleRouter()
router.register("file-requests", FileRequestViewSet)
router.register("files", StoredFileViewSet)
router.register("firmware", FirmwareImageViewSet)
router.register("firmware-updates", FirmwareUpdateViewSet)

urlpatterns = router.urls
