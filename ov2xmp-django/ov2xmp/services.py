"""The long-running services behind ``ov2xmp`` subcommands."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command

logger = logging.getLogger("ov2xmp")


def prepare_database() -> None:
    """Bring the schema up to date and make sure an administrator exists."""
    from accounts.services import user_ensure_admin

    call_command("migrate", interactive=False, verbosity=0)
    config = settings.OV2XMP
    try:
        admin = user_ensure_admin(username=config.admin_username, password=config.admin_password)
    except ValueError as error:
        sys.exit(f"ov2xmp: configuration error: {error}")
    if admin is None:
        return
    if admin.generated_password:
        print(
            f"\nCreated administrator '{admin.username}' with password: "
            f"{admin.generated_password}\n(shown only now; set OV2XMP_ADMIN_USERNAME and "
            "OV2XMP_ADMIN_PASSWORD to choose them)\n",
            flush=True,
        )
    else:
        verb = "Created" if admin.created else "Updated"
        print(f"{verb} administrator '{admin.username}' from OV2XMP_ADMIN_*", flush=True)


async def run_beat_schedule() -> None:
    """The embedded mode has no beat process: run each periodic task of
    ``CELERY_BEAT_SCHEDULE`` here, at its interval, in a worker thread."""
    from asgiref.sync import sync_to_async
    from django.db import close_old_connections
    from django.utils.module_loading import import_string

    def run(task_name: str) -> None:
        # Task names are their import paths; importing one registers it (asking
        # Celery to discover them would reconfigure Django's logging).
        try:
            import_string(task_name).apply(throw=True)
        finally:
            close_old_connections()

    async def every(name: str, task_name: str, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await sync_to_async(run, thread_sensitive=False)(task_name)
            except Exception:
                logger.exception("periodic task %s failed", name)

    await asyncio.gather(
        *(
            every(name, entry["task"], float(entry["schedule"]))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        )
    )


def url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def banner(
    *, api: str | None, ocpp: str | None, ftp: str | None = None, http_files: str | None = None
) -> str:
    lines = ["", "O-V2X-MP is running", f"  data:     {settings.DATA_DIR}"]
    if ocpp:
        lines.append(f"  chargers: {ocpp}<charger_id>   (OCPP 1.6J, 2.0.1, 2.1)")
    if ftp:
        lines.append(f"  uploads:  {ftp}   (FTP, per-request credentials)")
    if http_files:
        lines.append(f"  uploads:  {http_files}/files/upload/   (HTTP, per-request credentials)")
    if api:
        lines += [
            f"  dashboard: {api}/   (log in with the administrator's username and password)",
            f"  API:      {api}/api/",
            f"  Swagger:  {api}/api/docs/",
            f"  admin:    {api}/admin/",
            f"  log in:   POST {api}/api/token/ with the administrator's username and "
            "password, then send 'Authorization: Bearer <access>'",
        ]
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)


def run_up() -> None:
    """Everything in one process: the API and the CSMS on one asyncio loop, so
    that the in-memory channel layer joins them."""
    prepare_database()
    serve_asgi(with_csms=True)


def run_http_files() -> None:
    """The HTTP file service alone (distributed mode): /files/ uploads."""
    serve_asgi(with_csms=False, files_only=True)


def run_web() -> None:
    """The API alone, as in deployments (schema migrations are a separate step
    there: ``ov2xmp manage migrate``)."""
    serve_asgi(with_csms=False)


# The collector's thresholds while serving (CPython's default: 700, 10, 10).
# Under load a csms process made about 300 young collections in 25 s and
# three full ones of 85 to 130 ms each, every connection waiting; with the
# first threshold at 10,000, 7 young and one full, and a fifth of the time
# collecting (docs/performance.md). Cyclic garbage waits longer: a few MB.
GC_THRESHOLDS = (10_000, 10, 10)


def freeze_startup_objects() -> None:
    """Django, the libraries and the settings are made once and live as long
    as the process: moved out of the garbage collector's sight, so that a full
    collection walks only what serving made. In the csms, a full collection
    over the 131,000 objects of its start paused every connection for
    125 to 160 ms (docs/performance.md). Then the serving thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve_asgi(*, with_csms: bool, files_only: bool = False) -> None:
    """Run daphne on the API port and, with ``with_csms``, the CSMS and the FTP
    server beside it (daphne's Twisted reactor runs on asyncio). With
    ``files_only``: the HTTP file service alone, on its own port. Prints the
    banner once everything listens; exits non-zero when a port cannot be taken."""
    from daphne.server import Server
    from twisted.internet import defer, reactor

    from config.asgi import application, files_application
    from csms.server import CsmsServer
    from csms.tls import server_ssl_context
    from files.ftp import FtpServerThread, build_ftp_server
    from updates import publisher as live_updates

    config = settings.OV2XMP
    bind = config.bind
    api_port = config.http_files_port if files_only else config.api_port
    csms = (
        CsmsServer(host=bind, port=config.ocpp_port, ssl_context=server_ssl_context(config))
        if with_csms
        else None
    )
    ftp = None
    if with_csms:
        try:
            ftp = FtpServerThread(build_ftp_server(bind, config.ftp_port))
        except OSError as error:
            sys.exit(f"ov2xmp: cannot listen for FTP on {bind}:{config.ftp_port}: {error}")
        ftp.start()
    failed: list[str] = []
    periodic: list[asyncio.Future[None]] = []

    async def started() -> None:
        live_updates.start(asyncio.get_running_loop())
        if csms is not None:
            try:
                await csms.start()
            except OSError as error:
                failed.append(f"cannot listen for OCPP on {bind}:{config.ocpp_port}: {error}")
                reactor.stop()  # type: ignore[attr-defined,misc]
                return
            periodic.append(asyncio.ensure_future(run_beat_schedule()))
        await asyncio.sleep(0.1)  # let daphne report a listen failure first
        if reactor.running and server.listening_addresses:  # type: ignore[attr-defined]
            api_url = f"http://{url_host(bind)}:{server.listening_addresses[0][1]}"
            print(
                banner(
                    api=None if files_only else api_url,
                    ocpp=csms.url if csms else None,
                    ftp=ftp_url(bind, ftp.port) if ftp else None,
                    http_files=api_url,
                ),
                flush=True,
            )

    def stop_csms() -> defer.Deferred[None]:
        assert csms is not None
        for future in periodic:
            future.cancel()
        if ftp is not None:
            ftp.stop()
        return defer.Deferred.fromFuture(asyncio.ensure_future(csms.stop()))

    proxy = settings.TRUST_PROXY_HEADERS
    server = Server(
        application=files_application if files_only else application,
        endpoints=[f"tcp:port={api_port}:interface={bind.replace(':', chr(92) + ':')}"],
        signal_handlers=True,
        ready_callable=lambda: asyncio.ensure_future(started()),
        verbosity=0,
        proxy_forwarded_address_header="X-Forwarded-For" if proxy else None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy else None,
    )
    if csms is not None:
        reactor.addSystemEventTrigger("before", "shutdown", stop_csms)  # type: ignore[attr-defined,arg-type]
    freeze_startup_objects()
    server.run()
    if failed or not server.listening_addresses:
        sys.exit("ov2xmp: " + ("; ".join(failed) or f"cannot listen for HTTP on {bind}:{api_port}"))


