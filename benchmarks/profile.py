"""Profile one benchmark server with py-spy while the load generator drives it.

    .venv/bin/python benchmarks/profile.py --mode asgi --scenario ws-echo [--impl core]
        [--duration 8] [--patched-src DIR] [--out benchmarks/profiles]

Starts the server as run.py does (pinned to core 0, load generator on core 1),
records it with ``py-spy record`` during the measured window only (all its
processes; ``--native`` adds C frames, ``--gil`` keeps only the thread
holding the GIL), and writes the collapsed stacks
(``<mode>-<scenario>-<impl>.folded``, for flamegraph.pl or speedscope) and a
summary of the functions with the most samples, by own time and by time
including callees (``.txt``).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import LOADGEN, LOADGEN_CORE, PATCHED_SRC, SCENARIOS, server
from servers import ROOT, SERVERS

PY_SPY = ROOT / ".venv" / "bin" / "py-spy"


def summarize(folded: Path, top: int = 40) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += count
    lines = [f"{total} samples", "", "by layer (innermost frame that names one):"]
    lines += [f"{100 * share:6.1f}%  {layer}" for layer, share in layers(folded).items()]
    lines += ["", "own time (the function itself):"]
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive time (the function and what it calls):"]
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


#: Where a sample's time goes, by the module of the innermost frame that names a
#: layer (a stdlib or third-party frame in between is charged to its caller:
#: ``socket.send`` called by uvicorn is uvicorn's, wsproto called by us is ours).
LAYERS: dict[str, tuple[str, ...]] = {
    "Engine.IO (the implementation measured)": (
        "engineio_core/", "eio_asgi/", "eio_aiohttp/", "eio_tornado/", "eio_sanic/",
        "eio_eventlet/", "eio_gevent/", "/engineio/", "engineio/",
    ),
    "benchmark app": ("bench_app.py", "benchmarks/apps/"),
    "server and framework": (
        "uvicorn/", "h11/", "httptools/", "gunicorn/", "werkzeug/", "gevent/pywsgi",
        "gevent/baseserver", "gevent/server", "geventwebsocket/", "eventlet/wsgi",
        "eventlet/websocket", "aiohttp/", "multidict/", "yarl/", "tornado/", "sanic/",
        "sanic_routing/", "websockets/", "hypercorn/", "daphne/", "twisted/", "autobahn/",
        "uwsgi", "starlette/", "email/", "http/",
    ),
    "event loop, greenlets and threads": (
        "asyncio/", "selectors", "gevent/", "greenlet/", "eventlet/", "uvloop/",
        "threading", "concurrent/", "queue.py",
    ),
}  # fmt: skip
OUTSIDE_PYTHON = "outside Python (C loop, syscalls, no Python frame)"
#: A sample whose innermost frame is a socket call is the system call's, whoever
#: made it: every implementation pays for the bytes it reads and writes.
SOCKET_IO = "socket reads and writes"
_SOCKET_CALLS = {"send", "sendall", "sendmsg", "recv", "recv_into", "recvfrom", "write"}
_SOCKET_MODULES = ("/socket.py", "_socketcommon.py", "/ssl.py", "selector_events.py")


def _layer(frames: list[str]) -> str:
    name, _, where = frames[-1].partition(" (")
    if name.rpartition(".")[2] in _SOCKET_CALLS and any(m in where for m in _SOCKET_MODULES):
        return SOCKET_IO
    for frame in reversed(frames[1:]):
        where = frame.partition(" (")[2]
        for layer, needles in LAYERS.items():
            if any(needle in where for needle in needles):
                return layer
    return OUTSIDE_PYTHON if len(frames) <= 1 else "other (stdlib called from the top)"


def layers(folded: Path) -> dict[str, float]:
    """Share of samples per layer (see :data:`LAYERS`), largest first."""
    counts: collections.Counter[str] = collections.Counter()
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():  # a line py-spy cut short has no count
            counts[_layer(stack.split(";"))] += int(count_text)
    total = sum(counts.values()) or 1
    return {layer: n / total for layer, n in counts.most_common()}


def _short(frame: str) -> str:
    # py-spy frames look like "function (path/to/module.py:123)": drop the line number
    # and keep the last two path components.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="asgi", choices=list(SERVERS))
    parser.add_argument("--scenario", default="ws-echo", choices=list(SCENARIOS))
    parser.add_argument("--impl", default="core", choices=["core", "pyeio", "patched"])
    parser.add_argument("--patched-src", type=Path, default=None)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "profiles")
    parser.add_argument(
        "--native", action="store_true", help="C frames too (uvloop, the websockets speedups)"
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only threads holding the GIL: under gunicorn gthread, the others only wait",
    )
    parser.add_argument(
        "--blocking",
        action="store_true",
        help="pause the server for each sample: consistent stacks, at a cost in speed",
    )
    args = parser.parse_args()
    if args.impl == "patched":
        if args.patched_src is None:
            parser.error("--impl patched needs --patched-src")
        PATCHED_SRC.append(args.patched_src.resolve())
    scenario = SCENARIOS[args.scenario]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{args.mode}-{args.scenario}-{args.impl}"
    folded = stem.with_suffix(".folded")
    log = stem.with_suffix(".log")
    log.write_text("")
    with server(args.mode, args.impl, scenario, log) as (port, pgid):
        loadgen_argv = [
            "taskset", "-c", LOADGEN_CORE, "node", str(LOADGEN),
            "--url", f"http://127.0.0.1:{port}", "--scenario", scenario.loadgen,
            "--sessions", str(scenario.sessions), "--inflight", str(scenario.inflight),
            "--size", str(scenario.size), "--warmup", str(args.warmup),
            "--duration", str(args.duration),
        ]  # fmt: skip
        spy_argv = [
            str(PY_SPY), "record", "--pid", str(pgid), "--subprocesses",
            "--rate", str(args.rate), "--duration", str(int(args.duration)),
            "--format", "raw", "--output", str(folded),
        ]  # fmt: skip
        spy_argv += [] if args.blocking else ["--nonblocking"]
        spy_argv += ["--native"] if args.native else []
        spy_argv += ["--gil"] if args.gil else []
        loadgen = subprocess.Popen(loadgen_argv, stdout=subprocess.PIPE, text=True)
        spy: subprocess.Popen[bytes] | None = None
        assert loadgen.stdout is not None
        for line in loadgen.stdout:
            if line.startswith("MARK start"):
                spy = subprocess.Popen(
                    spy_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            elif line.startswith("RESULT "):
                print(line.strip())
        loadgen.wait(timeout=60)
        if spy is not None:
            spy.wait(timeout=60)
    if not folded.exists():
        print("py-spy wrote nothing (is ptrace allowed?)", file=sys.stderr)
        return 1
    summary = summarize(folded)
    stem.with_suffix(".txt").write_text(summary)
    print(summary)
    print(f"written {folded} and {stem.with_suffix('.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
