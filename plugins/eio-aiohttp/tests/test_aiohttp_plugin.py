"""eio-aiohttp as a plugin: discovery without importing aiohttp, and selection."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import eio_aiohttp
import pytest

import engineio_core
from engineio_core.plugin.manager import describe_modes


def _modules_after(code: str) -> dict[str, bool]:
    script = (
        "import json, sys\n"
        f"{code}\n"
        "print(json.dumps({m: m in sys.modules for m in ('aiohttp', 'aiohttp.web', 'multidict')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_entry_module_does_not_import_aiohttp() -> None:
    loaded = _modules_after(
        "import eio_aiohttp\n"
        "info = eio_aiohttp.eio_mode_info()\n"
        "assert eio_aiohttp.eio_unavailable_reason() is None\n"
        "assert info.name == 'aiohttp'"
    )
    assert loaded == {"aiohttp": False, "aiohttp.web": False, "multidict": False}


def test_listing_the_modes_does_not_import_aiohttp() -> None:
    loaded = _modules_after(
        "from engineio_core.plugin.manager import format_modes_table\nformat_modes_table()"
    )
    assert loaded["aiohttp"] is False


def test_mode_info() -> None:
    info = eio_aiohttp.eio_mode_info()
    assert (info.name, info.family, info.rank, info.can_websocket) == (
        "aiohttp",
        "asyncio",
        400,
        True,
    )


def test_unavailable_without_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "aiohttp" else real(name, *a),
    )
    assert eio_aiohttp.eio_unavailable_reason() == ("aiohttp is not installed: pip install aiohttp")


def test_the_mode_is_installed_and_selectable() -> None:
    found = {c.name: c for c in describe_modes()}
    assert found["aiohttp"].distribution == "eio-aiohttp"
    assert found["aiohttp"].available
    eio = engineio_core.AsyncServer(async_mode="aiohttp")
    assert eio.async_mode == "aiohttp"


def test_attach_needs_an_aiohttp_application() -> None:
    eio = engineio_core.AsyncServer(async_mode="aiohttp")
    with pytest.raises(TypeError, match=r"aiohttp\.web\.Application"):
        eio.attach(object())
