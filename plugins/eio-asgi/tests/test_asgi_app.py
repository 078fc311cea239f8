"""ASGIApp under a real uvicorn: routing, static files, lifespan chaining, shutdown."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import engineio_core
from engineio_core.testing import RawEngineIOClient
from tests.servers import run_server

HERE = Path(__file__).resolve().parent


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("content-type", "")


def test_routing_static_files_and_chained_lifespan(tmp_path: Path) -> None:
    log = tmp_path / "lifespan.log"
    argv = [
        sys.executable, "-m", "uvicorn", "lifespan_app:app", "--host", "127.0.0.1",
        "--port", "{port}", "--log-level", "warning", "--app-dir", str(HERE),
    ]  # fmt: skip
    with run_server(argv, env={"LIFESPAN_LOG": str(log)}) as (url, proc):
        assert get(url + "/hello")[:2] == (200, b"from starlette")
        status, body, ctype = get(url + "/static/lifespan_app.py")
        assert status == 200 and b"ASGIApp around" in body and ctype.startswith("text/x-python")
        assert get(url + "/static/../../etc/passwd")[0] == 404
        client = RawEngineIOClient("127.0.0.1", proc.port)
        client.handshake()
        assert log.read_text().splitlines() == ["engineio startup", "starlette startup"]
    # SIGTERM: the core's hook closes every session at once (before uvicorn stops
    # waiting on open connections), then uvicorn runs the lifespan shutdown;
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15).
    assert proc.returncode in (0, -15), proc.output()
    assert log.read_text().splitlines() == [
        "engineio startup",
        "starlette startup",
        "disconnect server shutdown",
        "engineio shutdown",
        "starlette shutdown",
    ]


def test_plugin_names_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eio_tornado", None)
    with pytest.raises(ImportError, match="pip install eio-tornado"):
        engineio_core.get_tornado_handler  # noqa: B018
    monkeypatch.setitem(sys.modules, "eio_asgi", None)
    with pytest.raises(ImportError, match="pip install eio-asgi"):
        engineio_core.ASGIApp  # noqa: B018


def test_importing_the_plugin_loads_no_server() -> None:
    code = (
        "import sys, eio_asgi; eio_asgi.eio_mode_info(); eio_asgi.eio_unavailable_reason();"
        "servers = ('uvicorn', 'hypercorn', 'daphne', 'starlette');"
        "print(sorted(m for m in servers if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stderr


def test_module_reload_is_harmless() -> None:
    import eio_asgi

    assert importlib.reload(eio_asgi).eio_mode_info().name == "asgi"
    time.sleep(0)
