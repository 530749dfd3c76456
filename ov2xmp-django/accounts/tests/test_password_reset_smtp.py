"""End to end over real SMTP: the platform configured by OV2XMP_EMAIL_URL and
OV2XMP_EMAIL_PASSWORD hands the mail to an SMTP server on 127.0.0.1
(aiosmtpd, with a login), and the link read from the received mail sets the
password."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from rest_framework.test import APIClient

from accounts.tests.conftest import LINK
from accounts.tests.factories import UserFactory
from config.env import email_from_url
from core.background import background_work_done
from core.testing import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # aiosmtpd warns of a login without TLS: this server is on loopback, for the test.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def only_mailer(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(
        success=isinstance(auth_data, LoginPassword)
        and (auth_data.login, auth_data.password) == (b"mailer", b"p@ss word")
    )


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=only_mailer,
        auth_required=True,
        # A test server on loopback without a certificate: no STARTTLS here.
        auth_require_tls=False,
    )
    controller.start()
    yield controller, inbox
    controller.stop()


def test_the_link_in_a_mail_received_over_smtp_sets_the_password(smtp_server, settings, tmp_path):
    controller, inbox = smtp_server
    configured = email_from_url(
        f"smtp://mailer@127.0.0.1:{controller.port}?timeout=5",
        password="p@ss word",
        data_dir=tmp_path,
    )
    settings.EMAIL_BACKEND = configured.backend
    settings.EMAIL_HOST = configured.host
    settings.EMAIL_PORT = configured.port
    settings.EMAIL_HOST_USER = configured.user
    settings.EMAIL_HOST_PASSWORD = configured.password
    settings.EMAIL_USE_TLS = configured.use_tls
    settings.EMAIL_USE_SSL = configured.use_ssl
    settings.EMAIL_TIMEOUT = configured.timeout
    settings.DEFAULT_FROM_EMAIL = "O-V2X-MP <noreply@csms.example.org>"
    UserFactory(username="alice", email="alice@example.org")
    client = APIClient()

    assert client.post("/api/password-reset/", {"email": "alice@example.org"}).status_code == 202
    background_work_done()
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "noreply@csms.example.org"
    assert envelope.rcpt_tos == ["alice@example.org"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    assert received["Subject"] == "Set a new password for O-V2X-MP"
    assert received["To"] == "alice@example.org"
    body = received.get_content()
    match = LINK.search(body)
    assert match, body

    response = client.post(
        "/api/password-reset/confirm/",
        {"uid": match["uid"], "token": match["token"], "new_password": "charge-at-night-7731"},
    )
    assert response.status_code == 200, response.content
    token = client.post("/api/token/", {"username": "alice", "password": "charge-at-night-7731"})
    assert token.status_code == 200
