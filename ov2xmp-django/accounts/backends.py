"""Permissions that come from a user's role (accounts.roles), next to
Django's own per-user and per-group permissions (ModelBackend)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from accounts.roles import role_permissions


class RoleBackend(BaseBackend):
    """Grants the permissions of the user's role; authenticates nobody."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return set(role_permissions(getattr(user_obj, "role", "")))

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return False
        return perm in role_permissions(getattr(user_obj, "role", ""))
