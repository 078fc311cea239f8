"""Real servers for the end-to-end tests, started once per module and server kind."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jsclient import js_harness_problem
from tests.servers import ServerProcess, run_server

ROOT = Path(__file__).resolve().parents[2]

#: Short heartbeats so timeouts are observable in well under a second.
E2E_OPTIONS = {
    "ping_interval": 0.5,
    "ping_timeout": 0.5,
    "max_http_buffer_size": 20_000,
    "allow_eio3": True,
}

SYNC_SERVERS = {
    "werkzeug": [sys.executable, "-m", "tests.apps.echo_app", "werkzeug", "{port}"],
    "gunicorn-gthread": [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        "gthread",
        "--threads",
        "32",
        "-w",
        "1",
        "-b",
        "127.0.0.1:{port}",
        "--graceful-timeout",
        "2",
        "--no-control-socket",
        "tests.apps.echo_app:app",
    ],
}


class LiveServer:
    def __init__(self, url: str, proc: ServerProcess) -> None:
        self.url = url
        self.proc = proc

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_state", timeout=5) as resp:
            result: dict[str, Any] = json.load(resp)
            return result

    def wait_state(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if check(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"server state never matched: {state}\n{self.proc.output()}")
            time.sleep(0.05)

    def reason_for(self, sid: str, timeout: float = 5.0) -> str:
        state = self.wait_state(lambda s: any(d["sid"] == sid for d in s["disconnects"]), timeout)
        return next(d["reason"] for d in state["disconnects"] if d["sid"] == sid)


@pytest.fixture(scope="session", autouse=True)
def _js_harness() -> None:
    problem = js_harness_problem()
    if problem:
        pytest.fail(problem)


@pytest.fixture(scope="module", params=sorted(SYNC_SERVERS))
def sync_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    env = {"ENGINEIO_TEST_OPTIONS": json.dumps(E2E_OPTIONS), "PYTHONPATH": str(ROOT)}
    with run_server(SYNC_SERVERS[request.param], env=env, cwd=ROOT) as (url, proc):
        yield LiveServer(url, proc)
