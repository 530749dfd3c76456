"""Password reset through the dashboard's pages: the login's link, the form,
"check your mail", the new password, done; the same limits as the API."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import link_in, sent
from accounts.tests.factories import PASSWORD, UserFactory
from dashboard.views import content_security_policy

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "charge-at-night-7731"


def text(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def ask(client: Client, email: str, **extra):
    return client.post("/password-reset/", {"email": email}, **extra)


def test_the_login_page_links_to_the_reset_form(db):
    page = Client().get("/login/")
    assert 'href="/password-reset/"' in page.content.decode()
    assert "Forgot your password?" in text(page)


def test_a_user_sets_a_new_password_through_the_pages():
    UserFactory(username="alice", email="alice@example.org")
    client = Client()

    form = client.get("/password-reset/")
    assert form.status_code == 200
    assert "Give the e-mail address of your account" in text(form)

    asked = ask(client, "alice@example.org")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/password-reset/sent/"
    check = client.get("/password-reset/sent/")
    assert "Check your mail" in text(check)
    assert "The link works once, for 1 hour." in text(check)

    (message,) = sent()
    path, uid, _token = link_in(message)
    # The first visit moves the token out of the address bar, into the session.
    opened = client.get(path)
    assert opened.status_code == 302
    form_path = f"/password-reset/{uid}/set-password/"
    assert opened.headers["Location"] == form_path
    page = client.get(form_path)
    assert "Set a new password" in text(page)
    assert "For the account alice ." in text(page)

    mismatch = client.post(
        form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert mismatch.status_code == 200
    assert "The two password fields didn\u2019t match." in text(mismatch)
    weak = client.post(form_path, {"new_password1": "12345678", "new_password2": "12345678"})
    assert "This password is too common." in text(weak)

    done = client.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/password-reset/done/"
    assert "Your new password is set." in text(client.get("/password-reset/done/"))

    login = Client()
    assert login.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 200
    logged_in = login.post("/login/", {"username": "alice", "password": NEW_PASSWORD})
    assert logged_in.status_code == 302

    # Used: the link now says so, in a new browser too.
    again = Client().get(path)
    assert again.status_code == 200
    assert "This link does not work" in text(again)
    assert "has been used already" in text(again)


def test_an_unknown_address_gets_the_same_page_and_no_mail():
    UserFactory(email="known@example.org", is_active=False)
    for email in ("nobody@example.org", "known@example.org"):
        response = ask(Client(), email)
        assert response.status_code == 302
        assert response.headers["Location"] == "/password-reset/sent/"
    assert sent() == []


def test_a_malformed_address_is_shown_again_with_the_reason():
    response = ask(Client(), "not-an-address")
    assert response.status_code == 200
    assert "Enter a valid email address." in text(response)


def test_garbage_links_show_the_invalid_link_page(db):
    for path in ("/password-reset/abc/def/", "/password-reset/MQ/1-2/", "/password-reset/x/y/"):
        response = Client().get(path)
        assert response.status_code == 200, path
        assert "This link does not work" in text(response)


def test_a_link_used_through_the_api_meanwhile_no_longer_sets_the_password():
    user = UserFactory()
    client = Client()
    ask(client, user.email)
    path, uid, token = link_in(sent()[0])
    form_path = client.get(path).headers["Location"]
    used = APIClient().post(
        "/api/password-reset/confirm/",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert used.status_code == 200
    late = client.post(
        form_path, {"new_password1": "late-password-4412", "new_password2": "late-password-4412"}
    )
    assert late.status_code == 200
    assert "This link does not work" in text(late)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_form_shares_the_apis_limits():
    UserFactory(email="victim@example.org")
    for n in range(3):
        APIClient().post(
            "/api/password-reset/",
            {"email": "victim@example.org"},
            format="json",
            REMOTE_ADDR=f"10.0.0.{n}",
        )
    refused = ask(Client(), "victim@example.org", REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429
    assert "Too many password reset requests" in text(refused)
    assert len(sent()) == 3
    for n in range(20):
        ask(Client(), f"user{n}@example.org", REMOTE_ADDR="10.0.1.1")
    assert ask(Client(), "user20@example.org", REMOTE_ADDR="10.0.1.1").status_code == 429


def test_the_pages_run_only_their_own_scripts_and_are_not_cached():
    user = UserFactory()
    client = Client()
    ask(client, user.email)
    link, uid, _token = link_in(sent()[0])
    for path in [
        "/password-reset/",
        "/password-reset/sent/",
        "/password-reset/done/",
        "/password-reset/abc/def/",
        link,
        f"/password-reset/{uid}/set-password/",
    ]:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert response.headers["Content-Security-Policy"] == content_security_policy(), path
        if response.status_code == 200:
            assert "<script>" not in response.content.decode(), path
            assert " style=" not in response.content.decode(), path
    assert "no-cache" in client.get("/password-reset/").headers["Cache-Control"]
    assert "no-cache" in client.get(f"/password-reset/{uid}/set-password/").headers["Cache-Control"]
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_the_link_of_a_deactivated_user_does_not_work():
    user = UserFactory()
    ask(Client(), user.email)
    path, _uid, _token = link_in(sent()[0])
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = Client().get(path)
    assert response.status_code == 200
    assert "This link does not work" in text(response)
