from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.filters import UserFilter
from accounts.api.serializers import (
    MeSerializer,
    PasswordChangeSerializer,
    UserSerializer,
    VehicleSerializer,
)
from accounts.models import User, Vehicle
from accounts.roles import Role
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
