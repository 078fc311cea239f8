"""Real servers for the end-to-end tests, started once per module and server kind."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.matrix import SYNC_SERVERS
from tests.e2e.matrix_async import ASYNC_SERVERS
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


class LiveServer:
    def __init__(self, name: str, url: str, proc: ServerProcess) -> None:
        self.name = name
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


SERVERS = {**SYNC_SERVERS, **ASYNC_SERVERS}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    kind = SERVERS[request.param]
    problem = kind.requires()
    if problem:
        # CI installs every server: there a missing one is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{request.param}: {problem}")
    options = {**E2E_OPTIONS, "async_mode": kind.async_mode}
    env = {"ENGINEIO_TEST_OPTIONS": json.dumps(options), "PYTHONPATH": str(ROOT), **kind.env}
    with run_server(kind.argv, env=env, cwd=ROOT) as (url, proc):
        server = LiveServer(request.param, url, proc)
        assert server.state()["async_mode"] == kind.async_mode, proc.output()
        yield server
