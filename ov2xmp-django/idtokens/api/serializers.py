from rest_framework import serializers

from idtokens.models import IdToken


class IdTokenSerializer(serializers.ModelSerializer):
    parent_value = serializers.CharField(source="parent.value", read_only=True, default=None)

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
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        parent = attrs.get("parent")
        ancestor = parent
        while ancestor is not None:
            if self.instance is not None and ancestor.pk == self.instance.pk:
                raise serializers.ValidationError(
                    {"parent": ["A token cannot be its own group (directly or through others)."]}
                )
            ancestor = ancestor.parent
        return attrs
