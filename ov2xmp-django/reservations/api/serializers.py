from __future__ import annotations

from typing import Any

from ocpp.v201.enums import ConnectorEnumType
from rest_framework import serializers

from accounts.scoping import scope_queryset
from chargepoints.api.validation import connected_charger
from chargepoints.models import ChargePoint, Evse
from commands.api.serializers import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, CommandSerializer
from commands.catalog import OCPP16
from core.time import utc_now
from idtokens.models import IdToken, IdTokenStatus, IdTokenType
from idtokens.selectors import idtoken_authorize
from reservations.models import Reservation
from reservations.services import reservation_payload_errors, reserve_now_payload

# The longest idTag OCPP 1.6 carries (CiString20Type).
MAX_IDTAG_16 = 20


class ReservationSerializer(serializers.ModelSerializer):
    command = CommandSerializer(read_only=True, help_text="The ReserveNow and its answer.")
    cancel_command = CommandSerializer(
        read_only=True, help_text="The CancelReservation last sent for it, and its answer."
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Reservation
        fields = [
            "id",
            "charge_point",
            "reservation_id",
            "evse_id",
            "connector_type",
            "id_token_value",
            "id_token_type",
            "group_id_token_value",
            "expires_at",
            "status",
            "status_at",
            "transaction",
            "command",
            "cancel_command",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ActiveReservationSerializer(serializers.ModelSerializer):
    """A reservation that holds an EVSE (or any EVSE of the charger) now."""

    class Meta:
        model = Reservation
        fields = ["id", "reservation_id", "evse_id", "id_token_value", "expires_at"]
        read_only_fields = fields


class ReservationCreateSerializer(serializers.Serializer):
    charge_point = serializers.CharField(max_length=48, help_text="The charger's id.")
    evse_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The EVSE to hold; empty: any EVSE of the charger. An OCPP 1.6 "
        "connector N is EVSE N.",
    )
    connector_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="OCPP 1.6 only: the connector to hold (the same as evse_id N).",
    )
    id_token = serializers.CharField(
        max_length=255, help_text="The token the reservation is for (in /api/id-tokens/)."
    )
    id_token_type = serializers.ChoiceField(
        choices=IdTokenType.choices,
        required=False,
        help_text="Its type, where tokens of several types share the value.",
    )
    group_id_token = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="A group token whose tokens may use it too (1.6 parentIdTag, 2.0.1 "
        "groupIdToken). Default: the token's group; empty string: none.",
    )
    expires_at = serializers.DateTimeField(help_text="When the charger frees the EVSE again.")
    connector_type = serializers.ChoiceField(
        choices=[item.value for item in ConnectorEnumType],
        required=False,
        help_text="OCPP 2.0.1 only: the connector type to hold.",
    )
    wait = serializers.FloatField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=DEFAULT_WAIT_SECONDS,
        help_text="Seconds to wait for the charger's answer to ReserveNow.",
    )

    def validate_charge_point(self, value: str) -> ChargePoint:
        return connected_charger(self.context["request"].user, value)

    def _token(self, value: str, type: str | None, field: str) -> IdToken:
        tokens = scope_queryset(
            IdToken.objects.select_related("parent"), self.context["request"].user
        )
        tokens = tokens.filter(value=value)
        if type:
            tokens = tokens.filter(type=type)
        token = tokens.order_by("pk").first()
        if token is None:
            raise serializers.ValidationError({field: f"Unknown id token {value!r}."})
        return token

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        charge_point: ChargePoint = attrs["charge_point"]
        version = charge_point.ocpp_version
        evse_id, connector_id = attrs.get("evse_id"), attrs.get("connector_id")
        if connector_id is not None:
            if version != OCPP16:
                raise serializers.ValidationError(
                    {
                        "connector_id": "OCPP 2.0.1 reserves an EVSE: give evse_id, and "
                        "connector_type for one kind of its connectors."
                    }
                )
            if evse_id is not None and evse_id != connector_id:
                raise serializers.ValidationError(
                    {"connector_id": "Give evse_id or connector_id, not two different ones."}
                )
            evse_id = connector_id
        if attrs.get("connector_type") and version == OCPP16:
            raise serializers.ValidationError(
                {"connector_type": "OCPP 1.6 reserves connectors, not connector types."}
            )
        evses = Evse.objects.filter(charge_point=charge_point)
        if evse_id is not None and evses.exists() and not evses.filter(evse_id=evse_id).exists():
            raise serializers.ValidationError(
                {"evse_id": f"{charge_point.id} has no EVSE {evse_id}."}
            )
        attrs["evse_id"] = evse_id
        now = utc_now()
        if attrs["expires_at"] <= now:
            raise serializers.ValidationError({"expires_at": "Must be in the future."})

        token = self._token(attrs["id_token"], attrs.get("id_token_type"), "id_token")
        authorization = idtoken_authorize(
            value=token.value, type=token.type, at=now, check_concurrency=False
        )
        if authorization.status != IdTokenStatus.ACCEPTED:
            raise serializers.ValidationError(
                {"id_token": f"The token is {authorization.status}: it cannot reserve."}
            )
        if "group_id_token" in attrs:
            group = (
                self._token(attrs["group_id_token"], None, "group_id_token")
                if attrs["group_id_token"]
                else None
            )
        else:
            group = token.parent
        if version == OCPP16:
            for field, named in (("id_token", token), ("group_id_token", group)):
                if named is not None and len(named.value) > MAX_IDTAG_16:
                    raise serializers.ValidationError(
                        {field: f"OCPP 1.6 carries tokens of at most {MAX_IDTAG_16} characters."}
                    )
        attrs["token"], attrs["group"] = token, group
        # Whatever else the OCPP schema would refuse (lengths of 2.0.1 tokens).
        errors = reservation_payload_errors(
            ocpp_version=version,
            payload=reserve_now_payload(
                ocpp_version=version,
                reservation_id=1,
                evse_id=evse_id,
                expires_at=attrs["expires_at"],
                id_token_value=token.value,
                id_token_type=token.type,
                group_value=group.value if group else "",
                group_type=group.type if group else "",
                connector_type=attrs.get("connector_type", ""),
            ),
        )
        if errors:
            raise serializers.ValidationError(
                {"id_token": [f"{k}: {v}" for k, v in errors.items()]}
            )
        return attrs
