"""Clients that vanish are detected by the heartbeat and their sessions removed;
pending polls are released (issue #6, "Under load and faults").

For each fault, three client processes (tests/load/vanishing_client.py) answer
heartbeats (ping interval 0.5 s, timeout 0.5 s) until they are made to vanish:

* ``websocket``: a WebSocket session;
* ``polling``: a long-polling session, with a GET waiting for the next ping;
* ``polling-pong-owed``: a long-polling session that sent its next GET after a
  ping but never the pong: the server holds a poll while it waits for the pong.

The faults: ``reset`` (SO_LINGER 0 then close: the kernel sends a TCP RST),
``kill`` (SIGKILL: the kernel closes the dead process's sockets) and ``stop``
(SIGSTOP: a half-open peer, the kernel keeps the connection up and even takes
what the server sends, but nothing answers; resumed at the end).

What the server must report, and when:

* A WebSocket that is reset or whose process is killed: "transport close", within
  0.3 s. Its reader is always waiting on the socket, so the RST or FIN ends the
  session at once (in 10-30 ms here), before the next ping is even due.
* A stopped WebSocket peer: "ping timeout", within ping interval + ping timeout:
  nothing on the connection changes, only the pong never comes.
* A polling session, whatever the fault: "ping timeout". No connection belongs
  to a polling session: the server does not watch a pending GET's socket (as
  python-engineio), so it learns of the fault from the heartbeat alone. The GET
  that was waiting is answered by the next ping (``polling``) or, when the pong
  is already owed, by the close packet the ping timeout sends
  (``polling-pong-owed``).

Then no Engine.IO request may still be in flight (the pending polls were
answered and the WebSockets ended: for a stopped peer the server gives up on
its close frame after its close timeout), each session's disconnect handler ran
once, and the table is empty. A stopped client, resumed, reads what the server
answered while it slept: the ping or the close packet on its poll (its pong is
then refused: the session is gone), the close of its WebSocket.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.load.live import ROOT, LoadServer, load_kinds, serve

PING_INTERVAL = 0.5
PING_TIMEOUT = 0.5
OPTIONS = {"ping_interval": PING_INTERVAL, "ping_timeout": PING_TIMEOUT}
#: When the server acts on a deadline it is late by its heartbeat loop's lag (and
#: a busy machine's): this much is allowed.
SLACK = 1.0
#: How long a server waits for a stopped peer's close frame before it drops the
#: connection: 5 s in engine.io's own WebSockets, 10 s in aiohttp's.
CLOSE_TIMEOUT = 10.0
#: After "ready", let the GET the client just wrote reach the server before the fault.
SETTLE = 0.1
#: Each client is ready (to vanish) after at most two heartbeats.
READY_WITHIN = 2 * PING_INTERVAL + 2
VARIANTS = ("websocket", "polling", "polling-pong-owed")
FAULTS = ("reset", "kill", "stop")


def expected(variant: str, fault: str) -> tuple[str, float]:
    """(reason, seconds after the fault by which the session must be gone)."""
    if variant == "websocket" and fault in ("reset", "kill"):
        # Before the next ping is even due (0.4 s after the fault): the reader saw it,
        # not a failed write of that ping.
        return "transport close", PING_INTERVAL - SETTLE - 0.1
    if variant == "polling-pong-owed":
        return "ping timeout", PING_TIMEOUT + SLACK
    return "ping timeout", PING_INTERVAL + PING_TIMEOUT + SLACK


class VanishingClient:
    """tests/load/vanishing_client.py in a subprocess; its output lines as they come.

    It is made to vanish by ``fault`` as soon as it says "ready" (its reader thread
    does it, so each client vanishes at its own right moment); ``vanished_at`` is when.
    """

    def __init__(self, url: str, variant: str, fault: str) -> None:
        self.variant = variant
        self.fault = fault
        self.vanished_at: float | None = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.load.vanishing_client", url, variant],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line == "ready\n" and self.vanished_at is None:
                time.sleep(SETTLE)
                # Taken before the fault: a server that sees a killed client at
                # once may remove it before this thread runs again.
                self.vanished_at = time.monotonic()
                self.vanish(self.fault)
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        """The next line starting with ``prefix`` (earlier lines are kept in ``lines``)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"{self.variant}: no {prefix!r} in {self.lines}") from None
            if line is None:
                raise AssertionError(f"{self.variant}: ended before {prefix!r}: {self.lines}")
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def vanish(self, fault: str) -> None:
        sig = {"reset": signal.SIGUSR1, "kill": signal.SIGKILL, "stop": signal.SIGSTOP}[fault]
        self.proc.send_signal(sig)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module", params=load_kinds())