def run_csms() -> None:
    """The OCPP server alone (one of possibly several csms processes): in this
    process, or in ``OV2XMP_CSMS_PROCESSES`` processes sharing the port."""
    config = settings.OV2XMP
    if config.csms_processes > 1:
        run_csms_processes(config.csms_processes)
        return
    try:
        asyncio.run(_serve_csms(reuse_port=False, ready=None))
    except OSError as error:
        sys.exit(f"ov2xmp: cannot listen for OCPP on {config.bind}:{config.ocpp_port}: {error}")


async def _serve_csms(*, reuse_port: bool, ready: Any) -> None:
    """Serve until SIGINT or SIGTERM. With ``ready`` (a queue), report the
    address there instead of printing the banner."""
    from csms.server import CsmsServer
    from csms.tls import server_ssl_context

    config = settings.OV2XMP
    server = CsmsServer(
        host=config.bind,
        port=config.ocpp_port,
        ssl_context=server_ssl_context(config),
        reuse_port=reuse_port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_requested() -> None:
        if not stop.is_set():
            _exit_if_still_running_after(config.csms_stop_seconds + CSMS_EXIT_GRACE_SECONDS)
        stop.set()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop_requested)
    freeze_startup_objects()
    await server.start()
    if ready is None:
        print(banner(api=None, ocpp=server.url), flush=True)
    else:
        ready.put(server.url)
    await stop.wait()
    logger.info("stopping: closing charger connections")
    await server.stop()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# After OV2XMP_CSMS_STOP_SECONDS (CsmsServer.stop's steps), this long for the
