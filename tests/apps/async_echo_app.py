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
from typing import Any

import engineio_core

options: dict[str, Any] = json.loads(os.environ.get("ENGINEIO_TEST_OPTIONS", "{}"))
eio = engineio_core.AsyncServer(**options)
disconnects: list[dict[str, str]] = []
messages: list[Any] = []


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> bool:
    return "reject=1" not in environ.get("QUERY_STRING", "")


@eio.on("message")
async def message(sid: str, data: Any) -> None:
    messages.append(data if isinstance(data, str) else repr(data))
    if data == "server-send":
        await eio.send(sid, "from-server")
        await eio.send(sid, b"\x00\x01")
    elif data == "disconnect-me":
        await eio.disconnect(sid)
    else:
        await eio.send(sid, data)


@eio.on("disconnect")
async def disconnect(sid: str, reason: str) -> None:
    disconnects.append({"sid": sid, "reason": str(reason)})


def state() -> bytes:
    return json.dumps(
        {
            "sessions": sorted(eio._sessions),
            "disconnects": disconnects,
            "messages": messages,
            "async_mode": eio.async_mode,
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
app = engineio_core.ASGIApp(eio, state_app) if eio.async_mode == "asgi" else None
