"""Writes on users."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.roles import Role


@dataclass(frozen=True)
class AdminProvisioning:
    username: str
    created: bool
    generated_password: str | None


@transaction.atomic
def user_ensure_admin(*, username: str | None, password: str | None) -> AdminProvisioning | None:
    """Make sure an administrator can log in.

    With a username and password, that superuser is created or its password
    reset to the given one. Without them, a superuser named ``admin`` with a
    generated password is created only when no superuser exists yet; the
    password is returned once, to be shown once. ``None`` means nothing changed.
    """
    if bool(username) != bool(password):
        raise ValueError("OV2XMP_ADMIN_USERNAME and OV2XMP_ADMIN_PASSWORD go together")
    if username and password:
        user, created = User.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        return AdminProvisioning(username=username, created=created, generated_password=None)
    if User.objects.filter(is_superuser=True).exists():
        return None
    generated = secrets.token_urlsafe(12)
    User.objects.create_superuser(username="admin", email="", password=generated)
    return AdminProvisioning(username="admin", created=True, generated_password=generated)


def role_change_refusal(*, actor: Any, target: User | None, role: str) -> str | None:
    """Why ``actor`` may not give ``target`` (None: a new user) the role
    ``role``; None when they may. Nobody changes their own role, and without
    ``accounts.assign_roles`` only drivers are made (the eMSP manager's lot)."""
    if target is not None and target.pk == actor.pk:
        return None if role == target.role else "You cannot change your own role."
    if actor.has_perm("accounts.assign_roles"):
        return None
    if role != Role.DRIVER or (target is not None and target.role != Role.DRIVER):
        return "Only a platform manager gives roles other than driver."
    return None
