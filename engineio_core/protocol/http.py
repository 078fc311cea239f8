"""The HTTP request and response as the protocol core sees them.

Modes translate their framework's request into a :class:`Request` and turn a
:class:`Response` back into whatever their framework returns. Nothing here
does I/O: the request body is read through ``read_body``, a callable the mode
provides (a coroutine function in asyncio modes), so the router can refuse an
oversize body before anything is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "Request",
    "Response",
    "add_environ_headers",
    "header_dict",
    "parse_content_length",
    "parse_query",
    "polling_handshake",
    "polling_sid",
]


def parse_content_length(value: str | None) -> int | None:
    """A ``Content-Length`` value as an int; None if absent or not a plain decimal.

    Stricter than ``int()``, which also takes ``"+5"``, ``"-5"``, ``" 5"`` and
    ``"1_000"``: none of them is a length HTTP allows. Every mode parses the
    header with this, so all refuse the same bodies."""
    if value is None or not (value.isdigit() and value.isascii()):
        return None
    return int(value)


def header_dict(multidict: Any) -> dict[str, str]:
    """A framework's header multidict as :attr:`Request.headers` wants it.

    ``multidict``: str names and values, with ``items()`` giving every value
    and ``len()`` counting them (aiohttp's and Sanic's are). Names come out in
    lower case; the values of a repeated name are joined with ``", "``.
    """
    # One C-level pass for the usual request, in which no name repeats.
    headers = {name.lower(): value for name, value in multidict.items()}
    if len(headers) == len(multidict):
        return headers
    headers = {}
    for raw_name, value in multidict.items():
        name = raw_name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def add_environ_headers(environ: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """Add ``headers`` (lower-case names, as :attr:`Request.headers` has them) to a
    WSGI-style ``environ`` under the keys a WSGI server gives them: ``HTTP_`` and the
    name in upper case with ``_`` for ``-``, but ``CONTENT_TYPE`` and ``CONTENT_LENGTH``
    bare. Returns ``environ``: for a mode's ``make_environ``."""
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def parse_query(query_string: str) -> dict[str, list[str]]:
    """Parse a query string, keeping repeated keys and blank values.

    The same result as ``parse_qs(query_string, keep_blank_values=True)``;
    a query with nothing to unquote (every Engine.IO client's) is split
    directly, about four times faster.
    """
    if "%" in query_string or "+" in query_string:
        return parse_qs(query_string, keep_blank_values=True)
    result: dict[str, list[str]] = {}
    for pair in query_string.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            values = result.get(name)
            if values is None:
                result[name] = [value]
            else:
                values.append(value)
    return result


# engine.io-client's polling query (its timestamp before or after the sid): one
# match rather than a split, for the commonest requests.
_CLIENT_POLLING_QUERY = re.compile(
    r"EIO=[34]&transport=polling(?:&t=[\w.-]*)?&sid=([\w-]+)(?:&t=[\w.-]*)?", re.ASCII
)


def polling_sid(query_string: str) -> str | None:
    """The sid of a plain long-polling request's query string, or None.

    Plain: ``transport=polling`` and a non-empty ``sid``, no JSONP index (``j``)
    and no ``b64`` (both change the encoding), nothing to unquote. Other keys
    (``EIO``, engine.io-client's ``t``, an app's own) are passed over. A
    repeated key counts by its first value, as :func:`parse_query`'s readers
    take it. Plain requests may take ``handle_polling_request()``.
    """
    plain = _CLIENT_POLLING_QUERY.fullmatch(query_string)
    if plain is not None:
        return plain[1]
    if "sid=" not in query_string or "%" in query_string or "+" in query_string:
        return None  # a handshake (no sid) or something to unquote
    found = _first_values(query_string, "sid", ("j", "b64"))
    if found is None:
        return None
    sid, transport = found
    return sid if sid and transport == "polling" else None


def _first_values(
    query_string: str, key: str, refused: tuple[str, ...]
) -> tuple[str | None, str | None] | None:
    """The first values of ``key`` and of ``transport`` in a query with nothing to
    unquote (None for a missing key), or None if it has a key in ``refused``."""
    value = transport = None
    for pair in query_string.split("&"):
        name, _, found = pair.partition("=")
        if name == key:
            if value is None:
                value = found
        elif name == "transport":
            if transport is None:
                transport = found
        elif name in refused:
            return None
    return value, transport


# engine.io-client's polling handshake query, its timestamp included or not.
_CLIENT_HANDSHAKE_QUERY = re.compile(r"EIO=([34])&transport=polling(?:&t=[\w.-]*)?", re.ASCII)


def polling_handshake(query_string: str) -> str | None:
    """The ``EIO`` value of a plain polling handshake's query string, or None.

    Plain: ``transport=polling``, no ``sid`` key at all, no JSONP index
    (``j``) nor ``b64``, nothing to unquote; other keys (engine.io-client's
    ``t``, an app's own) are passed over, and a repeated key counts by its
    first value, as for :func:`polling_sid`. An ``EIO`` missing or of any
    value is returned as it is ("" if missing): the server decides which it
    supports. Plain handshakes may take ``handle_polling_request()``.
    """
    plain = _CLIENT_HANDSHAKE_QUERY.fullmatch(query_string)
    if plain is not None:
        return plain[1]
    if "sid=" in query_string or "%" in query_string or "+" in query_string:
        return None  # a session's request (or a blank sid), or something to unquote
    found = _first_values(query_string, "EIO", ("j", "b64", "sid"))
    if found is None:
        return None
    eio, transport = found
    return (eio or "") if transport == "polling" else None


@dataclass(slots=True)
class Request:
    """One HTTP request, framework-neutral.

    ``headers`` keys are lower case; a repeated header is joined with ``", "``.
    ``query`` maps each key to every value it had, in order.
    ``environ`` is what the ``connect`` handler receives: the WSGI environ in
    sync modes, a WSGI-style dict with the framework request in asyncio modes.
    A mode for which that dict is a translation gives ``make_environ`` instead,
    and :meth:`get_environ` builds it on first use: only a handshake's connect
    handler and a callable ``cors_allowed_origins`` read it, not every poll.
    ``native`` holds the framework's own call arguments for the mode's
    response and WebSocket hooks.
    """

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    remote_addr: str = ""
    scheme: str = "http"
    content_length: int | None = None
    read_body: Callable[[int], Any] | None = None
    environ: Any = None
    native: Any = None
    make_environ: Callable[[], Any] | None = None

    def get_environ(self) -> Any:
        """``environ``, built by ``make_environ`` the first time it is asked for."""
        if self.environ is None and self.make_environ is not None:
            self.environ = self.make_environ()
        return self.environ

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def release(self) -> None:
        """Drop the parsed parts once a WebSocket session took the request over.

        The session may last hours and its flows keep the request; the socket
        wrapper holds what it needs, so the headers, query and environ go.
        """
        self.query = {}
        self.headers = {}
        self.environ = None
        self.make_environ = None
        self.read_body = None


@dataclass(slots=True)
class Response:
    """An HTTP response to send: status code, headers and a complete body.

    Not frozen: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, and every request makes one of these."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def reason(self) -> str:
        return _REASONS.get(self.status, "Unknown")

    @property
    def status_line(self) -> str:
        """``"200 OK"``, the form WSGI's ``start_response`` wants."""
        line = _STATUS_LINES.get(self.status)
        return line if line is not None else f"{self.status} {self.reason}"


_REASONS = {
    101: "Switching Protocols",
    200: "OK",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
# Every WSGI response asks for its status line: built once per status.
_STATUS_LINES = {status: f"{status} {reason}" for status, reason in _REASONS.items()}
