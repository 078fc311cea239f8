"""Request and response translation for every WSGI-based (sync) mode.

The threading mode uses these hooks, and so can eventlet, gevent or any other
sync mode whose server speaks WSGI: import them into the plugin module, where
pluggy finds them like the plugin's own::

    from engineio_core.plugin.wsgi_mode import eio_make_response, eio_translate_request

This module imports nothing beyond the standard library and the core's request
types, so a plugin's entry module stays cheap to import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.protocol.http import Request, Response, parse_content_length, parse_query

__all__ = [
    "WSGIHeaders",
    "eio_make_response",
    "eio_translate_request",
    "read_wsgi_body",
    "serve_plain_polling",
    "translate_wsgi_request",
    "wsgi_headers",
]

# Read the body in pieces no larger than this, so a small limit never makes
# a large read and a large one never asks the server for it all at once.
_CHUNK = 64 * 1024
# WSGI environ keys that carry headers without the ``HTTP_`` prefix.
_UNPREFIXED_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}
# Responses that must not carry a body, hence no Content-Length added.
_NO_BODY_STATUSES = frozenset({204, 304})
# The short path's request for eio_make_response carries no query nor headers.
_NO_QUERY: Mapping[str, list[str]] = MappingProxyType({})
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def wsgi_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers in a WSGI environ, with lower-case names.

    ``HTTP_X_FORWARDED_FOR`` becomes ``x-forwarded-for``; ``CONTENT_TYPE``
    and ``CONTENT_LENGTH`` are included when present and not empty. The WSGI
    server has already joined repeated headers into one value.
    """
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
        elif key in _UNPREFIXED_HEADERS and value:
            headers[_UNPREFIXED_HEADERS[key]] = value
    return headers


_MISSING: Any = object()
# Header name -> environ key ("x-forwarded-proto" -> "HTTP_X_FORWARDED_PROTO"),
# filled as names are asked for: only the few the server reads ever are.
_ENVIRON_KEYS = {name: key for key, name in _UNPREFIXED_HEADERS.items()}


class WSGIHeaders(Mapping[str, str]):
    """The request headers of a WSGI environ, read from it on demand.

    The same mapping as :func:`wsgi_headers` builds, but a lookup reads the one
    environ key: a poll asks for two or three headers, and copying every key of
    the environ (thirty and more under gunicorn) cost more than the rest of the
    request's translation. Iterating builds the whole dict once.
    """

    __slots__ = ("_all", "_environ")

    def __init__(self, environ: dict[str, Any]) -> None:
        self._environ = environ
        self._all: dict[str, str] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            key = _ENVIRON_KEYS[name] = "HTTP_" + name.upper().replace("-", "_")
        value = self._environ.get(key)
        if value is None or (not value and key in _UNPREFIXED_HEADERS):
            return default
        return value

    def __getitem__(self, name: str) -> str:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        # get()'s lookup, repeated: the router asks every request for "origin".
        if type(name) is not str:
            return isinstance(name, str) and self.get(name, _MISSING) is not _MISSING
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            key = _ENVIRON_KEYS[name] = "HTTP_" + name.upper().replace("-", "_")
        value = self._environ.get(key)
        return value is not None and (bool(value) or key not in _UNPREFIXED_HEADERS)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return f"WSGIHeaders({self._dict()!r})"

    def _dict(self) -> dict[str, str]:
        if self._all is None:
            self._all = wsgi_headers(self._environ)
        return self._all


def _content_length(environ: dict[str, Any]) -> int | None:
    return parse_content_length(environ.get("CONTENT_LENGTH"))


def read_wsgi_body(environ: dict[str, Any], limit: int) -> bytes:
    """Read at most ``limit`` bytes of the request body from ``wsgi.input``.

    With a ``Content-Length`` no more than that many bytes are read. Without
    one the body is read up to EOF (still stopping after ``limit`` bytes) only
    when the server says its input ends there (``wsgi.input_terminated``, set
    for chunked requests by werkzeug and always by gunicorn) or the body is
    chunked (eventlet and uWSGI de-chunk it without saying so); otherwise the
    request has no body (RFC 9112 section 6.3), and reading ``wsgi.input``
    would wait for the client's next request on a kept-alive connection.
    """
    stream = environ.get("wsgi.input")
    if stream is None or limit <= 0:
        return b""
    length = _content_length(environ)
    if length is None:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not (chunked or environ.get("wsgi.input_terminated")):
            return b""
        remaining = limit
    else:
        remaining = min(limit, length)
    return _read_at_most(stream, remaining)


