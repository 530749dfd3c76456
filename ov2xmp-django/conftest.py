"""Fixtures shared by every app's tests."""

from __future__ import annotations

import dataclasses

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import User
from core.background import background_work_done
from csms.server import CsmsServer
from csms.tls import server_ssl_context


@pytest.fixture(scope="session", autouse=True)
def close_orm_thread_connections(django_db_setup):
    """Async tests reach the ORM through asgiref's one shared thread, whose
    connection outlives each test; close it before the test database is
    dropped (PostgreSQL refuses to drop a database still in use)."""
    # The csms runs ORM work on a pool of threads (csms.charge_point.db); in
    # tests their connections close after each call, so that none is left
    # open when a test ends.
    connections["default"].settings_dict["CONN_MAX_AGE"] = 0
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)
    # On PostgreSQL, closed connections go back to the pool, which keeps some.
    database = connections["default"]
    if database.vendor == "postgresql":
        database.close_pool()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The production hasher is slow on purpose; tests log in hundreds of times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser(username="operator", password="operator-pass-123")


@pytest.fixture
def api(admin_user) -> APIClient:
    """An API client logged in (with a JWT) as a superuser."""
    client = APIClient()
    response = client.post(
        "/api/token/", {"username": "operator", "password": "operator-pass-123"}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


@pytest.fixture
async def start_csms(transactional_db, settings):
    """Start real CSMS websocket servers on free loopback ports, with platform
    settings changed as given; all are stopped after the test."""
    servers: list[CsmsServer] = []

    async def start(**overrides) -> CsmsServer:
        settings.OV2XMP = dataclasses.replace(
            settings.OV2XMP, **{"message_log_flush_seconds": 0.05, **overrides}
        )
        # TLS on the OCPP port when the settings name a certificate.
        server = CsmsServer(
            host="127.0.0.1", port=0, ssl_context=server_ssl_context(settings.OV2XMP)
        )
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
    # Sessions that ended have their CDRs made on a thread; let it finish
    # before the test database is flushed.
    await sync_to_async(background_work_done)()
    # The ORM thread keeps its own connection; close it so the test database
    # can be flushed and dropped.
    await sync_to_async(connections.close_all)()


@pytest.fixture
async def csms(start_csms) -> CsmsServer:
    """A real CSMS websocket server on a free loopback port."""
    return await start_csms()
