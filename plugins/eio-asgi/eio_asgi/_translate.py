"""ASGI scope <-> core Request/Response."""

from __future__ import annotations

from functools import partial
from typing import Any

from engineio_core.protocol.http import (
    Request,
    Response,
    add_environ_headers,
    parse_content_length,
    parse_query,
)

Scope = dict[str, Any]


def _headers(raw: Any) -> dict[str, str]:
    if type(raw) is not list:
        raw = list(raw)  # ASGI allows any iterable
    # One C-level pass for the usual request, in which no name repeats.
    headers = {name.lower().decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):
        return headers
    headers = {}
    for raw_name, raw_value in raw:
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
    return add_environ_headers(environ, headers)


_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def _http_scheme(scope: Scope) -> str:
    scheme: str = scope.get("scheme", "http")
    return _HTTP_SCHEMES.get(scheme, scheme)


def translate_request(args: tuple[Any, ...]) -> Request:
    scope, receive, send = args
    # Keys the ASGI spec requires are subscripted; optional ones have defaults.
    headers = _headers(scope["headers"])
    scheme = scope.get("scheme", "http")
    if scope["type"] == "websocket":
        headers.setdefault("upgrade", "websocket")
        method = "GET"
        read_body = None  # a WebSocket request has no body
        scheme = _HTTP_SCHEMES.get(scheme, scheme)
    else:
        method = scope["method"]
        # Only a POST's body is read (no reader made for every poll).
        read_body = partial(_read_body, receive) if method == "POST" else None
    # Positional: a slots dataclass's __init__ takes keywords at twice the cost.
    return Request(
        method,
        scope["path"],
        parse_query(scope["query_string"].decode("latin-1")),
        headers,
        (scope.get("client") or ("", 0))[0],
        scheme,
        parse_content_length(headers.get("content-length")),
        read_body,
        None,
        args,
        partial(_environ, scope, headers, receive, send),
    )


async def _read_body(receive: Any, limit: int) -> bytes:
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


async def serve_plain_polling(server: Any, scope: Scope, receive: Any, send: Any) -> bool:
    """Offer an HTTP request to ``server.handle_polling_request``; True if it was served.

    Reads only what that method asks for from the scope: no header dict, no
    parsed query, no core ``Request`` (but for a handshake it serves: the mode
    translates that one). A request it declines (an Origin, an error, a
    WebSocket) goes to ``handle_request`` untouched."""
    method = scope["method"]
    if method != "GET" and method != "POST":
        return False
    origin = content_type = content_length = accept_encoding = None
    for name, value in scope["headers"]:
        name = name.lower()  # ASGI servers send lower case; the spec does not insist
        if name == b"origin":
            return False
        if name == b"content-length":
            if content_length is not None:
                return False  # repeated: handle_request joins and refuses it
            content_length = value
        elif name == b"content-type":
            if content_type is not None:
                return False
            content_type = value
        elif name == b"accept-encoding":
            if accept_encoding is not None:
                return False
            accept_encoding = value
    query = scope["query_string"].decode("latin-1")
    make_request = None
    if method == "GET" and "sid=" not in query:  # a handshake needs the whole request
        make_request = partial(server._mode.translate_request, (scope, receive, send))
    # Positional: this runs for every poll and POST.
    response = await server.handle_polling_request(
        method,
        scope["path"],
        query,
        origin,
        "" if content_type is None else content_type.decode("latin-1"),
        # parse_content_length() for bytes: only plain ASCII digits are a length.
        int(content_length) if content_length is not None and content_length.isdigit() else None,
        None if accept_encoding is None else accept_encoding.decode("latin-1"),
        partial(_read_body, receive) if method == "POST" else None,
        make_request,
    )
    if response is None:
        return False
    await send_response(send, response)
    return True


def _encode_header(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    name, value = pair
    raw = (name.encode("latin-1"), value.encode("latin-1"))
    if len(_ENCODED_HEADERS) < _ENCODED_HEADERS_MAX and name in _CONSTANT_HEADERS:
        _ENCODED_HEADERS[pair] = raw
    return raw


async def send_response(send: Any, response: Response) -> None:
    """Send ``response`` as an ASGI HTTP response, with its Content-Length."""
    encoded = _ENCODED_HEADERS
    headers = []
    for pair in response.headers:  # a loop, not a comprehension: no frame of its own
        headers.append(encoded.get(pair) or _encode_header(pair))
    headers.append((b"content-length", b"%d" % len(response.body)))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def make_response(response: Response, request: Request) -> None:
    scope, receive, send = request.native
    if scope["type"] == "websocket":
        headers = [_ENCODED_HEADERS.get(pair) or _encode_header(pair) for pair in response.headers]
        await deny_websocket(scope, receive, send, response.status, headers, response.body)
        return
    await send_response(send, response)


# Response headers whose values come from a small set (content types, the CORS
# flags, encodings), encoded once per process rather than once per response.
# Cookies and echoed origins are left out: their values vary.
_CONSTANT_HEADERS = frozenset(
    ("Content-Type", "Content-Encoding", "Vary", "Access-Control-Allow-Credentials")
)
_ENCODED_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_HEADERS_MAX = 64


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