# rest (asyncio's teardown, the threads joined at exit) before a csms process
# exits regardless.
CSMS_EXIT_GRACE_SECONDS = 3.0


def _exit_if_still_running_after(seconds: float) -> None:
    """The last resort of a stopping csms process. Its stop is bounded step
    by step (CsmsServer.stop); what follows is not: a thread stuck in a
    database call is joined at exit for as long as it takes."""

    def exit_now() -> None:
        busy = [
            thread.name
            for thread in threading.enumerate()
            if not thread.daemon and thread is not threading.current_thread()
        ]
        logger.error(
            "still running %g s after the stop signal; exiting now, abandoning the threads %s",
            seconds,
            ", ".join(busy),
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(1)

    deadline = threading.Timer(seconds, exit_now)
    deadline.name = "csms-exit-deadline"
    deadline.daemon = True
    deadline.start()


# A child that ends this soon after it started is failing (its port is taken,
# its database unreachable): restarting it would only repeat the failure.
CSMS_CHILD_MIN_LIFETIME = 10.0
CSMS_CHILD_READY_TIMEOUT = 60.0
# After a child's own deadline (CSMS_EXIT_GRACE_SECONDS past the stop), how
# long the parent waits before it kills the child.
CSMS_CHILD_KILL_MARGIN = 2.0


def run_csms_processes(count: int) -> None:
    """``count`` csms processes on one port (SO_REUSEPORT: the kernel spreads
    new connections among them), to use more than one core. Each is a csms
    process of its own, with its own channel, as in distributed mode, so
    commands need the Redis channel layer. A child that dies is restarted,
    unless they are being stopped. SIGINT or SIGTERM stops them all, each in
    bounded time (OV2XMP_CSMS_STOP_SECONDS); a child ends with its parent
    even if the parent is killed (Linux)."""
    import multiprocessing
    from multiprocessing.connection import wait

    config = settings.OV2XMP
    if not settings.REDIS_URL:
        sys.exit(
            "ov2xmp: OV2XMP_CSMS_PROCESSES > 1 needs OV2XMP_REDIS_URL: commands reach "
            "the process holding a charger over the Redis channel layer"
        )
    if config.ocpp_port == 0:
        sys.exit("ov2xmp: OV2XMP_CSMS_PROCESSES > 1 needs a fixed OCPP port, not 0")
    # Forked after settings are read and before any connection or thread exists.
    context = multiprocessing.get_context("fork")
    ready = context.Queue()

    def start_child(number: int) -> Any:
        """A new child, or None once stopping. The stop signals are blocked
        around the fork: one arriving meanwhile is handled after, here and in
        the child (once its handlers are its own, _csms_child)."""
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            if stopping:
                return None
            child = context.Process(
                target=_csms_child, args=(ready, os.getpid()), name=f"csms-{number}"
            )
            child.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        child.started_at = time.monotonic()  # type: ignore[attr-defined]
        return child

    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = {
        number: child for number in range(count) if (child := start_child(number)) is not None
    }
    failed = not _all_ready(children, ready, lambda: stopping)
    stopping = stopping or failed
    while not stopping:
        wait([child.sentinel for child in children.values()], timeout=0.5)
        for number, child in list(children.items()):
            if child.is_alive() or stopping:
                continue
            lived = time.monotonic() - child.started_at
            logger.error("csms process %s ended (exit code %s)", child.pid, child.exitcode)
            if lived < CSMS_CHILD_MIN_LIFETIME:
                failed = stopping = True
                break
            replacement = start_child(number)
            if replacement is None:  # stopping
                break
            children[number] = replacement
    for child in children.values():
        if child.is_alive():
            os.kill(child.pid, signal.SIGTERM)
    deadline = (
        time.monotonic()
        + config.csms_stop_seconds
        + CSMS_EXIT_GRACE_SECONDS
        + CSMS_CHILD_KILL_MARGIN
    )
    for child in children.values():
        child.join(max(deadline - time.monotonic(), 0.0))
        if child.is_alive():
            logger.error("csms process %s did not end after SIGTERM; killing it", child.pid)
            child.kill()
            child.join()
    if failed:
        sys.exit("ov2xmp: a csms process failed as it started (see the log above)")


def _all_ready(children: dict[int, Any], ready: Any, stopping: Callable[[], bool]) -> bool:
    """Wait until every child listens (then print the banner), one of them
    ends first, or the wait is stopped or runs out."""
    deadline = time.monotonic() + CSMS_CHILD_READY_TIMEOUT
    urls: list[str] = []
    while len(urls) < len(children):
        if stopping():
            return True
        if not all(child.is_alive() for child in children.values()):
            logger.error("a csms process ended before it was listening")
            return False
        if time.monotonic() > deadline:
            logger.error("csms processes did not all start within %g s", CSMS_CHILD_READY_TIMEOUT)
            return False
        with contextlib.suppress(queue.Empty):
            urls.append(ready.get(timeout=0.2))
    print(banner(api=None, ocpp=urls[0]) + f"\n  ({len(children)} csms processes)", flush=True)
    return True


def _csms_child(ready: Any, parent_pid: int) -> None:
    # Until its event loop handles them (_serve_csms), a stop signal ends the
    # child at once. The handlers inherited from the parent would only set
    # the parent's flag, in this process's copy: the child went on to serve,
    # and the parent waited for it for ever.
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    _stop_with_parent()
    if os.getppid() != parent_pid:  # it ended before that took effect
        sys.exit("ov2xmp: the parent csms process has ended")
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by start_child
    config = settings.OV2XMP
    try:
        asyncio.run(_serve_csms(reuse_port=True, ready=ready))
    except OSError as error:
        sys.exit(f"ov2xmp: cannot listen for OCPP on {config.bind}:{config.ocpp_port}: {error}")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _stop_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent ends, however
    it ends: a parent that is killed (SIGKILL) cannot stop its children, and
    they were left serving, orphaned. Linux only; elsewhere run one csms
    process (ADR 0014)."""
    if sys.platform != "linux":
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        logger.warning("this csms process will outlive its parent: %s", os.strerror(error))


def ftp_url(bind: str, port: int) -> str:
    return f"ftp://{url_host(bind)}:{port}/"


def run_ftp() -> None:
    """The FTP server alone (distributed mode)."""
    import threading

    from files.ftp import FtpServerThread, build_ftp_server

    config = settings.OV2XMP
    try:
        server = FtpServerThread(build_ftp_server(config.bind, config.ftp_port))
    except OSError as error:
        sys.exit(f"ov2xmp: cannot listen for FTP on {config.bind}:{config.ftp_port}: {error}")
    server.start()
    print(banner(api=None, ocpp=None, ftp=ftp_url(config.bind, server.port)), flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5) and server.is_alive():
        pass
    logger.info("stopping the FTP server")
    server.stop()
    if not stop.is_set():
        sys.exit("ov2xmp: the FTP server stopped unexpectedly")


def run_celery(command: str, extra: list[str]) -> None:
    from config.celery import app

    if not settings.REDIS_URL:
        sys.exit(
            f"ov2xmp {command}: set OV2XMP_REDIS_URL; without a broker, tasks run inside "
            "'ov2xmp up' and no worker is needed"
        )
    app.start([command, "--loglevel", settings.LOG_LEVEL, *extra])
