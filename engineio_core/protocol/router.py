"""Every decision about an incoming request, in one place.

:func:`Router.route` looks at a request, the session it names and the time,
and returns what to do; it changes nothing. The checks and their order
follow Node's engine.io 6 (``Server.verify``), so clients see the same error
codes: transport, origin, session, then method.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from engineio_core.protocol.cors import CorsPolicy
from engineio_core.protocol.errors import ErrorCode
from engineio_core.protocol.http import Request
from engineio_core.protocol.session import Session, SessionState, Transport

__all__ = [
    "Decision",
    "Expired",
    "Handshake",
    "Poll",
    "Post",
    "Preflight",
    "RefuseWebSocket",
    "Reject",
    "Router",
    "Upgrade",
]

# Enum members read on every request, as module globals: on Python 3.11 a member
# read from its class is three times as slow (EnumType's __getattr__ hook).
_OPEN = SessionState.OPEN
_CLOSED = SessionState.CLOSED
_POLLING = Transport.POLLING
_WEBSOCKET = Transport.WEBSOCKET


@dataclass(slots=True)
class Reject:
    """Answer with an Engine.IO error; ``detail`` is for the log."""

    code: ErrorCode
    detail: str


@dataclass(slots=True)
class Preflight:
    """A CORS preflight from an allowed origin."""


@dataclass(slots=True)
class Handshake:
    transport: Transport
    protocol: int
    jsonp: str | None
    b64: bool


@dataclass(slots=True)
class Poll:
    session: Session
    jsonp: str | None
    b64: bool


@dataclass(slots=True)
class Post:
    session: Session
    jsonp: str | None


@dataclass(slots=True)
class Upgrade:
    """A WebSocket asking to take over a polling session."""

    session: Session


@dataclass(slots=True)
class RefuseWebSocket:
    """A WebSocket for a session that is upgraded or upgrading: accept, then close.

    Node's engine.io does this rather than answering HTTP 400.
    """

    session: Session


@dataclass(slots=True)
class Expired:
    """The session's heartbeat ran out before this request: close it, then reject."""

    session: Session


Decision = Reject | Preflight | Handshake | Poll | Post | Upgrade | RefuseWebSocket | Expired


class Router:
    __slots__ = ("_protocols", "_transports", "cors")

    def __init__(self, transports: Collection[str], allow_eio3: bool, cors: CorsPolicy) -> None:
        # Name -> Transport, for the allowed ones (a dict lookup: Transport(name) is
        # an Enum call, slow for something every request does).
        self._transports = {name: Transport(name) for name in transports}
        self._protocols = {"4": 4, "3": 3} if allow_eio3 else {"4": 4}
        self.cors = cors

    def route(
        self, request: Request, lookup: Callable[[str], Session | None], now: float
    ) -> Decision:
        method = request.method
        if method == "OPTIONS":
            if not self.cors.origin_allowed(request):
                return Reject(ErrorCode.FORBIDDEN, "preflight from a disallowed origin")
            return Preflight()

        # The query is read directly, not through Request.arg: this runs for every
        # request, and five method calls are a tenth of the router's time.
        get = request.query.get
        values = get("transport")
        transport_name = values[0] if values else None
        transport = self._transports.get(transport_name)  # type: ignore[arg-type]
        if transport is None:
            return Reject(ErrorCode.UNKNOWN_TRANSPORT, f"transport {transport_name!r} not allowed")
        headers = request.headers
        if "origin" in headers and not self.cors.origin_allowed(request):
            return Reject(ErrorCode.FORBIDDEN, f"origin {headers.get('origin')!r} refused")

        values = get("j")
        jsonp = values[0] if values else None
        if jsonp is not None and not (jsonp.isdigit() and jsonp.isascii() and len(jsonp) < 10):
            return Reject(ErrorCode.BAD_REQUEST, "invalid JSONP index")
        values = get("b64")
        b64 = values[0] not in ("", "0", "false") if values else False

        values = get("sid")
        if values and values[0]:
            session = lookup(values[0])
            if session is None or session.state is _CLOSED:
                return Reject(ErrorCode.UNKNOWN_SID, "unknown sid")
            if now >= session.alive_until and not session.closed:  # Session.expired, inline
                return Expired(session)
            if transport is _WEBSOCKET:
                if not _is_upgrade(headers):
                    return Reject(ErrorCode.BAD_REQUEST, "websocket transport without an upgrade")
                if session.closed:
                    return Reject(ErrorCode.UNKNOWN_SID, "session is closing")
                if session.state is _OPEN and session.transport is _POLLING:
                    return Upgrade(session)
                return RefuseWebSocket(session)
            if session.transport is not _POLLING:
                return Reject(ErrorCode.BAD_REQUEST, "polling request for a websocket session")
            if method == "GET":
                return Poll(session, jsonp, b64)
            if method == "POST":
                if session.closed:
                    return Reject(ErrorCode.UNKNOWN_SID, "session is closing")
                return Post(session, jsonp)
            return Reject(ErrorCode.BAD_REQUEST, f"method {method} not allowed")

        if method != "GET":
            return Reject(ErrorCode.BAD_HANDSHAKE_METHOD, f"handshake with method {method}")
        protocol = self._protocols.get(request.arg("EIO") or "")
        if protocol is None:
            return Reject(
                ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
                f"EIO={request.arg('EIO')!r} not supported",
            )
        if transport is _WEBSOCKET and not _is_upgrade(request.headers):
            return Reject(ErrorCode.BAD_REQUEST, "websocket handshake without an upgrade")
        return Handshake(transport, protocol, jsonp, b64)


def _is_upgrade(headers: Mapping[str, str]) -> bool:
    return headers.get("upgrade", "").lower() == "websocket"
