from rest_framework import serializers

from commands.api.serializers import DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, CommandSerializer
from idtokens.models import IdToken, LocalListUpdate, LocalListUpdateType


class IdTokenSerializer(serializers.ModelSerializer):
    # allow_null, not default=None: DRF skips a field's default on partial
    # updates, so a PATCH answer would lack parent_value for a token without a group.
    parent_value = serializers.CharField(source="parent.value", read_only=True, allow_null=True)

    class Meta:
        model = IdToken
        fields = [
            "id",
            "value",
            "type",
            "status",
            "expires_at",
            "parent",
            "parent_value",
            "owner",
            "allow_concurrent_transactions",
            "language",
            "second_language",
            "personal_message",
            "personal_message_format",
            "personal_message_language",
            "charging_priority",
            "may_discharge",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        ancestor = attrs.get("parent")
        seen: set[int] = set()
        # ``seen`` ends the walk on a cycle that is already stored (the admin and
        # the ORM do not check), which would otherwise never end.
        while ancestor is not None and ancestor.pk not in seen:
            if self.instance is not None and ancestor.pk == self.instance.pk:
                raise serializers.ValidationError(
                    {"parent": ["A token cannot be its own group (directly or through others)."]}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        return attrs


class LocalListUpdateSerializer(serializers.ModelSerializer):
    command = CommandSerializer(read_only=True, help_text="The SendLocalList and its answer.")
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    recovered_by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="The Full update sent because the charger answered VersionMismatch.",
    )

    class Meta:
        model = LocalListUpdate
        fields = [
            "id",
            "charge_point",
            "version_number",
            "update_type",
            "status",
            "status_at",
            "entries",
            "full_list",
            "recovers",
            "recovered_by",
            "command",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class LocalListSendSerializer(serializers.Serializer):
    update_type = serializers.ChoiceField(
        choices=LocalListUpdateType.choices,
        help_text="Full: the whole list. Differential: what changed since the version the "
        "charger holds (Full when the platform does not know that version's list).",
    )
    wait = serializers.FloatField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        default=DEFAULT_WAIT_SECONDS,
        help_text="Seconds to wait for the charger's answer (and, after a VersionMismatch, "
        "for the answer to the Full update that repairs it).",
    )


class LocalListSerializer(serializers.Serializer):
    """What a charger's local list holds, as far as the platform knows."""

    charge_point = serializers.CharField()
    local_list_version = serializers.IntegerField(
        allow_null=True, help_text="The version the charger holds (last accepted or reported)."
    )
    local_list_group = serializers.IntegerField(
        allow_null=True, help_text="The group token whose tokens go on the list (null: all)."
    )
    held_update = serializers.IntegerField(
        allow_null=True,
        help_text="The platform's update that made this version (null: not sent by the "
        "platform, or unknown).",
    )
    entries = serializers.ListField(
        child=serializers.DictField(), help_text="The tokens on it, as of that update."
    )
    current = serializers.ListField(
        child=serializers.DictField(), help_text="The tokens the list should hold now."
    )


class LocalListVersionSerializer(serializers.Serializer):
    charge_point = serializers.CharField()
    local_list_version = serializers.IntegerField(allow_null=True)
    command = CommandSerializer(help_text="The GetLocalListVersion and its answer.")
