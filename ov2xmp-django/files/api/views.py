from __future__ import annotations

from http import HTTPStatus

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from commands.api.views import OUTCOME_STATUS, enqueue
from commands.models import CommandStatus
from commands.selectors import await_outcome
from core.time import utc_now
from files.api.filters import FileRequestFilter, StoredFileFilter
from files.api.serializers import (
    FileRequestCreateSerializer,
    FileRequestSerializer,
    StoredFileSerializer,
)
from files.models import FileRequest, StoredFile
from files.services import file_request_start, files_dir, stored_file_delete


class FileRequestViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Ask a charger for its diagnostics or a log, and follow the request:
    the platform makes the upload location (with credentials for this request
    alone), sends the command and records the file when it arrives."""

    queryset = FileRequest.objects.select_related("command", "file", "created_by")
    serializer_class = FileRequestSerializer
    filterset_class = FileRequestFilter
    ordering_fields = ["created_at", "status_at"]

    @extend_schema(
        request=FileRequestCreateSerializer,
        responses={
            201: FileRequestSerializer,
            202: OpenApiResponse(FileRequestSerializer, description="Command not answered yet."),
            400: OpenApiResponse(description="Invalid request."),
            409: OpenApiResponse(FileRequestSerializer, description="Charger not connected."),
            502: OpenApiResponse(FileRequestSerializer, description="The command failed."),
            504: OpenApiResponse(FileRequestSerializer, description="No answer in time."),
        },
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = FileRequestCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        charge_point = data["charge_point"]
        file_request = file_request_start(
            charge_point_id=charge_point.id,
            ocpp_version=charge_point.ocpp_version,
            kind=data["kind"],
            protocol=data.get("protocol"),
            options=data,
            created_by=request.user,
            at=utc_now(),
        )
        assert file_request.command is not None
        enqueue(file_request.command)
        command = await_outcome(file_request.command, data["wait"])
        file_request.refresh_from_db()
        status = (
            HTTPStatus.CREATED
            if command.status == CommandStatus.ANSWERED
            else OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED)  # type: ignore[call-overload]
        )
        body = FileRequestSerializer(file_request, context={"request": request}).data
        return Response(body, status=status)


class StoredFileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Files chargers uploaded, with size and SHA-256, linked to their charger
    and the request that asked for them."""

    queryset = StoredFile.objects.select_related("request")
    serializer_class = StoredFileSerializer
    filterset_class = StoredFileFilter
    ordering_fields = ["created_at", "size"]

    def perform_destroy(self, instance: StoredFile) -> None:
        stored_file_delete(stored_file=instance)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True)
    def content(self, request: Request, pk: str | None = None) -> FileResponse:
        """The file itself, as an attachment."""
        stored = self.get_object()
        path = files_dir() / stored.path
        if not path.is_file():
            raise Http404("The file is recorded but missing from the files directory.")
        return FileResponse(path.open("rb"), as_attachment=True, filename=stored.name)
