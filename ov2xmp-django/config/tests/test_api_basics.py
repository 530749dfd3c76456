"""What every API client meets first: JWT authentication, permissions, the
API root, the OpenAPI schema and the Swagger UI."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from accounts.models import User
from config.api_root import LISTS

# Every list the API root names, so that a new endpoint is covered here at once.
LIST_PATHS = [reverse(name) for _, name in LISTS]
# Lists of what belongs to a charger: filterable by ``charge_point``.
NOT_CHARGER_LISTS = (
    "/api/chargepoints/",
    "/api/id-tokens/",
    "/api/users/",
    "/api/vehicles/",
    "/api/prepaid-entries/",
    "/api/load-groups/",
    "/api/grid-signals/",
)
CHARGER_LIST_PATHS = [path for path in LIST_PATHS if path not in NOT_CHARGER_LISTS]

CREDENTIALS = {"username": "operator", "password": "operator-pass-123"}


def token_for(client: APIClient, username: str, password: str) -> dict:
    response = client.post("/api/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def plain_user(db) -> User:
    """A logged-in operator without any model permission."""
    return User.objects.create_user(username="viewer", password="viewer-pass-123")


@pytest.fixture
def plain_api(plain_user) -> APIClient:
    client = APIClient()
    access = token_for(client, "viewer", "viewer-pass-123")["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", LIST_PATHS)
def test_lists_answer_401_without_a_token(db, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    # 401, not 403: the client is told how to authenticate.
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", LIST_PATHS)
def test_lists_answer_401_with_a_garbage_token(db, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("path", LIST_PATHS)
def test_lists_answer_200_with_a_token(api, path):
    response = api.get(path)
    assert response.status_code == 200
    # Empty, except the users: the caller is one.
    assert response.json()["count"] == (1 if path == "/api/users/" else 0)


def test_token_returns_access_and_refresh_for_good_credentials(admin_user):
    tokens = token_for(APIClient(), **CREDENTIALS)
    assert set(tokens) == {"access", "refresh"}
    assert tokens["access"] != tokens["refresh"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "operator", "password": "wrong-password"},
        {"username": "nobody", "password": "operator-pass-123"},
    ],
)
def test_token_answers_401_for_bad_credentials(admin_user, credentials):
    response = APIClient().post("/api/token/", credentials)
    assert response.status_code == 401
    assert "access" not in response.json()


def test_token_of_an_inactive_user_is_refused(admin_user):
    admin_user.is_active = False
    admin_user.save()
    assert APIClient().post("/api/token/", CREDENTIALS).status_code == 401


def test_refresh_gives_a_new_access_token_that_works(admin_user):
    client = APIClient()
    refresh = token_for(client, **CREDENTIALS)["refresh"]
    response = client.post("/api/token/refresh/", {"refresh": refresh})
    assert response.status_code == 200
    access = response.json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/chargepoints/").status_code == 200


def test_refresh_refuses_an_access_token_and_garbage(admin_user):
    client = APIClient()
    access = token_for(client, **CREDENTIALS)["access"]
    assert client.post("/api/token/refresh/", {"refresh": access}).status_code == 401
    assert client.post("/api/token/refresh/", {"refresh": "garbage"}).status_code == 401


def test_verify_accepts_a_valid_token_and_refuses_garbage(admin_user):
    client = APIClient()
    tokens = token_for(client, **CREDENTIALS)
    assert client.post("/api/token/verify/", {"token": tokens["access"]}).status_code == 200
    assert client.post("/api/token/verify/", {"token": tokens["refresh"]}).status_code == 200
    response = client.post("/api/token/verify/", {"token": tokens["access"][:-4] + "AAAA"})
    assert response.status_code == 401


def test_session_login_is_accepted_too(admin_user):
    client = APIClient()
    client.force_login(admin_user)
    assert client.get("/api/chargepoints/").status_code == 200


# --- Permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_user_without_permissions_cannot_read(plain_api, path):
    response = plain_api.get(path)
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]


def test_the_view_permission_allows_reading(plain_user, plain_api):
    assert plain_api.get("/api/id-tokens/").status_code == 403
    plain_user.user_permissions.add(Permission.objects.get(codename="view_idtoken"))
    assert plain_api.get("/api/id-tokens/").status_code == 200
    # …and only that list.
    assert plain_api.get("/api/transactions/").status_code == 403


def test_a_user_without_permissions_cannot_write(plain_api):
    response = plain_api.post("/api/id-tokens/", {"value": "TAG1"})
    assert response.status_code == 403
    response = plain_api.post("/api/chargepoints/", {"id": "CP-1"})
    assert response.status_code == 403


def test_the_add_permission_allows_creating_an_id_token(plain_user, plain_api):
    plain_user.user_permissions.add(Permission.objects.get(codename="add_idtoken"))
    response = plain_api.post("/api/id-tokens/", {"value": "TAG1"})
    assert response.status_code == 201, response.content
    # ... and only that: changing the token still needs the change permission.
    token_id = response.json()["id"]
    response = plain_api.patch(f"/api/id-tokens/{token_id}/", {"status": "Blocked"})
    assert response.status_code == 403


# --- API root ---------------------------------------------------------------------------------


def test_api_root_is_public_and_lists_the_endpoints(db):
    response = APIClient().get("/api/")
    assert response.status_code == 200
    body = response.json()
    expected = {
        "chargepoints": "/api/chargepoints/",
        "connectors": "/api/connectors/",
        "status_notifications": "/api/status-notifications/",
        "id_tokens": "/api/id-tokens/",
        "transactions": "/api/transactions/",
        "meter_values": "/api/meter-values/",
        "ocpp_messages": "/api/ocpp-messages/",
        "token": "/api/token/",
        "token_refresh": "/api/token/refresh/",
        "token_verify": "/api/token/verify/",
        "schema": "/api/schema/",
        "docs": "/api/docs/",
    }
    for key, path in expected.items():
        assert body[key] == f"http://testserver{path}", key


def test_site_root_is_the_dashboard_behind_its_login(db):
    response = APIClient().get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/?next=/"


# --- OpenAPI schema and Swagger UI ------------------------------------------------------------


def test_schema_is_a_valid_openapi_3_document_with_every_endpoint(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on a document that breaks the OpenAPI schema
    paths = schema["paths"]
    for path in [
        *LIST_PATHS,
        "/api/chargepoints/{id}/",
        "/api/id-tokens/{id}/",
        "/api/transactions/{id}/",
        "/api/transactions/{id}/meter-values/",
        "/api/token/",
        "/api/token/refresh/",
        "/api/token/verify/",
    ]:
        assert path in paths, path
    # Every data endpoint requires the bearer token.
    assert "jwtAuth" in schema["components"]["securitySchemes"]
    assert {"jwtAuth": []} in paths["/api/chargepoints/"]["get"]["security"]


def test_schema_documents_the_filters(db):
    paths = APIClient().get("/api/schema/?format=json").json()["paths"]

    def parameters(path: str) -> set[str]:
        return {parameter["name"] for parameter in paths[path]["get"]["parameters"]}

    assert {"page", "page_size", "ordering", "is_connected", "vendor__icontains"} <= parameters(
        "/api/chargepoints/"
    )
    assert {"timestamp_after", "timestamp_before"} <= parameters("/api/status-notifications/")
    assert {"started_at_after", "charge_point", "status"} <= parameters("/api/transactions/")


def test_spectacular_command_validates_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text(encoding="utf-8").startswith("openapi: 3.")


def asgi_get(path: str) -> tuple[int, dict[str, str], bytes]:
    """GET through the real ASGI application (which serves the static files)."""
    from config.asgi import application

    async def run() -> tuple[int, dict[str, str], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 50000),
            "server": ("localhost", 8000),
        }
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(timeout=10)
        headers = {key.decode().lower(): value.decode() for key, value in start["headers"]}
        body = b""
        while True:
            message = await communicator.receive_output(timeout=10)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await communicator.wait(timeout=10)
        return start["status"], headers, body

    return async_to_sync(run)()


def test_swagger_ui_and_its_static_files_are_served(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/api/schema/" in html
    static_urls = set(re.findall(r"""["'](/static/[^"']+)["']""", html))
    assert any(url.endswith("swagger-ui-bundle.js") for url in static_urls), static_urls
    assert any(url.endswith("swagger-ui.css") for url in static_urls), static_urls
    for url in sorted(static_urls):
        status, _, body = asgi_get(url)
        assert status == 200, url
        assert body, url


def test_the_asgi_app_answers_404_for_a_missing_static_file(db):
    status, _, _ = asgi_get("/static/drf_spectacular_sidecar/no-such-file.js")
    assert status == 404


@pytest.mark.parametrize("path", CHARGER_LIST_PATHS)
def test_filtering_by_an_unknown_charger_gives_an_empty_list(api, path):
    response = api.get(path, {"charge_point": "NO-SUCH-CHARGER"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_the_health_check_needs_no_login_and_says_ok(db):
    response = APIClient().get("/healthz/")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response.headers["Cache-Control"]


def test_the_health_check_says_when_the_database_does_not_answer(db, monkeypatch):
    from django.db import DatabaseError, connection

    def unreachable():
        raise DatabaseError("connection refused")

    with monkeypatch.context() as patched:  # undone before the test database is flushed
        patched.setattr(connection, "cursor", unreachable)
        response = APIClient().get("/healthz/")
    assert (response.status_code, response.json()["status"]) == (503, "unavailable")
