"""The deployment files agree with the code and with each other: the compose
files run subcommands that ``ov2xmp`` has, the databases are not published in
production, and every ``OV2XMP_*`` variable is in ``.env.example`` and
documented in ``docs/configuration.md``. No database is used."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ov2xmp.cli import PASS_THROUGH, build_parser

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILES = ["docker-compose-dev.yml", "docker-compose-prod.yml"]
CADDY_FILES = ["Caddyfile-base", "Caddyfile-dev", "Caddyfile-prod"]
# A variable name, not a pattern such as OV2XMP_<NAME>_FILE.
VARIABLE = re.compile(r"\bOV2XMP_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# What config/settings.py reads: env.text("SECRET_KEY"), env.integer("API_PORT", …), …
SETTINGS_READ = re.compile(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"")


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def compose(name: str) -> dict[str, Any]:
    document = yaml.safe_load(read(name))
    assert isinstance(document, dict), name
    assert document.get("services"), f"{name} defines no services"
    return document


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_follow_the_compose_specification(name):
    schema = json.loads((Path(__file__).parent / "data/compose_spec.json").read_text())
    # The schema of docker-compose 1.29.2 predates the project name (2022).
    schema["properties"]["name"] = {"type": "string"}
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(compose(name))
    ]
    assert errors == []


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("ov2xmp has no subcommands")


def variables(text: str) -> set[str]:
    """The OV2XMP_* names in a text; ``X_FILE`` counts as ``X`` (any variable
    may be given as a file)."""
    return {name.removesuffix("_FILE") for name in VARIABLE.findall(text)}


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_every_command_is_an_ov2xmp_subcommand(name):
    known = subcommands()
    parser = build_parser()
    commands = {
        service: spec["command"]
        for service, spec in compose(name)["services"].items()
        if spec.get("command") is not None
    }
    for service, command in commands.items():
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        # The image's entrypoint is `ov2xmp`; a command may also spell it out.
        if argv[:1] == ["ov2xmp"]:
            argv = argv[1:]
        assert argv, f"{name}: {service} has an empty command"
        assert argv[0] in known, f"{name}: {service} runs `ov2xmp {argv[0]}`, which does not exist"
        if argv[0] in PASS_THROUGH:
            continue  # the rest goes to Celery or Django untouched
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{name}: {service}: `ov2xmp {shlex.join(argv)}` is refused by the CLI")


def test_prod_runs_every_service_of_the_platform():
    services = compose("docker-compose-prod.yml")["services"]
    commands = {
        service: spec["command"][0]
        for service, spec in services.items()
        if isinstance(spec.get("command"), list)
    }
    assert sorted(commands.values()) == [
        "beat",
        "csms",
        "ftp",
        "http-files",
        "manage",
        "web",
        "worker",
    ]
    assert {"postgres", "redis", "caddy"} <= set(services)
    images = {services[service].get("image") for service in commands}
    assert len(images) == 1, f"the app services should share one image, not {images}"


def test_prod_publishes_no_database_port():
    services = compose("docker-compose-prod.yml")["services"]
    for name in ("postgres", "redis"):
        assert name in services
        assert not services[name].get("ports"), f"{name} must not be published in production"


def test_dev_publishes_only_on_loopback():
    for name, spec in compose("docker-compose-dev.yml")["services"].items():
        for port in spec.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_env_example_and_configuration_doc_name_the_same_variables():
    in_example = variables(read(".env.example"))
    in_doc = variables(read("docs/configuration.md"))
    assert in_example, ".env.example names no OV2XMP_ variable"
    assert not in_example - in_doc, f"undocumented in docs/configuration.md: {in_example - in_doc}"
    assert not in_doc - in_example, f"missing from .env.example: {in_doc - in_example}"


def test_every_setting_read_in_settings_is_in_env_example():
    read_by_settings = {
        "OV2XMP_" + name for name in SETTINGS_READ.findall(read("ov2xmp-django/config/settings.py"))
    }
    assert len(read_by_settings) > 10, "the regex no longer finds the env.<method>(…) calls"
    missing = read_by_settings - variables(read(".env.example"))
    assert not missing, f"read in config/settings.py but missing from .env.example: {missing}"


def test_variables_used_by_deployment_files_are_in_env_example():
    used = variables(read("scripts/test"))
    for name in COMPOSE_FILES:
        used |= variables(read(name))
    for name in CADDY_FILES:
        used |= variables(read(f"caddy/{name}"))
    missing = used - variables(read(".env.example"))
    assert not missing, f"used by compose, Caddy or scripts/test but not in .env.example: {missing}"
