"""Every API endpoint and method, for every role: refused (403) exactly when
the role lacks the permission the endpoint needs.

The endpoints are read from the URL configuration, so a new one is walked at
once; what each needs is written here from the endpoint's meaning (the model
it shows, the command it sends), independently of the views' own permission
classes. An endpoint that forgets its permission, or asks for the wrong one,
fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.roles import Role, role_permissions, send_permission
from accounts.tests.factories import UserFactory

# Endpoints any logged-in user (or anybody) may use: the root, tokens, the
# schema and docs, the user's own profile, password reset.
OPEN = {
    "password-reset",
    "password-reset-confirm",
    "api-root",
    "token-obtain",
    "token-refresh",
    "token-verify",
    "schema",
    "swagger-ui",
    "redoc",
    "me",
    "me-password",
}

# What the endpoints beyond list / retrieve / create / update / destroy need.
ACTIONS = {
    ("cdr-recompute", "post"): {"billing.view_cdr", "billing.recompute_cdr"},
    ("issuedcertificate-revoke", "post"): {"certificates.change_issuedcertificate"},
    ("command-cancel", "post"): {"commands.view_command"},
    ("storedfile-content", "get"): {"files.view_storedfile"},
    ("firmwareimage-content", "get"): {"files.view_firmwareimage"},
    ("transaction-events", "get"): {"transactions.view_transaction"},
    ("transaction-meter-values", "get"): {"transactions.view_transaction"},
    ("transaction-cost", "get"): {"transactions.view_transaction"},
    ("export-cdrs", "get"): {"billing.view_cdr"},
    ("export-sessions", "get"): {"transactions.view_transaction"},
    ("export-meter-values", "get"): {"transactions.view_metervalue"},
    ("transaction-operation-mode", "post"): {
        "smartcharging.add_chargingprofile",
        "smartcharging.change_chargingprofile",
        "commands.send_smart_charging",
    },
    ("chargepoint-composite-schedule", "get"): {"smartcharging.view_chargingprofile"},
    ("chargepoint-composite-schedule", "post"): {
        "smartcharging.view_chargingprofile",
        "commands.send_inspect",
    },
    ("chargingprofile-send", "post"): {
        "smartcharging.change_chargingprofile",
        "commands.send_smart_charging",
    },
    ("loadgroup-rebalance", "post"): {
        "smartcharging.change_chargingprofile",
        "commands.send_smart_charging",
    },
    ("chargingprofile-clear", "post"): {
        "smartcharging.change_chargingprofile",
        "commands.send_smart_charging",
    },
    # Creating these sends a command as well.
    ("filerequest-list", "post"): {"files.add_filerequest", "commands.send_diagnose"},
    ("firmwareupdate-list", "post"): {"files.add_firmwareupdate", "commands.send_firmware"},
    ("reservation-list", "post"): {"reservations.add_reservation", "commands.send_sessions"},
    ("reservation-cancel", "post"): {
        "reservations.change_reservation",
        "commands.send_sessions",
    },
    ("chargepoint-local-list", "get"): {
        "chargepoints.view_chargepoint",
        "idtokens.view_locallistupdate",
    },
    ("chargepoint-local-list", "post"): {
        "chargepoints.view_chargepoint",
        "idtokens.add_locallistupdate",
        "commands.send_configure",
    },
    ("chargepoint-local-list-version", "post"): {
        "chargepoints.view_chargepoint",
        "commands.send_inspect",
    },
}
MODEL_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}
METHODS = ("get", "post", "put", "patch", "delete")
ABSENT_UUID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    method: str
    needs: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _concrete(route: str) -> str:
    """A URL of the route, naming an object that does not exist."""
    route = re.sub(r"<\w+:\w+>", "987654", route.replace("^", "").replace("$", ""))
    return "/" + re.sub(
        r"\(\?P<pk>([^)]*)\)",
        lambda match: ABSENT_UUID if "0-9a-f" in match.group(1) else "987654",
        route,
    )


def _needs(name: str, method: str, view: type, action: str | None) -> frozenset[str]:
    if (name, method) in ACTIONS:
        return frozenset(ACTIONS[(name, method)])
    spec = getattr(view, "spec", None)
    if spec is not None:
        return frozenset({send_permission(spec.action)})
    assert action in MODEL_ACTIONS, f"{name} {method} ({action}): say what it needs in ACTIONS"
    meta = view.queryset.model._meta  # type: ignore[attr-defined]
    return frozenset({f"{meta.app_label}.{MODEL_ACTIONS[action]}_{meta.model_name}"})


def api_endpoints() -> list[Endpoint]:
    endpoints = []
    for route, pattern in _patterns(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        if not route.startswith("api/") or view is None or pattern.name in OPEN:
            continue
        actions = getattr(pattern.callback, "actions", None) or {
            method: None
            for method in ("get", "post", "put", "patch", "delete")
            if hasattr(view, method)
        }
        for method, action in actions.items():
            if method not in METHODS:  # HEAD and OPTIONS follow GET
                continue
            assert pattern.name is not None
            needs = _needs(pattern.name, method, view, action)
            endpoints.append(Endpoint(pattern.name, _concrete(route), method, needs))
    return endpoints


def test_the_walk_finds_every_kind_of_endpoint():
    names = {endpoint.name for endpoint in api_endpoints()}
    assert {"chargepoint-list", "cdr-recompute", "command-send-ocpp16-Reset", "user-list"} <= names
    assert len(names) > 130


@pytest.mark.parametrize("role", Role.values)
def test_each_role_is_refused_exactly_what_it_may_not_do(db, role):
    user = UserFactory(username=f"someone-{role}", role=role, vendor_name="Acme")
    client = APIClient()
    client.force_authenticate(user)
    granted = role_permissions(role)
    wrong = []
    for endpoint in api_endpoints():
        response = getattr(client, endpoint.method)(endpoint.path, {}, format="json")
        allowed = endpoint.needs <= granted
        if (response.status_code == 403) == allowed:
            wrong.append(f"{endpoint}: {response.status_code}, needs {sorted(endpoint.needs)}")
    assert wrong == []


def test_a_user_without_a_role_is_refused_everything(db):
    client = APIClient()
    client.force_authenticate(UserFactory(username="nobody"))
    allowed = [
        str(endpoint)
        for endpoint in api_endpoints()
        if getattr(client, endpoint.method)(endpoint.path, {}, format="json").status_code != 403
    ]
    assert allowed == []


def test_an_inactive_user_with_a_role_has_no_permissions(db):
    user = UserFactory(username="gone", role=Role.PLATFORM_MANAGER, is_active=False)
    assert not user.has_perm("chargepoints.view_chargepoint")
    assert user.get_all_permissions() == set()
