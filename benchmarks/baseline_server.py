"""The bare baseline: an OCPP 1.6 and 2.0.1 server (by the subprotocol the
charger asks for) built only from the ``ocpp`` library and ``websockets``. It
answers what the benchmark's chargers send, validates every message as the
library does, and stores nothing. O-V2X-MP's figures are reported as ratios to
this server's, measured in the same run. Like O-V2X-MP, it validates on the
event loop rather than on the library's default thread pool: the ratio then
measures what O-V2X-MP adds, not a library setting.

    python benchmarks/baseline_server.py --port 9100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
from datetime import UTC, datetime

from ocpp import messages
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as call_result201
from ocpp.v201.datatypes import IdTokenInfoType
from ocpp.v201.enums import Action as Action201
from ocpp.v201.enums import AuthorizationStatusEnumType, RegistrationStatusEnumType
from websockets.asyncio.server import ServerConnection, serve

TRANSACTION_IDS = itertools.count(1)
messages.ASYNC_VALIDATION = False  # as O-V2X-MP's csms does


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class BareChargePoint(ChargePoint):
    @on(Action.boot_notification)
    async def on_boot(self, **_: object) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    async def on_status(self, **_: object) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.meter_values)
    async def on_meter_values(self, **_: object) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.start_transaction)
    async def on_start(self, **_: object) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=next(TRANSACTION_IDS),
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action.stop_transaction)
    async def on_stop(self, **_: object) -> call_result.StopTransaction:
        return call_result.StopTransaction()


class BareChargePoint201(ChargePoint201):
    @on(Action201.boot_notification)
    async def on_boot(self, **_: object) -> call_result201.BootNotification:
        return call_result201.BootNotification(
            current_time=now(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action201.heartbeat)
    async def on_heartbeat(self) -> call_result201.Heartbeat:
        return call_result201.Heartbeat(current_time=now())

    @on(Action201.status_notification)
    async def on_status(self, **_: object) -> call_result201.StatusNotification:
        return call_result201.StatusNotification()

    @on(Action201.transaction_event)
    async def on_transaction_event(
        self, id_token: dict | None = None, **_: object
    ) -> call_result201.TransactionEvent:
        # The spec requires the token's status when the event carries one (Started).
        info = IdTokenInfoType(status=AuthorizationStatusEnumType.accepted) if id_token else None
        return call_result201.TransactionEvent(id_token_info=info)


CHARGE_POINTS: dict[str, type[ChargePoint] | type[ChargePoint201]] = {
    "ocpp1.6": BareChargePoint,
    "ocpp2.0.1": BareChargePoint201,
}


async def handle(websocket: ServerConnection) -> None:
    assert websocket.request is not None
    charge_point_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    charge_point = CHARGE_POINTS[websocket.subprotocol or "ocpp1.6"]
    try:
        await charge_point(charge_point_id, websocket).start()
    except Exception:
        return


async def main(host: str, port: int) -> None:
    async with serve(
        handle,
        host,
        port,
        subprotocols=list(CHARGE_POINTS),  # type: ignore[arg-type]
        ping_interval=None,
        max_queue=None,
    ) as server:
        print(f"baseline listening on ws://{host}:{port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.host, arguments.port))
