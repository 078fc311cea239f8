"""ASGI scope <-> core Request/Response."""

from __future__ import annotations

from functools import partial
from typing import Any

from engineio_core.protocol.http import Request, Response, parse_content_length, parse_query

Scope = dict[str, Any]


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _environ(scope: Scope, headers: dict[str, str], receive: Any, send: Any) -> dict[str, Any]:
    """A WSGI-style environ for the ``connect`` handler, as python-engineio builds it."""
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("asgi", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": scope.get("path", "/"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "RAW_URI": scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "/"),
        "SCRIPT_NAME": scope.get("root_path", ""),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 0),
        "SERVER_SOFTWARE": "asgi",
        "wsgi.url_scheme": _http_scheme(scope),
        "asgi.scope": scope,
        "asgi.receive": receive,
        "asgi.send": send,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def _http_scheme(scope: Scope) -> str:
    scheme: str = scope.get("scheme", "http")
    return _HTTP_SCHEMES.get(scheme, scheme)


def translate_request(args: tuple[Any, ...]) -> Request:
    scope, receive, send = args
    headers = _headers(scope)
    is_websocket = scope["type"] == "websocket"
    if is_websocket:
        headers.setdefault("upgrade", "websocket")
    length = parse_content_length(headers.get("content-length"))

    async def read_body(limit: int) -> bytes:
        if is_websocket:
            return b""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # http.disconnect
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit or not message.get("more_body", False):
                break
        return b"".join(chunks)[:limit]

    return Request(
        method="GET" if is_websocket else scope.get("method", "GET"),
        path=scope.get("path", "/"),
        query=parse_query(scope.get("query_string", b"").decode("latin-1")),
        headers=headers,
        remote_addr=(scope.get("client") or ("", 0))[0],
        scheme=_http_scheme(scope),
        content_length=length,
        read_body=read_body,
        make_environ=partial(_environ, scope, headers, receive, send),
        native=args,
    )


async def make_response(response: Response, request: Request) -> None:
    scope, receive, send = request.native
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if scope["type"] == "websocket":
        await deny_websocket(scope, receive, send, response.status, headers, response.body)
        return
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def deny_websocket(
    scope: Scope,
    receive: Any,
    send: Any,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    """Refuse a WebSocket with an HTTP response where the server allows it.

    With the ASGI "websocket.http.response" extension the client sees our
    status and JSON body; without it, closing before accepting makes the
    server answer 403.
    """
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
