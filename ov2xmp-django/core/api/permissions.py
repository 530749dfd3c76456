from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, DjangoModelPermissions

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

VIEW = ["%(app_label)s.view_%(model_name)s"]


class ModelPermissions(DjangoModelPermissions):
    """Every request needs a login and the model's permission: view to read,
    add, change or delete to write (Django's, or the user's role's)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": VIEW,
        "HEAD": VIEW,
        "OPTIONS": VIEW,
    }


class ChangeOnPost(ModelPermissions):
    """A POST action that changes an existing row needs the change
    permission (ModelPermissions would ask for add)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def requires(*permissions: str) -> type[BasePermission]:
    """A permission class for a view or action that needs exactly these
    permissions (besides a login), whatever the HTTP method."""

    class Requires(BasePermission):
        message = f"Needs the permission {', '.join(permissions)}."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(permissions))

    return Requires


def require_permission(user: Any, permission: str, doing: str) -> None:
    """403 with the reason unless ``user`` has ``permission``."""
    if not user.has_perm(permission):
        raise PermissionDenied(f"{doing} needs the permission {permission}.")