def _read_at_most(stream: Any, remaining: int) -> bytes:
    if 0 < remaining <= _CHUNK:  # one read, no list, for a small body read whole
        data: bytes = stream.read(remaining)
        if len(data) == remaining or not data:
            return data
        parts = [data]
        remaining -= len(data)
    else:
        parts = []
    while remaining > 0:
        data = stream.read(min(remaining, _CHUNK))
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _read_declared(environ: dict[str, Any], length: int, limit: int) -> bytes:
    """``read_wsgi_body`` for a body whose ``Content-Length`` is known to be ``length``."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    return _read_at_most(stream, min(limit, length))


def translate_wsgi_request(environ: dict[str, Any], start_response: Any) -> Request:
    """Build the core :class:`Request` for one WSGI call."""
    method = environ.get("REQUEST_METHOD", "GET")
    # Positional: a slots dataclass's __init__ takes keywords at twice the cost.
    return Request(
        method,
        environ.get("PATH_INFO", ""),
        parse_query(environ.get("QUERY_STRING", "")),
        WSGIHeaders(environ),
        environ.get("REMOTE_ADDR") or "",
        environ.get("wsgi.url_scheme") or "http",
        _content_length(environ),
        # Only a POST's body is read (no reader made for every poll).
        partial(read_wsgi_body, environ) if method == "POST" else None,
        environ,
        (environ, start_response),
    )


def serve_plain_polling(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """Offer a WSGI request to ``server.handle_polling_request``: the response body
    iterable if it was served, else None (``handle_request`` then answers it).

    Reads only the few environ keys that method asks for (a handshake it serves
    gets the mode's translation of the request); the response goes out
    through the mode's ``eio_make_response``, given a request that carries just
    what those hooks use (the environ, ``start_response``, the Content-Length)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method != "GET" and method != "POST":
        return None
    # Only a POST's length is read: the short path serves GETs with 200 only,
    # and declines a POST without a length (so its reader may take the length).
    query = environ.get("QUERY_STRING", "")
    content_length = None
    read_body = make_request = None
    if method == "POST":
        content_length = _content_length(environ)
        if content_length is not None:
            read_body = partial(_read_declared, environ, content_length)
    elif "sid=" not in query:  # a handshake needs the whole request, as the mode has it
        make_request = partial(server._mode.translate_request, (environ, start_response))
    response = server.handle_polling_request(
        method,
        environ.get("PATH_INFO", ""),
        query,
        environ.get("HTTP_ORIGIN"),
        environ.get("CONTENT_TYPE", ""),
        content_length,
        environ.get("HTTP_ACCEPT_ENCODING"),
        read_body,
        make_request,
    )
    if response is None:
        return None
    make_response = server._mode.make_response
    if make_response is eio_make_response:
        # This module's hook (threading's, eventlet's), inline: the core's responses
        # carry no Content-Length of their own, and none of them is a 204 or a 304.
        body = response.body
        headers = response.headers
        headers.append(("Content-Length", str(len(body))))
        start_response(response.status_line, headers)
        return [body]
    request = Request(
        method, "", _NO_QUERY, _NO_HEADERS, "", "http", content_length, None, environ,
        (environ, start_response),
    )  # fmt: skip
    return make_response(response, request)


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    """``(environ, start_response)`` to a core request; see the hook spec."""
    environ, start_response = args
    return translate_wsgi_request(environ, start_response)


@hookimpl
def eio_make_response(response: Response, request: Request) -> list[bytes]:
    """Start the WSGI response and return its body iterable; see the hook spec.

    A ``Content-Length`` is added when the response lacks one, so WSGI servers
    can keep the connection alive instead of chunking a body they already hold.
    """
    start_response: Callable[..., Any] = request.native[1]
    headers = list(response.headers)
    status = response.status
    if status >= 200 and status not in _NO_BODY_STATUSES:
        for name, _ in headers:
            if name.lower() == "content-length":
                break
        else:
            headers.append(("Content-Length", str(len(response.body))))
    start_response(response.status_line, headers)
    return [response.body]
