"""Password reset through the API: a link by mail, a new password with it,
once, before it expires; the same answer for every address; throttled."""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import connections
from rest_framework.test import APIClient

from accounts import services, tasks
from accounts.models import User
from accounts.reset_links import INVALID_LINK
from accounts.tests.conftest import LINK, PUBLIC_URL, link_in, sent
from accounts.tests.factories import PASSWORD, UserFactory
from config.env import email_from_url
from core.background import background_work_done

# The mail is sent from another thread: it must see the users the test made.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "charge-at-night-7731"


def ask(email, *, client_address: str = "127.0.0.1"):
    return APIClient().post(
        "/api/password-reset/", {"email": email}, format="json", REMOTE_ADDR=client_address
    )


def confirm(uid, token, password=NEW_PASSWORD, *, client_address: str = "127.0.0.1"):
    return APIClient().post(
        "/api/password-reset/confirm/",
        {"uid": uid, "token": token, "new_password": password},
        format="json",
        REMOTE_ADDR=client_address,
    )


def can_log_in(username: str, password: str) -> bool:
    response = APIClient().post("/api/token/", {"username": username, "password": password})
    return response.status_code == 200


def link_for(user: User) -> tuple[str, str]:
    """Ask for a link for ``user`` and read it from the mail: (uid, token)."""
    assert ask(user.email).status_code == 202
    _path, uid, token = link_in(sent()[-1])
    return uid, token


# --- the flow ---------------------------------------------------------------------------------


