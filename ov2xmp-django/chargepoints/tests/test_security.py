"""Chargers' passwords and certificate names, as the csms checks them."""

from __future__ import annotations

import pytest

from chargepoints.security import (
    InvalidPassword,
    password_check_text,
    password_generate,
    password_hash,
    password_matches,
)
from csms.admission import subject_common_name


def test_a_password_matches_its_hash_and_nothing_else():
    stored = password_hash("0123456789abcdef")
    assert password_matches("0123456789abcdef", stored)
    assert not password_matches("0123456789abcdeF", stored)
    assert not password_matches("", stored)
    assert password_hash("0123456789abcdef") != stored  # salted


@pytest.mark.parametrize("stored", ["", "sha256$", "md5$salt$digest", "sha256$salt$"])
def test_a_malformed_hash_matches_nothing(stored):
    assert not password_matches("0123456789abcdef", stored)


def test_generated_passwords_suit_both_ocpp_versions():
    password = password_generate()
    password_check_text(password)
    assert len(password) == 40
    assert int(password, 16) >= 0  # hexadecimal, as 1.6 recommends
    assert password_generate() != password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "use 16 to 40 characters (this one has 5)"),
        ("x" * 41, "use 16 to 40 characters (this one has 41)"),
        ("sixteen chars ok", "printable ASCII characters without spaces"),
        ("sixteen-chars-\u00e9k", "printable ASCII characters without spaces"),
    ],
)
def test_passwords_chargers_cannot_hold_are_refused(password, problem):
    with pytest.raises(InvalidPassword, match=problem.replace("(", r"\(").replace(")", r"\)")):
        password_check_text(password)


@pytest.mark.parametrize(
    ("subject", "common_name"),
    [
        ("CN=CP-1,O=Acme Charging", "CP-1"),
        ("O=Acme\\, Inc.,CN=CP-2", "CP-2"),
        ("CN=CP\\,3+O=Acme", "CP,3"),
        ("2.5.4.3=SN-9", "SN-9"),
        ("O=Acme", None),
        ("", None),
    ],
)
def test_the_common_name_is_read_from_a_proxys_subject_header(subject, common_name):
    assert subject_common_name(subject) == common_name
