"""Server processes for the reliability tests: every installed kind of the e2e matrix,
with the e2e options plus the engine.io logger on.

Each server's output is watched: after each case a test takes what the server
wrote since the previous case (:meth:`ReliabilityServer.new_output`) and checks
it. The core's log lines are tagged ``[engineio] LEVEL`` by _logtag/sitecustomize.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import E2E_OPTIONS, SERVERS, LiveServer
from tests.e2e.matrix import ServerKind
from tests.servers import run_server

ROOT = Path(__file__).resolve().parents[2]
#: sitecustomize.py there tags the core's log lines "[engineio] LEVEL ...".
LOGTAG = Path(__file__).resolve().parent / "_logtag"

RELIABILITY_OPTIONS: dict[str, Any] = {**E2E_OPTIONS, "logger": True}


class ReliabilityServer(LiveServer):
    """A live server whose new stderr/stdout can be read case by case."""

    def __init__(self, name: str, url: str, proc: Any) -> None:
        super().__init__(name, url, proc)
        self.port: int = proc.port
        kind = SERVERS[name]
        #: gevent-websocket answers 101 before the app runs: refusals are closes.
        self.refuses_websocket_after_101: bool = getattr(kind, "refuses_websocket_after_101", False)
        self._seen = (0, 0)

    def new_output(self) -> str:
        """What the server wrote (stderr, then stdout) since the last call."""
        err, out = self.proc.stderr_text(), self.proc.stdout_text()
        seen_err, seen_out = self._seen
        self._seen = (len(err), len(out))
        return err[seen_err:] + out[seen_out:]

    def alive(self) -> bool:
        return bool(self.proc.poll() is None)


def start_kind(name: str, options: dict[str, Any], kind: ServerKind | None = None) -> Any:
    """A context manager that runs server kind ``name`` (or ``kind``, a variant of
    one) with engine.io ``options``."""
    kind = kind or SERVERS[name]
    env = {
        "ENGINEIO_TEST_OPTIONS": json.dumps({**options, "async_mode": kind.async_mode}),
        "PYTHONPATH": os.pathsep.join([str(LOGTAG), str(ROOT)]),
        **kind.env,
    }
    return run_server(kind.argv, env=env, cwd=ROOT)


def skip_if_missing(name: str, kind: ServerKind | None = None) -> None:
    problem = (kind or SERVERS[name]).requires()
    if problem:
        # CI installs every server: there a missing one is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{name}: {problem}")