def vanish_server(request: pytest.FixtureRequest) -> Iterator[LoadServer]:
    with serve(request.param, OPTIONS) as server:
        yield server


def watch_removals(server: LoadServer, sids: dict[str, str], timeout: float) -> dict[str, float]:
    """When (monotonic) each sid left the session table (inf: not within ``timeout``)."""
    gone = dict.fromkeys(sids.values(), math.inf)
    deadline = time.monotonic() + timeout
    while math.inf in gone.values() and time.monotonic() < deadline:
        live = set(server.state()["sessions"])
        now = time.monotonic()
        for sid, at in gone.items():
            if at == math.inf and sid not in live:
                gone[sid] = now
        time.sleep(0.02)
    return gone


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault", FAULTS)
def test_vanished_clients_are_detected_and_removed(vanish_server: LoadServer, fault: str) -> None:
    server = vanish_server
    clients = {variant: VanishingClient(server.url, variant, fault) for variant in VARIANTS}
    try:
        sids = {v: c.expect("sid ").split()[1] for v, c in clients.items()}
        assert set(sids.values()) <= set(server.state()["sessions"]), clients
        # The clients vanish by themselves (see VanishingClient): watch the table now.
        longest = max(expected(v, fault)[1] for v in VARIANTS)
        gone = watch_removals(server, sids, READY_WITHIN + longest + SETTLE + 2)
        for client in clients.values():
            client.expect("ready", timeout=1)
        # Every poll answered, every WebSocket ended, while the clients are still gone.
        server.wait_state(lambda s: s["requests_in_flight"] == 0, CLOSE_TIMEOUT + 5)
        vanished = {v: c.vanished_at for v, c in clients.items()}
        assert None not in vanished.values(), clients
        released = time.monotonic() - min(t for t in vanished.values() if t is not None)
        finals: dict[str, list[str]] = {}
        if fault == "stop":
            for variant, client in clients.items():
                client.proc.send_signal(signal.SIGCONT)
                last = {"websocket": "closed", "polling": "post", "polling-pong-owed": "poll"}
                client.expect(last[variant])
                finals[variant] = client.lines[client.lines.index("ready") + 1 :]
    finally:
        for client in clients.values():
            client.close()

    state = server.wait_empty(5)
    reasons: dict[str, list[str]] = {sid: [] for sid in sids.values()}
    for record in state["disconnects"]:
        if record["sid"] in reasons:
            reasons[record["sid"]].append(record["reason"])
    problems = []
    removed = {v: gone[sid] - (vanished[v] or 0.0) for v, sid in sids.items()}
    if os.environ.get("LOAD_REPORT"):
        print(
            f"\n{server.name} {fault}: "
            + ", ".join(f"{v} {reasons[sids[v]]} after {t:.2f} s" for v, t in removed.items())
            + f"; no request in flight {released:.1f} s after the first fault"
        )
    for variant, sid in sids.items():
        reason, within = expected(variant, fault)
        seen = reasons[sid]
        if seen != [reason]:
            problems.append(f"{variant}: disconnect reasons {seen}, expected [{reason!r}]")
        took = removed[variant]
        if not 0 <= took <= within:
            problems.append(
                f"{variant}: removed {took:.2f} s after the fault, not within {within} s"
            )
    if fault == "stop":
        # What the server answered while the client was stopped, read after SIGCONT.
        if finals["polling"] != ["poll 200 2", "post 400"]:
            problems.append(f"polling: the pending GET should get the ping: {finals['polling']}")
        if finals["polling-pong-owed"] != ["poll 200 1"]:
            problems.append(f"polling-pong-owed: expected the close packet: {finals}")
        if not finals["websocket"] or not finals["websocket"][-1].startswith("closed"):
            problems.append(f"websocket: expected its close: {finals['websocket']}")
    assert not problems, (
        f"{server.name}, {fault}: "
        + "; ".join(problems)
        + f"\nrequests all released {released:.1f} s after the first fault"
        + f"\nclients: { {v: c.lines for v, c in clients.items()} }\n{server.output_tail()}"
    )
    assert server.alive(), server.output_tail()
    server.check_output()
