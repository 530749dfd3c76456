"""The public password reset endpoints: ask for a link by mail, then set the
password with it. No login; throttled (accounts/throttles.py)."""

from __future__ import annotations

from typing import NoReturn

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import reset_links
from accounts.api.serializers import (
    PasswordResetAnswerSerializer,
    PasswordResetConfirmErrorSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
)
from accounts.services import PasswordResetLinkInvalid, user_password_reset
from accounts.tasks import password_reset_requested
from accounts.throttles import REQUEST_THROTTLES, PasswordResetConfirmThrottle

THROTTLED = OpenApiResponse(
    PasswordResetAnswerSerializer,
    description="Too many requests: try again after `Retry-After` seconds.",
)


def requested_detail() -> str:
    return (
        "If an active account has this address, a mail with a link to set a new "
        f"password is on its way. The link works once, for {reset_links.validity_text()}."
    )


class PublicView(APIView):
    """No login, no session (so no CSRF check either), throttled."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttled_detail = "Too many requests."

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise Throttled(wait, detail=self.throttled_detail)


class PasswordResetRequestView(PublicView):
    throttle_classes = list(REQUEST_THROTTLES)
    throttled_detail = "Too many password reset requests for this address or from this client."

    @extend_schema(
        operation_id="password_reset_request",
        summary="Ask for a password reset link by mail",
        description=(
            "Mails a link to set a new password to every active account with this address. "
            "The answer is the same whether or not such an account exists, and the mail "
            "is sent after the answer. The link points to the dashboard's page "
            "`/password-reset/<uid>/<token>/`; a frontend of its own can take `uid` and "
            "`token` from it for `POST /api/password-reset/confirm/`. Limited per address "
            "and per client."
        ),
        request=PasswordResetRequestSerializer,
        responses={
            202: OpenApiResponse(
                PasswordResetAnswerSerializer, description="Asked: the answer for any address."
            ),
            400: OpenApiResponse(description="`email` is missing or not an address."),
            429: THROTTLED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_requested(serializer.validated_data["email"])
        return Response({"detail": requested_detail()}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    throttle_classes = [PasswordResetConfirmThrottle]
    throttled_detail = "Too many attempts to set a password from this client."

    @extend_schema(
        operation_id="password_reset_confirm",
        summary="Set a new password with the link's uid and token",
        description=(
            "The link works once: setting the password uses it up, and so does any "
            "login before. It expires after `OV2XMP_PASSWORD_RESET_TIMEOUT` seconds. "
            "Tokens issued before stop working too. Sessions logged in with the old "
            "password end; JWTs already issued stay valid until they expire."
        ),
        request=PasswordResetConfirmSerializer,
        responses={
            200: OpenApiResponse(PasswordResetAnswerSerializer, description="The password is set."),
            400: OpenApiResponse(
                PasswordResetConfirmErrorSerializer,
                description="The link does not work (`token`), or the password was refused "
                "(`new_password`).",
                examples=[
                    OpenApiExample(
                        "Link invalid, expired or used",
                        value={"token": [reset_links.INVALID_LINK]},
                    ),
                    OpenApiExample(
                        "Password refused",
                        value={"new_password": ["This password is too common."]},
                    ),
                ],
            ),
            429: THROTTLED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user_password_reset(
                uidb64=data["uid"], token=data["token"], new_password=data["new_password"]
            )
        except PasswordResetLinkInvalid as error:
            raise ValidationError({"token": [str(error)]}) from None
        except DjangoValidationError as error:
            raise ValidationError({"new_password": list(error.messages)}) from None
        return Response({"detail": "The password is set. Log in with it."})
