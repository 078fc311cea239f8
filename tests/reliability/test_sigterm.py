"""SIGTERM ends every server kind cleanly.

A WebSocket session and a polling session with a GET pending are open when the
server process (gunicorn's and uWSGI's master included) gets SIGTERM. Both
clients must get a close packet, the server must log each session's end as a
"server shutdown", and the process must exit by itself well before any
graceful timeout (gunicorn's is 30 s) would have killed it.

hypercorn runs twice: as its CLI starts by default (one worker process, which hears
of SIGTERM only from hypercorn's parent, never the app) and with ``--workers 0``
(the app's own process gets the signal). On Python 3.12 and later the default one
never stops while a client is connected: hypercorn waits for every connection to
end (``asyncio.Server.wait_closed()`` has done so since 3.12) before it tells the
app through the lifespan (pgjones/hypercorn#308). tests/test_python_versions.py
runs this file's asyncio servers on 3.10, 3.12 and 3.13.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest

from engineio_core.testing.client import HTTPReply, RawEngineIOClient
from tests.e2e.conftest import SERVERS
from tests.reliability.live import RELIABILITY_OPTIONS, skip_if_missing, start_kind

# Heartbeats longer than the test: every close must come from the shutdown.
OPTIONS = {**RELIABILITY_OPTIONS, "ping_interval": 30, "ping_timeout": 30}
EXIT_WITHIN = 12.0
# Exit statuses of a clean stop: 0, or terminated by the re-raised SIGTERM
# (the signal's default action, as uvicorn also does after its shutdown).
CLEAN_EXITS = (0, -signal.SIGTERM, 128 + signal.SIGTERM)
NEEDS_RESEND = ("sanic", "sanic-cli")
# These drop every open connection themselves as soon as they stop (hypercorn
# cancels its tasks, daphne stops the reactor), racing the close packets the core
# sends: sessions still end as a server shutdown and the process exits cleanly,
# but the packets may not get out first.
SERVER_DROPS_CONNECTIONS_FIRST = ("daphne", "hypercorn")
#: Variants of a matrix kind run here only: hypercorn serving in its own process.
VARIANTS = {
    "hypercorn-workers-0": replace(
        SERVERS["hypercorn"], argv=[*SERVERS["hypercorn"].argv, "--workers", "0"]
    ),
}


@pytest.mark.parametrize("name", sorted([*SERVERS, *VARIANTS]))
def test_sigterm_closes_sessions_and_exits(name: str, request: pytest.FixtureRequest) -> None:
    kind = VARIANTS.get(name)
    skip_if_missing(name, kind)
    if name == "uwsgi-gevent":
        # uWSGI keeps SIGTERM to itself (its C handler; Python sees none) and has no
        # shutdown hook for the app in the gevent loop: sessions just drop.
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="uWSGI gives the app no shutdown hook")
        )
    if name == "hypercorn" and sys.version_info >= (3, 12):
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="hypercorn's worker waits for open connections before its lifespan "
                "shutdown on Python 3.12+ (pgjones/hypercorn#308); --workers 0 is covered",
            )
        )
    with start_kind(name, OPTIONS, kind) as (url, proc):
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        client = RawEngineIOClient(parts.hostname, parts.port)
        ws = client.websocket()
        assert ws.status == 101, proc.output()
        opened = ws.receive()
        assert isinstance(opened, str) and opened.startswith("0")
        ws_sid = json.loads(opened[1:])["sid"]
        poll_sid, _ = client.handshake(transport="polling")
        polled: list[HTTPReply] = []
        poller = threading.Thread(target=_poll, args=(client, poll_sid, polled), daemon=True)
        poller.start()
        _wait_poll_pending(url)

        stopped_at = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        if name in NEEDS_RESEND:
            # Sanic ignores SIGTERM until its own handler is in place.
            _resend_until_stopping(proc, url)
        frames: list[Any] = []
        while (frame := ws.receive(timeout=EXIT_WITHIN)) is not None:
            frames.append(frame)
        poller.join(EXIT_WITHIN)
        returncode = _wait_exit(proc, stopped_at + EXIT_WITHIN)

        if name not in SERVER_DROPS_CONNECTIONS_FIRST:
            assert "1" in frames, (frames, proc.output())
            assert polled and polled[0].status == 200, proc.output()
            assert "1" in polled[0].packets, (polled[0].packets, proc.output())
        assert returncode in CLEAN_EXITS, (returncode, proc.output())
        log = proc.output()
        for sid in (ws_sid, poll_sid):
            assert f"{sid} disconnected: server shutdown" in log, log
        # hypercorn logs its own cancelled connection tasks at shutdown: only a
        # traceback through Engine.IO code (core or plugin) is ours.
        assert "[engineio] ERROR" not in log, log
        for trace in log.split("Traceback (most recent call last):")[1:]:
            assert "engineio_core" not in trace and "/eio_" not in trace, log


def _poll(client: RawEngineIOClient, sid: str, replies: list[HTTPReply]) -> None:
    with contextlib.suppress(OSError):  # servers that drop connections on shutdown
        replies.append(client.poll(sid, timeout=EXIT_WITHIN))


def _wait_poll_pending(url: str) -> None:
    """The poll reached the server (it counts requests in flight) before the signal."""
    import urllib.request

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/_state", timeout=5) as resp:
            in_flight = json.load(resp).get("requests_in_flight")
        if in_flight is None:
            time.sleep(0.5)  # this runner does not count requests: give the poll time
            return
        if in_flight >= 2:
            return
        time.sleep(0.05)
    pytest.fail("the long-poll never reached the server")


def _resend_until_stopping(proc: Any, url: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            urllib.request.urlopen(url + "/_state", timeout=1).close()
        except (OSError, urllib.error.URLError):
            return
        os.kill(proc.pid, signal.SIGTERM)


def _wait_exit(proc: Any, deadline: float) -> int | None:
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            return int(code)
        time.sleep(0.05)
    return None
