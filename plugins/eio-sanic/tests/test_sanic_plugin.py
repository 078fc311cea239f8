"""The sanic mode as a plugin: discovery, lazy import, selection, response translation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import eio_sanic
import pytest

import engineio_core
from engineio_core.protocol.http import Request, Response


def test_entry_module_imports_without_sanic() -> None:
    code = textwrap.dedent(
        """
        import sys
        import eio_sanic
        info = eio_sanic.eio_mode_info()
        assert (info.name, info.family, info.rank) == ("sanic", "asyncio", 350), info
        assert eio_sanic.eio_unavailable_reason() is None
        loaded = sorted(m for m in sys.modules if m == "sanic" or m.startswith("sanic."))
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unavailable_without_sanic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eio_sanic.importlib.util, "find_spec", lambda name: None)
    assert eio_sanic.eio_unavailable_reason() == "sanic is not installed: pip install sanic"


def test_selected_by_name() -> None:
    eio = engineio_core.AsyncServer(async_mode="sanic")
    assert eio.async_mode == "sanic"


def test_attach_routes_every_method_on_the_path() -> None:
    from sanic import Sanic

    app = Sanic("eio_sanic_attach_test")
    engineio_core.AsyncServer(async_mode="sanic").attach(app, "socket.io")
    route = app.router.routes_all[("socket.io",)]
    assert set(route.methods) >= {"GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD"}
    assert app.websocket_enabled


def test_make_response_keeps_status_body_and_repeated_headers() -> None:
    from eio_sanic import _translate
    from sanic import Request as SanicRequest
    from sanic import Sanic
    from sanic.compat import Header

    app = Sanic("eio_sanic_response_test")
    native = SanicRequest(b"/engine.io/", Header(), "1.1", "GET", None, app)
    request = Request("GET", "/engine.io/", {}, {}, native=(native,))
    headers = [("Content-Type", "application/json"), ("X-A", "1"), ("X-A", "2")]
    response = Response(403, headers, b'{"code": 4}')

    result = asyncio.run(_translate.make_response(response, request))
    assert result is not None
    assert (result.status, result.body) == (403, b'{"code": 4}')
    assert result.headers.getall("x-a") == ["1", "2"]
    assert result.headers["content-type"] == "application/json"

    bare = asyncio.run(_translate.make_response(Response(200, [], b"x"), request))
    assert bare is not None
    assert dict(bare.processed_headers)[b"content-type"] == b"application/octet-stream"


def test_translate_request_lowers_names_joins_repeats_and_reads_only_posts() -> None:
    from eio_sanic import _translate
    from sanic import Request as SanicRequest
    from sanic import Sanic
    from sanic.compat import Header

    app = Sanic("eio_sanic_translate_test")
    url = b"/engine.io/?EIO=4&transport=polling"

    def translate(method: str, headers: Header) -> Request:
        native = SanicRequest(url, headers, "1.1", method, None, app)
        return _translate.translate_request((native,))

    plain = translate("GET", Header([("Host", "example.test"), ("X-Token", "t")]))
    assert plain.headers == {"host": "example.test", "x-token": "t"}
    assert plain.query == {"EIO": ["4"], "transport": ["polling"]}
    assert plain.read_body is None  # a poll or handshake reads no body

    repeated = translate("POST", Header([("X-A", "1"), ("x-a", "2"), ("Content-Length", "3")]))
    assert repeated.headers == {"x-a": "1, 2", "content-length": "3"}
    assert repeated.content_length == 3
    assert repeated.read_body is not None
