"""Fixtures of the password reset tests: mails are sent from a thread of
their own (accounts.tasks), and the throttles count in the cache."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache

from core.background import background_work_done

PUBLIC_URL = "https://csms.example.org"
LINK = re.compile(r"https://csms\.example\.org/password-reset/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.PUBLIC_URL = PUBLIC_URL


@pytest.fixture(autouse=True)
def mails_finished():
    """No mail thread still running into the next test (or its database)."""
    yield
    background_work_done()


def sent() -> list[mail.EmailMessage]:
    """The mails sent so far, once the mail thread has finished its work."""
    background_work_done()
    return list(mail.outbox)


def link_in(message: mail.EmailMessage) -> tuple[str, str, str]:
    """The link of a reset mail: (path, uid, token)."""
    match = LINK.search(message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path, match["uid"], match["token"]
