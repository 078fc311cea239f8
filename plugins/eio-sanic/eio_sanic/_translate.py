"""Sanic request <-> core Request/Response."""

from __future__ import annotations

from functools import partial
from typing import Any

from sanic import Request as SanicRequest
from sanic.compat import Header
from sanic.headers import parse_host
from sanic.response import HTTPResponse

from eio_sanic._asgi import deny
from eio_sanic._websocket import asgi_websocket
from engineio_core.protocol.http import (
    Request,
    Response,
    add_environ_headers,
    header_dict,
    parse_content_length,
    parse_query,
)

_SCHEMES = {"ws": "http", "wss": "https"}


#: The requests whose body the server is reading at this moment. The route in
#: :mod:`eio_sanic._attach` shields the server's work from Sanic's cancellation
#: on client disconnect, except during a body read: that read would then wait
#: forever for bytes that never come.
reading_body: set[SanicRequest] = set()


def _scheme(request: SanicRequest) -> str:
    scheme = request.scheme
    return _SCHEMES.get(scheme, scheme)


def _client_and_scheme(request: SanicRequest) -> tuple[str, str, bool]:
    """``request.client_ip``, the scheme (http or https) as Sanic gives them,
    and whether they came from the connection alone.

    Sanic's properties consult its proxy settings and parse the forwarding
    headers for every request: 4.5% of the instructions of a whole handshake
    under Sanic. With none of those settings on (Sanic's default), both come
    from the connection alone, and are read from it here."""
    config = request.app.config
    conn = request.conn_info
    if (
        conn is None
        or config.get("FORWARDED_SECRET")
        or config.get("REAL_IP_HEADER")
        or config.get("PROXIES_COUNT")
        or "://" in (config.get("SERVER_NAME") or "")
    ):
        return request.client_ip, _scheme(request), False
    return conn.client_ip, "https" if conn.ssl else "http", True


def _server(request: SanicRequest, scheme: str, direct: bool) -> tuple[str, str]:
    """``request.server_name`` and ``request.server_port``, as strings."""
    if direct and not request.app.config.get("SERVER_NAME"):
        # What Sanic's properties give without a proxy: the Host header, parsed.
        name, port = parse_host(request.headers.getone("host", ""))
        return name or "", str(port or (80 if scheme == "http" else 443))
    # Both come from the Host (or a trusted Forwarded) header: never fail on a bad one.
    try:
        return request.server_name, str(request.server_port)
    except (ValueError, TypeError):
        return "", ""


def _environ(
    request: SanicRequest, headers: dict[str, str], client: str, scheme: str, direct: bool
) -> dict[str, Any]:
    """A WSGI-style environ for the ``connect`` handler, as python-engineio builds it."""
    server_name, server_port = _server(request, scheme, direct)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query_string,
        "RAW_URI": request.raw_url.decode("latin-1"),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": f"HTTP/{request.version}",
        "REMOTE_ADDR": client,
        "REMOTE_PORT": str(request.port),
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_SOFTWARE": "sanic",
        "wsgi.url_scheme": scheme,
        "sanic.request": request,
    }
    return add_environ_headers(environ, headers)


async def _read(request: SanicRequest, limit: int) -> bytes:
    if request.body:  # a route without stream=True: Sanic has read it already
        return bytes(request.body[:limit])
    stream: Any = request.stream
    if stream is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    # As Sanic's own body iterator does: under ASGI, read() after the last
    # chunk would wait for the next ASGI message (the disconnect).
    while size < limit and stream.request_body:
        chunk = await stream.read()
        if chunk is None:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]


def translate_request(args: tuple[Any, ...]) -> Request:
    (request,) = args
    headers = header_dict(request.headers)
    method = request.method
    client, scheme, direct = _client_and_scheme(request)
    # Positional: a slots dataclass's __init__ takes keywords at twice the cost.
    return Request(
        method,
        request.path,
        parse_query(request.query_string),
        headers,
        client,
        scheme,
        parse_content_length(headers.get("content-length")),
        # Only a POST's body is read (no reader made for every poll).
        partial(_read_body, request) if method == "POST" else None,
        None,
        args,
        partial(_environ, request, headers, client, scheme, direct),
    )


async def _read_body(request: SanicRequest, limit: int) -> bytes:
    reading_body.add(request)
    try:
        return await _read(request, limit)
    finally:
        reading_body.discard(request)


async def serve_plain_polling(server: Any, request: SanicRequest) -> HTTPResponse | None:
    """``server.handle_polling_request`` for a Sanic request: the response if it
    was served; None if it was declined (in the first step, nothing read), and
    ``handle_request`` must answer it."""
    method = request.method
    if method != "GET" and method != "POST":
        return None
    headers = request.headers  # case-insensitive; a repeated header: its first value
    response = await server.handle_polling_request(
        method,
        request.path,
        request.query_string,
        headers.get("origin"),
        headers.get("content-type", ""),
        parse_content_length(headers.get("content-length")),
        headers.get("accept-encoding"),
        partial(_read_body, request) if method == "POST" else None,
        # A handshake needs the whole request: the mode's translation of it.
        None
        if method == "POST" or "sid=" in request.query_string
        else partial(server._mode.translate_request, (request,)),
    )
    return None if response is None else _http_response(response)


async def make_response(response: Response, request: Request) -> HTTPResponse | None:
    sanic_request = request.native[0]
    transport = asgi_websocket(sanic_request)
    if transport is not None:
        # A refused WebSocket under an ASGI server: no HTTP response object can
        # answer a WebSocket scope there; the route returns None.
        await deny(transport, response)
        return None
    return _http_response(response)


def _http_response(response: Response) -> HTTPResponse:
    headers = Header(response.headers)
    # Without a Content-Type header Sanic would send "content-type: None".
    content_type = headers.get("content-type") or "application/octet-stream"
    return HTTPResponse(
        body=response.body, status=response.status, headers=headers, content_type=content_type
    )
