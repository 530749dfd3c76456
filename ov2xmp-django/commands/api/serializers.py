"""The command API's shapes. Each command gets its own request and response
serializer, built from its CommandSpec, so Swagger shows that command's OCPP
request and answer schemas (enums and all) and the API checks the request
against the very schema the csms sends it with."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chargepoints.api.validation import known_charger
from chargepoints.models import ChargePoint
from commands.catalog import CommandSpec
from commands.models import Command

MAX_WAIT_SECONDS = 60.0
DEFAULT_WAIT_SECONDS = 5.0
MAX_HOLD_SECONDS = 7 * 24 * 3600


class CommandSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="command-detail")
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    reports: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Reports the charger sent for this request."
    )

    class Meta:
        model = Command
        fields = [
            "id",
            "url",
            "charge_point",
            "ocpp_version",
            "action",
            "status",
            "request",
            "response",
            "error_code",
            "error_description",
            "hold_until",
            "request_id",
            "transaction",
            "reports",
            "created_by",
            "created_at",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class CommandRequestSerializer(serializers.Serializer):
    """What every command takes besides its OCPP payload."""

    spec: ClassVar[CommandSpec]

    charge_point = serializers.CharField(max_length=48, help_text="The charger's id.")
    wait = serializers.FloatField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=DEFAULT_WAIT_SECONDS,
        help_text="Seconds to wait for the charger's answer. Answered in time: 200 (or the "
        "failure's code); otherwise 202 and the command's URL to read the outcome later. "
        "0 returns at once.",
    )
    hold_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_HOLD_SECONDS,
        default=0,
        help_text="If the charger is offline, hold the command this long and send it when "
        "the charger reconnects. 0 (the default): an offline charger fails the command "
        "at once (409).",
    )

    def validate_charge_point(self, value: str) -> ChargePoint:
        return known_charger(self.context["request"].user, value)

    def validate_payload(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise serializers.ValidationError("Must be a JSON object (the OCPP request payload).")
        errors = self.spec.request_errors(payload)
        if errors:
            raise serializers.ValidationError(errors)
        return payload


def _schema_field(schema: dict[str, Any], name: str, **kwargs: Any) -> serializers.Field:
    field_class = extend_schema_field(schema)(type(name, (serializers.JSONField,), {}))
    return field_class(**kwargs)


def _component_name(spec: CommandSpec) -> str:
    return f"{spec.url_segment.capitalize()}{spec.action}"


@cache
def request_serializer(spec: CommandSpec) -> type[CommandRequestSerializer]:
    name = _component_name(spec)
    payload = _schema_field(
        spec.request_schema(),
        f"{name}Payload",
        help_text=f"The OCPP {spec.ocpp_version} {spec.action} request, as the spec writes it.",
    )
    return type(
        f"{name}CommandSerializer",
        (CommandRequestSerializer,),
        {"spec": spec, "payload": payload, "__module__": __name__},
    )


@cache
def result_serializer(spec: CommandSpec) -> type[CommandSerializer]:
    """The command as stored, with this command's answer schema on ``response``."""
    name = _component_name(spec)
    response = _schema_field(
        spec.response_schema(),
        f"{name}Answer",
        read_only=True,
        allow_null=True,
        help_text="The charger's answer (null until answered; a CallError's details).",
    )
    meta = type("Meta", (CommandSerializer.Meta,), {})
    return type(
        f"{name}CommandResultSerializer",
        (CommandSerializer,),
        {"response": response, "Meta": meta, "__module__": __name__},
    )


class WaitSerializer(serializers.Serializer):
    """The body of an action that sends a command and may wait for its answer."""

    wait = serializers.FloatField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=DEFAULT_WAIT_SECONDS,
        help_text="Seconds to wait for the charger's answer.",
    )
