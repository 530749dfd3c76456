from rest_framework.routers import SimpleRouter

from files.api.views import FileRequestViewSet, StoredFileViewSet

router = SimpleRouter()
router.register("file-requests", FileRequestViewSet)
router.register("files", StoredFileViewSet)

urlpatterns = router.urls
