"""The Starlette side of the plugin; imported on first use."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.requests import HTTPConnection
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from engineio_core.plugin import (
    MessageTooLarge,
    Request,
    Response,
    WebSocketClosed,
    add_environ_headers,
    parse_query,
)

_METHODS = ["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD"]


def _environ(conn: HTTPConnection, headers: dict[str, str], method: str) -> dict[str, Any]:
    """A WSGI-style environ for the connect handler, with the Starlette object in it."""
    client = conn.client
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": conn.url.path,
        "QUERY_STRING": conn.url.query,
        "REMOTE_ADDR": client.host if client else "",
        "wsgi.url_scheme": _scheme(conn),
        "starlette.connection": conn,
        "asgi.scope": conn.scope,
    }
    return add_environ_headers(environ, headers)


def _scheme(conn: HTTPConnection) -> str:
    return {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)


def translate(conn: HTTPConnection) -> Request:
    headers: dict[str, str] = {}
    for name, value in conn.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    is_websocket = isinstance(conn, WebSocket)
    if is_websocket:
        headers.setdefault("upgrade", "websocket")
    method = "GET" if is_websocket else conn.scope["method"]
    try:
        length: int | None = int(headers["content-length"])
    except (KeyError, ValueError):
        length = None

    async def read_body(limit: int) -> bytes:
        if not isinstance(conn, StarletteRequest):
            return b""
        body = bytearray()
        async for chunk in conn.stream():
            body += chunk
            if len(body) >= limit:
                break
        return bytes(body[:limit])

    return Request(
        method=method,
        path=conn.url.path,
        query=parse_query(conn.url.query),
        headers=headers,
        remote_addr=conn.client.host if conn.client else "",
        scheme=_scheme(conn),
        content_length=length,
        read_body=read_body,
        environ=_environ(conn, headers, method),
        native=(conn,),
    )


async def make_response(response: Response, request: Request) -> StarletteResponse | None:
    conn = request.native[0]
    result = StarletteResponse(response.body, response.status, dict(response.headers))
    if isinstance(conn, WebSocket):
        # A refused upgrade: answer with our HTTP status where the server supports it.
        try:
            await conn.send_denial_response(result)
        except RuntimeError:
            await conn.close(1008)
        return None
    return result


class StarletteWebSocket:
    """A Starlette WebSocket shaped like engineio-core's AsyncWebSocket."""

    def __init__(self, ws: WebSocket, max_size: int) -> None:
        self._ws = ws
        self._max_size = max_size
        self._closed = False

    async def receive(self, timeout: float | None = None) -> str | bytes | None:
        if self._closed:
            return None
        try:
            message = await asyncio.wait_for(self._ws.receive(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError("no WebSocket message in time") from None
        if message["type"] == "websocket.disconnect":
            self._closed = True
            return None
        data: str | bytes = message.get("text") or message.get("bytes") or ""
        size = len(data.encode()) if isinstance(data, str) else len(data)
        if size > self._max_size:
            await self.close(1009)
            raise MessageTooLarge(f"{size} bytes is over the limit of {self._max_size}")
        return data

    async def send(self, data: str | bytes) -> None:
        if self._closed:
            raise WebSocketClosed("closed")
        try:
            if isinstance(data, str):
                await self._ws.send_text(data)
            else:
                await self._ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            self._closed = True
            raise WebSocketClosed(str(exc)) from exc

    async def close(self, code: int = 1000) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                await self._ws.close(code)

    def response(self) -> None:
        return None


async def accept_websocket(request: Request, max_message_size: int) -> StarletteWebSocket | None:
    conn = request.native[0]
    if not isinstance(conn, WebSocket):
        return None
    await conn.accept()
    return StarletteWebSocket(conn, max_message_size)


def attach(app: Any, server: Any, path: str) -> None:
    """Add ``/<path>/`` (HTTP and WebSocket) to a Starlette or FastAPI app."""

    async def endpoint(request: StarletteRequest) -> Any:
        return await server.handle_request(request)

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await server.handle_request(websocket)

    # The router's methods exist on every Starlette (and FastAPI) version;
    # Starlette 1.x dropped the app-level add_websocket_route shortcut.
    router = app.router
    for route in (f"/{path}/", f"/{path}"):
        router.add_route(route, endpoint, methods=_METHODS)
        router.add_websocket_route(route, websocket_endpoint)
