"""Servers and the load generator for the load and fault tests (issue #6, "Under load
and faults").

Each mode runs one server kind of the e2e matrix (tests/e2e/matrix*.py) in its own
process group on 127.0.0.1, with the e2e test apps and the options a test module
asks for. The apps' ``GET /_state`` gives the live sids, the disconnects by reason
and ``requests_in_flight`` (Engine.IO requests being handled: waiting polls and open
WebSockets). The load comes from benchmarks/loadgen/loadgen.mjs (one Node.js
process for thousands of sessions); the server's RSS is summed over its process
group as benchmarks/run.py does.

``LOAD_SERVERS=asgi,gevent`` runs only those modes; any kind of the e2e matrix
whose app counts its requests can be named too (``LOAD_SERVERS=werkzeug,hypercorn``:
the WSGI kinds, the ASGI kinds and aiohttp; not tornado, sanic or starlette).
"""

from __future__ import annotations

import json
import os
import queue
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from tests.e2e.conftest import SERVERS, LiveServer
from tests.reliability.live import skip_if_missing
from tests.servers import ServerProcess, run_server

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = ROOT / "benchmarks" / "loadgen" / "loadgen.mjs"

#: The server kind each mode is tested on: the threading mode under gunicorn's
#: gthread worker (its thread pool is sized for the test's sessions), the asgi mode
#: under uvicorn, aiohttp's own server, and the greenlet modes under their own WSGI
#: servers (each in its own process: their monkey-patching never meets).
MODE_KINDS = {
    "threading": "gunicorn-gthread",
    "asgi": "uvicorn",
    "aiohttp": "aiohttp",
    "gevent": "gevent-pywsgi",
    "eventlet": "eventlet-wsgi",
}
#: Records the app keeps (its disconnect and message lists): long runs stay flat.
KEEP_RECORDS = 2000
#: How long ``GET /_state`` may take (a server busy with thousands of sessions).
STATE_TIMEOUT = 30.0
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):\n(?:[ \t].*\n)*.*", re.MULTILINE)


def load_kinds() -> list[str]:
    chosen = os.environ.get("LOAD_SERVERS")
    if not chosen:
        return list(MODE_KINDS.values())
    return [MODE_KINDS.get(name, name) for name in chosen.split(",") if name]


def missing(problem: str) -> None:
    """Skip, or fail under CI=true (CI installs everything: there a gap is a failure)."""
    (pytest.fail if os.environ.get("CI") else pytest.skip)(problem)


def require_loadgen() -> None:
    if shutil.which("node") is None:
        missing("node is not installed (the load generator is a Node.js program)")
    elif not (LOADGEN.parent / "node_modules" / "bufferutil").is_dir():
        missing("benchmarks/loadgen/node_modules is missing: npm ci --prefix benchmarks/loadgen")


def env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# -- file descriptors -----------------------------------------------------------------


def nofile_preexec(needed: int) -> Callable[[], None]:
    """A preexec_fn raising RLIMIT_NOFILE to cover ``needed`` descriptors (up to the hard
    limit); fails the test here, in the parent, when the hard limit is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(
            f"{needed} file descriptors are needed but the hard RLIMIT_NOFILE is {hard}: "
            "raise it (ulimit -Hn, or LimitNOFILE= for a service) or ask for fewer sessions"
        )
    target = max(soft, needed) if hard == resource.RLIM_INFINITY else hard

    def raise_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

    return raise_limit


def descriptors_for(sessions: int) -> int:
    """Descriptors one side needs for ``sessions`` connections, with room to spare."""
    return sessions + sessions // 10 + 256


# -- the server ----------------------------------------------------------------------------


class LoadServer(LiveServer):
    """A live server (``state()``, ``wait_state()``) plus its RSS and its output."""

    def __init__(self, name: str, url: str, proc: ServerProcess) -> None:
        super().__init__(name, url, proc)
        self.port = proc.port

    def state(self) -> dict[str, Any]:
        # A server busy with thousands of sessions may take seconds to answer.
        with urllib.request.urlopen(self.url + "/_state", timeout=STATE_TIMEOUT) as resp:
            result: dict[str, Any] = json.load(resp)
            return result

    def sample(self) -> Any:
        """benchmarks/run.py's Sample of the server's process group: ``rss`` (bytes),
        ``cpu`` (seconds, user + system) and ``at`` (monotonic), read from /proc."""
        from benchmarks.run import sample

        return sample(self.proc.pid)

    def rss(self) -> int:
        """Resident memory (bytes), summed over the server's process group."""
        return int(self.sample().rss)

    def reasons(self) -> Counter[str]:
        return Counter(self.state()["disconnect_reasons"])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output_tail(self, chars: int = 4000) -> str:
        """The end of what the server wrote, for assertion messages."""
        out, err = self.proc.stdout_text(), self.proc.stderr_text()
        return f"{self.name} (pid {self.proc.pid}) stdout: {out[-chars:]}\nstderr: {err[-chars:]}"

    def check_output(self) -> None:
        """No traceback through engine.io code in what the server wrote."""
        output = self.proc.stderr_text() + self.proc.stdout_text()
        ours = [t for t in _TRACEBACK.findall(output) if "engineio_core" in t or "/eio_" in t]
        assert not ours, f"{self.name} logged engine.io tracebacks:\n" + "\n".join(ours[:3])

    def wait_empty(self, timeout: float) -> dict[str, Any]:
        """Wait until no session is left and no Engine.IO request is in flight."""
        return self.wait_state(
            lambda s: not s["sessions"] and s["requests_in_flight"] == 0, timeout
        )


