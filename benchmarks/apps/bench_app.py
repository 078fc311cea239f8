"""The Engine.IO app every benchmark server runs: the same code for both implementations.

``BENCH_IMPL=core`` imports engineio-core, ``BENCH_IMPL=pyeio`` python-engineio
(4.15.1, from benchmarks/.venv-pyeio). Both get their defaults except
``ping_interval`` (``BENCH_PING_INTERVAL`` seconds, 25 by default), the async
mode and ``cookie=None``: the defaults differ there (engineio-core sets an ``io``
cookie, as python-engineio's 2018 API did; python-engineio 4.x and Node's
engine.io set none), and with it set for one only, the two would not do the
same work (a ``Set-Cookie`` costs a handshake about 16,000 instructions under
uvicorn, 3%). A message is echoed to its sender; a text message starting with ``*`` is
sent to every connected session (the broadcast scenario).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

IMPL = os.environ.get("BENCH_IMPL", "core")
engineio: Any = importlib.import_module("engineio_core" if IMPL == "core" else "engineio")
OPTIONS: dict[str, Any] = {
    "ping_interval": float(os.environ.get("BENCH_PING_INTERVAL", "25")),
    "cookie": None,
}
if os.environ.get("BENCH_ASYNC_HANDLERS") == "0":
    # benchmarks/layer.py's WSGI runs: the handler inline, so that what is
    # timed is the request path and not a thread started per message.
    OPTIONS["async_handlers"] = False


def make_server(async_mode: str) -> Any:
    """A ``Server`` with the echo and broadcast handlers."""
    eio = engineio.Server(async_mode=async_mode, **OPTIONS)
    clients: set[str] = set()

    @eio.on("connect")
    def connect(sid: str, environ: dict[str, Any]) -> None:
        clients.add(sid)

    @eio.on("disconnect")
    def disconnect(sid: str, *reason: Any) -> None:
        clients.discard(sid)

    @eio.on("message")
    def message(sid: str, data: Any) -> None:
        if isinstance(data, str) and data[:1] == "*":
            for other in list(clients):
                eio.send(other, data)
        else:
            eio.send(sid, data)

    return eio


def make_async_server(async_mode: str) -> Any:
    """An ``AsyncServer`` with the echo and broadcast handlers."""
    eio = engineio.AsyncServer(async_mode=async_mode, **OPTIONS)
    clients: set[str] = set()

    @eio.on("connect")
    def connect(sid: str, environ: dict[str, Any]) -> None:
        clients.add(sid)

    @eio.on("disconnect")
    def disconnect(sid: str, *reason: Any) -> None:
        clients.discard(sid)

    @eio.on("message")
    async def message(sid: str, data: Any) -> None:
        if isinstance(data, str) and data[:1] == "*":
            for other in list(clients):
                await eio.send(other, data)
        else:
            await eio.send(sid, data)

    return eio


def wsgi_app(async_mode: str) -> Any:
    return engineio.WSGIApp(make_server(async_mode))
