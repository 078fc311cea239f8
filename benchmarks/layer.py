"""The Engine.IO layer alone: an ASGI app driven in-process, no server, no sockets.

The load generator measures a whole server, where the framework, the kernel and
the event loop take most of the time and runs vary by up to ±25%. This drives
the ASGI app of each implementation (``benchmarks/apps/asgi_app.py``) with
in-memory ``receive``/``send`` callables instead, so what is timed is the
Engine.IO layer and its ASGI glue: the part an optimisation of ours can change.
The plain ASGI echo is the zero point.

Each implementation runs in its own interpreter (engineio-core from ``.venv``,
python-engineio from ``benchmarks/.venv-pyeio``), alternating A B A B::

    .venv/bin/python benchmarks/layer.py                 # every scenario, 5 rounds
    .venv/bin/python benchmarks/layer.py --scenarios ws-echo --rounds 3

Scenarios: ``ws-echo`` (50 sessions, 4 messages in flight each, 100-byte text),
``polling-echo`` (a POST of one message, then the GET that takes the echo),
``long-poll-echo`` (the GET first, waiting until the POST's echo wakes it, as a
long-polling client's requests come) and ``handshake`` (a polling handshake,
then a close packet); ``wsgi-polling-echo``
and ``wsgi-handshake`` are the same through each implementation's ``WSGIApp``
(threading mode, with ``async_handlers=False`` on both sides so that no thread
is started per message: the request path is what is timed). Reported: microseconds
of CPU per message (or handshake), the fastest of all runs, for both implementations
and for the plain app doing the same number of ASGI calls (the harness's own
cost); then python-engineio's cost divided by ours, with and without the
harness's share. ``--impls floor`` adds ``apps/floor_eio.py``, the least a
conforming server does (see benchmarks/README.md), for the HTTP scenarios.

``--instructions`` counts machine instructions per message under valgrind
instead (one run of each size, no rounds): on a shared VM whose CPU time
varies 2x, an A/B of a change worth a few percent needs a count that does not::

    .venv/bin/python benchmarks/layer.py --instructions --scale 0.02 --base /tmp/main-before
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHONS = {
    "core": ROOT / ".venv" / "bin" / "python",
    "pyeio": HERE / ".venv-pyeio" / "bin" / "python",
    "plain": ROOT / ".venv" / "bin" / "python",
    "floor": ROOT / ".venv" / "bin" / "python",
    "base": ROOT / ".venv" / "bin" / "python",
}
SCENARIOS = (
    "ws-echo",
    "polling-echo",
    "long-poll-echo",
    "handshake",
    "wsgi-polling-echo",
    "wsgi-handshake",
)
MESSAGE = "x" * 100
SESSIONS = 50
IN_FLIGHT = 4


# -- in-process ASGI client -----------------------------------------------------------


def _scope(kind: str, query: str, method: str = "GET", length: int = 0) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws" if kind == "websocket" else "http",
        "path": "/engine.io/",
        "raw_path": b"/engine.io/",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + (
            [
                (b"connection", b"Upgrade"),
                (b"upgrade", b"websocket"),
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            ]
            if kind == "websocket"
            else []
        ),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    if kind == "http":
        scope["method"] = method
        if method == "POST":
            scope["headers"] = [
                *scope["headers"],
                (b"content-type", b"text/plain;charset=UTF-8"),
                (b"content-length", str(length).encode()),
            ]
    return scope


async def _http(app: Any, query: str, method: str = "GET", body: bytes = b"") -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.Event().wait()  # a client that stays connected
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope("http", query, method, len(body)), receive, send)
    status = sent[0]["status"]
    return status, b"".join(m.get("body", b"") for m in sent[1:])


def _sid(open_packet: bytes | str) -> str:
    text = open_packet.decode() if isinstance(open_packet, bytes) else open_packet
    return str(json.loads(text[1:])["sid"])


class _WsClient:
    """One WebSocket session: sends ``total`` messages, at most ``IN_FLIGHT`` unanswered."""

    def __init__(self, total: int, engineio: bool) -> None:
        self.left_to_send = total
        self.left_to_receive = total
        self.in_flight = 0
        self.engineio = engineio
        self.connected = False
        self.opened = not engineio
        self.can_send = asyncio.Event()
        self.can_send.set()
        self.done = asyncio.get_running_loop().create_future()
        self.pending: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while True:
            if self.pending:
                return self.pending.pop()
            if self.left_to_send and self.opened and self.in_flight < IN_FLIGHT:
                self.left_to_send -= 1
                self.in_flight += 1
                return {
                    "type": "websocket.receive",
                    "text": "4" + MESSAGE if self.engineio else MESSAGE,
                }
            if not self.left_to_receive and self.done.done():
                return {"type": "websocket.disconnect", "code": 1000}
            self.can_send.clear()
            await self.can_send.wait()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind != "websocket.send":
            return
        text = message.get("text")
        if text is None or not text or (text[0] not in "04" and self.engineio):
            return  # pings and the like
        if self.engineio and text[0] == "0":
            self.opened = True
        else:
            self.in_flight -= 1
            self.left_to_receive -= 1
            if not self.left_to_receive and not self.done.done():
                self.done.set_result(None)
        self.can_send.set()


async def _ws_echo(app: Any, total: int, engineio: bool) -> None:
    clients = [_WsClient(total // SESSIONS, engineio) for _ in range(SESSIONS)]
    query = "EIO=4&transport=websocket" if engineio else ""
    runs = [
        asyncio.ensure_future(app(_scope("websocket", query), c.receive, c.send)) for c in clients
    ]
    await asyncio.gather(*(c.done for c in clients))
    for c in clients:
        c.can_send.set()
    await asyncio.wait(runs, timeout=5)


async def _polling_echo(app: Any, total: int, engineio: bool, poll_waits: bool = False) -> None:
    """A POST of one message, then the poll that takes its echo. ``poll_waits``
    (long-poll-echo): as a long-polling client's requests come, the poll is
    waiting when the POST comes, and the message's echo wakes it; otherwise it
    finds the echo already queued."""
    message = b"4" + MESSAGE.encode()

    async def one_session(count: int) -> None:
        query = "EIO=4&transport=polling"
        if engineio:
            _, body = await _http(app, query)
            query += f"&sid={_sid(body)}"
        for _ in range(count):
            if poll_waits:
                poll = asyncio.ensure_future(_http(app, query))
                await asyncio.sleep(0)  # the poll runs up to its wait
            status, _ = await _http(app, query, "POST", message)
            assert status == 200
            status, body = await (poll if poll_waits else _http(app, query))
            assert body == message or not engineio, body
        if engineio:
            await _http(app, query, "POST", b"1")

    await asyncio.gather(*(one_session(total // SESSIONS) for _ in range(SESSIONS)))


async def _handshake(app: Any, total: int, engineio: bool) -> None:
    async def one(count: int) -> None:
        for _ in range(count):
            _, body = await _http(app, "EIO=4&transport=polling")
            query = f"EIO=4&transport=polling&sid={_sid(body)}" if engineio else ""
            status, _ = await _http(app, query, "POST", b"1")
            assert status == 200

    await asyncio.gather(*(one(total // SESSIONS) for _ in range(SESSIONS)))


# -- in-process WSGI client (the threading mode, handlers inline) -------------------------


def _wsgi(app: Any, query: str, method: str = "GET", body: bytes = b"") -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/engine.io/",
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if method == "POST":
        environ["CONTENT_TYPE"] = "text/plain;charset=UTF-8"
        environ["CONTENT_LENGTH"] = str(len(body))
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        return None

    chunks = app(environ, start_response)
    data = b"".join(chunks)
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
    return status[0], data


def _wsgi_polling_echo(app: Any, total: int, engineio: bool) -> None:
    message = b"4" + MESSAGE.encode()
    queries = []
    for _ in range(SESSIONS):
        query = "EIO=4&transport=polling"
        if engineio:
            query += f"&sid={_sid(_wsgi(app, query)[1])}"
        queries.append(query)
    for _ in range(total // SESSIONS):
        for query in queries:
            status, _ = _wsgi(app, query, "POST", message)
            assert status.startswith("200"), status
            _, body = _wsgi(app, query)
            assert body == message or not engineio, body
    if engineio:
        for query in queries:
            _wsgi(app, query, "POST", b"1")


def _wsgi_handshake(app: Any, total: int, engineio: bool) -> None:
    for _ in range(total):
        _, body = _wsgi(app, "EIO=4&transport=polling")
        query = f"EIO=4&transport=polling&sid={_sid(body)}" if engineio else ""
        status, _ = _wsgi(app, query, "POST", b"1")
        assert status.startswith("200"), status


def _measure_wsgi(impl: str, scenario: str, total: int) -> float:
    os.environ["BENCH_ASYNC_HANDLERS"] = "0"
    import threading_app  # chosen by BENCH_IMPL

    app = threading_app.app
    if impl == "plain":
        app = _plain_wsgi
    elif impl == "floor":
        import floor_eio

        app = floor_eio.wsgi_app
    run = _wsgi_polling_echo if scenario == "polling-echo" else _wsgi_handshake
    engineio = impl != "plain"
    run(app, max(total // 10, SESSIONS), engineio)  # warm up
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        run(app, total // REPEATS, engineio)
        best = min(best, (time.process_time() - start) / (total // REPEATS) * 1e6)
    return best


def _plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def _plain_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The harness's own cost for HTTP: read the request, answer ``ok``.

    Not asgi_app's plain app, whose HTTP side is minimal_eio's handshake (run.py's
    ceiling for handshakes): here the plain app is the zero point of the layer."""
    await receive()
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def _measure(impl: str, scenario: str, total: int) -> float:
    """CPU microseconds per message in this process (``--child``)."""
    os.environ["BENCH_IMPL"] = {"base": "core", "floor": "plain"}.get(impl, impl)
    if impl == "floor":
        os.environ["BENCH_PLAIN_HTTP"] = "floor"  # asgi_app's HTTP side is floor_eio
    os.environ["BENCH_PING_INTERVAL"] = "3600"  # no pings in the polling answers
    sys.path.insert(0, str(HERE / "apps"))
    if scenario.startswith("wsgi-"):
        return _measure_wsgi(impl, scenario.removeprefix("wsgi-"), total)
    import asgi_app  # chosen by BENCH_IMPL

    app = asgi_app.app
    if impl == "plain" and scenario != "ws-echo":
        app = _plain_asgi
    # floor_eio speaks Engine.IO over HTTP only; its WebSocket side is the plain echo.
    engineio = impl != "plain" and not (impl == "floor" and scenario == "ws-echo")

    async def run(count: int) -> None:
        if scenario == "ws-echo":
            await _ws_echo(app, count, engineio)
        elif scenario == "polling-echo":
            await _polling_echo(app, count, engineio)
        elif scenario == "long-poll-echo":
            await _polling_echo(app, count, engineio, poll_waits=True)
        else:
            await _handshake(app, count, engineio)

    async def main() -> float:
        await run(max(total // 10, SESSIONS))  # warm up
        best = float("inf")
        for _ in range(REPEATS):
            start = time.process_time()
            await run(total // REPEATS)
            best = min(best, (time.process_time() - start) / (total // REPEATS) * 1e6)
        return best

    return asyncio.run(main())


# -- parent: rounds, A B A B --------------------------------------------------------------

TOTALS = {
    "ws-echo": 100_000,
    "polling-echo": 20_000,
    "long-poll-echo": 20_000,
    "handshake": 10_000,
    "wsgi-polling-echo": 20_000,
    "wsgi-handshake": 10_000,
}
# Runs per child; the child reports its fastest, and the parent the fastest child.
# The CPU time of a fixed pure-Python loop varies up to 2x from run to run on the
# shared VMs this was written on, and noise only ever adds time: the minimum is
# the estimate of what the code costs, the median says how noisy the run was.
REPEATS = 5


def _processed(total: int) -> int:
    """Messages a child handles for ``total``: the warm-up, then REPEATS runs."""
    return max(total // 10, SESSIONS) + REPEATS * (total // REPEATS)


def _instructions(impl: str, scenario: str, total: int, base: str | None) -> float:
    """Machine instructions per message, counted by valgrind (cachegrind without its
    cache model): a child of ``total`` and one of twice that, and the difference
    over the difference in messages, so start-up and imports drop out. Unlike CPU
    time, this count is the same from run to run on a noisy machine (within 0.1%)."""
    counts = []
    for n in (total, 2 * total):
        out = _run_child(impl, scenario, n, base, _VALGRIND)
        found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
        if found is None:
            raise RuntimeError(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
        counts.append(int(found.group(1).replace(",", "")))
    return (counts[1] - counts[0]) / (_processed(2 * total) - _processed(total))


_VALGRIND = [
    "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
]  # fmt: skip


def _child(impl: str, scenario: str, total: int, base: str | None) -> float:
    out = _run_child(impl, scenario, total, base, [])
    return float(out.stdout.strip().splitlines()[-1])


def _run_child(
    impl: str, scenario: str, total: int, base: str | None, prefix: list[str]
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts, run after run
    if impl == "base":
        # engineio-core from another source tree (a git worktree of the commit to compare).
        tree = Path(base or "").resolve()
        paths = [tree, *sorted((tree / "plugins").glob("eio-*"))]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    out = subprocess.run(
        [*prefix, str(PYTHONS[impl]), __file__, "--child", impl, scenario, str(total)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
        cwd="/",
    )
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {scenario} failed:\n{out.stderr[-2000:]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply message counts")
    parser.add_argument(
        "--base",
        metavar="DIR",
        help="also run engineio-core from this source tree (e.g. a git worktree of main) "
        "as 'base', to compare a change with it",
    )
    parser.add_argument(
        "--impls",
        default="core,pyeio,plain",
        help="comma-separated: core, pyeio, plain, floor (apps/floor_eio.py: HTTP scenarios)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count machine instructions per message under valgrind instead of timing: "
        "exact on a noisy machine, about 50 times slower (use --scale 0.02)",
    )
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "SCENARIO", "TOTAL"))
    args = parser.parse_args()
    if args.child:
        impl, scenario, total = args.child
        print(f"{_measure(impl, scenario, int(total)):.3f}")
        return
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    impls = args.impls.split(",") + (["base"] if args.base else [])
    unit = "instructions" if args.instructions else "µs"
    names = {
        "core": f"engineio-core {unit}",
        "pyeio": f"python-engineio {unit}",
        "plain": f"plain app {unit}",
        "floor": f"floor {unit}",
        "base": f"base {unit}",
    }
    measure = _instructions if args.instructions else _child
    rounds = 1 if args.instructions else args.rounds
    head = ["scenario", *(names[impl] for impl in impls)]
    if {"core", "pyeio"} <= set(impls):
        head.append("ratio")
        if "plain" in impls:
            head.append("ratio of layers")
    if "base" in impls and "core" in impls:
        head.append("base / core")
    print("| " + " | ".join(head) + " |")
    print("|---" + "|---:" * (len(head) - 1) + "|")
    for scenario in args.scenarios.split(","):
        # At least one message per session in each of the child's runs.
        total = max(int(TOTALS[scenario] * args.scale), REPEATS * SESSIONS)
        samples: dict[str, list[float]] = {impl: [] for impl in impls}
        for _ in range(rounds):
            for impl in impls:
                samples[impl].append(measure(impl, scenario, total, args.base))
        print(f"  {scenario}: {samples}", file=sys.stderr)
        med = {impl: min(values) for impl, values in samples.items()}
        shown = "{:,.0f}" if args.instructions else "{:.1f}"
        cells = [scenario, *(shown.format(med[impl]) for impl in impls)]
        if {"core", "pyeio"} <= set(impls):
            cells.append(f"{med['pyeio'] / med['core']:.2f}x")
            if "plain" in impls:
                layers = (med["pyeio"] - med["plain"]) / (med["core"] - med["plain"])
                cells.append(f"{layers:.2f}x")
        if "base" in impls and "core" in impls:
            cells.append(f"{med['base'] / med['core']:.2f}x")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
