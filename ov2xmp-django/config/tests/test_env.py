"""Typed reading of OV2XMP_* variables: good values parse, bad ones stop the
start with a message that names the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.env import ConfigurationError, Env, database_from_url, map_tiles_url


def env(**variables: str) -> Env:
    return Env({f"OV2XMP_{name}": value for name, value in variables.items()})


# --- raw / text -------------------------------------------------------------------------------


def test_text_reads_the_prefixed_variable_only():
    assert env(NAME="value").text("NAME") == "value"
    assert Env({"NAME": "value"}).text("NAME") is None
    assert env().text("NAME", "fallback") == "fallback"


def test_an_empty_variable_counts_as_unset():
    assert env(NAME="").text("NAME", "fallback") == "fallback"
    assert env(PORT="").integer("PORT", 9000) == 9000
    assert env(NAME="").text_or("NAME", "fallback") == "fallback"


def test_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("OV2XMP_TEST_ONLY_VARIABLE", "from-environ")
    assert Env().text("TEST_ONLY_VARIABLE") == "from-environ"


# --- integer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 7 ", 7), ("-3", -3), ("0", 0)])
def test_integer_parses_whole_numbers(raw, expected):
    assert env(N=raw).integer("N", 1) == expected


def test_integer_default_when_unset():
    assert env().integer("N", 5) == 5


@pytest.mark.parametrize("raw", ["abc", "1.5", "12a", "0x10"])
def test_integer_refuses_other_text(raw):
    with pytest.raises(ConfigurationError, match=r"OV2XMP_N=.*whole number"):
        env(N=raw).integer("N", 1)


def test_integer_bounds():
    assert env(N="10").integer("N", 1, minimum=10, maximum=10) == 10
    with pytest.raises(ConfigurationError, match=r"OV2XMP_N=9: must be at least 10"):
        env(N="9").integer("N", 1, minimum=10)
    with pytest.raises(ConfigurationError, match=r"OV2XMP_N=70000: must be at most 65535"):
        env(N="70000").integer("N", 1, maximum=65535)


# --- number -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("0.5", 0.5), ("3", 3.0), (" 1e2 ", 100.0)])
def test_number_parses_decimals(raw, expected):
    assert env(X=raw).number("X", 1.0) == expected


def test_number_refuses_text_and_values_below_the_minimum():
    with pytest.raises(ConfigurationError, match=r"OV2XMP_X='fast': expected a number"):
        env(X="fast").number("X", 1.0)
    with pytest.raises(ConfigurationError, match=r"OV2XMP_X=0.0: must be at least 0.1"):
        env(X="0").number("X", 1.0, minimum=0.1)
    assert env().number("X", 2.5) == 2.5


def test_number_refuses_values_above_the_maximum():
    # A gather time given in milliseconds by mistake fails the start.
    with pytest.raises(ConfigurationError, match=r"OV2XMP_X=3.0: must be at most 1"):
        env(X="3").number("X", 0.003, minimum=0, maximum=1)
    assert env(X="1").number("X", 0.003, maximum=1) == 1.0


# --- flag -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "On", " on "])
def test_flag_true_words(raw):
    assert env(DEBUG=raw).flag("DEBUG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF"])
def test_flag_false_words(raw):
    assert env(DEBUG=raw).flag("DEBUG", True) is False


def test_flag_default_and_bad_value():
    assert env().flag("DEBUG", True) is True
    with pytest.raises(ConfigurationError, match=r"OV2XMP_DEBUG='maybe': expected one of"):
        env(DEBUG="maybe").flag("DEBUG", False)


# --- choice -----------------------------------------------------------------------------------


def test_choice_is_case_insensitive_and_returns_the_lower_case_word():
    choices = ["accept", "pending", "reject"]
    assert env(MODE="Pending").choice("MODE", "accept", choices) == "pending"
    assert env().choice("MODE", "accept", choices) == "accept"


def test_choice_refuses_unknown_words_and_lists_the_choices():
    with pytest.raises(
        ConfigurationError, match=r"OV2XMP_MODE='maybe': expected one of accept, reject"
    ):
        env(MODE="maybe").choice("MODE", "accept", ["accept", "reject"])


# --- csv --------------------------------------------------------------------------------------


def test_csv_splits_trims_and_drops_empty_items():
    assert env(HOSTS="a.example, b.example ,,c").csv("HOSTS", []) == [
        "a.example",
        "b.example",
        "c",
    ]


def test_csv_default_is_a_copy():
    default = ["localhost"]
    result = env().csv("HOSTS", default)
    assert result == ["localhost"]
    result.append("other")
    assert default == ["localhost"]


# --- path -------------------------------------------------------------------------------------


def test_path_is_resolved_and_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert env(DIR="~/data").path("DIR", Path("/unused")) == (tmp_path / "data").resolve()
    assert env(DIR=str(tmp_path / "a" / ".." / "b")).path("DIR", Path("/x")) == tmp_path / "b"


def test_path_relative_value_and_default_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert env(DIR="rel").path("DIR", Path("/unused")) == tmp_path.resolve() / "rel"
    assert env().path("DIR", Path("default")) == tmp_path.resolve() / "default"


# --- *_FILE variants --------------------------------------------------------------------------


def test_file_variant_reads_the_value_without_the_trailing_newline(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret value\n", encoding="utf-8")
    assert env(SECRET_KEY_FILE=str(secret)).text("SECRET_KEY") == "s3cret value"


def test_file_variant_is_typed_like_the_variable(tmp_path):
    port = tmp_path / "port"
    port.write_text("9100\r\n", encoding="utf-8")
    assert env(OCPP_PORT_FILE=str(port)).integer("OCPP_PORT", 9000) == 9100
    port.write_text("ninety\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="OV2XMP_OCPP_PORT="):
        env(OCPP_PORT_FILE=str(port)).integer("OCPP_PORT", 9000)


def test_variable_and_file_variant_both_set_is_an_error(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file", encoding="utf-8")
    with pytest.raises(
        ConfigurationError, match="OV2XMP_SECRET_KEY and OV2XMP_SECRET_KEY_FILE are both set"
    ):
        env(SECRET_KEY="direct", SECRET_KEY_FILE=str(secret)).text("SECRET_KEY")


def test_an_empty_variable_beside_the_file_variant_is_not_a_conflict(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file", encoding="utf-8")
    assert env(SECRET_KEY="", SECRET_KEY_FILE=str(secret)).text("SECRET_KEY") == "from-file"


def test_unreadable_file_is_an_error_naming_the_variable(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(ConfigurationError, match=r"OV2XMP_SECRET_KEY_FILE=.*missing: cannot read"):
        env(SECRET_KEY_FILE=str(missing)).text("SECRET_KEY")
    with pytest.raises(ConfigurationError, match=r"OV2XMP_SECRET_KEY_FILE=.*: cannot read"):
        env(SECRET_KEY_FILE=str(tmp_path)).text("SECRET_KEY")  # a directory


# --- database_from_url ------------------------------------------------------------------------


def test_postgres_url():
    database = database_from_url("postgres://user:p%40ss@db.example:5432/ov2xmp?sslmode=require")
    assert database["ENGINE"] == "core.postgresql"
    assert database["NAME"] == "ov2xmp"
    assert database["USER"] == "user"
    assert database["PASSWORD"] == "p@ss"
    assert database["HOST"] == "db.example"
    assert database["PORT"] == "5432"
    assert database["OPTIONS"] == {
        "pool": {"min_size": 1, "max_size": 20},
        "server_side_binding": True,
        "prepare_threshold": 5,
        "sslmode": "require",
    }


@pytest.mark.parametrize(("given", "threshold"), [("none", None), ("None", None), ("2", 2)])
def test_prepared_statements_can_be_turned_off_or_on_sooner(given, threshold):
    database = database_from_url(f"postgres://u@h/name?prepare_threshold={given}")
    assert database["OPTIONS"]["prepare_threshold"] == threshold  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="prepare_threshold"):
        database_from_url("postgres://u@h/name?prepare_threshold=soon")


@pytest.mark.parametrize("scheme", ["postgresql", "pgsql", "POSTGRES"])
def test_postgres_scheme_aliases(scheme):
    database = database_from_url(f"{scheme}://u@h/name")
    assert database["ENGINE"] == "core.postgresql"
    assert (database["NAME"], database["PORT"], database["PASSWORD"]) == ("name", "", "")


def test_postgres_url_errors():
    with pytest.raises(ConfigurationError, match=r"OV2XMP_DATABASE_URL: .*names no database"):
        database_from_url("postgres://user:pass@host:5432/")
    with pytest.raises(ConfigurationError, match="OV2XMP_DATABASE_URL: the port is not a number"):
        database_from_url("postgres://user:pass@host:port/db")


def test_sqlite_relative_path():
    database = database_from_url("sqlite:///relative.db")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "relative.db"


def test_sqlite_absolute_path():
    database = database_from_url("sqlite:////abs/path.db")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "/abs/path.db"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:////"])
def test_sqlite_url_without_a_path(url):
    with pytest.raises(ConfigurationError, match="needs a file path"):
        database_from_url(url)


def test_unsupported_scheme_names_the_variable():
    with pytest.raises(
        ConfigurationError, match=r"OV2XMP_DATABASE_URL: unsupported scheme 'mysql'"
    ):
        database_from_url("mysql://user:pass@host/db")
    with pytest.raises(ConfigurationError, match=r"OV2XMP_OTHER_URL: unsupported scheme"):
        database_from_url("redis://host", variable="OV2XMP_OTHER_URL")


def test_postgresql_connections_come_from_a_pool_of_the_chosen_size():
    database = database_from_url("postgres://u@h/name", pool_size=3)
    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 3}
    # Django refuses persistent connections beside a pool.
    assert database["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/{z}/{x}/{y}.png"),
        ("none", ""),
        ("NONE", ""),
    ],
)
def test_map_tiles_url_takes_a_template_or_none(value, expected):
    assert map_tiles_url(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("tiles.example.org/{z}/{x}/{y}.png", "expected an http(s) URL"),
        ("https://tiles.example.org/tile.png", "needs {z}, {x} and {y}"),
    ],
)
def test_a_bad_map_tiles_url_is_refused(value, problem):
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        map_tiles_url(value)
