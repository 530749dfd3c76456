"""REST API of id tokens."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargepoints.tests.factories import T0
from core.testing import iso, listed
from idtokens.models import IdToken, IdTokenStatus, IdTokenType
from idtokens.tests.factories import IdTokenFactory
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def values(response) -> list[str]:
    return listed(response, "value")


# --- CRUD -------------------------------------------------------------------------------------


def test_create_with_defaults(api):
    response = api.post("/api/id-tokens/", {"value": "04A2B3C4"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["value"] == "04A2B3C4"
    assert body["type"] == IdTokenType.ISO14443
    assert body["status"] == IdTokenStatus.ACCEPTED
    assert body["allow_concurrent_transactions"] is False
    assert body["expires_at"] is None
    assert body["parent"] is None
    assert body["parent_value"] is None
    assert IdToken.objects.get(pk=body["id"]).value == "04A2B3C4"


def test_create_with_every_field(api, admin_user):
    group = IdTokenFactory(value="FLEET")
    response = api.post(
        "/api/id-tokens/",
        {
            "value": "EMAID-1",
            "type": "eMAID",
            "status": "Blocked",
            "expires_at": iso(T0),
            "parent": group.pk,
            "owner": admin_user.pk,
            "allow_concurrent_transactions": True,
            "language": "de",
            "second_language": "en",
            "personal_message": "<b>Hallo</b>",
            "personal_message_format": "HTML",
            "personal_message_language": "de",
            "charging_priority": -2,
            "description": "Company car",
        },
    )
    assert response.status_code == 201, response.content
    token = IdToken.objects.get(value="EMAID-1")
    assert (token.type, token.status, token.expires_at) == ("eMAID", "Blocked", T0)
    assert (token.parent, token.owner) == (group, admin_user)
    assert token.allow_concurrent_transactions is True
    assert token.description == "Company car"
    assert (token.language, token.second_language, token.charging_priority) == ("de", "en", -2)
    assert (token.personal_message, token.personal_message_format) == ("<b>Hallo</b>", "HTML")


def test_retrieve_update_and_delete(api):
    token = IdTokenFactory(value="TAG1")
    url = f"/api/id-tokens/{token.pk}/"
    response = api.get(url)
    assert response.status_code == 200
    assert response.json()["value"] == "TAG1"

    response = api.patch(url, {"status": "Blocked", "description": "lost"})
    assert response.status_code == 200, response.content
    token.refresh_from_db()
    assert (token.status, token.description) == ("Blocked", "lost")

    response = api.put(url, {"value": "TAG1-NEW", "type": "KeyCode", "status": "Accepted"})
    assert response.status_code == 200, response.content
    token.refresh_from_db()
    assert (token.value, token.type, token.status) == ("TAG1-NEW", "KeyCode", "Accepted")

    assert api.delete(url).status_code == 204
    assert not IdToken.objects.filter(pk=token.pk).exists()
    assert api.get(url).status_code == 404


def test_deleting_a_token_keeps_its_transactions(api):
    token = IdTokenFactory(value="TAG1")
    transaction = TransactionFactory(id_token=token, id_token_value="TAG1")
    assert api.delete(f"/api/id-tokens/{token.pk}/").status_code == 204
    transaction.refresh_from_db()
    assert transaction.id_token is None
    assert transaction.id_token_value == "TAG1"


def test_deleting_a_group_detaches_its_members(api):
    group = IdTokenFactory(value="FLEET")
    member = IdTokenFactory(value="CARD", parent=group)
    assert api.delete(f"/api/id-tokens/{group.pk}/").status_code == 204
    member.refresh_from_db()
    assert member.parent is None


def test_created_at_and_updated_at_are_read_only(api):
    token = IdTokenFactory(value="TAG1")
    created_at = token.created_at
    response = api.patch(f"/api/id-tokens/{token.pk}/", {"created_at": iso(T0)})
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.created_at == created_at


# --- Uniqueness -------------------------------------------------------------------------------


def test_value_and_type_are_unique_together(api):
    IdTokenFactory(value="TAG1", type="ISO14443")
    response = api.post("/api/id-tokens/", {"value": "TAG1", "type": "ISO14443"})
    assert response.status_code == 400
    assert "unique" in str(response.json()).lower()
    assert IdToken.objects.filter(value="TAG1").count() == 1


def test_the_default_type_counts_for_uniqueness(api):
    IdTokenFactory(value="TAG1", type="ISO14443")
    response = api.post("/api/id-tokens/", {"value": "TAG1"})
    assert response.status_code == 400
    assert IdToken.objects.filter(value="TAG1").count() == 1


def test_the_same_value_with_another_type_is_allowed(api):
    IdTokenFactory(value="TAG1", type="ISO14443")
    response = api.post("/api/id-tokens/", {"value": "TAG1", "type": "KeyCode"})
    assert response.status_code == 201, response.content


def test_an_update_onto_an_existing_value_and_type_is_refused(api):
    IdTokenFactory(value="TAG1", type="ISO14443")
    other = IdTokenFactory(value="TAG2", type="ISO14443")
    response = api.patch(f"/api/id-tokens/{other.pk}/", {"value": "TAG1"})
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.value == "TAG2"


# --- Groups (parent) --------------------------------------------------------------------------


def test_parent_is_a_pk_and_parent_value_is_shown(api):
    group = IdTokenFactory(value="FLEET")
    response = api.post("/api/id-tokens/", {"value": "CARD", "parent": group.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent"] == group.pk
    assert body["parent_value"] == "FLEET"
    assert api.get(f"/api/id-tokens/{body['id']}/").json()["parent_value"] == "FLEET"


def test_parent_value_is_read_only(api):
    token = IdTokenFactory(value="CARD")
    response = api.patch(f"/api/id-tokens/{token.pk}/", {"parent_value": "FLEET"})
    assert response.status_code == 200
    assert response.json()["parent_value"] is None
    token.refresh_from_db()
    assert token.parent is None


def test_unknown_parent_is_400(api):
    response = api.post("/api/id-tokens/", {"value": "CARD", "parent": 999999})
    assert response.status_code == 400
    assert "parent" in response.json()


def test_a_token_cannot_be_its_own_parent(api):
    token = IdTokenFactory(value="A")
    response = api.patch(f"/api/id-tokens/{token.pk}/", {"parent": token.pk})
    assert response.status_code == 400
    assert "parent" in response.json()
    token.refresh_from_db()
    assert token.parent is None


def test_a_two_token_cycle_is_refused(api):
    a = IdTokenFactory(value="A")
    b = IdTokenFactory(value="B")
    assert api.patch(f"/api/id-tokens/{a.pk}/", {"parent": b.pk}).status_code == 200
    response = api.patch(f"/api/id-tokens/{b.pk}/", {"parent": a.pk})
    assert response.status_code == 400
    assert "parent" in response.json()
    b.refresh_from_db()
    assert b.parent is None


def test_a_longer_cycle_is_refused_and_a_chain_is_fine(api):
    a = IdTokenFactory(value="A")
    b = IdTokenFactory(value="B", parent=a)
    c = IdTokenFactory(value="C", parent=b)
    d = IdTokenFactory(value="D")
    # A -> C would close A <- B <- C <- A.
    response = api.patch(f"/api/id-tokens/{a.pk}/", {"parent": c.pk})
    assert response.status_code == 400
    assert "parent" in response.json()
    # A -> D only lengthens the chain.
    assert api.patch(f"/api/id-tokens/{a.pk}/", {"parent": d.pk}).status_code == 200


@contextmanager
def time_limit(seconds: int):
    """Fail, instead of hanging the test run, when the block does not finish."""

    def expire(signum, frame):
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_stored_cycle_elsewhere_does_not_hang_the_check(api):
    c = IdTokenFactory(value="C")
    d = IdTokenFactory(value="D", parent=c)
    # A cycle the API would refuse, written past it (as the admin could).
    IdToken.objects.filter(pk=c.pk).update(parent=d)
    a = IdTokenFactory(value="A")
    with time_limit(5):
        response = api.patch(f"/api/id-tokens/{a.pk}/", {"parent": c.pk})
    assert response.status_code == 200, response.content
    assert response.json()["parent_value"] == "C"


def test_parent_value_is_in_every_answer(api):
    token = IdTokenFactory(value="CARD")
    url = f"/api/id-tokens/{token.pk}/"
    # PATCH answers too: DRF drops a field's default on partial updates.
    for response in [
        api.get(url),
        api.patch(url, {"description": "x"}),
        api.put(url, {"value": "CARD"}),
    ]:
        assert response.status_code == 200, response.content
        assert response.json()["parent_value"] is None


def test_parent_value_is_nullable_in_the_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    parent_value = schema["components"]["schemas"]["IdToken"]["properties"]["parent_value"]
    assert parent_value["nullable"] is True


def test_parent_can_be_cleared(api):
    group = IdTokenFactory(value="FLEET")
    token = IdTokenFactory(value="CARD", parent=group)
    response = api.patch(f"/api/id-tokens/{token.pk}/", {"parent": None})
    assert response.status_code == 200, response.content
    assert response.json()["parent_value"] is None
    token.refresh_from_db()
    assert token.parent is None


# --- Validation of types ----------------------------------------------------------------------


def test_wrong_types_are_400_with_every_field_named(api):
    response = api.post(
        "/api/id-tokens/",
        {
            "value": "TAG1",
            "allow_concurrent_transactions": "maybe",
            "expires_at": "tomorrow",
            "status": "Sometimes",
            "type": "Barcode",
        },
    )
    assert response.status_code == 400
    assert {"allow_concurrent_transactions", "expires_at", "status", "type"} <= set(response.json())
    assert not IdToken.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("charging_priority", 10),
        ("charging_priority", -10),
        ("charging_priority", "high"),
        ("personal_message_format", "Markdown"),
        ("personal_message", "x" * 513),
        ("language", "much-too-long"),
    ],
)
def test_id_token_info_extras_are_validated(api, field, value):
    response = api.post("/api/id-tokens/", {"value": "TAG1", field: value})
    assert response.status_code == 400
    assert field in response.json()
    assert not IdToken.objects.exists()


def test_value_is_required_and_bounded(api):
    response = api.post("/api/id-tokens/", {"type": "ISO14443"})
    assert response.status_code == 400
    assert "value" in response.json()
    response = api.post("/api/id-tokens/", {"value": ""})
    assert response.status_code == 400
    assert "value" in response.json()
    response = api.post("/api/id-tokens/", {"value": "x" * 256})
    assert response.status_code == 400
    assert "value" in response.json()


def test_patch_with_a_bad_status_changes_nothing(api):
    token = IdTokenFactory(value="TAG1", status="Accepted")
    response = api.patch(f"/api/id-tokens/{token.pk}/", {"status": "ConcurrentTx"})
    assert response.status_code == 400
    assert "status" in response.json()
    token.refresh_from_db()
    assert token.status == "Accepted"


# --- Filters ----------------------------------------------------------------------------------


@pytest.fixture
def tokens():
    return [
        IdTokenFactory(value="AAA", type="ISO14443", status="Accepted"),
        IdTokenFactory(value="AAA", type="KeyCode", status="Blocked"),
        IdTokenFactory(value="BBB", type="ISO14443", status="Blocked"),
        IdTokenFactory(
            value="CCC", type="Central", status="Accepted", expires_at=T0 + timedelta(days=1)
        ),
    ]


def test_list_is_ordered_by_value_and_type(api, tokens):
    response = api.get("/api/id-tokens/")
    assert values(response) == ["AAA", "AAA", "BBB", "CCC"]
    assert [row["type"] for row in response.json()["results"][:2]] == ["ISO14443", "KeyCode"]


def test_filter_by_value(api, tokens):
    assert values(api.get("/api/id-tokens/?value=AAA")) == ["AAA", "AAA"]
    assert values(api.get("/api/id-tokens/?value=aa")) == []
    assert values(api.get("/api/id-tokens/?value__icontains=bb")) == ["BBB"]


def test_filter_by_status(api, tokens):
    assert values(api.get("/api/id-tokens/?status=Blocked")) == ["AAA", "BBB"]
    response = api.get("/api/id-tokens/?status=Whatever")
    assert response.status_code == 400
    assert "status" in response.json()


def test_filter_by_type(api, tokens):
    assert values(api.get("/api/id-tokens/?type=ISO14443")) == ["AAA", "BBB"]
    assert values(api.get("/api/id-tokens/?type=Central&status=Accepted")) == ["CCC"]


def test_filter_by_parent(api, tokens):
    group = IdTokenFactory(value="FLEET")
    IdTokenFactory(value="MEMBER", parent=group)
    assert values(api.get(f"/api/id-tokens/?parent={group.pk}")) == ["MEMBER"]


def test_filter_by_expiry_range(api, tokens):
    after = iso(T0)
    assert values(api.get(f"/api/id-tokens/?expires_at_after={after}")) == ["CCC"]
    response = api.get("/api/id-tokens/?expires_at_before=soon")
    assert response.status_code == 400
    assert "expires_at" in response.json()


def test_list_needs_a_constant_number_of_queries(api):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/id-tokens/").status_code == 200
        return len(captured)

    IdTokenFactory(parent=IdTokenFactory())
    one = queries()
    for _ in range(5):
        IdTokenFactory(parent=IdTokenFactory())
    assert queries() == one
