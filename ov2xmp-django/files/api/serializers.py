from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from rest_framework import serializers

from accounts.scoping import scope_queryset
from chargepoints.api.validation import connected_charger
from chargepoints.models import ChargePoint
from commands.api.serializers import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, CommandSerializer
from files.models import FileKind, FileRequest, FirmwareImage, FirmwareUpdate, Protocol, StoredFile
from files.services import ACCEPTABLE_NAME


class StoredFileSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="storedfile-detail")
    content = serializers.HyperlinkedIdentityField(
        view_name="storedfile-content", help_text="Download the file."
    )
    request: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The file request it answered."
    )

    class Meta:
        model = StoredFile
        fields = [
            "id",
            "url",
            "content",
            "charge_point",
            "kind",
            "name",
            "size",
            "sha256",
            "request",
            "created_at",
        ]
        read_only_fields = fields


class FileRequestSerializer(serializers.ModelSerializer):
    command = CommandSerializer(read_only=True)
    file = StoredFileSerializer(read_only=True)
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = FileRequest
        fields = [
            "id",
            "charge_point",
            "kind",
            "protocol",
            "status",
            "status_at",
            "charger_status",
            "file_name",
            "expires_at",
            "used_at",
            "file",
            "command",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class FileRequestCreateSerializer(serializers.Serializer):
    charge_point = serializers.CharField(max_length=48)
    kind = serializers.ChoiceField(
        choices=FileKind.choices,
        help_text="Diagnostics: GetDiagnostics (1.6) or GetLog DiagnosticsLog (2.0.1). "
        "DiagnosticsLog, SecurityLog: GetLog (2.0.1, or the 1.6 security extension).",
    )
    protocol = serializers.ChoiceField(
        choices=Protocol.choices,
        required=False,
        help_text="How the charger uploads: ftp or http (default: OV2XMP_UPLOAD_PROTOCOL).",
    )
    start_time = serializers.DateTimeField(
        required=False, help_text="Oldest entries wanted (startTime / oldestTimestamp)."
    )
    stop_time = serializers.DateTimeField(
        required=False, help_text="Newest entries wanted (stopTime / latestTimestamp)."
    )
    retries = serializers.IntegerField(min_value=0, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False)
    wait = serializers.FloatField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=DEFAULT_WAIT_SECONDS,
        help_text="Seconds to wait for the charger's answer to the command.",
    )

    def validate_charge_point(self, value: str) -> ChargePoint:
        return connected_charger(self.context["request"].user, value)

    def validate(self, attrs: dict) -> dict:
        start, stop = attrs.get("start_time"), attrs.get("stop_time")
        if start and stop and start > stop:
            raise serializers.ValidationError({"stop_time": "Must not be before start_time."})
        return attrs


class FirmwareImageSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="firmwareimage-detail")
    content = serializers.HyperlinkedIdentityField(
        view_name="firmwareimage-content", help_text="Download the image."
    )
    file = serializers.FileField(
        write_only=True, help_text="The image (multipart/form-data); its name is kept."
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = FirmwareImage
        fields = [
            "id",
            "url",
            "content",
            "file",
            "name",
            "version",
            "description",
            "size",
            "sha256",
            "signing_certificate",
            "signature",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "name", "size", "sha256", "created_by", "created_at"]

    def validate_file(self, value: Any) -> Any:
        name = os.path.basename(value.name or "")
        if not ACCEPTABLE_NAME.fullmatch(name):
            raise serializers.ValidationError(f"File name not allowed: {name!r}.")
        if value.size > settings.OV2XMP.upload_max_bytes:
            raise serializers.ValidationError(
                f"Larger than OV2XMP_UPLOAD_MAX_BYTES ({settings.OV2XMP.upload_max_bytes})."
            )
        return value


class FirmwareUpdateSerializer(serializers.ModelSerializer):
    command = CommandSerializer(read_only=True)
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = FirmwareUpdate
        fields = [
            "id",
            "charge_point",
            "firmware",
            "protocol",
            "signed",
            "status",
            "status_at",
            "downloads",
            "expires_at",
            "command",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class FirmwareUpdateCreateSerializer(serializers.Serializer):
    charge_point = serializers.CharField(max_length=48)
    firmware = serializers.PrimaryKeyRelatedField(queryset=FirmwareImage.objects.all())
    protocol = serializers.ChoiceField(
        choices=Protocol.choices,
        required=False,
        help_text="How the charger downloads: http or ftp (default: OV2XMP_UPLOAD_PROTOCOL).",
    )
    signed = serializers.BooleanField(
        default=False,
        help_text="OCPP 1.6: send SignedUpdateFirmware (security extension). 2.0.1 always "
        "sends the image's signature when it has one.",
    )
    retrieve_date = serializers.DateTimeField(required=False, help_text="Default: now.")
    install_date = serializers.DateTimeField(required=False)
    retries = serializers.IntegerField(min_value=0, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False)
    wait = serializers.FloatField(
        min_value=0, max_value=MAX_WAIT_SECONDS, default=DEFAULT_WAIT_SECONDS
    )

    def validate_charge_point(self, value: str) -> ChargePoint:
        return connected_charger(self.context["request"].user, value)

    def validate_firmware(self, image: FirmwareImage) -> FirmwareImage:
        user = self.context["request"].user
        if not scope_queryset(FirmwareImage.objects.filter(pk=image.pk), user).exists():
            raise serializers.ValidationError(f'Invalid pk "{image.pk}" - object does not exist.')
        return image

    def validate(self, attrs: dict) -> dict:
        image = attrs["firmware"]
        charge_point = attrs["charge_point"]
        needs_signature = attrs["signed"] or (
            charge_point.ocpp_version not in ("", "1.6") and image.signing_certificate
        )
        if needs_signature and not (image.signing_certificate and image.signature):
            raise serializers.ValidationError(
                {"signed": "A signed update needs the image's signing_certificate and signature."}
            )
        if attrs["signed"] and charge_point.ocpp_version != "1.6":
            raise serializers.ValidationError(
                {"signed": "Only for OCPP 1.6 (2.0.1 signs within UpdateFirmware)."}
            )
        return attrs