def test_a_user_sets_a_new_password_with_the_link_from_the_mail():
    user = UserFactory(username="alice", email="alice@example.org")

    response = ask("Alice@Example.org")
    assert response.status_code == 202
    assert "works once, for 1 hour" in response.json()["detail"]

    (message,) = sent()
    assert message.to == ["alice@example.org"]
    path, uid, token = link_in(message)
    assert path == f"/password-reset/{uid}/{token}/"

    response = confirm(uid, token)
    assert response.status_code == 200, response.content
    assert response.json() == {"detail": "The password is set. Log in with it."}
    assert can_log_in("alice", NEW_PASSWORD)
    assert not can_log_in("alice", PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_mail_says_what_to_do_how_long_and_that_it_can_be_ignored(settings):
    settings.PASSWORD_RESET_TIMEOUT = 5400
    settings.DEFAULT_FROM_EMAIL = "Acme CSMS <noreply@acme.example>"
    UserFactory(username="alice", email="alice@example.org")
    ask("alice@example.org")
    (message,) = sent()
    assert message.from_email == "Acme CSMS <noreply@acme.example>"
    assert message.subject == "Set a new password for O-V2X-MP"
    body = " ".join(message.body.split())
    assert 'your account "alice"' in body
    assert "To choose a new password, open this link" in body
    assert "The link works once, for 1 hour 30 minutes (until " in body
    assert f"ask for a new one at {PUBLIC_URL}/password-reset/" in body
    assert "If you did not ask for this, ignore this mail" in body
    # Never a password, nor its hash.
    user = User.objects.get(username="alice")
    assert PASSWORD not in message.body
    assert user.password not in message.body


def test_the_link_works_once():
    user = UserFactory()
    uid, token = link_for(user)
    assert confirm(uid, token).status_code == 200
    again = confirm(uid, token, "another-password-5519")
    assert again.status_code == 400
    assert again.json() == {"token": [INVALID_LINK]}
    assert can_log_in(user.username, NEW_PASSWORD)


def test_setting_the_password_ends_the_older_links_too():
    user = UserFactory()
    first = link_for(user)
    second = link_for(user)
    assert first != second or first[1] == second[1]  # same second: the same token
    assert confirm(*second).status_code == 200
    assert confirm(*first, "another-password-5519").status_code == 400


def test_logging_in_after_asking_ends_the_link():
    # The token covers the last login (the JWT login records it).
    user = UserFactory()
    uid, token = link_for(user)
    assert can_log_in(user.username, PASSWORD)
    assert confirm(uid, token).status_code == 400
    assert can_log_in(user.username, PASSWORD)


def test_the_link_expires_after_the_configured_time(settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 120
    user = UserFactory()
    uid, token = link_for(user)
    issued = datetime.now()

    def clock_at(seconds: int) -> None:
        monkeypatch.setattr(
            PasswordResetTokenGenerator, "_now", lambda self: issued + timedelta(seconds=seconds)
        )

    clock_at(122)
    expired = confirm(uid, token)
    assert expired.status_code == 400
    assert expired.json() == {"token": [INVALID_LINK]}
    clock_at(100)
    assert confirm(uid, token).status_code == 200


def test_a_refused_password_says_why_and_keeps_the_link():
    user = UserFactory(username="bob", email="bob@example.org")
    uid, token = link_for(user)
    for weak, reason in [
        ("12345678", "This password is too common."),
        ("x7", "This password is too short. It must contain at least 8 characters."),
        ("bob@example.org", "The password is too similar to the email address."),
    ]:
        response = confirm(uid, token, weak)
        assert response.status_code == 400
        assert reason in response.json()["new_password"]
    assert confirm(uid, token).status_code == 200


def test_a_deactivated_user_cannot_use_a_link():
    user = UserFactory()
    uid, token = link_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert confirm(uid, token).json() == {"token": [INVALID_LINK]}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "uid",
    ["abc", "!!!!", "%00", b64("abc"), b64("-1"), b64("0"), b64("9" * 30), b64("1\x00"), "A" * 64],
)
@pytest.mark.parametrize("token", ["x", "1-2", "zzzzzz-" + "f" * 32, "-", "é" * 20])
def test_garbage_links_answer_400(uid, token):
    UserFactory()
    response = confirm(uid, token)
    assert response.status_code == 400
    assert response.json() == {"token": [INVALID_LINK]}


def test_another_users_uid_with_a_token_answers_400():
    alice, bob = UserFactory(), UserFactory()
    _uid, token = link_for(alice)
    bob_uid = base64.urlsafe_b64encode(str(bob.pk).encode()).decode().rstrip("=")
    assert confirm(bob_uid, token).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "uid"),
        ({"uid": "", "token": "t", "new_password": NEW_PASSWORD}, "uid"),
        ({"uid": "MQ", "token": "t" * 500, "new_password": NEW_PASSWORD}, "token"),
        ({"uid": ["MQ"], "token": "t", "new_password": NEW_PASSWORD}, "uid"),
        ({"uid": "MQ", "token": "t"}, "new_password"),
    ],
)
def test_malformed_confirm_bodies_answer_400(body, field):
    response = APIClient().post("/api/password-reset/confirm/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_body_that_is_not_an_object_answers_400():
    for path in ("/api/password-reset/", "/api/password-reset/confirm/"):
        response = APIClient().post(path, ["a@example.org"], format="json")
        assert response.status_code == 400, path


# --- nothing to learn about addresses -------------------------------------------------------


def test_every_address_gets_the_same_answer_and_only_active_users_a_mail():
    UserFactory(username="active", email="active@example.org")
    UserFactory(username="gone", email="gone@example.org", is_active=False)
    UserFactory(username="sso", email="sso@example.org", password=None)  # unusable password
    UserFactory(username="shared1", email="depot@example.org")
    UserFactory(username="shared2", email="DEPOT@example.org")

    answers = {}
    for email in [
        "nobody@example.org",
        "gone@example.org",
        "sso@example.org",
        "depot@example.org",
        "active@example.org",
    ]:
        mails_before = len(sent())
        response = ask(email)
        answers[email] = (
            response.status_code,
            response.content,
            tuple(sorted(response.headers.items())),
        )
        answers_mails = [message.to for message in sent()[mails_before:]]
        expected = {
            "depot@example.org": [["depot@example.org"], ["DEPOT@example.org"]],
            "active@example.org": [["active@example.org"]],
        }.get(email, [])
        assert answers_mails == expected, email
    assert len(set(answers.values())) == 1, answers
    assert answers["nobody@example.org"][0] == 202


def test_an_address_that_only_looks_alike_gets_no_mail():
    # PostgreSQL's case-insensitive match takes a dotless i (U+0131) for an
    # "i" (both upper-case to "I"): the mail must go to the address asked for only.
    UserFactory(username="effie", email="effie@mail.example")
    assert ask("effie@ma\u0131l.example").status_code == 202
    assert sent() == []
    assert ask("EFFIE@mail.example").status_code == 202
    assert [message.to for message in sent()] == [["effie@mail.example"]]


def test_the_answer_comes_before_the_mail_and_without_looking_anything_up(
    monkeypatch, django_assert_num_queries
):
    """The request hands the address on and answers: no query, no mail, so
    its duration says nothing about the address."""
    UserFactory(email="known@example.org")
    release = threading.Event()
    real_send = services.password_reset_mails_send

    def held_send(*, email: str) -> int:
        assert release.wait(timeout=10)
        return real_send(email=email)

    monkeypatch.setattr("accounts.tasks.password_reset_mails_send", held_send)
    for email in ("known@example.org", "unknown@example.org"):
        with django_assert_num_queries(0):
            assert ask(email).status_code == 202
    from django.core import mail

    assert mail.outbox == []  # not sent yet: the answer did not wait for it
    release.set()
    assert [message.to for message in sent()] == [["known@example.org"]]


def test_a_failing_mail_server_does_not_change_the_answer(settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    UserFactory(email="known@example.org")
    with caplog.at_level(logging.ERROR, logger="accounts.tasks"):
        assert ask("known@example.org").status_code == 202
        sent()
    assert "a password reset mail could not be sent" in caplog.text


# --- throttling -------------------------------------------------------------------------------


def test_one_address_gets_at_most_three_mails_an_hour_from_anywhere():
    UserFactory(email="victim@example.org")
    for n in range(3):
        assert ask("victim@example.org", client_address=f"10.0.0.{n}").status_code == 202
    refused = ask("VICTIM@example.org", client_address="10.0.0.99")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "Too many password reset requests for this address or from this client."
    )
    assert int(refused.headers["Retry-After"]) > 3000
    assert len(sent()) == 3
    # Unknown addresses are counted alike, and other addresses go on.
    for _ in range(3):
        ask("nobody@example.org", client_address="10.0.1.1")
    assert ask("nobody@example.org", client_address="10.0.1.2").status_code == 429
    assert ask("other@example.org", client_address="10.0.1.3").status_code == 202


def test_one_client_may_ask_twenty_times_an_hour():
    for n in range(20):
        assert ask(f"user{n}@example.org", client_address="10.0.0.7").status_code == 202
    assert ask("user20@example.org", client_address="10.0.0.7").status_code == 429
    assert ask("user20@example.org", client_address="10.0.0.8").status_code == 202


def test_a_forged_forwarded_for_header_does_not_escape_the_limit():
    for n in range(20):
        response = APIClient().post(
            "/api/password-reset/",
            {"email": f"user{n}@example.org"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
        assert response.status_code == 202
    assert ask("user20@example.org").status_code == 429


def test_attempts_to_set_a_password_are_limited_per_client():
    for _ in range(30):
        assert confirm("MQ", "guess", client_address="10.0.0.5").status_code == 400
    refused = confirm("MQ", "guess", client_address="10.0.0.5")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "Too many attempts to set a password from this client."
    )
    assert confirm("MQ", "guess", client_address="10.0.0.6").status_code == 400


# --- logs and schema ----------------------------------------------------------------------------


def test_no_log_line_holds_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    uid, token = link_for(user)
    confirm(uid, token, "short")
    confirm(uid, token)
    confirm(uid, token)
    messages = [record.getMessage() for record in caplog.records]
    assert any("password reset mail sent" in message for message in messages)
    assert any("set a new password" in message for message in messages)
    assert not [message for message in messages if token in message]
    assert token not in caplog.text


def test_the_endpoints_are_in_the_schema_without_login():
    schema = APIClient().get("/api/schema/?format=json").json()
    ask_op = schema["paths"]["/api/password-reset/"]["post"]
    confirm_op = schema["paths"]["/api/password-reset/confirm/"]["post"]
    # No security requirement: no login (the schema has no global one).
    assert "security" not in schema
    assert "security" not in ask_op
    assert "security" not in confirm_op
    assert set(ask_op["responses"]) == {"202", "400", "429"}
    assert set(confirm_op["responses"]) == {"200", "400", "429"}
    components = schema["components"]["schemas"]

    def request_fields(operation) -> set[str]:
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return set(components[reference.rsplit("/", 1)[1]]["properties"])

    assert request_fields(ask_op) == {"email"}
    assert request_fields(confirm_op) == {"uid", "token", "new_password"}
    error = confirm_op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert {"token", "new_password"} <= set(components[error.rsplit("/", 1)[1]]["properties"])


def test_by_default_mails_are_files_in_the_data_directory(settings, tmp_path, caplog):
    """The embedded default (OV2XMP_EMAIL_URL unset): each mail a file in
    $OV2XMP_DATA_DIR/mail, for the operator to pass the link on."""
    configured = email_from_url(None, password=None, data_dir=tmp_path)
    settings.EMAIL_BACKEND = configured.backend
    settings.EMAIL_FILE_PATH = str(configured.file_path)
    UserFactory(email="alice@example.org")
    with caplog.at_level(logging.INFO, logger="accounts.services"):
        assert ask("alice@example.org").status_code == 202
        sent()
    (written,) = (tmp_path / "mail").iterdir()
    assert LINK.search(written.read_text())
    assert f"mails are written to files in {tmp_path / 'mail'}" in caplog.text


def test_one_link_used_twice_at_the_same_moment_sets_one_password(monkeypatch):
    """Both requests check the token before either has set the password:
    without the lock on the user's row (on SQLite: without the transaction,
    which takes the write lock at its start) both would succeed."""
    user = UserFactory()
    uid, token = link_for(user)
    both_checked = threading.Barrier(2)
    real_validate = services.validate_password

    def validate_together(password, user=None):
        # The first waits here for the second; with the lock the second cannot
        # get this far until the first has finished, so the wait times out.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)
        real_validate(password, user)

    monkeypatch.setattr(services, "validate_password", validate_together)
    answers: list[int] = []

    def use(password: str) -> None:
        try:
            answers.append(confirm(uid, token, password).status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=use, args=(password,))
        for password in ("first-password-8812", "second-password-2291")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 400]


def test_with_a_broker_the_mail_is_a_celery_task(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[str] = []
    monkeypatch.setattr(tasks.password_reset_mail, "delay", queued.append)
    UserFactory(email="alice@example.org")
    assert ask("alice@example.org").status_code == 202
    background_work_done()  # queued from the background thread, after the answer
    assert queued == ["alice@example.org"]
    assert sent() == []
    # What the worker then runs:
    assert tasks.password_reset_mail("alice@example.org") == 1
    assert [message.to for message in sent()] == [["alice@example.org"]]
