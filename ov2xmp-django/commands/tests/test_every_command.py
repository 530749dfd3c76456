"""Every command of every version, through the API, the task and the csms, to
a real websocket client that answers it; the charger must receive exactly the
payload the API was given, and the API must return exactly its answer."""

from __future__ import annotations

import pytest

from commands.catalog import COMMANDS, OCPP16, OCPP21, OCPP201, SUBPROTOCOLS
from commands.models import Command, CommandStatus
from commands.tests.examples import example_answer, example_request


@pytest.mark.parametrize("version", [OCPP16, OCPP201, OCPP21])
async def test_every_command_reaches_the_charger_and_its_answer_comes_back(
    csms, connect, send, version
):
    specs = [spec for spec in COMMANDS.values() if spec.ocpp_version == version]
    failures = []
    async with connect(csms, "CP-ALL", SUBPROTOCOLS[version]) as charger:
        for spec in specs:
            payload = example_request(spec)
            response = await send(spec.url_segment, spec.action, "CP-ALL", payload)
            body = response.json()
            received = charger.requests(spec.action)
            if response.status_code != 200 or body["status"] != CommandStatus.ANSWERED:
                failures.append(f"{spec.action}: {response.status_code} {body}")
            elif body["response"] != example_answer(spec):
                failures.append(f"{spec.action}: answer changed on the way: {body['response']}")
            elif received != [payload]:
                failures.append(f"{spec.action}: the charger received {received}")
    assert not failures, "\n".join(failures)
    assert await Command.objects.filter(status=CommandStatus.ANSWERED).acount() == len(specs)
    assert len(specs) == {OCPP16: 26, OCPP201: 40, OCPP21: 54}[version]
