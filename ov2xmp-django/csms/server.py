"""The CSMS websocket server: chargers connect to ``/ws/ocpp/<charger_id>``.

One ``CsmsServer`` runs in each csms process (and inside ``ov2xmp up``). It
admits or refuses a connection before the upgrade, negotiates the OCPP
version by subprotocol, keeps one live connection per charger id (a new one
replaces the old), and records connects and disconnects.

Each server has its own channel-layer address, recorded on every charger it
holds; commands for those chargers arrive there (commands/services.py routes
them) and are sent over the charger's connection (csms/commands.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from channels.layers import get_channel_layer
from django.conf import settings
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargepoints.models import CHARGE_POINT_ID_PATTERN, RegistrationStatus
from chargepoints.services import ConnectionReport
from commands.services import EXECUTE_MESSAGE, command_route
from core.stopping import cancel_and_wait, finished_within
from csms.admission import BASIC_CHALLENGE, admission_refusal, transport_of
from csms.batching import FrequentWrites
from csms.charge_point import CsmsChargePoint, LoggedConnection, db
from csms.commands import command_execute
from csms.message_log import MessageLog
from csms.v16.charge_point import ChargePoint16
from csms.v21.charge_point import ChargePoint21
from csms.v201.charge_point import ChargePoint201
from updates import publisher as live_updates

logger = logging.getLogger(__name__)

PATH_PREFIX = "/ws/ocpp/"
CHARGE_POINT_ID = re.compile(CHARGE_POINT_ID_PATTERN)

# Subprotocol → ChargePoint class, in the server's order of preference.
CHARGE_POINT_CLASSES: dict[str, type[CsmsChargePoint]] = {
    "ocpp2.1": ChargePoint21,
    "ocpp2.0.1": ChargePoint201,
    "ocpp1.6": ChargePoint16,
}

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_REPLACED = 4000
REPLACE_WAIT_SECONDS = 5.0
RECEIVE_RETRY_SECONDS = 1.0
LISTEN_BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
# The least time a step of stopping gets, even after an earlier step used up
# the time allowed: the message log's last frames are still worth a try.
STOP_STEP_MIN_SECONDS = 0.5


def charge_point_id_from_path(path: str) -> str | None:
    """The charger id of a ``/ws/ocpp/<id>`` path, or None if it is not one."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    candidate = unquote(path[len(PATH_PREFIX) :].rstrip("/"))
    return candidate if CHARGE_POINT_ID.fullmatch(candidate) else None


