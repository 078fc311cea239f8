"""How far each below-target ratio could go: the framework's share, from the profiles.

    .venv/bin/python benchmarks/ceilings.py --table benchmarks/results/TABLE.json \\
        [--profiles benchmarks/profiles] [--run] [--target 2] [--out FILE.md]

For every (mode, scenario) of the table whose ratio is under ``--target``, it
reads (or with ``--run`` records, through ``profile.py``) the py-spy profiles
of engineio-core and python-engineio under that load, splits each into layers
(see ``profile.LAYERS``) and answers: if engineio-core's own layer cost
nothing, what ratio would the rest of the process (the server, the event loop,
the socket calls, the benchmark app) still allow?

With ``r`` the measured ratio per CPU-second (for long-polling: per HTTP
request, which the closed loop's batching does not skew) and ``e`` the share
of engineio-core's samples spent in its own layer, the time per unit is
``T_core = T_pyeio / r``, of which ``(1 - e) * T_core`` is not ours. So the
ratio can never pass ``r / (1 - e)``, and reaching the target needs our
layer cut to ``k`` times its cost today, with
``k = (r / target - (1 - e)) / e``. ``k <= 0`` means the target is out of
reach in that framework whatever the Engine.IO layer does. For the WebSocket
scenarios the last column is the plainest bound: a WebSocket echo on the same
server with no Engine.IO at all, against python-engineio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile import LAYERS, layers

from servers import ROOT

OURS = next(iter(LAYERS))  # "Engine.IO (the implementation measured)"
#: Modes whose servers run Python in many threads: profiled with py-spy --gil.
#: Samples in a system call that released the GIL are left out, so our layer's
#: share comes out high and the ceiling too: an "out of reach" still holds.
GIL_MODES = {"threading"}


def per_unit_ratio(runs: list[dict], mode: str, scenario: str) -> tuple[float, str] | None:
    """The ratio per CPU-second (per request for polling) and what it counts."""

    def med(impl: str, key: str) -> float | None:
        values = [
            r[key] if key != "rpm" else (r.get("extra") or {}).get("requests_per_message")
            for r in runs
            if r["ok"] and r["mode"] == mode and r["scenario"] == scenario and r["impl"] == impl
        ]
        values = [v for v in values if v]
        return statistics.median(values) if values else None

    eff = {}
    for impl in ("core", "pyeio"):
        rate, cpu = med(impl, "rate"), med(impl, "server_cpu")
        if not rate or not cpu:
            return None
        eff[impl] = rate / cpu
    rpm = {impl: med(impl, "rpm") for impl in ("core", "pyeio")}
    if rpm["core"] and rpm["pyeio"]:
        return eff["core"] * rpm["core"] / (eff["pyeio"] * rpm["pyeio"]), "per request"
    return eff["core"] / eff["pyeio"], "per CPU-s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, required=True, help="a run.py JSON")
    parser.add_argument("--profiles", type=Path, default=ROOT / "benchmarks" / "profiles")
    parser.add_argument("--run", action="store_true", help="record missing profiles")
    parser.add_argument("--target", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    runs = json.loads(args.table.read_text())
    cells = list(dict.fromkeys((r["mode"], r["scenario"]) for r in runs if r["rate"]))
    rows = [
        "| mode | scenario | measured ratio | engineio-core: ours / server / loop, socket "
        "and C / other | python-engineio: its own / server / loop, socket and C / other "
        "| ceiling (our layer free) | our layer must fall to | plain echo / python-engineio |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for mode, scenario in cells:
        measured = per_unit_ratio(runs, mode, scenario)
        if measured is None or _rate_ratio(runs, mode, scenario) >= args.target:
            continue  # the target (messages or handshakes per second) is met
        ratio, unit = measured
        plain = _plain_ratio(runs, mode, scenario)
        shares = {}
        for impl in ("core", "pyeio"):
            folded = args.profiles / f"{mode}-{scenario}-{impl}.folded"
            if not folded.exists() and args.run:
                # Under gunicorn gthread, only the thread holding the GIL works:
                # the others wait for it, and would count as time spent.
                gil = ["--gil"] if mode in GIL_MODES else []
                subprocess.run(
                    [sys.executable, str(ROOT / "benchmarks" / "profile.py"), "--mode", mode,
                     "--scenario", scenario, "--impl", impl, "--out", str(args.profiles), *gil],
                    check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            if not folded.exists():
                break
            shares[impl] = _grouped(layers(folded))
        if len(shares) < 2:
            rows.append(
                f"| {mode} | {scenario} | {ratio:.2f}x {unit} | (no profile) | | | | {plain} |"
            )
            continue
        ours = shares["core"][0]
        ceiling = ratio / (1 - ours) if ours < 1 else float("inf")
        k = (ratio / args.target - (1 - ours)) / ours if ours else -1.0
        need = "out of reach" if k <= 0 else f"{k:.0%} of today"
        rows.append(
            f"| {mode} | {scenario} | {ratio:.2f}x {unit} | {_fmt(shares['core'])} "
            f"| {_fmt(shares['pyeio'])} | {ceiling:.2f}x | {need} | {plain} |"
        )
    text = "\n".join(rows) + "\n"
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


def _rate_ratio(runs: list[dict], mode: str, scenario: str) -> float:
    rates = {}
    for impl in ("core", "pyeio"):
        values = [
            r["rate"]
            for r in runs
            if r["ok"] and r["mode"] == mode and r["scenario"] == scenario and r["impl"] == impl
            and r["rate"]
        ]  # fmt: skip
        rates[impl] = statistics.median(values) if values else 0.0
    return rates["core"] / rates["pyeio"] if rates["pyeio"] else float("inf")


def _plain_ratio(runs: list[dict], mode: str, scenario: str) -> str:
    """A plain WebSocket echo on the same server against python-engineio, per CPU-second:
    the most any Engine.IO layer could get there (it still has the protocol to speak)."""
    eff = {}
    for impl in ("plain", "pyeio"):
        values = [
            r["rate"] / r["server_cpu"]
            for r in runs
            if r["ok"] and r["mode"] == mode and r["scenario"] == scenario and r["impl"] == impl
            and r["rate"] and r["server_cpu"]
        ]  # fmt: skip
        if not values:
            return "—"
        eff[impl] = statistics.median(values)
    return f"{eff['plain'] / eff['pyeio']:.2f}x"


def _grouped(by_layer: dict[str, float]) -> tuple[float, float, float, float]:
    """(ours, server and framework, loop + socket + outside Python, everything else)."""
    ours = by_layer.get(OURS, 0.0)
    server = by_layer.get("server and framework", 0.0)
    machinery = sum(
        share
        for layer, share in by_layer.items()
        if layer.startswith(("event loop", "socket", "outside Python"))
    )
    return ours, server, machinery, max(0.0, 1.0 - ours - server - machinery)


def _fmt(group: tuple[float, float, float, float]) -> str:
    return " / ".join(f"{100 * share:.0f}%" for share in group)


if __name__ == "__main__":
    sys.exit(main())
