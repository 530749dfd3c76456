"""Helpers of the export tests (billing, transactions): a logged-in client
with given permissions, and each format read back with a real reader."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import User


def client_with(*permissions: str, username: str = "clerk") -> APIClient:
    """A client logged in with a JWT as a user who has exactly these
    permissions (``"billing.view_cdr"``)."""
    user = User.objects.create_user(username=username, password="clerk-pass-123")
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = APIClient()
    response = client.post("/api/token/", {"username": username, "password": "clerk-pass-123"})
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def body(response: Any) -> bytes:
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming
    return b"".join(response.streaming_content)


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8"), newline="")))


def read_json(response: Any) -> list[dict[str, Any]]:
    assert response["Content-Type"] == "application/json"
    return json.loads(body(response))


def read_xlsx(response: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The workbook, and the rows of all its sheets as dicts by header."""
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    data = body(response)
    assert int(response["Content-Length"]) == len(data)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    rows: list[dict[str, Any]] = []
    for sheet in workbook.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        header = values[0]
        rows.extend(dict(zip(header, row, strict=True)) for row in values[1:])
    return workbook, rows


def export(client: APIClient, path: str, **params: Any) -> Any:
    return client.get(path, params)
