"""The asyncio end-to-end test app: the same echo server as echo_app, on AsyncServer.

Options come from ENGINEIO_TEST_OPTIONS (JSON, passed to ``AsyncServer``).
See tests/apps/echo_app.py for the messages it understands and ``/_state``.
In the ``asgi`` mode ``app`` is an ASGI application (eio-asgi's ASGIApp):
``uvicorn tests.apps.async_echo_app:app``; other modes' runners in
tests/apps/run_<framework>.py attach ``eio`` to their framework's app and
serve ``state()`` at ``/_state``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import engineio_core

options: dict[str, Any] = json.loads(os.environ.get("ENGINEIO_TEST_OPTIONS", "{}"))
eio = engineio_core.AsyncServer(**options)
disconnects: list[dict[str, str]] = []
messages: list[Any] = []
disconnect_reasons: Counter[str] = Counter()
#: The QUERY_STRING of each connect handler's environ (it must be the raw one).
connect_queries: list[str] = []
KEEP = int(os.environ.get("ENGINEIO_TEST_KEEP", "0"))
#: Engine.IO requests being handled now: counted by the ASGI app below and by
#: run_aiohttp.py's middleware (which sets it to 0); None where nothing counts them.
in_flight: dict[str, int | None] = {"requests": 0 if eio.async_mode == "asgi" else None}


#: Requests the short path (handle_polling_request) answered: a session's polls
#: and POSTs, and handshakes.
plain_served = plain_handshakes = 0
_offer_plain = eio.handle_polling_request


async def _count_plain(*args: Any) -> Any:
    global plain_served, plain_handshakes
    response = await _offer_plain(*args)
    if response is not None:
        if "sid=" in args[2]:  # the query string
            plain_served += 1
        else:
            plain_handshakes += 1
    return response


eio.handle_polling_request = _count_plain  # type: ignore[method-assign]


def _record(records: list[Any], item: Any) -> None:
    """Append ``item``, dropping the oldest records beyond ``KEEP``."""
    records.append(item)
    if KEEP > 0 and len(records) > 2 * KEEP:
        del records[:-KEEP]


@contextmanager
def counted() -> Iterator[None]:
    """Count one Engine.IO request in ``requests_in_flight`` while it is handled."""
    in_flight["requests"] = (in_flight["requests"] or 0) + 1
    try:
        yield
    finally:
        in_flight["requests"] = (in_flight["requests"] or 0) - 1


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> bool:
    query = environ.get("QUERY_STRING", "")
    if "probe=" in query:
        _record(connect_queries, query)
    return "reject=1" not in query


@eio.on("message")
async def message(sid: str, data: Any) -> None:
    _record(messages, data if isinstance(data, str) else repr(data))
    if data == "server-send":
        await eio.send(sid, "from-server")
        await eio.send(sid, b"\x00\x01")
    elif data == "disconnect-me":
        await eio.disconnect(sid)
    elif isinstance(data, str) and data.startswith("flood:"):
        _, count, size = data.split(":")
        for _ in range(int(count)):
            try:
                eio.transport(sid)
            except KeyError:
                break
            await eio.send(sid, "x" * int(size))
            await eio.sleep(0)  # let the writer run, as an app producing over time would
    else:
        await eio.send(sid, data)


@eio.on("disconnect")
async def disconnect(sid: str, reason: str) -> None:
    _record(disconnects, {"sid": sid, "reason": str(reason)})
    disconnect_reasons[str(reason)] += 1


def state() -> bytes:
    return json.dumps(
        {
            "sessions": sorted(eio._sessions),
            "disconnects": disconnects[-KEEP:] if KEEP > 0 else disconnects,
            "messages": messages[-KEEP:] if KEEP > 0 else messages,
            "disconnect_reasons": disconnect_reasons,
            "requests_in_flight": in_flight["requests"],
            "async_mode": eio.async_mode,
            "connect_queries": connect_queries,
            "plain_served": plain_served,
            "plain_handshakes": plain_handshakes,
        }
    ).encode()


async def state_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        await receive()
        await send({"type": "websocket.close", "code": 1000})
        return
    found = scope["path"] == "/_state"
    body = state() if found else b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


# The ASGI app; other frameworks build theirs in tests/apps/run_<framework>.py
# around ``eio`` and ``state()``.
_asgi_app = engineio_core.ASGIApp(eio, state_app) if eio.async_mode == "asgi" else None


async def _counting_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert _asgi_app is not None
    if scope["type"] in ("http", "websocket") and scope["path"].startswith("/engine.io"):
        with counted():
            await _asgi_app(scope, receive, send)
    else:
        await _asgi_app(scope, receive, send)


app = _counting_app if _asgi_app is not None else None
