from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any

from django.db.models import ProtectedError
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from commands.api.views import OUTCOME_STATUS, enqueue
from commands.models import CommandStatus
from commands.selectors import await_outcome
from core.api.permissions import require_permission
from core.api.views import Conflict
from core.time import utc_now
from files.api.filters import FileRequestFilter, FirmwareUpdateFilter, StoredFileFilter
from files.api.serializers import (
    FileRequestCreateSerializer,
    FileRequestSerializer,
    FirmwareImageSerializer,
    FirmwareUpdateCreateSerializer,
    FirmwareUpdateSerializer,
    StoredFileSerializer,
)
from files.firmware import firmware_image_delete, firmware_image_store, firmware_update_start
from files.models import FileRequest, FirmwareImage, FirmwareUpdate, StoredFile
from files.services import file_request_start, files_dir, stored_file_delete


def send_and_answer(
    request: Request, transfer: FileRequest | FirmwareUpdate, serializer: type, wait: float
) -> Response:
    """Send the command a transfer carries and answer with the transfer: 201
    once the charger has answered, else the command's status code."""
    assert transfer.command is not None
    enqueue(transfer.command)
    command = await_outcome(transfer.command, wait)
    transfer.refresh_from_db()
    status = (
        HTTPStatus.CREATED
        if command.status == CommandStatus.ANSWERED
        else OUTCOME_STATUS.get(command.status, HTTPStatus.ACCEPTED)  # type: ignore[call-overload]
    )
    return Response(serializer(transfer, context={"request": request}).data, status=status)


TRANSFER_RESPONSES = {
    202: OpenApiResponse(description="Command not answered yet."),
    400: OpenApiResponse(description="Invalid request."),
    409: OpenApiResponse(description="Charger not connected."),
    502: OpenApiResponse(description="The command failed."),
    504: OpenApiResponse(description="No answer in time."),
}


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
        responses={201: FileRequestSerializer, **TRANSFER_RESPONSES},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        require_permission(request.user, "commands.send_diagnose", "Asking for a file")
        incoming = FileRequestCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
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
        return send_and_answer(request, file_request, FileRequestSerializer, data["wait"])


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


class FirmwareImageViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Firmware images to send to chargers: upload one (multipart/form-data,
    with its signing certificate and signature for signed updates), then
    start an update at /api/firmware-updates/."""

    queryset = FirmwareImage.objects.select_related("created_by")
    serializer_class = FirmwareImageSerializer
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ["created_at", "name", "version"]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        upload = data["file"]
        serializer.instance = firmware_image_store(
            name=os.path.basename(upload.name),
            chunks=upload.chunks(),
            version=data.get("version", ""),
            description=data.get("description", ""),
            signing_certificate=data.get("signing_certificate", ""),
            signature=data.get("signature", ""),
            created_by=self.request.user,
        )

    def perform_destroy(self, instance: FirmwareImage) -> None:
        try:
            firmware_image_delete(image=instance)
        except ProtectedError as error:
            raise Conflict("Updates refer to this image; it is kept.") from error

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True)
    def content(self, request: Request, pk: str | None = None) -> FileResponse:
        """The image itself, as an attachment."""
        image = self.get_object()
        path = files_dir() / image.path
        if not path.is_file():
            raise Http404("The image is recorded but missing from the files directory.")
        return FileResponse(path.open("rb"), as_attachment=True, filename=image.name)


class FirmwareUpdateViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Update a charger's firmware from an uploaded image: the platform serves
    it at a download location with credentials for this update alone, sends
    UpdateFirmware (SignedUpdateFirmware for a signed 1.6 update) and follows
    FirmwareStatusNotification to the end."""

    queryset = FirmwareUpdate.objects.select_related("command", "created_by")
    serializer_class = FirmwareUpdateSerializer
    filterset_class = FirmwareUpdateFilter
    ordering_fields = ["created_at", "status_at"]

    @extend_schema(
        request=FirmwareUpdateCreateSerializer,
        responses={201: FirmwareUpdateSerializer, **TRANSFER_RESPONSES},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        require_permission(request.user, "commands.send_firmware", "Updating firmware")
        incoming = FirmwareUpdateCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        charge_point = data["charge_point"]
        update = firmware_update_start(
            charge_point_id=charge_point.id,
            ocpp_version=charge_point.ocpp_version,
            firmware=data["firmware"],
            protocol=data.get("protocol"),
            signed=data["signed"],
            options=data,
            created_by=request.user,
            at=utc_now(),
        )
        return send_and_answer(request, update, FirmwareUpdateSerializer, data["wait"])
