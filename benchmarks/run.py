"""Run the benchmark table: engineio-core against python-engineio, side by side.

    .venv/bin/python benchmarks/run.py [--modes asgi,threading] [--scenarios ws-echo,...]
        [--duration 10] [--warmup 2] [--rounds 2] [--out benchmarks/results/DATE.md]

For every mode and scenario it starts engineio-core's server, python-engineio's
server and (where the scenario has one) a plain app on the same framework (a
WebSocket echo; for handshakes and long-polling, apps/minimal_eio.py, or with
``--plain-http floor`` apps/floor_eio.py), one after
the other, ``--rounds`` times (A B C A B C ...), each on a fresh server process
pinned to core 0 while the load generator runs pinned to core 1. It prints each
run as it goes and writes the table of medians (and the ratio of medians) to
``--out`` as markdown, plus the raw runs as JSON beside it.
Every process it starts is stopped before it moves on; each load generator run
ends by itself after warmup + duration seconds (and is killed if it overstays).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import APPS, IMPLS, NODE_ECHO, PYTHONS, ROOT, SERVERS, source_path

LOADGEN = ROOT / "benchmarks" / "loadgen" / "loadgen.mjs"
SERVER_CORE = "0"
LOADGEN_CORE = "1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
IMPL_NAMES = {
    "core": "engineio-core",
    "pyeio": "python-engineio 4.15.1",
    "plain": "plain",
    "patched": "engineio-core patched",
}
#: --patched-src: the source tree the "patched" implementation runs.
PATCHED_SRC: list[Path] = []


@dataclass(frozen=True)
class Scenario:
    name: str
    loadgen: str  # the load generator's scenario
    sessions: int
    inflight: int = 4
    size: int = 100
    plain: bool = False  # has a plain ceiling (a WebSocket echo, or apps/minimal_eio.py)
    memory: bool = False  # measures RSS per idle session rather than a rate
    ping_interval: float = 25.0
    unit: str = "msg/s"
    description: str = ""


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "ws-echo", "ws-echo", 50, 4, 100, plain=True,
            description="WebSocket echo, 100-byte text, 50 sessions x 4 in flight",
        ),
        Scenario(
            "ws-binary-echo", "ws-binary-echo", 50, 4, 1024, plain=True,
            description="WebSocket echo, 1 KiB binary, 50 sessions x 4 in flight",
        ),
        Scenario(
            "polling-echo", "polling-echo", 50, 4, 100, plain=True,
            description="long-polling echo, 100-byte text, 50 sessions x 4 in flight, "
            "sends batched into one POST at a time",
        ),
        Scenario(
            "handshake", "handshake", 20, plain=True, unit="handshakes/s",
            description="polling handshake then close packet, 20 concurrent clients",
        ),
        Scenario(
            "broadcast", "broadcast", 200, 2, 100, unit="deliveries/s",
            description="one message to 200 WebSocket sessions, 2 broadcasts in flight",
        ),
        Scenario(
            "idle-1000", "idle", 1000, plain=True, memory=True, ping_interval=5,
            description="1,000 idle WebSocket sessions answering pings (interval 5 s)",
        ),
        Scenario(
            "idle-5000", "idle", 5000, plain=True, memory=True, ping_interval=5,
            description="5,000 idle WebSocket sessions answering pings (interval 5 s)",
        ),
    )
}  # fmt: skip
DEFAULT_SCENARIOS = (
    "ws-echo",
    "ws-binary-echo",
    "polling-echo",
    "handshake",
    "broadcast",
    "idle-1000",
    "idle-5000",
)


# -- the server process --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def group_pids(pgid: int) -> list[int]:
    """Every process in process group ``pgid`` (the server and its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5 of stat: pgrp
            pids.append(int(entry))
    return pids


@dataclass
class Sample:
    at: float
    cpu: float  # seconds of user + system time, all server processes
    rss: int  # bytes, all server processes
    machine_busy: float  # seconds of busy CPU time on the whole machine, all cores


def machine_busy() -> float:
    """Busy CPU seconds since boot, all cores (``/proc/stat``: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most ``max_wait`` s) until other processes use < ``threshold`` of a core.

    Returns the background load last seen, in cores.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before, t0 = machine_busy(), time.monotonic()
        time.sleep(1.0)
        load = (machine_busy() - before) / (time.monotonic() - t0)
        if load < threshold or time.monotonic() >= deadline:
            return load


def sample(pgid: int) -> Sample:
    busy = machine_busy()
    cpu = 0.0
    rss = 0
    for pid in group_pids(pgid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            statm = Path(f"/proc/{pid}/statm").read_text().split()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        rss += int(statm[1]) * PAGE_SIZE
    return Sample(time.monotonic(), cpu, rss, busy)


def wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the app is serving
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout}s")


@contextlib.contextmanager
def server(mode: str, impl: str, scenario: Scenario, log: Path) -> Iterator[tuple[int, int]]:
    """Start the server pinned to SERVER_CORE; yield (port, pgid); stop it whatever happens."""
    spec = NODE_ECHO if mode == NODE_ECHO.mode else SERVERS[mode]
    port = free_port()
    argv = ["taskset", "-c", SERVER_CORE, *spec.argv(PYTHONS[impl], port, scenario.sessions)]
    pythonpath = str(APPS)
    if impl == "patched":
        pythonpath = os.pathsep.join([source_path(PATCHED_SRC[0]), pythonpath])
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "PYTHONUNBUFFERED": "1",
        "BENCH_IMPL": "core" if impl == "patched" else impl,
        "BENCH_PING_INTERVAL": str(scenario.ping_interval),
    }
    env.pop("VIRTUAL_ENV", None)
    with log.open("ab") as out:
        out.write(f"\n=== {mode} {impl} {scenario.name}: {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            argv,
            cwd=APPS,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_ready(proc, port)
        time.sleep(0.3)
        yield port, proc.pid
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # workers that outlived the master, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# -- one run ------------------------------------------------------------------------------


@dataclass
class Run:
    mode: str
    impl: str
    scenario: str
    round: int
    ok: bool = True
    error: str = ""
    rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu: float | None = None  # fraction of one core during the window
    server_rss_mb: float | None = None  # at the end of the window
    loadgen_cpu: float | None = None
    #: CPU (in cores) used on the machine by anything but the server and the load
    #: generator during the window: other work competing for the two cores.
    background_cpu: float | None = None
    kb_per_session: float | None = None
    connected: int | None = None
    still_open: int | None = None
    errors: int | None = None
    disconnects: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: --fixed-rate: the load generator's open-loop rate (0: closed loop, as fast as it goes).
FIXED_RATE: list[float] = [0.0]


def run_one(
    mode: str, impl: str, scenario: Scenario, rnd: int, duration: float, warmup: float, log: Path
) -> Run:
    run = Run(mode, impl, scenario.name, rnd)
    loadgen_scenario = scenario.loadgen
    http = loadgen_scenario in ("polling-echo", "handshake")
    try:
        with server(mode, impl, scenario, log) as (port, pgid):
            args = [
                "taskset", "-c", LOADGEN_CORE, "node", str(LOADGEN),
                "--url", f"http://127.0.0.1:{port}", "--scenario", loadgen_scenario,
                # The plain apps speak raw WebSocket, and Engine.IO over HTTP (minimal_eio).
                "--protocol", "plain" if impl == "plain" and not http else "eio",
                "--sessions", str(scenario.sessions), "--inflight", str(scenario.inflight),
                "--size", str(scenario.size), "--warmup", str(warmup),
                "--duration", str(duration), "--rate", str(FIXED_RATE[0]),
            ]  # fmt: skip
            marks, result = drive_loadgen(args, pgid, timeout=warmup + duration + 120)
    except Exception as exc:
        run.ok, run.error = False, f"{type(exc).__name__}: {exc}"
        return run
    if "error" in result:
        run.ok, run.error = False, str(result["error"])[:300]
        return run
    run.loadgen_cpu = result.get("loadgen_cpu")
    run.connected = result.get("connected")
    run.errors = result.get("errors")
    run.disconnects = result.get("disconnects")
    if scenario.memory:
        base, held = marks.get("baseline"), marks.get("held")
        start = marks.get("start")
        if base is None or held is None or start is None or not run.connected:
            run.ok, run.error = False, "missing marks"
            return run
        run.kb_per_session = (held.rss - base.rss) / run.connected / 1024
        run.server_rss_mb = held.rss / 2**20
        run.server_cpu = (held.cpu - start.cpu) / (held.at - start.at)
        run.still_open = result.get("still_open")
        run.extra = {"baseline_rss_mb": base.rss / 2**20, "pings": result.get("pings")}
    else:
        start, end = marks.get("start"), marks.get("end")
        if start is None or end is None:
            run.ok, run.error = False, "missing marks"
            return run
        run.rate = result["rate"]
        run.p50_ms = result["p50_ms"]
        run.p99_ms = result["p99_ms"]
        run.server_cpu = (end.cpu - start.cpu) / (end.at - start.at)
        run.server_rss_mb = end.rss / 2**20
        if result.get("requests_per_message") is not None:
            run.extra["requests_per_message"] = result["requests_per_message"]
        machine = (end.machine_busy - start.machine_busy) / (end.at - start.at)
        run.background_cpu = max(0.0, machine - run.server_cpu - (run.loadgen_cpu or 0.0))
        if "broadcasts" in result:
            run.extra["broadcasts_per_s"] = result["broadcasts"] / result["seconds"]
        if run.connected is not None and run.connected < scenario.sessions:
            run.error = f"only {run.connected}/{scenario.sessions} sessions connected"
    return run


def drive_loadgen(
    args: Sequence[str], pgid: int, timeout: float
) -> tuple[dict[str, Sample], dict[str, Any]]:
    """Run the load generator; sample the server at each MARK; return (marks, result)."""
    marks: dict[str, Sample] = {}
    result: dict[str, Any] = {"error": "the load generator printed no result"}
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=LOADGEN.parent, text=True
    )
    killer = _Deadline(proc, timeout)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("MARK "):
                marks[line[5:].strip()] = sample(pgid)
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(timeout=10)
        if proc.returncode not in (0, 2) and "error" not in result:
            stderr = proc.stderr.read() if proc.stderr else ""
            result = {"error": f"load generator exited {proc.returncode}: {stderr[-300:]}"}
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return marks, result


class _Deadline:
    """Kill ``proc`` after ``timeout`` seconds unless cancelled."""

    def __init__(self, proc: subprocess.Popen[str], timeout: float) -> None:
        import threading

        self._timer = threading.Timer(timeout, proc.kill)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


# -- the table --------------------------------------------------------------------------


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    if digits == 0:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def _round_ratios(core: list[Run], pyeio: list[Run]) -> str:
    """The lowest and highest core/pyeio ratio of one round's pair of runs.

    Closed-loop rates vary from run to run by more than the per-message costs
    differ (how many messages a wake-up or a request carries settles
    differently each time): this shows how far one round alone could mislead.
    """
    pyeio_by_round = {r.round: r.rate for r in pyeio if r.rate}
    ratios = [
        r.rate / pyeio_by_round[r.round] for r in core if r.rate and r.round in pyeio_by_round
    ]
    if len(ratios) < 2:
        return "—"
    # And the ratio of each side's best run. On a shared VM, time taken from the
    # server by other guests only ever lowers a rate (a fixed pure-Python loop's
    # CPU time varied 2x from run to run here), so the best run is the closest
    # to what the code itself allows; benchmarks/layer.py takes the same view.
    best = max(r.rate for r in core if r.rate) / max(pyeio_by_round.values())
    return f"{min(ratios):.2f} to {max(ratios):.2f} (best runs {best:.2f})"


def summarize(runs: list[Run], modes: Sequence[str], scenarios: Sequence[str]) -> str:
    rate_rows = []
    memory_rows = []
    for mode in modes:
        for name in scenarios:
            scenario = SCENARIOS[name]
            by_impl = {
                impl: [r for r in runs if r.mode == mode and r.scenario == name and r.impl == impl]
                for impl in (*IMPLS, "plain")
            }
            if not any(by_impl.values()):
                continue  # not run (an interrupted table)
            ok = {impl: [r for r in rs if r.ok] for impl, rs in by_impl.items()}
            failed = {
                impl: next((r.error for r in rs if not r.ok), "")
                for impl, rs in by_impl.items()
                if rs and not ok[impl]
            }
            note = "; ".join(f"{IMPL_NAMES[i]} failed: {e}" for i, e in failed.items())
            if scenario.memory:
                kb = {i: median([r.kb_per_session for r in ok[i]]) for i in ok}
                core_kb, pyeio_kb, plain_kb = kb["core"], kb["pyeio"], kb["plain"]
                memory_rows.append(
                    "| "
                    + " | ".join(
                        [
                            mode,
                            name,
                            fmt(core_kb, 1),
                            fmt(pyeio_kb, 1),
                            fmt(plain_kb, 1),
                            fmt(_sub(core_kb, plain_kb), 1),
                            fmt(_sub(pyeio_kb, plain_kb), 1),
                            "/".join(fmt(median([r.server_cpu for r in ok[i]]), 2) for i in IMPLS),
                            "/".join(fmt(median([r.still_open for r in ok[i]])) for i in IMPLS),
                            note,
                        ]
                    )
                    + " |"
                )
                continue
            rate = {i: median([r.rate for r in ok[i]]) for i in ok}
            ratio = rate["core"] / rate["pyeio"] if rate["core"] and rate["pyeio"] else None
            spread = _round_ratios(ok["core"], ok["pyeio"])
            # Messages per second of server CPU: what the server does with a whole core.
            # Robust to other load on the machine, which takes CPU from either server.
            eff = {i: median([per_cpu(r) for r in ok[i]]) for i in ok}
            eff_ratio = eff["core"] / eff["pyeio"] if eff["core"] and eff["pyeio"] else None
            lat = {
                i: f"{fmt(median([r.p50_ms for r in ok[i]]), 1)} / "
                f"{fmt(median([r.p99_ms for r in ok[i]]), 1)}"
                for i in IMPLS
            }
            cpu_rss = {
                i: f"{fmt(_pct(median([r.server_cpu for r in ok[i]])), 0, '%')} / "
                f"{fmt(median([r.server_rss_mb for r in ok[i]]), 0, ' MB')}"
                for i in IMPLS
            }
            lg = max((r.loadgen_cpu or 0.0 for rs in ok.values() for r in rs), default=None)
            bg = max((r.background_cpu or 0.0 for rs in ok.values() for r in rs), default=None)
            rpm = {i: median([r.extra.get("requests_per_message") for r in ok[i]]) for i in IMPLS}
            if rpm["core"] is not None and rpm["pyeio"] is not None:
                # Per HTTP request, the comparison the closed loop's batching does not skew.
                per_request = [(eff[i] or 0.0) * (rpm[i] or 0.0) for i in IMPLS]
                note = "; ".join(
                    filter(
                        None,
                        [
                            note,
                            f"requests per message {rpm['core']:.2f} / {rpm['pyeio']:.2f}, "
                            f"requests per CPU-s {per_request[0]:,.0f} / {per_request[1]:,.0f} "
                            f"(**{per_request[0] / per_request[1]:.2f}x**)"
                            if per_request[1]
                            else "",
                        ],
                    )
                )
            warn = [r.error for rs in ok.values() for r in rs if r.error]
            if warn:
                note = "; ".join(filter(None, [note, warn[0]]))
            rate_rows.append(
                "| "
                + " | ".join(
                    [
                        mode,
                        name,
                        fmt(rate["core"]),
                        fmt(rate["pyeio"]),
                        f"**{fmt(ratio, 2, 'x')}**",
                        spread,
                        fmt(rate["plain"]) if scenario.plain else "—",
                        fmt(eff["core"]),
                        fmt(eff["pyeio"]),
                        f"**{fmt(eff_ratio, 2, 'x')}**",
                        fmt(eff["plain"]) if scenario.plain else "—",
                        lat["core"],
                        lat["pyeio"],
                        cpu_rss["core"],
                        cpu_rss["pyeio"],
                        fmt(_pct(lg), 0, "%"),
                        fmt(_pct(bg), 0, "%"),
                        note,
                    ]
                )
                + " |"
            )
    lines = []
    if rate_rows:
        lines += [
            "| mode | scenario | engineio-core /s | python-engineio /s | ratio "
            "| round ratios | plain /s "
            "| core per CPU-s | pyeio per CPU-s | ratio per CPU-s | plain per CPU-s "
            "| core p50 / p99 ms | pyeio p50 / p99 ms | core CPU / RSS | pyeio CPU / RSS "
            "| loadgen CPU (max) | background CPU (max) | notes |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: | ---: | ---: | ---: | --- |",
            *rate_rows,
        ]
    if memory_rows:
        if lines:
            lines.append("")
        lines += [
            "| mode | scenario | core KB/session | pyeio KB/session | plain ws KB/session "
            "| core - plain | pyeio - plain | server CPU core/pyeio | sessions alive core/pyeio "
            "| notes |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *memory_rows,
        ]
    return "\n".join(lines)


def compare_patched(runs: list[Run], modes: Sequence[str], scenarios: Sequence[str]) -> str:
    """engineio-core from --patched-src against engineio-core as it is."""
    rows = [
        "| mode | scenario | core /s | patched /s | gain | core per CPU-s | patched per CPU-s "
        "| gain per CPU-s | core KB/session | patched KB/session |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode in modes:
        for name in scenarios:
            pick = {
                impl: [
                    r
                    for r in runs
                    if r.ok and r.mode == mode and r.scenario == name and r.impl == impl
                ]
                for impl in ("core", "patched")
            }
            if not pick["patched"]:
                continue
            rate = {i: median([r.rate for r in rs]) for i, rs in pick.items()}
            eff = {i: median([per_cpu(r) for r in rs]) for i, rs in pick.items()}
            kb = {i: median([r.kb_per_session for r in rs]) for i, rs in pick.items()}
            gain = rate["patched"] / rate["core"] if rate["patched"] and rate["core"] else None
            eff_gain = eff["patched"] / eff["core"] if eff["patched"] and eff["core"] else None
            rows.append(
                f"| {mode} | {name} | {fmt(rate['core'])} | {fmt(rate['patched'])} "
                f"| **{fmt(gain, 2, 'x')}** | {fmt(eff['core'])} | {fmt(eff['patched'])} "
                f"| **{fmt(eff_gain, 2, 'x')}** | {fmt(kb['core'], 1)} | {fmt(kb['patched'], 1)} |"
            )
    return "\n".join(rows)


def per_cpu(run: Run) -> float | None:
    """Messages (or handshakes) per second of server CPU time."""
    if run.rate is None or not run.server_cpu:
        return None
    return run.rate / run.server_cpu


def _sub(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _pct(value: float | None) -> float | None:
    return value * 100 if value is not None else None


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}, Node {node}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="asgi,threading", help="comma-separated, or 'all'")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parser.add_argument("--impls", default="core,pyeio,plain", help="which servers to run")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="A B A B ... rounds")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    parser.add_argument(
        "--loadgen-check",
        action="store_true",
        help="also run the plain WebSocket scenarios against a Node.js echo server: "
        "the load generator's own limit",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="do not run: rebuild the table from a previous run's JSON",
    )
    parser.add_argument(
        "--patched-src",
        type=Path,
        default=None,
        help="a copy of the repository with a proposal applied: adds the 'patched' "
        "implementation (engineio-core from that tree) to --impls",
    )
    parser.add_argument(
        "--fixed-rate",
        type=float,
        default=0.0,
        help="send this many messages per second in all (open loop) instead of as many "
        "as the server takes: compares CPU per message at equal load (per CPU-s columns)",
    )
    parser.add_argument(
        "--plain-http",
        choices=("minimal", "floor"),
        default="minimal",
        help="the plain app of the HTTP scenarios: apps/minimal_eio.py (the least that "
        "passes the load generator: the ceiling) or apps/floor_eio.py (the least a "
        "conforming server does: a tighter bound)",
    )
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    args = parser.parse_args(argv)
    # The plain apps read it (servers inherit this environment).
    os.environ["BENCH_PLAIN_HTTP"] = args.plain_http

    modes = list(SERVERS) if args.modes == "all" else args.modes.split(",")
    scenarios = args.scenarios.split(",")
    impls = args.impls.split(",")
    FIXED_RATE[0] = args.fixed_rate
    if args.patched_src is not None:
        PATCHED_SRC.append(args.patched_src.resolve())
        if "patched" not in impls:
            impls.append("patched")
    for name in scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name}: one of {', '.join(SCENARIOS)}")
    for mode in modes:
        if mode not in SERVERS:
            parser.error(f"unknown mode {mode}: one of {', '.join(SERVERS)}")
    if not PYTHONS["pyeio"].exists() or not (LOADGEN.parent / "node_modules").exists():
        parser.error("run benchmarks/setup.sh first")
    if shutil.which("taskset") is None:
        parser.error("taskset is needed (util-linux)")
    out: Path = args.out or ROOT / "benchmarks" / "results" / f"{dt.date.today()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    if args.from_json is None:
        log.write_text("")

    started = dt.datetime.now()
    runs: list[Run] = []
    if args.from_json is not None:
        runs = [Run(**r) for r in json.loads(args.from_json.read_text())]
        modes = list(dict.fromkeys(r.mode for r in runs))
        scenarios = list(dict.fromkeys(r.scenario for r in runs))
        impls = list(dict.fromkeys(r.impl for r in runs))
        args.rounds = max(r.round for r in runs)
        started = dt.datetime.fromtimestamp(args.from_json.stat().st_mtime)
    for mode in [] if args.from_json is not None else modes:
        for name in scenarios:
            scenario = SCENARIOS[name]
            order = [i for i in (*IMPLS, "patched", "plain") if i in impls]
            if not scenario.plain and "plain" in order:
                order.remove("plain")
            for rnd in range(1, args.rounds + 1):
                for impl in order:
                    if args.quiet_wait > 0:
                        wait_quiet(args.quiet_wait)
                    run = run_one(mode, impl, scenario, rnd, args.duration, args.warmup, log)
                    runs.append(run)
                    print(describe(run), flush=True)
                    # Written as it goes: an interrupted run still leaves its raw data.
                    out.with_suffix(".json").write_text(
                        json.dumps([asdict(r) for r in runs], indent=1)
                    )

    if args.loadgen_check and args.from_json is None:
        for name in scenarios:
            scenario = SCENARIOS[name]
            # The Node.js server is a WebSocket echo only.
            if scenario.plain and not scenario.memory and scenario.name.startswith("ws-"):
                for rnd in range(1, args.rounds + 1):
                    if args.quiet_wait > 0:
                        wait_quiet(args.quiet_wait)
                    run = run_one(
                        NODE_ECHO.mode, "plain", scenario, rnd, args.duration, args.warmup, log
                    )
                    runs.append(run)
                    print(describe(run), flush=True)
        modes = [*modes, NODE_ECHO.mode]

    header = [
        f"# engineio-core vs python-engineio: {started:%Y-%m-%d %H:%M}",
        "",
        f"Machine: {machine()}.",
        f"Server pinned to core {SERVER_CORE}, load generator (Node.js, benchmarks/loadgen) "
        f"to core {LOADGEN_CORE}; {args.rounds} rounds alternating "
        f"{' / '.join(IMPL_NAMES[i] for i in impls)}, each on a fresh server process; "
        f"{args.warmup:g} s warmup + {args.duration:g} s measured per run; medians shown, "
        "ratio = median engineio-core / median python-engineio.",
        "",
        "Plain app of the handshake and polling-echo scenarios: "
        + (
            "apps/floor_eio.py (the least a conforming server does)."
            if args.plain_http == "floor"
            else "apps/minimal_eio.py (the least that passes the load generator)."
        ),
        "",
        "Servers: "
        + "; ".join(f"{m}: {(SERVERS.get(m) or NODE_ECHO).server}" for m in modes)
        + ". Scenarios: "
        + "; ".join(f"{n}: {SCENARIOS[n].description}" for n in scenarios)
        + ".",
        "",
    ]
    table = summarize(runs, modes, scenarios)
    if any(r.impl == "patched" for r in runs):
        table += "\n\n" + compare_patched(runs, modes, scenarios)
    out.write_text("\n".join(header) + table + "\n")
    if args.from_json is None:
        out.with_suffix(".json").write_text(json.dumps([asdict(r) for r in runs], indent=1))
    print()
    print(table)
    print(f"\nwritten to {out} (raw runs: {out.with_suffix('.json')}, server logs: {log})")
    return 0


def describe(run: Run) -> str:
    head = f"{run.mode:10} {run.scenario:15} {run.impl:6} #{run.round}"
    if not run.ok:
        return f"{head}  FAILED: {run.error}"
    if run.kb_per_session is not None:
        return (
            f"{head}  {run.kb_per_session:7.1f} KB/session  rss {run.server_rss_mb:6.0f} MB  "
            f"alive {run.still_open}/{run.connected}  cpu {fmt(_pct(run.server_cpu))}%"
        )
    return (
        f"{head}  {fmt(run.rate):>8}/s  p50 {fmt(run.p50_ms, 1)} p99 {fmt(run.p99_ms, 1)} ms  "
        f"server cpu {fmt(_pct(run.server_cpu))}%  loadgen cpu {fmt(_pct(run.loadgen_cpu))}%  "
        f"rss {fmt(run.server_rss_mb)} MB  background cpu {fmt(_pct(run.background_cpu))}%  "
        f"err {run.errors} {run.error}"
    )


if __name__ == "__main__":
    sys.exit(main())