def _sized_argv(argv: Sequence[str], sessions: int) -> list[str]:
    """gunicorn's gthread worker holds a pool thread per WebSocket: size the pool for
    ``sessions`` (and its connection limit), as benchmarks/servers.py does."""
    args = list(argv)
    if "gthread" in args and "--threads" in args:
        threads = sessions + 64
        args[args.index("--threads") + 1] = str(threads)
        args[args.index("--threads") : args.index("--threads")] = [
            "--worker-connections", str(2 * threads), "--backlog", "2048",
        ]  # fmt: skip
    return args


@contextmanager
def serve(kind_name: str, options: dict[str, Any], sessions: int = 0) -> Iterator[LoadServer]:
    """Run server kind ``kind_name`` with engine.io ``options``, sized for ``sessions``."""
    skip_if_missing(kind_name)  # CI=true: a missing server fails instead
    kind = SERVERS[kind_name]
    env = {
        "ENGINEIO_TEST_OPTIONS": json.dumps({**options, "async_mode": kind.async_mode}),
        "ENGINEIO_TEST_KEEP": str(KEEP_RECORDS),
        "PYTHONPATH": str(ROOT),
        **kind.env,
    }
    argv = _sized_argv(kind.argv, sessions)
    preexec = nofile_preexec(descriptors_for(sessions))
    with run_server(argv, env=env, cwd=ROOT, preexec_fn=preexec) as (url, proc):
        server = LoadServer(kind_name, url, proc)
        state = server.state()
        assert state["async_mode"] == kind.async_mode, proc.output()
        assert state["requests_in_flight"] == 0, f"{kind_name}: requests are not counted"
        yield server


# -- the load generator ----------------------------------------------------------------------


class Loadgen:
    """benchmarks/loadgen/loadgen.mjs in a subprocess.

    Its "MARK <name>" lines can be waited for as they come; ``result()`` is the
    "RESULT <json>" line. Every wait is bounded; the process is killed on exit.
    """

    def __init__(self, url: str, scenario: str, sessions: int, timeout: float, **opts: Any):
        require_loadgen()
        args = ["node", str(LOADGEN), "--url", url, "--scenario", scenario]
        args += ["--sessions", str(sessions), "--timeout", str(timeout)]
        for key, value in opts.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        self.args = args
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            args,
            cwd=LOADGEN.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            start_new_session=True,
            preexec_fn=nofile_preexec(descriptors_for(sessions)),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.marks: list[str] = []
        self._result: dict[str, Any] | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next(self, deadline: float, waiting_for: str) -> str:
        try:
            line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AssertionError(f"no {waiting_for} from the load generator in time") from None
        if line is None:
            raise AssertionError(f"the load generator ended before {waiting_for}: {self.info()}")
        return line

    def wait_mark(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(deadline, f"MARK {name}")
            if line.startswith("MARK "):
                self.marks.append(line[5:])
                if line[5:] == name:
                    return
            elif line.startswith("RESULT "):
                self._result = json.loads(line[7:])
                raise AssertionError(f"the load generator ended before MARK {name}: {self.info()}")

    def tell(self, line: str = "go") -> None:
        """A line on its stdin (the soak scenario closes its sessions then)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self._result is None:
            line = self._next(deadline, "RESULT")
            if line.startswith("RESULT "):
                self._result = json.loads(line[7:])
            elif line.startswith("MARK "):
                self.marks.append(line[5:])
        assert "error" not in self._result, self.info()
        return self._result

    def info(self) -> str:
        self._stderr.seek(0)
        stderr = self._stderr.read().decode("utf-8", "replace")[-2000:]
        return f"{' '.join(self.args)}\nresult: {self._result}\nstderr: {stderr}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self._stderr.close()

    def __enter__(self) -> Loadgen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_loadgen(url: str, scenario: str, sessions: int, timeout: float, **opts: Any) -> Any:
    """Run the load generator to its end and return its result."""
    with Loadgen(url, scenario, sessions, timeout, **opts) as loadgen:
        return loadgen.result(timeout + 10)
