"""Users, roles and profiles through the API and the admin: who may give
which role, and that nobody changes their own."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def boss(db):
    return UserFactory(username="boss", role=Role.PLATFORM_MANAGER)


@pytest.fixture
def desk(db):
    return UserFactory(username="desk", role=Role.EMSP_MANAGER)


def test_a_platform_manager_creates_staff_with_any_role(boss):
    response = client_of(boss).post(
        "/api/users/",
        {
            "username": "helga",
            "email": "helga@example.org",
            "role": Role.FIRST_LINE_SUPPORT,
            "password": "Harder-to-guess-42",
            "language": "nl-BE",
        },
    )
    assert response.status_code == 201, response.content
    assert "password" not in response.json()
    helga = User.objects.get(username="helga")
    assert helga.check_password("Harder-to-guess-42")
    assert helga.has_perm("commands.send_operate")
    assert not helga.has_perm("billing.change_tariff")


def test_a_user_made_without_a_password_gets_one_nobody_knows(boss):
    response = client_of(boss).post("/api/users/", {"username": "newbie", "role": Role.DRIVER})
    assert response.status_code == 201, response.content
    newbie = User.objects.get(username="newbie")
    # Usable, so that password reset mails them a link to choose theirs.
    assert newbie.has_usable_password()
    assert not newbie.check_password("")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "123"}, "password"),  # Django's validators
        ({"role": "emperor"}, "role"),
        ({"language": "English please"}, "language"),
        ({"prepaid_currency": "euro"}, "prepaid_currency"),
        ({"username": ""}, "username"),
    ],
)
def test_bad_user_fields_are_refused_with_the_field_named(boss, body, field):
    response = client_of(boss).post("/api/users/", {"username": "x", **body})
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.filter(username="x").exists()


def test_nobody_changes_their_own_role_or_deactivates_themselves(boss):
    api = client_of(boss)
    demoted = api.patch(f"/api/users/{boss.pk}/", {"role": Role.DRIVER})
    assert demoted.status_code == 400
    assert demoted.json()["role"] == ["You cannot change your own role."]
    gone = api.patch(f"/api/users/{boss.pk}/", {"is_active": False})
    assert gone.status_code == 400
    assert api.delete(f"/api/users/{boss.pk}/").status_code == 409
    # The same role again, and other fields, are fine.
    kept = api.patch(f"/api/users/{boss.pk}/", {"role": Role.PLATFORM_MANAGER, "phone": "+351 1"})
    assert kept.status_code == 200
    boss.refresh_from_db()
    assert (boss.role, boss.is_active, boss.phone) == (Role.PLATFORM_MANAGER, True, "+351 1")


def test_the_superuser_flag_is_not_changed_through_the_api(boss):
    other = UserFactory(username="other")
    response = client_of(boss).patch(f"/api/users/{other.pk}/", {"is_superuser": True})
    assert response.status_code == 200
    other.refresh_from_db()
    assert not other.is_superuser


def test_an_emsp_manager_makes_and_sees_drivers_only(desk, boss):
    api = client_of(desk)
    made = api.post("/api/users/", {"username": "dana", "role": Role.DRIVER})
    assert made.status_code == 201, made.content
    staff = api.post("/api/users/", {"username": "sneaky", "role": Role.CPO_MANAGER})
    assert staff.status_code == 400
    assert "platform manager" in staff.json()["role"][0]
    dana = User.objects.get(username="dana")
    promoted = api.patch(f"/api/users/{dana.pk}/", {"role": Role.CDR_MANAGER})
    assert promoted.status_code == 400
    assert [row["username"] for row in api.get("/api/users/").json()["results"]] == ["dana"]
    assert api.get(f"/api/users/{boss.pk}/").status_code == 404
    assert api.patch(f"/api/users/{boss.pk}/", {"phone": "0"}).status_code == 404
    # Not even their own role.
    assert api.patch(f"/api/users/{desk.pk}/", {"role": Role.PLATFORM_MANAGER}).status_code == 404
    desk.refresh_from_db()
    assert desk.role == Role.EMSP_MANAGER


def test_users_are_filtered_and_searched(boss):
    UserFactory(username="ana", role=Role.DRIVER, email="ana@cars.example")
    UserFactory(username="bruno", role=Role.CDR_MANAGER)
    api = client_of(boss)

    def names(query: str) -> list[str]:
        return [row["username"] for row in api.get(f"/api/users/?{query}").json()["results"]]

    assert names("role=driver") == ["ana"]
    assert names("search=CARS") == ["ana"]
    assert names("role=cdr_manager&is_active=true") == ["bruno"]


def test_me_shows_the_profile_and_permissions_and_changes_only_contact_details(db):
    helga = UserFactory(username="helga", role=Role.FIRST_LINE_SUPPORT)
    api = client_of(helga)
    me = api.get("/api/me/").json()
    assert (me["username"], me["role"], me["prepaid_balance"]) == (
        "helga",
        "first_line_support",
        None,
    )
    assert "commands.send_operate" in me["permissions"]
    assert "billing.change_tariff" not in me["permissions"]
    changed = api.patch(
        "/api/me/", {"phone": "+31 20 1234", "language": "nl", "role": Role.PLATFORM_MANAGER}
    )
    assert changed.status_code == 200
    helga.refresh_from_db()
    assert (helga.phone, helga.language, helga.role) == ("+31 20 1234", "nl", "first_line_support")
    assert APIClient().get("/api/me/").status_code == 401


def test_me_changes_the_password_when_the_current_one_is_given(db):
    helga = UserFactory(username="helga")
    api = client_of(helga)
    wrong = api.post(
        "/api/me/password/", {"current_password": "guess", "new_password": "Another-pass-77"}
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()
    weak = api.post("/api/me/password/", {"current_password": PASSWORD, "new_password": "123"})
    assert weak.status_code == 400
    assert "new_password" in weak.json()
    done = api.post(
        "/api/me/password/",
        {"current_password": PASSWORD, "new_password": "Another-pass-77"},
    )
    assert done.status_code == 204
    helga.refresh_from_db()
    assert helga.check_password("Another-pass-77")


def test_the_admin_does_not_let_anyone_change_their_own_role_or_flags(db):
    root = User.objects.create_superuser(username="root", password="root-pass-123")
    other = UserFactory(username="other", role=Role.DRIVER)
    client = Client()
    client.force_login(root)
    own = client.get(f"/admin/accounts/user/{root.pk}/change/").content.decode()
    theirs = client.get(f"/admin/accounts/user/{other.pk}/change/").content.decode()
    for field in ("role", "is_superuser", "is_active", "groups"):
        assert f'name="{field}"' not in own, field
        assert f'name="{field}"' in theirs, field
