"""The SIGTERM hook of sync servers (the end-to-end checks are in
tests/reliability/test_sigterm.py, on every server kind)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import engineio_core
from engineio_core import _signals


@pytest.fixture
def sigterm() -> Iterator[list[Any]]:
    """A callable SIGTERM handler standing for a server's own; restored afterwards."""
    calls: list[Any] = []
    saved = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    yield calls
    signal.signal(signal.SIGTERM, saved)
    _signals._stopping = False
    _signals._servers.clear()


def test_opt_out_leaves_the_handler_alone(sigterm: list[Any]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    engineio_core.Server(async_mode="threading", handle_sigterm=False)
    assert signal.getsignal(signal.SIGTERM) is before


def test_chained_handler_shuts_down_then_calls_the_previous_one(sigterm: list[Any]) -> None:
    eio = engineio_core.Server(async_mode="threading")
    assert signal.getsignal(signal.SIGTERM) is _signals._on_sigterm
    stopped = threading.Event()
    eio.shutdown = lambda timeout=5.0: stopped.set()  # type: ignore[method-assign]
    signal.raise_signal(signal.SIGTERM)
    assert sigterm == [signal.SIGTERM]
    assert stopped.wait(5)


def test_not_installed_outside_the_main_thread(sigterm: list[Any]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    made: list[bool] = []
    thread = threading.Thread(target=lambda: made.append(_signals.watch_sigterm(object())))
    thread.start()
    thread.join(5)
    assert made == [False]
    assert signal.getsignal(signal.SIGTERM) is before


def test_ignored_sigterm_stays_ignored(sigterm: list[Any]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engineio_core.Server(async_mode="threading")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
