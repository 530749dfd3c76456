from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User, Vehicle
from accounts.scoping import is_scoped
from accounts.services import role_change_refusal
from billing.selectors import prepaid_balance


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        style={"input_type": "password"},
        help_text="Optional on create: without one the user sets theirs by password reset.",
    )
    prepaid_balance = serializers.SerializerMethodField(
        help_text="What is left of the prepaid balance, in prepaid_currency (null: none)."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "vendor_name",
            "phone",
            "language",
            "prepaid_currency",
            "prepaid_balance",
            "is_active",
            "is_superuser",
            "password",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["is_superuser", "date_joined", "last_login"]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_prepaid_balance(self, user: User) -> str | None:
        balance = prepaid_balance(user)
        # As the API writes every amount: a string with the cents.
        return None if balance is None else str(balance.quantize(Decimal("0.01")))

    def validate_password(self, value: str) -> str:
        password_validation.validate_password(value, self.instance)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        actor = self.context["request"].user
        role = attrs.get("role", self.instance.role if self.instance else "")
        refusal = role_change_refusal(actor=actor, target=self.instance, role=role)
        if refusal:
            raise serializers.ValidationError({"role": [refusal]})
        deactivating = attrs.get("is_active") is False
        if deactivating and self.instance is not None and self.instance.pk == actor.pk:
            raise serializers.ValidationError({"is_active": ["You cannot deactivate yourself."]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> User:
        password = validated_data.pop("password", None)
        user = User(**validated_data)
        # Without a password, one nobody knows: password reset (which skips
        # unusable passwords) then lets the user choose theirs.
        user.set_password(password or secrets.token_urlsafe(32))
        user.save()
        return user

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        password = validated_data.pop("password", None)
        user = super().update(instance, validated_data)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user


class MeSerializer(UserSerializer):
    """The logged-in user's own profile: the contact details are theirs to
    change; the role, the vendor and the prepaid currency are not."""

    permissions = serializers.SerializerMethodField(
        help_text="Every permission the user has (role, groups, own), to show what they can do."
    )

    class Meta(UserSerializer.Meta):
        fields = [
            field for field in UserSerializer.Meta.fields if field not in ("password", "is_active")
        ] + ["permissions"]
        read_only_fields = [
            "username",
            "role",
            "vendor_name",
            "prepaid_currency",
            "is_superuser",
            "date_joined",
            "last_login",
        ]

    def get_permissions(self, user: User) -> list[str]:
        return sorted(user.get_all_permissions())


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})

    def validate_current_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("This is not your current password.")
        return value

    def validate_new_password(self, value: str) -> str:
        password_validation.validate_password(value, self.context["request"].user)
        return value


class VehicleSerializer(serializers.ModelSerializer):
    owner: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text="The driver it belongs to. A driver's own vehicles are theirs: leave it out.",
    )

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "owner",
            "name",
            "make",
            "model",
            "license_plate",
            "evcc_id",
            "battery_capacity_kwh",
            "charging_priority",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        actor = self.context["request"].user
        if is_scoped(actor):
            owner = attrs.get("owner", actor)
            if owner.pk != actor.pk:
                raise serializers.ValidationError({"owner": ["Your vehicles are your own."]})
            attrs["owner"] = actor
        elif self.instance is None and "owner" not in attrs:
            raise serializers.ValidationError({"owner": ["Whose vehicle is it?"]})
        return attrs


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, help_text="The address of the account whose password is forgotten."
    )


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(
        max_length=64, help_text="The `<uidb64>` part of the link in the mail."
    )
    token = serializers.CharField(
        max_length=128, help_text="The `<token>` part of the link in the mail."
    )
    new_password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Must pass the platform's password rules (length, not common, "
        "not all digits, not like the user's name or address).",
    )


class PasswordResetAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordResetConfirmErrorSerializer(serializers.Serializer):
    """A 400 answer: the link's problem, or the password's, or a field missing."""

    token = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The link is invalid, expired or used: ask for a new one.",
    )
    new_password = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Why the password was refused; the link can still be used.",
    )
    uid = serializers.ListField(child=serializers.CharField(), required=False)
