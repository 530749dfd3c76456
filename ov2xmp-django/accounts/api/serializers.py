from __future__ import annotations

from rest_framework import serializers


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
