"""The plugin module itself: cheap to import, discovered, described."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import eio_tornado
import pytest

import engineio_core
from engineio_core.plugin.manager import describe_modes


def test_importing_the_plugin_does_not_import_tornado() -> None:
    code = (
        "import sys, eio_tornado\n"
        "eio_tornado.eio_mode_info(); eio_tornado.eio_unavailable_reason()\n"
        "loaded = sorted(m for m in sys.modules if m == 'tornado' or m.startswith('tornado.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mode_info() -> None:
    info = eio_tornado.eio_mode_info()
    assert (info.name, info.family, info.rank, info.can_websocket) == (
        "tornado",
        "asyncio",
        300,
        True,
    )
    assert eio_tornado.eio_unavailable_reason() is None


def test_unavailable_without_tornado(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tornado" else real(name, *a)
    )
    assert eio_tornado.eio_unavailable_reason() == "tornado is not installed: pip install tornado"


def test_discovered_through_the_entry_point() -> None:
    eio = engineio_core.AsyncServer(async_mode="tornado")
    assert eio.async_mode == "tornado"
    assert any(c.name == "tornado" and c.chosen for c in eio.mode_report)
    (listed,) = [c for c in describe_modes() if c.name == "tornado"]
    assert (listed.distribution, listed.rank, listed.available) == ("eio-tornado", 300, True)


def test_get_tornado_handler_from_the_core_package() -> None:
    import tornado.web

    eio = engineio_core.AsyncServer(async_mode="tornado")
    handler = engineio_core.get_tornado_handler(eio)
    assert issubclass(handler, tornado.web.RequestHandler)
    assert handler.engineio_server is eio
    # A class per server.
    assert engineio_core.get_tornado_handler(eio) is not handler
