"""tornado request handler <-> core Request/Response.

Only attributes of the handler and its ``HTTPServerRequest`` are used here, so
this module does not import tornado (the entry module imports it).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from engineio_core.protocol.http import (
    Request,
    Response,
    add_environ_headers,
    parse_content_length,
    parse_query,
)

if TYPE_CHECKING:
    from tornado.httputil import HTTPServerRequest

    from eio_tornado._handler import EngineIOHandler


def _headers(request: HTTPServerRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, value in request.headers.get_all():
        name = raw_name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _server_port(host: str, scheme: str) -> str:
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and (not name.startswith("[") or name.endswith("]")):
        return port
    return "443" if scheme == "https" else "80"


def _environ(handler: EngineIOHandler, headers: dict[str, str]) -> dict[str, Any]:
    """A WSGI-style environ for the ``connect`` handler, as python-engineio builds it."""
    request = handler.request
    uri = request.uri or request.path
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": unquote(request.path),
        "QUERY_STRING": request.query,
        "RAW_URI": uri,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": request.remote_ip or "",
        "SERVER_NAME": request.host_name,
        "SERVER_PORT": _server_port(request.host, request.protocol),
        "SERVER_SOFTWARE": "tornado",
        "wsgi.url_scheme": request.protocol,
        # python-engineio's tornado mode put the handler here.
        "tornado.handler": handler,
        "tornado.request": request,
    }
    return add_environ_headers(environ, headers)


def translate_request(args: tuple[Any, ...]) -> Request:
    handler: EngineIOHandler = args[0]
    request = handler.request
    headers = _headers(request)
    length = parse_content_length(headers.get("content-length"))

    async def read_body(limit: int) -> bytes:
        # The handler streams the body in (stream_request_body), keeping only
        # as much as the server could ever read; the rest is discarded.
        return handler.eio_body(limit)

    return Request(
        method=request.method or "GET",
        path=unquote(request.path),
        query=parse_query(request.query),
        headers=headers,
        remote_addr=request.remote_ip or "",
        scheme=request.protocol,
        content_length=length,
        read_body=read_body,
        make_environ=partial(_environ, handler, headers),
        native=args,
    )


async def serve_plain_polling(server: Any, handler: EngineIOHandler) -> bool:
    """Offer the handler's request to ``server.handle_polling_request``: True if it
    was served; False if it was declined (nothing read), for ``handle_request``."""
    request = handler.request
    method = request.method
    if method != "GET" and method != "POST":
        return False
    headers = request.headers  # case-insensitive
    path = request.path

    async def read_body(limit: int) -> bytes:
        return handler.eio_body(limit)  # in already (stream_request_body)

    response = await server.handle_polling_request(
        method,
        unquote(path) if "%" in path else path,
        request.query,
        headers.get("Origin"),
        headers.get("Content-Type", ""),
        parse_content_length(headers.get("Content-Length")),
        headers.get("Accept-Encoding"),
        read_body if method == "POST" else None,
        # A handshake needs the whole request: the mode's translation of it.
        None
        if method == "POST" or "sid=" in request.query
        else partial(server._mode.translate_request, (handler,)),
    )
    if response is None:
        return False
    upgrade = headers.get("Upgrade", "").lower() == "websocket"
    _finish(handler, response, upgrade)
    return True


def make_response(response: Response, request: Request) -> None:
    handler: EngineIOHandler = request.native[0]
    if handler.eio_answered:
        # tornado already answered this request itself: a WebSocket handshake
        # it could not complete (e.g. no Sec-WebSocket-Key).
        return
    is_upgrade = request.headers.get("upgrade", "").lower() == "websocket"
    _finish(handler, response, is_upgrade)


def _finish(handler: EngineIOHandler, response: Response, close_connection: bool) -> None:
    handler.set_status(response.status)
    handler.clear_header("Content-Type")  # tornado's default is text/html
    seen: set[str] = set()
    for name, value in response.headers:
        key = name.lower()
        if key in seen:
            handler.add_header(name, value)
        else:
            seen.add(key)
            handler.set_header(name, value)
    handler.eio_finish(response.body, close_connection=close_connection)
