"""The role definitions: every permission they name exists, every command has
a category, every model the API shows has a scope, and docs/roles.md says the
same as the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from accounts.roles import (
    _CATEGORY_ACTIONS,
    _ROLE_PERMISSIONS,
    ACTION_CATEGORIES,
    Role,
    all_permissions,
    permission_matrix,
    role_permissions,
)
from accounts.scoping import SCOPES
from accounts.tests.factories import UserFactory
from accounts.tests.test_permission_matrix import api_endpoints
from commands.catalog import OCPP16_ACTIONS, OCPP21_ACTIONS

ROLES_DOC = Path(__file__).resolve().parents[3] / "docs" / "roles.md"


def test_every_permission_a_role_names_exists(db):
    stored = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    named = set().union(*_ROLE_PERMISSIONS.values()) - {"*"}
    assert named - stored == set()
    assert all_permissions() == stored


def test_every_role_has_permissions_and_the_platform_manager_all():
    for role in Role.values:
        assert role_permissions(role), role
    assert role_permissions(Role.PLATFORM_MANAGER) == all_permissions()
    assert role_permissions("no-such-role") == frozenset()


def test_every_command_of_every_version_has_exactly_one_category():
    actions = set(OCPP16_ACTIONS) | set(OCPP21_ACTIONS)
    assert set(ACTION_CATEGORIES) == actions
    listed = [action for group in _CATEGORY_ACTIONS.values() for action in group]
    assert len(listed) == len(set(listed))


def test_every_model_the_api_shows_has_a_scope():
    from django.urls import resolve

    models = set()
    for endpoint in api_endpoints():
        view = resolve(endpoint.path).func.cls  # type: ignore[attr-defined]
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            models.add(queryset.model._meta.label_lower)
    assert models - set(SCOPES) == set()


def test_the_roles_page_shows_the_permissions_the_code_gives():
    document = ROLES_DOC.read_text()
    table = document.split("<!-- roles:start -->\n")[1].split("<!-- roles:end -->")[0]
    assert table == permission_matrix(), "regenerate with: ov2xmp-django/manage.py roles"
    for category, actions in _CATEGORY_ACTIONS.items():
        assert f"| `{category}` | {', '.join(actions)} |" in document


def test_every_role_is_described_on_the_roles_page():
    document = ROLES_DOC.read_text()
    for role in Role.values:
        assert f"| `{role}` |" in document


@pytest.mark.parametrize(
    ("role", "may", "may_not"),
    [
        # The issue's own examples.
        (
            Role.FIRST_LINE_SUPPORT,
            {"chargepoints.view_connector", "commands.send_operate"},
            {"billing.change_tariff", "billing.add_tariff", "commands.send_configure"},
        ),
        (
            Role.BILLING_RULE_MANAGER,
            {"billing.add_tariff", "billing.change_tariffversion"},
            {"commands.send_operate", "chargepoints.change_chargepoint"},
        ),
        (
            Role.CDR_MANAGER,
            {"billing.view_cdr", "billing.recompute_cdr"},
            {"billing.change_tariff", "idtokens.add_idtoken"},
        ),
        (
            Role.EMSP_MANAGER,
            {"idtokens.add_idtoken", "accounts.add_vehicle", "billing.add_prepaidentry"},
            {"accounts.assign_roles", "commands.send_operate"},
        ),
        (
            Role.DRIVER,
            {"transactions.view_transaction", "billing.view_cdr", "accounts.add_vehicle"},
            {"chargepoints.view_chargepoint", "idtokens.add_idtoken", "billing.add_prepaidentry"},
        ),
        (
            Role.CHARGE_POINT_VENDOR,
            {"files.add_firmwareupdate", "commands.send_firmware", "commands.send_diagnose"},
            {"billing.view_cdr", "commands.send_sessions", "transactions.view_transaction"},
        ),
    ],
)
def test_roles_grant_what_their_work_needs_and_not_more(db, role, may, may_not):
    user = UserFactory(username=f"u-{role}", role=role)
    assert user.has_perms(may)
    assert not any(user.has_perm(permission) for permission in may_not)
