"""aiohttp request <-> core Request/Response."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http import HttpProcessingError

from engineio_core.protocol.http import (
    Request,
    Response,
    add_environ_headers,
    header_dict,
    parse_content_length,
    parse_query,
)


def _address(request: web.BaseRequest, which: str) -> tuple[str, str]:
    transport = request.transport
    info = transport.get_extra_info(which) if transport is not None else None
    if isinstance(info, (list, tuple)) and len(info) >= 2:
        return str(info[0]), str(info[1])
    return (str(info), "0") if info else ("", "0")


def _environ(
    request: web.BaseRequest, headers: dict[str, str], path: str, query: str
) -> dict[str, Any]:
    """A WSGI-style environ for the ``connect`` handler, as python-engineio builds it."""
    remote_port = _address(request, "peername")[1]
    server_name, server_port = _address(request, "sockname")
    version = request.version
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": request.raw_path,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": f"HTTP/{version.major}.{version.minor}",
        "REMOTE_ADDR": request.remote or "",
        "REMOTE_PORT": remote_port,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_SOFTWARE": "aiohttp",
        "wsgi.url_scheme": request.scheme,
        "aiohttp.request": request,
    }
    return add_environ_headers(environ, headers)


def _target(request: web.BaseRequest) -> tuple[str, str]:
    """(path, percent-decoded; query string, raw) of the request target.

    From the raw target rather than ``request.query_string``: yarl decodes that
    one, and a query decoded once more on parsing (as a WSGI ``QUERY_STRING``
    is) turns ``%2B`` into a space and ``%2526`` into ``&``. Also cheaper: no
    URL properties for every request."""
    raw = request.raw_path
    if not raw.startswith("/"):  # an absolute-form target (through a proxy)
        return request.path, request.rel_url.raw_query_string
    if "#" in raw:  # clients send no fragment; never part of the query if one does
        raw = raw.partition("#")[0]
    path, _, query = raw.partition("?")
    return (unquote(path) if "%" in path else path), query


def translate_request(args: tuple[Any, ...]) -> Request:
    (request,) = args
    headers = header_dict(request.headers)
    method = request.method
    path, query = _target(request)
    # Positional: a slots dataclass's __init__ takes keywords at twice the cost.
    return Request(
        method,
        path,
        parse_query(query),
        headers,
        request.remote or "",
        request.scheme,
        parse_content_length(headers.get("content-length")),
        # Only a POST's body is read (no reader made for every poll).
        partial(_read_body, request.content) if method == "POST" else None,
        None,
        args,
        partial(_environ, request, headers, path, query),
    )


async def _read_body(stream: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    try:
        while remaining > 0:
            chunk = await stream.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except (OSError, HttpProcessingError):
        # The client went away mid-body (or sent a broken one). Never hand the
        # core a truncated payload: an empty one is refused as invalid, which
        # closes the session, as Node's engine.io does.
        return b""
    return b"".join(chunks)


async def serve_plain_polling(server: Any, request: web.Request) -> web.Response | None:
    """``server.handle_polling_request`` for an aiohttp request: the response if it
    was served; None if it was declined (nothing read), for ``handle_request``."""
    method = request.method
    if method != "GET" and method != "POST":
        return None
    headers = request.headers  # case-insensitive; a repeated header: its first value
    path, query = _target(request)
    response = await server.handle_polling_request(
        method,
        path,
        query,
        headers.get("Origin"),
        headers.get("Content-Type", ""),
        parse_content_length(headers.get("Content-Length")),
        headers.get("Accept-Encoding"),
        partial(_read_body, request.content) if method == "POST" else None,
        # A handshake needs the whole request: the mode's translation of it.
        None
        if method == "POST" or "sid=" in query
        else partial(server._mode.translate_request, (request,)),
    )
    return None if response is None else make_response(response)


def make_response(response: Response) -> web.Response:
    # The core always names the Content-Type in the headers; aiohttp only adds
    # one (and a charset) when neither the headers nor content_type= give it.
    return web.Response(
        status=response.status,
        headers=response.headers,
        body=response.body,
    )
