"""Users, their roles and profiles, vehicles; and the public password reset
endpoints (ask for a link by mail, then set the password with it: no login,
throttled, accounts/throttles.py)."""

from __future__ import annotations

from typing import Any, NoReturn, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import reset_links
from accounts.api.filters import UserFilter
from accounts.api.serializers import (
    MeSerializer,
    PasswordChangeSerializer,
    PasswordResetAnswerSerializer,
    PasswordResetConfirmErrorSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    UserSerializer,
    VehicleSerializer,
)
from accounts.models import User, Vehicle
from accounts.roles import Role
from accounts.services import PasswordResetLinkInvalid, user_password_reset
from accounts.tasks import password_reset_requested
from accounts.throttles import REQUEST_THROTTLES, PasswordResetConfirmThrottle
from core.api.views import Conflict, ProtectedDestroyMixin


class UserViewSet(ProtectedDestroyMixin, viewsets.ModelViewSet):
    """The platform's users and their roles (docs/roles.md). A platform
    manager sees and gives every role; an eMSP manager sees and makes drivers
    only. Nobody changes their own role; the superuser flag is not changed
    here. A user with sessions or CDRs is deactivated, not deleted (409)."""

    queryset = User.objects.all().order_by("username")
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["username", "date_joined", "last_login"]
    protected_detail = "The user has sessions, CDRs or prepaid entries: deactivate them instead."

    def get_queryset(self) -> QuerySet[User]:
        users = super().get_queryset()
        if self.request.user.has_perm("accounts.assign_roles"):
            return users
        return users.filter(role=Role.DRIVER)

    def perform_destroy(self, instance: Any) -> None:
        if instance.pk == self.request.user.pk:
            raise Conflict("You cannot delete yourself.")
        super().perform_destroy(instance)


class MeView(generics.RetrieveUpdateAPIView):
    """Your own profile: contact details and language (yours to change), your
    role, prepaid balance and permissions (read-only)."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self) -> Any:
        return self.request.user


class PasswordChangeView(generics.GenericAPIView):
    """Change your own password (the current one is asked)."""

    serializer_class = PasswordChangeSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = cast(User, request.user)  # IsAuthenticated: not anonymous
        user.set_password(serializer.validated_data["new_password"])
        user.save(update_fields=["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VehicleViewSet(viewsets.ModelViewSet):
    """EVs and their drivers. A driver sees and keeps their own; the EVCC id
    (ISO 15118) links a 2.0.1 session to its vehicle."""

    queryset = Vehicle.objects.all()
    serializer_class = VehicleSerializer
    filterset_fields = ["owner", "evcc_id"]
    ordering_fields = ["name", "created_at"]


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
