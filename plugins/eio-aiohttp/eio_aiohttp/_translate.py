"""aiohttp request <-> core Request/Response."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.http import HttpProcessingError

from engineio_core.protocol.http import Request, Response, parse_query


def _headers(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, value in request.headers.items():
        name = raw_name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _address(request: web.BaseRequest, which: str) -> tuple[str, str]:
    transport = request.transport
    info = transport.get_extra_info(which) if transport is not None else None
    if isinstance(info, (list, tuple)) and len(info) >= 2:
        return str(info[0]), str(info[1])
    return (str(info), "0") if info else ("", "0")


def _environ(request: web.BaseRequest, headers: dict[str, str]) -> dict[str, Any]:
    """A WSGI-style environ for the ``connect`` handler, as python-engineio builds it."""
    remote_port = _address(request, "peername")[1]
    server_name, server_port = _address(request, "sockname")
    version = request.version
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query_string,
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
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def translate_request(args: tuple[Any, ...]) -> Request:
    (request,) = args
    headers = _headers(request)
    try:
        length = request.content_length
    except ValueError:
        length = None
    stream = request.content

    async def read_body(limit: int) -> bytes:
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
            # The client went away mid-body (or sent a broken one). Never hand
            # the core a truncated payload: an empty one is refused as invalid,
            # which closes the session, as Node's engine.io does.
            return b""
        return b"".join(chunks)

    return Request(
        method=request.method,
        path=request.path,
        query=parse_query(request.query_string),
        headers=headers,
        remote_addr=request.remote or "",
        scheme=request.scheme,
        content_length=length,
        read_body=read_body,
        make_environ=partial(_environ, request, headers),
        native=args,
    )


def make_response(response: Response) -> web.Response:
    # The core always names the Content-Type in the headers; aiohttp only adds
    # one (and a charset) when neither the headers nor content_type= give it.
    return web.Response(
        status=response.status,
        headers=response.headers,
        body=response.body,
    )
