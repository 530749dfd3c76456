from rest_framework import serializers

from idtokens.models import IdToken


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
