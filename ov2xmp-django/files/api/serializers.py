from __future__ import annotations

from rest_framework import serializers

from chargepoints.models import ChargePoint
from commands.api.serializers import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, CommandSerializer
from files.models import FileKind, FileRequest, Protocol, StoredFile


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
        try:
            charge_point = ChargePoint.objects.get(id=value)
        except ChargePoint.DoesNotExist:
            raise serializers.ValidationError(f"Unknown charger {value!r}.") from None
        if not charge_point.ocpp_version:
            raise serializers.ValidationError(
                f"{value} has never connected: its OCPP version is not known."
            )
        return charge_point

    def validate(self, attrs: dict) -> dict:
        start, stop = attrs.get("start_time"), attrs.get("stop_time")
        if start and stop and start > stop:
            raise serializers.ValidationError({"stop_time": "Must not be before start_time."})
        return attrs