def select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The server's preferred version among those offered. With none in common
    the handshake still completes (without a subprotocol), as OCPP-J requires,
    and the handler then closes the connection with a reason."""
    return next((Subprotocol(name) for name in CHARGE_POINT_CLASSES if name in offered), None)


def spawn(tasks: set[asyncio.Task[None]], work: Coroutine[Any, Any, None], what: str) -> None:
    """Run ``work`` in the background, kept in ``tasks`` until it ends; nobody
    awaits it, so its failure is logged here. The task is named ``what``."""

    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s failed", what, exc_info=task.exception())

    task = asyncio.create_task(work, name=what)
    tasks.add(task)
    task.add_done_callback(done)


@dataclass
class LiveConnection:
    websocket: ServerConnection
    connection_id: str
    charge_point: CsmsChargePoint | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    # Commands being sent over this connection or waiting their turn.
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class CsmsServer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        message_log: MessageLog | None = None,
        reuse_port: bool = False,
    ) -> None:
        config = settings.OV2XMP
        self.host = host
        self.port = port
        self._ssl_context = ssl_context
        # Several csms processes listening on one port (ov2xmp csms --processes).
        self._reuse_port = reuse_port
        self.message_log = message_log or MessageLog(flush_seconds=config.message_log_flush_seconds)
        self.writes = FrequentWrites()
        self._server: Server | None = None
        self.connections: dict[str, LiveConnection] = {}
        self.channel = ""
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def bound_port(self) -> int:
        """The listening port (useful when started on port 0)."""
        assert self._server is not None, "server not started"
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "wss" if self._ssl_context else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.bound_port}{PATH_PREFIX}"

    async def start(self) -> None:
        config = settings.OV2XMP
        self.message_log.start()
        live_updates.start(asyncio.get_running_loop())
        layer = get_channel_layer()
        self.channel = await layer.new_channel("csms")
        spawn(self._tasks, self._receive_commands(layer), "receiving commands")
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            ssl=self._ssl_context,
            select_subprotocol=select_subprotocol,
            process_request=self._admit,
            ping_interval=config.ocpp_ping_interval,
            ping_timeout=config.ocpp_ping_timeout,
            # A dead peer never completes the closing handshake either.
            close_timeout=config.ocpp_ping_timeout,
            max_size=config.ocpp_max_message_bytes,
            server_header="O-V2X-MP",
            # After a network outage a whole fleet reconnects at once. With
            # asyncio's default backlog of 100, the kernel drops the other
            # SYNs and those chargers retry after 1, 3, 7, 15, 31, 63 s.
            backlog=LISTEN_BACKLOG,
            reuse_port=self._reuse_port,
        )
        policy = config.unknown_chargers
        logger.info("CSMS listening on %s (unknown chargers: %s)", self.url, policy)
        if policy == "accept":
            logger.warning(
                "unknown chargers are accepted (OV2XMP_UNKNOWN_CHARGERS=accept): "
                "use 'pending' or 'reject' where the network is not trusted"
            )

    async def stop(self, within: float | None = None) -> None:
        """Close the charger connections, then write what is queued, in at
        most ``within`` seconds (``OV2XMP_CSMS_STOP_SECONDS`` by default); a
        step after one that used the time up still gets
        ``STOP_STEP_MIN_SECONDS``. A step not done in its time is abandoned,
        and the log says which: a process that is stopping must end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (settings.OV2XMP.csms_stop_seconds if within is None else within)

        def time_left() -> float:
            return max(deadline - loop.time(), STOP_STEP_MIN_SECONDS)

        if self._server is not None:
            self._server.close(close_connections=True)
            if not await finished_within(self._server.wait_closed(), seconds=time_left()):
                logger.error(
                    "stopping: abandoned closing the connections of %d chargers (%s)",
                    len(self.connections),
                    ", ".join(sorted(self.connections)[:10]),
                )
            self._server = None
        abandoned = await cancel_and_wait(self._tasks, within=time_left())
        if abandoned:
            logger.error(
                "stopping: abandoned %d background tasks that did not end when cancelled: %s",
                len(abandoned),
                ", ".join(sorted(task.get_name() for task in abandoned)),
            )
        await self.writes.close()
        if not await finished_within(self.message_log.close(), seconds=time_left()):
            logger.error(
                "stopping: abandoned writing the OCPP message log's last %d frames",
                self.message_log.unwritten,
            )
        if not await finished_within(live_updates.stop(), seconds=time_left()):
            logger.error("stopping: abandoned stopping the live-updates publisher")

    async def _receive_commands(self, layer: Any) -> None:
        while True:
            try:
                message = await layer.receive(self.channel)
            except Exception:
                # Redis restarting or unreachable: keep trying; what was sent
                # meanwhile waits in Redis (until the layer's expiry).
                logger.exception(
                    "receiving commands failed; retrying in %g s", RECEIVE_RETRY_SECONDS
                )
                await asyncio.sleep(RECEIVE_RETRY_SECONDS)
                continue
            if message.get("type") != EXECUTE_MESSAGE:
                logger.warning("ignored channel message of type %r", message.get("type"))
                continue
            try:
                self._take_command(
                    charge_point_id=message["charge_point_id"],
                    command_id=uuid.UUID(message["command_id"]),
                    hops=int(message.get("hops", 0)),
                )
            except (KeyError, ValueError, TypeError):
                logger.error("ignored malformed command message %r", message)

    def _take_command(self, *, charge_point_id: str, command_id: uuid.UUID, hops: int) -> None:
        """Send the command over the charger's connection here or, when the
        charger is not (or no longer) here, route it again from the records."""
        live = self.connections.get(charge_point_id)
        if live is not None and live.charge_point is not None:
            spawn(
                live.tasks,
                command_execute(live.charge_point, command_id, hops=hops),
                f"{charge_point_id}: command {command_id}",
            )
        else:
            spawn(
                self._tasks,
                db(command_route)(command_id=command_id, not_via=self.channel, hops=hops),
                f"{charge_point_id}: routing command {command_id}",
            )

    async def _deliver_held(self, charge_point_id: str, live: LiveConnection) -> None:
        assert live.charge_point is not None
        for command_id in await self.writes.held_commands.submit(charge_point_id):
            spawn(
                live.tasks,
                command_execute(live.charge_point, command_id),
                f"{charge_point_id}: held command {command_id}",
            )

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse, before the upgrade, paths that name no charger, unknown
        chargers when the policy says so, and chargers that do not meet their
        security profile (csms/admission.py)."""
        charge_point_id = charge_point_id_from_path(request.path)
        if charge_point_id is None:
            logger.warning("refused %s: not /ws/ocpp/<charger id>", request.path[:100])
            return connection.respond(
                HTTPStatus.NOT_FOUND,
                "Connect to /ws/ocpp/<charger id> (1-48 characters of A-Z a-z 0-9 *-_=:+|@.)\n",
            )
        transport = transport_of(connection, request.headers)
        refusal = await admission_refusal(charge_point_id, request.headers, transport)
        if refusal is None:
            return None
        logger.warning(
            "refused %s from %s: %s",
            charge_point_id,
            transport.forwarded_for or transport.peer,
            refusal.reason,
        )
        response = connection.respond(refusal.status, refusal.reason + "\n")
        if refusal.challenge:
            response.headers[BASIC_CHALLENGE[0]] = BASIC_CHALLENGE[1]
        return response

    async def _handle(self, websocket: ServerConnection) -> None:
        request = websocket.request
        assert request is not None  # the handshake is done
        charge_point_id = charge_point_id_from_path(request.path)
        assert charge_point_id is not None  # checked in _admit
        subprotocol = websocket.subprotocol
        if subprotocol not in CHARGE_POINT_CLASSES:
            # OCPP-J: complete the handshake without a subprotocol, then close.
            reason = f"unsupported subprotocol; supported: {', '.join(CHARGE_POINT_CLASSES)}"
            logger.warning(
                "%s: %s (offered %s)",
                charge_point_id,
                reason,
                request.headers.get("Sec-WebSocket-Protocol"),
            )
            await websocket.close(CLOSE_PROTOCOL_ERROR, reason)
            return
        charge_point_class = CHARGE_POINT_CLASSES[subprotocol]

        live = LiveConnection(websocket=websocket, connection_id=uuid.uuid4().hex)
        await self._replace_previous(charge_point_id)
        self.connections[charge_point_id] = live
        try:
            await self._serve(charge_point_id, charge_point_class, live)
        finally:
            if self.connections.get(charge_point_id) is live:
                del self.connections[charge_point_id]
            try:
                await self.writes.disconnects.submit((charge_point_id, live.connection_id))
                # Commands of this connection: the one sent fails, the waiting
                # ones are routed again (after the disconnect is on record).
                for task in list(live.tasks):
                    task.cancel()
                await asyncio.gather(*live.tasks, return_exceptions=True)
            finally:
                live.finished.set()
            logger.info("%s: disconnected (%s)", charge_point_id, websocket.close_code)

    async def _serve(
        self, charge_point_id: str, charge_point_class: type[CsmsChargePoint], live: LiveConnection
    ) -> None:
        websocket = live.websocket
        policy = settings.OV2XMP.unknown_chargers
        assert websocket.request is not None
        # Behind Caddy the socket's peer is the proxy; the charger is the first hop.
        transport = transport_of(websocket, websocket.request.headers)
        report = ConnectionReport(
            charge_point_id=charge_point_id,
            ocpp_version=charge_point_class.ocpp_version,
            connection_id=live.connection_id,
            remote_address=transport.forwarded_for or transport.peer,
            registration_status_if_new=RegistrationStatus.PENDING
            if policy == "pending"
            else RegistrationStatus.ACCEPTED,
            csms_channel=self.channel,
        )
        registration_status = await self.writes.connects.submit(report)
        logger.info(
            "%s: connected from %s with OCPP %s (%s)",
            charge_point_id,
            report.remote_address,
            charge_point_class.ocpp_version,
            registration_status,
        )
        connection = LoggedConnection(
            websocket,
            charge_point_id=charge_point_id,
            ocpp_version=charge_point_class.ocpp_version,
            message_log=self.message_log,
        )
        ocpp_charge_point: Any = charge_point_class(
            charge_point_id,
            connection,
            registration_status=registration_status,
            writes=self.writes,
        )
        ocpp_charge_point.on_ready = lambda: spawn(
            live.tasks,
            self._deliver_held(charge_point_id, live),
            f"{charge_point_id}: delivering held commands",
        )
        live.charge_point = ocpp_charge_point
        ocpp_charge_point.announce_ready_if_accepted()
        with contextlib.suppress(ConnectionClosed):
            await ocpp_charge_point.start()

    async def _replace_previous(self, charge_point_id: str) -> None:
        previous = self.connections.get(charge_point_id)
        if previous is None:
            return
        logger.warning("%s: new connection replaces the open one", charge_point_id)
        await previous.websocket.close(CLOSE_REPLACED, "replaced by a new connection")
        try:
            await asyncio.wait_for(previous.finished.wait(), REPLACE_WAIT_SECONDS)
        except TimeoutError:
            logger.error("%s: replaced connection did not end in time", charge_point_id)
