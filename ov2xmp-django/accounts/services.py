"""Writes on users, and the mails that go with them."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import reset_links
from accounts.models import User
from accounts.roles import Role
from accounts.selectors import users_for_password_reset
from core.time import utc_now

logger = logging.getLogger(__name__)


class PasswordResetLinkInvalid(Exception):
    """A password reset link that does not (or no longer) set a password:
    garbage, expired, used already, or its user gone or inactive."""


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


def password_reset_mails_send(*, email: str) -> int:
    """Mail a password reset link to every active user with this address;
    returns how many were sent. Runs outside the request that asked (accounts.
    tasks), so the asker learns nothing from how long it takes. Neither the
    link nor its token is logged."""
    users = users_for_password_reset(email=email)
    if not users:
        logger.info("password reset asked for an address no active user has")
        return 0
    expires_at = utc_now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    with get_connection() as connection:
        for user in users:
            context = {
                "user": user,
                "link": reset_links.link_for(user),
                "validity": reset_links.validity_text(),
                "expires_at": expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                "site": settings.PUBLIC_URL,
                "request_page": settings.PUBLIC_URL + reverse("accounts:password-reset"),
            }
            subject = render_to_string("accounts/password_reset_subject.txt", context)
            EmailMessage(
                subject=" ".join(subject.split()),
                body=render_to_string("accounts/password_reset_email.txt", context),
                to=[user.email],
                connection=connection,
            ).send()
            logger.info("password reset mail sent to user %r (id %s)", user.username, user.pk)
    if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
        logger.info("mails are written to files in %s (OV2XMP_EMAIL_URL)", settings.EMAIL_FILE_PATH)
    return len(users)


@transaction.atomic
def user_password_reset(*, uidb64: str, token: str, new_password: str) -> User:
    """Set the password that a reset link allows, once.

    Raises ``PasswordResetLinkInvalid`` for a link that does not work, and
    Django's ``ValidationError`` for a password the validators refuse (the
    link stays usable then). The user's row is locked while the token is
    checked and the password set, so two uses of one link at the same moment
    cannot both succeed: the second sees the new password hash, which the
    token no longer matches.
    """
    pk = reset_links.user_id(uidb64)
    user = (
        None
        if pk is None
        else User.objects.select_for_update().filter(pk=pk, is_active=True).first()
    )
    if user is None or not reset_links.token_valid(user, token):
        raise PasswordResetLinkInvalid(reset_links.INVALID_LINK)
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    logger.info("user %r (id %s) set a new password with a reset link", user.username, user.pk)
    return user
