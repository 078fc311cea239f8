"""Whole-server instructions per message: the benchmark servers under valgrind.

    .venv/bin/python benchmarks/instructions.py --modes asgi,aiohttp \
        --scenarios handshake,polling-echo [--impls core,pyeio] [--duration 6] \
        [--out benchmarks/results/instructions.md]

run.py times whole servers; on a shared VM a closed-loop rate moves by up to
±25% from run to run, so a change of a few percent in one framework's cell
cannot be seen there. layer.py counts instructions, but only of the ASGI layer
in-process. This runs the very servers run.py runs (benchmarks/servers.py: the
framework, its HTTP parser, the event loop, Engine.IO and the app; every mode
but the two whose servers fork workers, threading and gevent_uwsgi), each under
valgrind (cachegrind without its cache model), with
the same load generator, twice: ``--duration`` seconds and twice that. The
difference in instructions over the difference in messages echoed is the cost
of one message in the whole server; start-up, the sessions' connection and the
shutdown are the same in both runs and drop out.

What it does not count: the kernel (system calls, the loopback), and the time
cache misses take. So it is the steady measure for A/B runs of our own changes
and for where instructions go, beside run.py's timed table, not instead of it.
Under valgrind a server runs about 50 times slower, which changes how a closed
loop batches: long-polling's requests per message are given for each run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import LOADGEN, SCENARIOS, free_port, wait_ready
from servers import APPS, PYTHONS, ROOT, SERVERS, source_path

_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)

#: Servers that fork workers (gunicorn, uWSGI). Under valgrind a worker is far
#: slower to stop than their masters wait for, and a worker killed outright
#: writes no count: their figures came out as nonsense (245 instructions per
#: handshake), so they are refused rather than reported.
FORKING = frozenset({"threading", "gevent_uwsgi"})


@dataclass
class Count:
    instructions: int
    messages: int
    requests_per_message: float | None


#: ``--keep DIR``: where each run's cachegrind files are copied, so that
#: ``cg_merge``/``cg_diff``/``cg_annotate`` can say which C functions the
#: instructions went to (the interpreter's, the framework's C extensions').
KEEP: list[Path] = []

#: ``--base``: the source tree the ``base`` implementation runs (engineio-core from
#: another commit, say a git worktree), for an A/B of our own change.
BASE_SRC: list[Path] = []


def count(mode: str, impl: str, scenario_name: str, duration: float, log: Any) -> Count:
    """Run one server under valgrind for one load generator run; its instructions."""
    scenario = SCENARIOS[scenario_name]
    spec = SERVERS[mode]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="eio-instr-") as tmp:
        argv = [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
            f"--cachegrind-out-file={tmp}/cg.%p", "--log-file=/dev/null",
            *spec.argv(PYTHONS["core" if impl == "base" else impl], port, scenario.sessions),
        ]  # fmt: skip
        env = {
            **os.environ,
            # engineio-core from this tree (or --base's), whatever .venv installed.
            "PYTHONPATH": (
                str(APPS)
                if impl == "pyeio"
                else os.pathsep.join(
                    [source_path(BASE_SRC[0] if impl == "base" else ROOT), str(APPS)]
                )
            ),
            "PYTHONHASHSEED": "0",
            "BENCH_IMPL": "core" if impl == "base" else impl,
            "BENCH_PING_INTERVAL": str(scenario.ping_interval),
        }
        env.pop("VIRTUAL_ENV", None)
        log.write(f"\n=== {mode} {impl} {scenario_name} {duration}s: {' '.join(argv)}\n")
        log.flush()
        proc = subprocess.Popen(
            argv, cwd=APPS, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_ready(proc, port, timeout=300.0)
            result = _loadgen(port, scenario_name, duration, impl)
        finally:
            _stop(proc)
        if KEEP:
            kept = KEEP[0] / f"{mode}-{scenario_name}-{impl}-{duration:g}s"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(tmp, kept)
        total = 0
        for path in Path(tmp).glob("cg.*"):
            found = _SUMMARY.search(path.read_bytes())
            if found is not None:
                total += int(found.group(1))
    if "error" in result:
        raise RuntimeError(f"{mode} {impl} {scenario_name}: {result['error']}")
    return Count(total, int(result["messages"]), result.get("requests_per_message"))


def _loadgen(port: int, scenario_name: str, duration: float, impl: str) -> dict[str, Any]:
    scenario = SCENARIOS[scenario_name]
    args = [
        "node", str(LOADGEN), "--url", f"http://127.0.0.1:{port}",
        "--scenario", scenario.loadgen, "--sessions", str(scenario.sessions),
        # The plain apps speak raw WebSocket, and Engine.IO over HTTP (minimal_eio).
        "--protocol", "plain" if impl == "plain" and scenario.name.startswith("ws-") else "eio",
        "--inflight", str(scenario.inflight), "--size", str(scenario.size),
        "--warmup", "0", "--duration", str(duration),
    ]  # fmt: skip
    out = subprocess.run(
        args, capture_output=True, text=True, cwd=LOADGEN.parent, timeout=duration + 240
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[7:])
            return result
    return {"error": f"no result from the load generator: {out.stderr[-300:]}"}


def _stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, and time for valgrind to write its counts (a SIGKILL would lose them)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(1.0)  # forked workers flush their own files after the master


def per_message(mode: str, impl: str, scenario: str, duration: float, log: Any) -> dict[str, Any]:
    short = count(mode, impl, scenario, duration, log)
    long = count(mode, impl, scenario, 2 * duration, log)
    extra = long.messages - short.messages
    if extra <= 0:
        raise RuntimeError(f"{mode} {impl} {scenario}: no more messages in the longer run")
    return {
        "mode": mode,
        "impl": impl,
        "scenario": scenario,
        "per_message": (long.instructions - short.instructions) / extra,
        "messages": [short.messages, long.messages],
        "instructions": [short.instructions, long.instructions],
        "requests_per_message": [short.requests_per_message, long.requests_per_message],
    }


def table(rows: list[dict[str, Any]], modes: Sequence[str], scenarios: Sequence[str]) -> str:
    lines = [
        "| mode | scenario | engineio-core | python-engineio | ratio | requests per message"
        " (core / pyeio, longer run) | ratio per request | plain app |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    found = {(r["mode"], r["impl"], r["scenario"]): r for r in rows}
    for mode in modes:
        for scenario in scenarios:
            core = found.get((mode, "core", scenario))
            pyeio = found.get((mode, "pyeio", scenario)) or found.get((mode, "base", scenario))
            plain = found.get((mode, "plain", scenario))
            if core is None and pyeio is None and plain is None:
                continue
            ratio = (
                f"**{pyeio['per_message'] / core['per_message']:.2f}x**"
                if core is not None and pyeio is not None
                else "—"
            )
            rpm = " / ".join(
                f"{r['requests_per_message'][1]:.2f}"
                if r is not None and r["requests_per_message"][1] is not None
                else "—"
                for r in (core, pyeio)
            )
            per_request = "—"
            if core is not None and pyeio is not None:
                rc, rp = core["requests_per_message"][1], pyeio["requests_per_message"][1]
                if rc and rp:
                    per_request = f"{(pyeio['per_message'] / rp) / (core['per_message'] / rc):.2f}x"
            lines.append(
                f"| {mode} | {scenario} | {_fmt(core)} | {_fmt(pyeio)} | {ratio} | {rpm}"
                f" | {per_request} | {_fmt(plain)} |"
            )
    return "\n".join(lines) + "\n"


def _fmt(row: dict[str, Any] | None) -> str:
    return "—" if row is None else f"{row['per_message']:,.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="asgi")
    parser.add_argument("--scenarios", default="handshake,polling-echo,ws-echo")
    parser.add_argument(
        "--impls",
        default="core,pyeio",
        help="core, pyeio, plain (the plain app: a WebSocket echo, or apps/minimal_eio.py "
        "for polling-echo and handshake) and/or base",
    )
    parser.add_argument(
        "--base", type=Path, help="the source tree of the 'base' implementation (for --impls)"
    )
    parser.add_argument("--duration", type=float, default=6.0, help="the shorter run (seconds)")
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="copy each run's cachegrind files to DIR/<mode>-<scenario>-<impl>-<duration>s "
        "(for cg_merge, cg_diff and cg_annotate)",
    )
    args = parser.parse_args(argv)
    if args.keep is not None:
        KEEP.append(args.keep.resolve())
    modes = [m for m in args.modes.split(",") if m]
    scenarios = [s for s in args.scenarios.split(",") if s]
    for name in (*modes, *scenarios):
        if name not in SERVERS and name not in SCENARIOS:
            parser.error(f"unknown mode or scenario {name!r}")
        if name in FORKING:
            parser.error(f"{name}: its server forks workers, which valgrind cannot count here")
    if args.base is not None:
        BASE_SRC.append(args.base.resolve())
    elif "base" in args.impls.split(","):
        parser.error("--impls base needs --base TREE")
    out = args.out or Path(tempfile.gettempdir()) / "eio-instructions.md"
    rows = []
    with out.with_suffix(".log").open("a") as log:
        for mode in modes:
            for scenario in scenarios:
                for impl in args.impls.split(","):
                    try:
                        row = per_message(mode, impl, scenario, args.duration, log)
                    except Exception as exc:  # one cell failing leaves the others
                        print(f"{mode} {scenario} {impl}: failed: {exc}", flush=True)
                        continue
                    print(
                        f"{mode} {scenario} {impl}: {row['per_message']:,.0f} instructions per"
                        f" message (messages {row['messages']}, requests per message"
                        f" {row['requests_per_message']})",
                        flush=True,
                    )
                    rows.append(row)
    text = table(rows, modes, scenarios)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
