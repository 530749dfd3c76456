"""Reads on users that decide something."""

from __future__ import annotations

import unicodedata

from accounts import reset_links
from accounts.models import User


def _same_address(first: str, second: str) -> bool:
    """Equal after Unicode compatibility normalization and case folding, as
    Django's own reset form compares: ``iexact`` alone could match an address
    that only looks alike in the database's collation."""
    return (
        unicodedata.normalize("NFKC", first).casefold()
        == unicodedata.normalize("NFKC", second).casefold()
    )


def users_for_password_reset(*, email: str) -> list[User]:
    """The active users with this address and a password of their own (not
    users whose password is unusable, e.g. set from elsewhere). Several users
    may share an address: each gets a mail of their own."""
    candidates = User.objects.filter(email__iexact=email, is_active=True).order_by("pk")
    return [
        user
        for user in candidates
        if user.has_usable_password() and _same_address(email, user.email)
    ]


def user_for_password_reset_link(*, uidb64: str) -> User | None:
    """The active user a link's uid names, or None (garbage, unknown, inactive)."""
    pk = reset_links.user_id(uidb64)
    if pk is None:
        return None
    return User.objects.filter(pk=pk, is_active=True).first()
