"""Every installed server kind of the e2e matrix, started once per test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

from tests.e2e.conftest import SERVERS
from tests.reliability.live import (
    RELIABILITY_OPTIONS,
    ReliabilityServer,
    skip_if_missing,
    start_kind,
)
from tests.scenarios.harness import AsyncHarness, Harness, SyncHarness

# A long property run (minutes): pytest tests/reliability/test_codec_properties.py
#   --hypothesis-profile=deep --timeout=0
settings.register_profile("deep", max_examples=5_000, deadline=None)


@pytest.fixture(scope="module", params=sorted(SERVERS))
def rel_server(request: pytest.FixtureRequest) -> Iterator[ReliabilityServer]:
    skip_if_missing(request.param)
    with start_kind(request.param, RELIABILITY_OPTIONS) as (url, proc):
        server = ReliabilityServer(request.param, url, proc)
        state = server.state()
        assert state["async_mode"] == SERVERS[request.param].async_mode, proc.output()
        server.new_output()  # start-up chatter is not a case's output
        yield server


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Iterator[Callable[..., Harness]]:
    """In-process servers (tests/scenarios/harness.py): ``Server`` and ``AsyncServer``."""
    made: list[Harness] = []

    def factory(**options: Any) -> Harness:
        harness = (SyncHarness if request.param == "sync" else AsyncHarness)(**options)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the tracebacks HTTP servers logged about requests they refused themselves."""
    from tests.reliability.runner import FRAMEWORK_TRACEBACKS

    if FRAMEWORK_TRACEBACKS:
        terminalreporter.section("tracebacks logged by HTTP servers (not engine.io)")
        for server, what in sorted(set(FRAMEWORK_TRACEBACKS)):
            terminalreporter.write_line(f"{server}: {what}")
