"""What ``Server`` and ``AsyncServer`` share: options, handlers, sessions, flows.

Everything a request, a WebSocket or the heartbeat does is written here once,
as generator *flows* that yield :mod:`engineio_core.ops` operations. The two
servers only perform those operations, blocking or awaiting.
"""

from __future__ import annotations

import heapq
import inspect
import json as stdlib_json
import logging
import os
import re
import time
from binascii import b2a_base64
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from math import inf
from typing import Any

from engineio_core.exceptions import ConnectionRefusedError
from engineio_core.ops import (
    AcceptWebSocket,
    CallHandler,
    Cancel,
    Flow,
    Join,
    ReadBody,
    SpawnFlow,
    WaitWake,
    WsClose,
    WsReceive,
    WsSend,
)
from engineio_core.plugin.manager import SelectedMode, select_async_mode
from engineio_core.plugin.types import Family, MessageTooLarge, WebSocketClosed
from engineio_core.protocol.compression import choose_encoding, compress
from engineio_core.protocol.cookie import CookieSpec
from engineio_core.protocol.cors import CorsPolicy
from engineio_core.protocol.errors import DisconnectReason, ErrorCode, ProtocolError, error_body
from engineio_core.protocol.http import Request, Response, polling_handshake, polling_sid
from engineio_core.protocol.packets import (
    Packet,
    PacketType,
    decode_packet,
    decode_ws_binary,
    encode_ws,
    new_packet,
)
from engineio_core.protocol.payloads import (
    decode_jsonp_body,
    decode_payload,
    encode_jsonp,
    encode_payload,
)
from engineio_core.protocol.router import (
    Decision,
    Expired,
    Handshake,
    Poll,
    Post,
    Preflight,
    RefuseWebSocket,
    Reject,
    Router,
    Upgrade,
)
from engineio_core.protocol.session import (
    WAKE,
    Closed,
    Event,
    MessageReceived,
    Session,
    SessionConfig,
    SessionState,
    Transport,
    Wake,
)

__all__ = ["BaseServer", "SessionHandle"]

_EVENTS = ("connect", "message", "disconnect")
# Text messages that may be JSON (see _decode_message).
_JSON_STARTS = ("{", "[")
# Enum members read on every message or request, as module globals: on Python 3.11
# a member read from its class costs three times as much (EnumType's __getattr__).
_MESSAGE = PacketType.MESSAGE
_OPEN_TYPE = PacketType.OPEN
_PONG = PacketType.PONG
_CLOSING = SessionState.CLOSING
_CLOSED = SessionState.CLOSED
_POLLING = Transport.POLLING
_WEBSOCKET = Transport.WEBSOCKET
_SEND_QUEUE_FULL = DisconnectReason.SEND_QUEUE_FULL
_TEXT_HTML = ("Content-Type", "text/html")
_OK = b"ok"
# Session ends after which the peer may not be reading: its WebSocket is closed directly.
_PEER_STALLED = (DisconnectReason.PING_TIMEOUT, DisconnectReason.SEND_QUEUE_FULL)
_SID_MARKER = "Sid0Marker0Qz9"
# Session ids that can go into JSON as they are (every id generate_id() makes).
_PLAIN_SID = re.compile(r"[A-Za-z0-9_-]+")
# Standard base64 to its URL-safe alphabet (15 bytes encode to 20 characters, no padding).
_URLSAFE = bytes.maketrans(b"+/", b"-_")

# The heartbeat loop wakes at least this often (seconds) to pick up new deadlines.
_HEARTBEAT_CAP = 1.0


class _NoLock:
    """A lock for drivers whose tasks never preempt each other (asyncio)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


NO_LOCK = _NoLock()


class SessionHandle:
    """A session plus what its driver needs: the wake event, a lock, user data."""

    __slots__ = (
        "_new_event",
        "_wake",
        "broken",
        "lock",
        "session",
        "user_session",
        "wake_deferred",
        "writer",
        "writing",
        "ws",
    )

    def __init__(self, session: Session, new_event: Callable[[], Any], lock: Any) -> None:
        self.session = session
        self._new_event = new_event
        self._wake: Any = None
        self.lock = lock
        self.user_session: dict[str, Any] = {}
        self.ws: Any = None
        #: The WebSocket writer task, once the session is on WebSocket.
        self.writer: Any = None
        #: Whether a writer is sending now (drivers that start one per burst).
        self.writing = False
        #: A send failed: the connection is gone, only the reader has work left.
        self.broken = False
        #: Replies were queued while this session's message handler ran its first
        #: step: it sends them itself when it ends (drivers that start writers).
        self.wake_deferred = False

    @property
    def wake(self) -> Any:
        """The event a pending poll or a writer task waits on, made on first use: a
        WebSocket session whose writes start eagerly never needs one (an event
        is 0.3-2 KB, depending on the mode)."""
        event = self._wake
        if event is None:
            event = self._wake = self._new_event()
        return event


class _ReadWebSocket:
    """A request flow's result when it became a WebSocket session: the driver reads
    the session's messages, each given to ``_receive_websocket_message``, until
    the socket or the session closes, then runs ``_websocket_end_flow``."""

    __slots__ = ("handle", "ws")

    def __init__(self, handle: SessionHandle, ws: Any) -> None:
        self.handle = handle
        self.ws = ws


class _PostRefused:
    """Why a POST is refused once its body is read (``BaseServer._begin_post``):
    the session closes for ``reason``, and the answer is ``code`` with ``detail``
    (with ``status`` instead of the code's own, if given)."""

    __slots__ = ("code", "detail", "reason", "status")

    def __init__(
        self,
        reason: DisconnectReason,
        detail: str,
        status: int = 0,
        code: ErrorCode = ErrorCode.BAD_REQUEST,
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.status = status
        self.code = code


def _unreadable(exc: Exception) -> _PostRefused:
    """A POST whose body the server failed to read (each fails its own way)."""
    return _PostRefused(DisconnectReason.TRANSPORT_ERROR, f"unreadable body ({type(exc).__name__})")


class _WebSocketDone:
    """A flow's result when the request became a WebSocket: return ``ws.response()``."""

    __slots__ = ("ws",)

    def __init__(self, ws: Any) -> None:
        self.ws = ws


class BaseServer:
    """Options, handler registry, session table and the shared flows."""

    family: Family = "sync"
    #: python-engineio's reason constants, for ``disconnect`` handlers.
    reason = DisconnectReason

    def __init__(
        self,
        async_mode: str | None = None,
        ping_interval: float = 25,
        ping_timeout: float = 20,
        max_http_buffer_size: int = 1_000_000,
        allow_upgrades: bool = True,
        http_compression: bool = True,
        compression_threshold: int = 1024,
        cookie: str | Mapping[str, Any] | None = "io",
        cors_allowed_origins: str | Sequence[str] | Callable[..., bool] | None = None,
        cors_credentials: bool = True,
        logger: bool | logging.Logger = False,
        json: Any = None,
        async_handlers: bool = True,
        monitor_clients: bool | None = None,
        transports: Sequence[str] | None = None,
        allow_eio3: bool = False,
        upgrade_timeout: float = 10,
        max_send_queue: int | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(ping_interval, (tuple, list)):
            # python-engineio accepted (interval, grace); the grace has no v4 meaning.
            ping_interval = ping_interval[0]
        if ping_interval <= 0 or ping_timeout <= 0:
            raise ValueError("ping_interval and ping_timeout must be positive")
        if max_http_buffer_size <= 0:
            raise ValueError("max_http_buffer_size must be positive")
        if max_send_queue is not None and max_send_queue < 1:
            raise ValueError("max_send_queue must be a positive number of packets, or None")
        transports = list(transports or ("polling", "websocket"))
        unknown = [t for t in transports if t not in ("polling", "websocket")]
        if unknown or not transports:
            raise ValueError(f"transports must be 'polling' and/or 'websocket', not {unknown}")
        self.ping_interval = float(ping_interval)
        self.ping_timeout = float(ping_timeout)
        self.max_http_buffer_size = int(max_http_buffer_size)
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie = CookieSpec(cookie) if cookie else None
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.json = json if json is not None else stdlib_json
        self.async_handlers = async_handlers
        self.transports = tuple(transports)
        self.allow_eio3 = allow_eio3
        self.session_config = SessionConfig(
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            upgrade_timeout=float(upgrade_timeout),
            monitor_clients=monitor_clients is not False,
            max_queue=max_send_queue or 0,
        )
        self.max_send_queue = max_send_queue
        self.router = Router(
            transports, allow_eio3, CorsPolicy(cors_allowed_origins, cors_credentials)
        )
        self._polling_allowed = _POLLING.value in self.transports
        # The router's decision for a plain polling handshake, by EIO value (never
        # changed once made, so one serves every such request).
        self._plain_handshakes = {
            eio: Handshake(_POLLING, protocol, None, False)
            for eio, protocol in (("4", 4), ("3", 3))
            if protocol == 4 or allow_eio3
        }
        self.handlers: dict[str, Callable[..., Any]] = {}
        self._disconnect_takes_reason = False
        self._sessions: dict[str, SessionHandle] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._heap_seq = 0
        self._heartbeat_task: Any = None
        self._heartbeat_running = False
        self._heartbeat_next_wake = inf
        # The open packet's JSON, split around the sid, per (protocol, upgrades offered).
        self._open_templates: dict[tuple[int, bool], tuple[str, str]] = {}
        self.logger = _make_logger(logger)
        self._mode: SelectedMode = select_async_mode(self.family, async_mode)
        self.async_mode = self._mode.name
        self._heartbeat_wake = self._mode.create_event()
        #: Makes a session's wake event (SessionHandle.wake): the mode's event by
        #: default; AsyncServer has its own (and its own _heartbeat_wake).
        self._new_wake: Callable[[], Any] = self._mode.create_event
        self._mode.notify_selected(self)

    # -- public API shared by both servers ----------------------------------------

    @property
    def mode_report(self) -> Any:
        """Every installed mode, with why it was or was not chosen."""
        return self._mode.report

    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register an event handler (``connect``, ``message`` or ``disconnect``).

        Use as ``eio.on('message', fn)`` or as a decorator ``@eio.on('message')``.
        """
        if event not in _EVENTS:
            raise ValueError(f"unknown event {event!r}: expected one of {', '.join(_EVENTS)}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.handlers[event] = fn
            if event == "disconnect":
                self._disconnect_takes_reason = _accepts_two_args(fn)
            return fn

        return register if handler is None else register(handler)

    def transport(self, sid: str) -> str:
        """``'polling'`` or ``'websocket'``: the transport ``sid`` is on now."""
        return self._handle(sid).session.transport.value

    def get_session(self, sid: str) -> dict[str, Any]:
        """The user session dict of ``sid`` (a new empty dict at first)."""
        return self._handle(sid).user_session

    def save_session(self, sid: str, session: dict[str, Any]) -> None:
        """Replace the user session of ``sid``."""
        self._handle(sid).user_session = session

    @contextmanager
    def session(self, sid: str) -> Iterator[dict[str, Any]]:
        """``with eio.session(sid) as s:`` edits the user session in place."""
        handle = self._handle(sid)
        yield handle.user_session

    def generate_id(self) -> str:
        """A new session id: 20 URL-safe characters from a cryptographic source.

        ``secrets.token_urlsafe(15)``'s result, with C calls only: it goes through
        five Python functions, and every handshake makes an id."""
        return b2a_base64(os.urandom(15), newline=False).translate(_URLSAFE).decode()

    # -- helpers for the drivers ---------------------------------------------------

    def _handle(self, sid: str) -> SessionHandle:
        handle = self._sessions.get(sid)
        if handle is None or handle.session.closed:
            raise KeyError(f"session {sid!r} not found")
        return handle

    def _lookup(self, sid: str) -> Session | None:
        handle = self._sessions.get(sid)
        return handle.session if handle is not None else None

    def _new_lock(self) -> Any:
        return NO_LOCK

    def _encode_message(self, data: Any, binary: bool | None) -> Packet:
        if isinstance(data, (bytes, bytearray, memoryview)):
            payload: str | bytes = bytes(data)
        elif isinstance(data, str):
            payload = data
        elif isinstance(data, (list, dict)):
            payload = self.json.dumps(data, separators=(",", ":"))
        else:
            raise TypeError(f"cannot send {type(data).__name__}: use str, bytes, list or dict")
        if binary is True and isinstance(payload, str):
            payload = payload.encode()
        elif binary is False and isinstance(payload, bytes):
            payload = payload.decode()
        return Packet(PacketType.MESSAGE, payload)

    def _decode_message(self, data: str | bytes) -> Any:
        """Text that looks like a JSON object or array arrives decoded, as in python-engineio."""
        if isinstance(data, str) and data[:1] in _JSON_STARTS:
            try:
                return self.json.loads(data)
            except (ValueError, RecursionError):
                # Not JSON, or nested deeper than the decoder recurses ("[" * 20000):
                # it stays text rather than failing the request.
                return data
        return data

    def _queue_message(self, sid: str, data: Any, binary: bool | None) -> Flow | None:
        """Queue a message for ``sid`` (``send()``); returns a flow to run if the
        session closed. One call for the encoding and the queueing: ``send()``
        runs this for every message."""
        if binary is None and (type(data) is str or type(data) is bytes):
            packet = new_packet(Packet, (_MESSAGE, data))  # the common cases, inline
        else:
            packet = self._encode_message(data, binary)
        handle = self._sessions.get(sid)
        if handle is None:
            self.logger.warning("cannot send to sid %s: no such session", sid)
            return None
        lock = handle.lock
        if lock is NO_LOCK:  # asyncio: no `with` (0.09 µs) on the path of every message
            events = handle.session.queue(packet)
        else:
            with lock:
                events = handle.session.queue(packet)
        if not events:
            return None
        if events[0] is WAKE:
            self._wake(handle)
            return None
        # The send queue overflowed: the session closed (disconnect handler, log).
        return self._after(handle, events)

    def _schedule(self, handle: SessionHandle) -> None:
        deadline = handle.session.next_deadline()
        if deadline < inf:
            self._heap_seq += 1
            heapq.heappush(self._heap, (deadline, self._heap_seq, handle.session.sid))
            if len(self._heap) > 2 * len(self._sessions) + 256:
                self._compact_heap()
            if deadline < self._heartbeat_next_wake:
                # The loop sleeps past this deadline: wake it to re-plan.
                self._heartbeat_next_wake = deadline
                self._heartbeat_wake.set()

    def _compact_heap(self) -> None:
        """Drop the entries of ended sessions and superseded deadlines (in place: the
        heartbeat loop holds the list). Amortised O(1) per entry, since it only runs
        once the heap is twice the live sessions."""
        entries = []
        for sid, handle in self._sessions.items():
            deadline = handle.session.next_deadline()
            if deadline < inf:
                self._heap_seq += 1
                entries.append((deadline, self._heap_seq, sid))
        heapq.heapify(entries)
        self._heap[:] = entries

    def _error(self, request: Request, code: ErrorCode, detail: str, status: int = 0) -> Response:
        # The path is logged as a repr: a decoded "%0d%0a" in it must not forge a log line.
        self.logger.warning(
            "%s %r refused: %s (%d %s)", request.method, request.path, detail, code, code.message
        )
        headers = [("Content-Type", "application/json"), *self._cors_headers(request)]
        return Response(status or code.status, headers, error_body(code))

    def _cors_headers(self, request: Request) -> list[tuple[str, str]]:
        if "origin" not in request.headers:
            return []  # not a CORS request (engine.io-client under Node.js, most POSTs)
        return self.router.cors.response_headers(request)

    @staticmethod
    def _compress(
        body: bytes, accept_encoding: str | None, headers: list[tuple[str, str]]
    ) -> bytes:
        encoding = choose_encoding(accept_encoding)
        if encoding is None:
            return body
        headers.append(("Content-Encoding", encoding))
        return compress(body, encoding)

    # -- plain long-polling requests ---------------------------------------------------
    #
    # A poll or a POST of an open polling session, without an Origin, JSONP or b64:
    # nearly every request of a long-polling client. handle_polling_request()
    # serves them without the general path's request translation, router and flow
    # driver, which are most of the layer's cost of a long-polled echo; anything else
    # takes handle_request(). Both share the session's state machine and the steps
    # below, and the scenario tests run on both paths.

    def _plain_polling_handle(
        self, method: str, query_string: str, origin: str | None
    ) -> SessionHandle | None:
        """The session of a plain poll or POST (no Origin, a query ``polling_sid``
        accepts), if the router would decide Poll or Post for the request and
        nothing else; None: the general path decides."""
        if origin is not None:
            return None
        sid = polling_sid(query_string)
        if sid is None:
            return None
        handle = self._sessions.get(sid)
        if handle is None or not self._polling_allowed:
            return None
        session = handle.session
        if session.state is _CLOSED or session.transport is not _POLLING:
            return None
        if time.monotonic() >= session.alive_until:
            return None  # Expired (or a closing session past its deadline)
        if method == "GET" or (method == "POST" and not session.closed):
            return handle
        return None

    def _plain_handshake(
        self, method: str, query_string: str, origin: str | None
    ) -> Handshake | None:
        """The router's decision for a plain polling handshake (a GET, no Origin, a
        query ``polling_handshake`` accepts, a protocol this server speaks), if
        that is what the request is; None: the general path decides."""
        if method != "GET" or origin is not None or not self._polling_allowed:
            return None
        eio = polling_handshake(query_string)
        return None if eio is None else self._plain_handshakes.get(eio)

    def _plain_payload_response(
        self, packets: list[Packet], protocol: int, accept_encoding: str | None
    ) -> Response:
        body, ctype = encode_payload(packets, protocol, binary=True)
        headers = [("Content-Type", ctype)]
        if self.http_compression and len(body) >= self.compression_threshold:
            body = self._compress(body, accept_encoding, headers)
        return Response(200, headers, body)

    def _plain_post_declined(
        self, session: Session, declared: int | None, read_body: Callable[[int], Any] | None
    ) -> bool:
        """Whether a plain POST is left to handle_request, before any of it is read:
        no length, too large, or overlapping (the general path refuses those)."""
        return (
            declared is None
            or declared > self.max_http_buffer_size
            or session.post_pending
            or read_body is None
        )

    def _plain_error(self, method: str, path: str, refused: _PostRefused) -> Response:
        # A request without an Origin: the error gets no CORS headers either.
        return self._error(
            Request(method, path, {}, {}), refused.code, refused.detail, refused.status
        )

    def _payload_response(
        self,
        request: Request,
        packets: list[Packet],
        protocol: int,
        jsonp: str | None,
        b64: bool,
        extra: Sequence[tuple[str, str]] = (),
    ) -> Response:
        if jsonp is not None:
            body, ctype = encode_jsonp(packets, protocol, jsonp), "text/javascript; charset=UTF-8"
        else:
            body, ctype = encode_payload(packets, protocol, binary=not b64)
        headers = [("Content-Type", ctype)]
        if "origin" in request.headers:  # _cors_headers(), inline
            headers += self.router.cors.response_headers(request)
        if self.http_compression and len(body) >= self.compression_threshold:
            body = self._compress(body, request.headers.get("accept-encoding"), headers)
        if extra:
            headers += extra
        return Response(200, headers, body)

    def _open_packet(self, sid: str, protocol: int, upgrades: list[str]) -> Packet:
        key = (protocol, bool(upgrades))
        template = self._open_templates.get(key)
        if template is None:
            handshake: dict[str, Any] = {
                "sid": _SID_MARKER,
                "upgrades": upgrades,
                "pingInterval": round(self.ping_interval * 1000),
                "pingTimeout": round(self.ping_timeout * 1000),
            }
            if protocol >= 4:
                handshake["maxPayload"] = self.max_http_buffer_size
            text = stdlib_json.dumps(handshake, separators=(",", ":"))
            head, tail = text.split(_SID_MARKER, 1)
            template = self._open_templates[key] = (head, tail)
        before, after = template
        # generate_id()'s ids need no JSON escaping; an overridden one might.
        quoted = sid if _PLAIN_SID.fullmatch(sid) else stdlib_json.dumps(sid)[1:-1]
        return Packet(_OPEN_TYPE, before + quoted + after)

    def _upgrades(self, request: Request) -> list[str]:
        if (
            self.allow_upgrades
            and "websocket" in self.transports
            and self._mode.can_upgrade(request)
        ):
            return ["websocket"]
        return []

    # -- flows ------------------------------------------------------------------------

    def _request_flow(self, request: Request, decision: Decision) -> Flow:
        """Answer one HTTP request, given the router's decision: returns a Response, a
        _WebSocketDone or, for a WebSocket session, a _ReadWebSocket.

        Every decision but a polling handshake's: the drivers answer those
        without a flow (``_polling_handshake``), since they never wait for I/O."""
        # By type, the commonest first: an echo's requests are polls and POSTs.
        if type(decision) is Post:
            return (yield from self._post_flow(request, decision))
        if type(decision) is Poll:
            return (yield from self._poll_flow(request, decision))
        if isinstance(decision, Handshake):
            assert decision.transport is _WEBSOCKET, "a polling handshake takes no flow"
            return (yield from self._websocket_handshake_flow(request, decision))
        if isinstance(decision, Reject):
            return self._error(request, decision.code, decision.detail)
        if isinstance(decision, Preflight):
            headers = self.router.cors.preflight_headers(request)
            return Response(200, [_TEXT_HTML, *headers], b"")
        if isinstance(decision, Expired):
            handle = self._sessions.get(decision.session.sid)
            if handle is not None:
                yield from self._close(handle, DisconnectReason.PING_TIMEOUT)
            return self._error(request, ErrorCode.UNKNOWN_SID, "session timed out")
        if isinstance(decision, Upgrade):
            return (yield from self._upgrade_flow(request, decision.session))
        if isinstance(decision, RefuseWebSocket):
            return (yield from self._refuse_websocket_flow(request))
        raise AssertionError(f"unhandled decision {decision!r}")

    def _connect_flow(self, request: Request, handle: SessionHandle) -> Flow:
        """Register the session and run the connect handler -> an error Response or None."""
        sid = handle.session.sid
        self._sessions[sid] = handle
        try:
            result = yield CallHandler("connect", (sid, request.get_environ()))
        except Exception as exc:
            return self._connect_failed(request, handle, exc)
        except BaseException:  # cancelled, or the flow closed unfinished: no session left
            self._sessions.pop(sid, None)
            raise
        return self._connected(request, handle, result)

    def _connected(self, request: Request, handle: SessionHandle, result: Any) -> Response | None:
        """The connect handler returned ``result``: a 401 if that is False (the session
        is dropped), else None, with the session's heartbeat scheduled."""
        if result is False:
            return self._refused(request, handle)
        self._schedule(handle)
        self._ensure_heartbeat()
        return None

    def _refused(self, request: Request, handle: SessionHandle) -> Response:
        """The connect handler returned False: the session is dropped; a 401."""
        sid = handle.session.sid
        self._sessions.pop(sid, None)
        self.logger.info("connection %s refused by the connect handler", sid)
        return self._unauthorized(request, None)

    def _connect_failed(self, request: Request, handle: SessionHandle, exc: Exception) -> Response:
        """The connect handler raised ``exc``: the session is dropped; a 401 for a
        ConnectionRefusedError (with its arguments), else a logged 500."""
        sid = handle.session.sid
        self._sessions.pop(sid, None)
        if isinstance(exc, ConnectionRefusedError):
            self.logger.info("connection %s refused by the connect handler", sid)
            return self._unauthorized(request, exc.error_args)
        self.logger.error("connect handler failed for %s", sid, exc_info=exc)
        headers = [("Content-Type", "application/json"), *self._cors_headers(request)]
        return Response(500, headers, b'{"message":"connect handler error"}')

    def _unauthorized(self, request: Request, args: dict[str, Any] | None) -> Response:
        body = stdlib_json.dumps(args or {"message": "Unauthorized"}).encode()
        headers = [("Content-Type", "application/json"), *self._cors_headers(request)]
        return Response(401, headers, body)

    def _new_handle(self, request: Request, protocol: int, transport: Transport) -> SessionHandle:
        session = Session(
            self.generate_id(), protocol, transport, self.session_config, time.monotonic()
        )
        return SessionHandle(session, self._new_wake, self._new_lock())

    # A polling handshake has nothing to wait for but the connect handler, so the
    # drivers answer it directly (Server._polling_handshake, AsyncServer's twin)
    # with the two halves below, rather than through _request_flow: a generator,
    # its driver and an op cost a third of the handshake's time in the layer.

    def _begin_polling_handshake(self, request: Request, decision: Handshake) -> SessionHandle:
        """A polling handshake's session, registered, with its open packet queued
        ahead of whatever the connect handler sends. The caller runs the handler:
        :meth:`_connect_failed` if it raised, else :meth:`_end_polling_handshake`."""
        protocol = decision.protocol
        session = Session(
            self.generate_id(), protocol, _POLLING, self.session_config, time.monotonic()
        )
        handle = SessionHandle(session, self._new_wake, self._new_lock())
        sid = session.sid
        # Unregistered yet, the session is seen by no one else: no lock.
        session.outbox.append(self._open_packet(sid, protocol, self._upgrades(request)))
        self._sessions[sid] = handle
        return handle

    def _end_polling_handshake(
        self, request: Request, handle: SessionHandle, decision: Handshake, result: Any
    ) -> Response:
        """The handshake's answer, the connect handler having returned ``result``."""
        if result is False:
            return self._refused(request, handle)
        self._schedule(handle)  # _connected(), inline
        if not self._heartbeat_running:
            self._ensure_heartbeat()
        session = handle.session
        with handle.lock:
            packets = session.take_for_poll()
        extra = []
        if self.cookie is not None:
            extra.append(self.cookie.header(session.sid, _is_secure(request)))
        self.logger.info("%s connected (polling, EIO=%d)", session.sid, decision.protocol)
        return self._payload_response(
            request, packets, decision.protocol, decision.jsonp, decision.b64, extra
        )

    def _poll_flow(self, request: Request, decision: Poll) -> Flow:
        session = decision.session
        handle = self._sessions[session.sid]
        with handle.lock:
            try:
                packets: list[Packet] | None = session.begin_poll()
            except ProtocolError:
                packets = None
            else:
                if not packets:
                    handle.wake.clear()  # with the empty take: a wake after it counts
        if packets is None:
            # Node closes the session; the pending poll gets a close packet.
            yield from self._close(handle, DisconnectReason.TRANSPORT_ERROR)
            return self._error(request, ErrorCode.BAD_REQUEST, "overlapping GET requests")
        if not packets:
            try:
                while not packets:
                    now = time.monotonic()
                    if session.expired(now):
                        yield from self._close(handle, DisconnectReason.PING_TIMEOUT)
                    else:
                        timeout = max(session.alive_until - now, 0.0) + 0.01
                        yield WaitWake(handle.wake, timeout)
                    with handle.lock:
                        packets = session.take_for_poll()
                        if not packets:
                            handle.wake.clear()
            finally:
                with handle.lock:
                    session.end_poll()
        self._forget_if_closed(handle)
        return self._payload_response(
            request, packets, session.protocol, decision.jsonp, decision.b64
        )

    def _post_flow(self, request: Request, decision: Post) -> Flow:
        session = decision.session
        handle = self._sessions[session.sid]
        limit = self.max_http_buffer_size
        declared = request.content_length
        if declared is not None and declared > limit:
            body = b""
        else:
            try:
                body = yield ReadBody(request, limit + 1)
            except Exception as exc:  # each server fails its own way on a broken body
                refused = _unreadable(exc)
                yield from self._close(handle, refused.reason)
                return self._error(request, refused.code, refused.detail)
        ctype = request.headers.get("content-type", "")
        begun = self._begin_post(handle, body, declared, decision.jsonp, ctype)
        if isinstance(begun, _PostRefused):
            yield from self._close(handle, begun.reason)
            return self._error(request, begun.code, begun.detail, begun.status)
        packets = begun
        try:
            for packet in packets:
                events = self._receive_packet(handle, packet)
                if events:
                    yield from self._after(handle, events)
        finally:
            with handle.lock:
                session.end_post()
        return Response(200, [_TEXT_HTML, *self._cors_headers(request)], _OK)

    def _begin_post(
        self,
        handle: SessionHandle,
        body: bytes,
        declared: int | None,
        jsonp: str | None,
        content_type: str,
    ) -> list[Packet] | _PostRefused:
        """A POST's body, read: its packets, with the session's POST begun (the caller
        ends it), or why it is refused (the caller closes the session and answers)."""
        session = handle.session
        limit = self.max_http_buffer_size
        if len(body) > limit or (declared or 0) > limit:
            return _PostRefused(DisconnectReason.PAYLOAD_TOO_LARGE, "payload too large", 413)
        if declared is not None and len(body) < declared:
            # The client left mid-body: never deliver the part that came (Node drops it too).
            return _PostRefused(
                DisconnectReason.TRANSPORT_ERROR, "body shorter than Content-Length"
            )
        lock = handle.lock
        try:
            if lock is NO_LOCK:  # asyncio: no `with` on the path of every POST
                session.begin_post()
            else:
                with lock:
                    session.begin_post()
        except ProtocolError:
            return _PostRefused(DisconnectReason.TRANSPORT_ERROR, "overlapping POST requests")
        try:
            if jsonp is not None:
                return decode_jsonp_body(body, session.protocol)
            return decode_payload(body, session.protocol, content_type)
        except ProtocolError as exc:
            with lock:
                session.end_post()
            return _PostRefused(DisconnectReason.TRANSPORT_ERROR, exc.detail, 0, exc.code)

    def _websocket_handshake_flow(self, request: Request, decision: Handshake) -> Flow:
        if not self._mode.can_upgrade(request):
            return self._error(request, ErrorCode.UNKNOWN_TRANSPORT, "websocket unavailable here")
        handle = self._new_handle(request, decision.protocol, Transport.WEBSOCKET)
        session = handle.session
        refusal = yield from self._connect_flow(request, handle)
        if refusal is not None:
            return refusal
        ws = yield AcceptWebSocket(request, self.max_http_buffer_size)
        if ws is None:
            yield from self._close(handle, DisconnectReason.TRANSPORT_ERROR)
            return self._error(request, ErrorCode.BAD_REQUEST, "websocket handshake failed")
        self.logger.info("%s connected (websocket, EIO=%d)", session.sid, decision.protocol)
        open_packet = self._open_packet(session.sid, decision.protocol, [])
        request.release()
        try:
            yield WsSend(ws, encode_ws(open_packet, session.protocol))
        except WebSocketClosed:
            yield from self._close(handle, DisconnectReason.TRANSPORT_CLOSE)
            return _WebSocketDone(ws)
        return (yield from self._websocket_session_flow(handle, ws))

    def _upgrade_flow(self, request: Request, session: Session) -> Flow:
        handle = self._sessions[session.sid]
        ws = yield AcceptWebSocket(request, self.max_http_buffer_size)
        if ws is None:
            return self._error(request, ErrorCode.BAD_REQUEST, "websocket handshake failed")
        deadline = time.monotonic() + self.session_config.upgrade_timeout
        upgraded = yield from self._probe_flow(handle, ws, deadline)
        if not upgraded:
            with handle.lock:
                session.cancel_upgrade()
            yield WsClose(ws)
            return _WebSocketDone(ws)
        self.logger.info("%s upgraded to websocket", session.sid)
        request.release()
        return (yield from self._websocket_session_flow(handle, ws))

    def _probe_flow(self, handle: SessionHandle, ws: Any, deadline: float) -> Flow:
        """The upgrade exchange on the new socket -> True once the upgrade completed."""
        session = handle.session
        probing = True
        while True:
            try:
                data = yield WsReceive(ws, max(deadline - time.monotonic(), 0.0))
            except (TimeoutError, WebSocketClosed, MessageTooLarge):
                return False
            if probing:
                if data != "2probe":
                    return False
                try:
                    yield WsSend(ws, "3probe")
                except WebSocketClosed:
                    return False
                with handle.lock:
                    try:
                        events = session.start_upgrade(time.monotonic())
                    except ProtocolError:
                        return False
                if events:
                    yield from self._after(handle, events)
                probing = False
            elif data == "5":
                with handle.lock:
                    if session.state is not SessionState.UPGRADING:
                        return False
                    handle.ws = ws
                    events = session.complete_upgrade()
                if events:
                    yield from self._after(handle, events)
                return True
            elif data == "2probe":
                continue
            else:
                return False

    def _refuse_websocket_flow(self, request: Request) -> Flow:
        ws = yield AcceptWebSocket(request, self.max_http_buffer_size)
        if ws is None:
            return self._error(request, ErrorCode.BAD_REQUEST, "websocket handshake failed")
        self.logger.warning("%r: extra websocket for an upgraded session closed", request.path)
        yield WsClose(ws)
        return _WebSocketDone(ws)

    def _websocket_session_flow(self, handle: SessionHandle, ws: Any) -> Flow:
        """Start the session's writes on ``ws`` -> a :class:`_ReadWebSocket` for the driver.

        The request's flow ends here, and the driver reads the session's
        messages itself (``_read_websocket``), then runs
        :meth:`_websocket_end_flow`. So for the session's whole life no flow
        generator and no driver step is held, only the reader: an idle
        asyncio session is about 1 KB smaller."""
        handle.ws = ws
        yield from self._start_writer_flow(handle, ws)
        return _ReadWebSocket(handle, ws)

    def _websocket_end_flow(self, handle: SessionHandle, ws: Any, reason: DisconnectReason) -> Flow:
        """The reading stopped with ``reason``: close the session, let its writer
        finish, close the socket."""
        yield from self._close(handle, reason)
        if handle.writer is not None:
            yield Join(handle.writer, 5.0)
        yield WsClose(ws)
        return _WebSocketDone(ws)

    def _receive_websocket_message(
        self, handle: SessionHandle, data: str | bytes
    ) -> list[Event] | DisconnectReason | None:
        """Decode one WebSocket message and give it to the session: the events left
        for :meth:`_after` (see :meth:`_receive_packet`), or, for an invalid packet,
        the reason to close the session with.

        The protocol's part of reading a session (:class:`_ReadWebSocket`): both
        drivers' readers are a loop of reads that calls this for every message,
        and on events runs :meth:`_after`; no op and no flow step per message."""
        session = handle.session
        try:
            packet = (
                decode_packet(data, session.protocol)
                if isinstance(data, str)
                else decode_ws_binary(data, session.protocol)
            )
        except ProtocolError as exc:
            if session.closed:  # after its close packet, in the same read
                return DisconnectReason.TRANSPORT_CLOSE
            self.logger.warning("%s sent an invalid packet: %s", session.sid, exc.detail)
            return DisconnectReason.TRANSPORT_ERROR
        return self._receive_packet(handle, packet)

    def _wake(self, handle: SessionHandle) -> None:
        """The session's outbox has work (or it closed): wake its poll or writer."""
        handle.wake.set()

    def _start_writer_flow(self, handle: SessionHandle, ws: Any) -> Flow:
        """Start what sends the outbox on ``ws``: here a writer task for the session."""
        handle.writer = yield SpawnFlow(self._websocket_writer_flow(handle, ws))

    def _websocket_writer_flow(
        self, handle: SessionHandle, ws: Any, until_empty: bool = False
    ) -> Flow:
        """Send the outbox on ``ws``; wait for more, or with ``until_empty`` end there."""
        while True:
            data, closed = self._next_write(handle, until_empty)
            if data is not None:
                try:
                    yield WsSend(ws, data)
                except (WebSocketClosed, OSError):
                    # The connection is gone, but the reader may still get messages
                    # the client sent before it left (and its close packet): it
                    # ends the session once it has them. Nothing more is written.
                    handle.broken = True
                    return
            if closed:
                self._forget_if_closed(handle)
                yield WsClose(ws)
                return
            if data is None:
                if until_empty:
                    return
                # Every transition that gives the writer work (a queued packet, a
                # close) sets the wake event, so no timeout is needed: waiting
                # without one costs the asyncio driver no timer and no extra task.
                yield WaitWake(handle.wake, None)

    def _next_write(
        self, handle: SessionHandle, until_empty: bool
    ) -> tuple[str | bytes | list[str | bytes] | None, bool]:
        """What a WebSocket writer sends next: the outbox encoded (one message, or a
        list of them for one send), or None when it is empty; and whether the
        session has closed (the writer then closes the socket).

        With ``until_empty``, a writer that finds nothing to send ends: it says
        so (``handle.writing``) in the same critical section as the empty take,
        so a packet queued after it finds no writer, and starts one. Without
        it, the writer is about to wait on the wake event, and clears it here."""
        session = handle.session
        lock = handle.lock
        if lock is not NO_LOCK:
            lock.acquire()
        try:
            packets = session.take_for_websocket()
            closed = session.state is _CLOSED
            if not packets:
                if not until_empty:
                    handle.wake.clear()
                elif not closed:
                    handle.writing = False
                return None, closed
        finally:
            if lock is not NO_LOCK:
                lock.release()
        protocol = session.protocol
        if len(packets) == 1:
            return encode_ws(packets[0], protocol), closed
        # One send for the batch: the socket writes it in one go where it can.
        return [encode_ws(packet, protocol) for packet in packets], closed

    def _heartbeat_flow(self) -> Flow:
        """One loop for all sessions: sleeps until the earliest deadline."""
        heap = self._heap
        while self._heartbeat_running:
            now = time.monotonic()
            while heap and heap[0][0] <= now:
                _, _, sid = heapq.heappop(heap)
                handle = self._sessions.get(sid)
                if handle is None:
                    continue
                with handle.lock:
                    events = handle.session.tick(now)
                if events:
                    yield from self._after(handle, events)
                if self._sessions.get(sid) is handle:
                    self._schedule(handle)
            timeout = _HEARTBEAT_CAP if not heap else min(heap[0][0] - now, _HEARTBEAT_CAP)
            timeout = max(timeout, 0.001)
            self._heartbeat_wake.clear()
            self._heartbeat_next_wake = now + timeout
            yield WaitWake(self._heartbeat_wake, timeout)
        self._heartbeat_next_wake = inf

    def _close(self, handle: SessionHandle, reason: DisconnectReason) -> Flow:
        with handle.lock:
            events = handle.session.close(reason, time.monotonic())
        if events:
            yield from self._after(handle, events)

    def _after(self, handle: SessionHandle, events: list[Event]) -> Flow:
        """Carry out what a session transition asked for."""
        sid = handle.session.sid
        for event in events:
            if isinstance(event, Wake):
                self._wake(handle)
            elif isinstance(event, MessageReceived):
                if self.async_handlers:
                    self._message(handle, event.data)
                elif "message" in self.handlers:
                    args = (sid, self._decode_message(event.data))
                    yield from self._call_logged("message", args)
            elif isinstance(event, Closed):
                closed_args = self._on_closed(handle, event)
                if (
                    handle.ws is not None
                    and event.reason in _PEER_STALLED
                    and handle.session.state is not _CLOSING
                ):
                    # The WebSocket writer may be stuck in a send to a peer that
                    # stopped reading; closing the socket from elsewhere frees it.
                    yield SpawnFlow(self._drop_websocket_flow(handle))
                if closed_args is not None:
                    yield from self._call_logged("disconnect", closed_args)
        self._forget_if_closed(handle)

    def _on_closed(self, handle: SessionHandle, event: Closed) -> tuple[Any, ...] | None:
        """A session's Closed event, all but its disconnect handler: logged, and a
        closing session's grace deadline scheduled. Returns the handler's
        arguments, or None if there is no handler. For :meth:`_after` and the
        drivers' ``_after_plain``."""
        sid = handle.session.sid
        reason = event.reason
        if reason is _SEND_QUEUE_FULL:
            self.logger.warning(
                "%s disconnected: more than %d packets waited to be sent",
                sid,
                self.session_config.max_queue,
            )
        else:
            # _value_: .value is a property, two Python calls (and a str Enum's
            # str() is its name): this runs for every session's end.
            self.logger.info("%s disconnected: %s", sid, reason._value_)
        if handle.session.state is _CLOSING:
            self._schedule(handle)
        if "disconnect" not in self.handlers:
            return None
        return (sid, reason) if self._disconnect_takes_reason else (sid,)

    def _receive_packet(self, handle: SessionHandle, packet: Packet) -> list[Event] | None:
        """Give a client's packet to its session, and carry out the common outcomes
        here: a message (with ``async_handlers``) or a pong. Returns the events
        left for :meth:`_after`, or None.

        A plain function, not a flow: the polling and WebSocket readers call it
        for every packet, and a message should cost no generator of its own."""
        session = handle.session
        if packet.type is _MESSAGE and session.protocol >= 4 and self.async_handlers:
            # A v4 message changes nothing in its session (v3 renews the session's
            # deadline on every packet): no call to the session, no event, no clock
            # read on the path of every message. A closed session takes no more.
            if not session.closed and "message" in self.handlers:
                data = packet.data
                if data is None:
                    data = ""
                elif type(data) is str and data[:1] in _JSON_STARTS:
                    data = self._decode_message(data)
                self._spawn_message(handle, (session.sid, data))
            return None
        lock = handle.lock
        if lock is NO_LOCK:
            events = handle.session.receive(packet, time.monotonic())
        else:
            with lock:
                events = handle.session.receive(packet, time.monotonic())
        if not events:
            if packet.type is _PONG:
                self._schedule(handle)  # the next ping is due an interval from now
            return None
        event = events[0]
        if type(event) is MessageReceived and self.async_handlers:
            if "message" in self.handlers:  # self._message(), inline
                data = event.data
                if type(data) is str and data[:1] in _JSON_STARTS:
                    data = self._decode_message(data)
                self._spawn_message(handle, (handle.session.sid, data))
            return None
        return events

    def _message(self, handle: SessionHandle, data: str | bytes) -> None:
        """Start the ``message`` handler in the background (``async_handlers``)."""
        if "message" in self.handlers:
            self._spawn_message(handle, (handle.session.sid, self._decode_message(data)))

    def _spawn_message(self, handle: SessionHandle, args: tuple[Any, ...]) -> None:
        """Start the ``message`` handler for ``handle``'s session: by default as any
        other handler; a driver may run it together with the session's writes."""
        self._spawn_handler("message", args)

    def _spawn_handler(self, event: str, args: tuple[Any, ...]) -> None:
        """Run handler ``event`` concurrently, logging its errors; never waits.

        A method rather than an op: starting a task blocks no driver, and the
        flows call it once per message."""
        raise NotImplementedError

    def _drop_websocket_flow(self, handle: SessionHandle) -> Flow:
        if handle.writer is not None:
            yield Cancel(handle.writer)
        yield WsClose(handle.ws, 1000)

    def _call_logged(self, event: str, args: tuple[Any, ...]) -> Flow:
        try:
            yield CallHandler(event, args)
        except Exception:
            self.logger.exception("%s handler failed", event)

    def _forget_if_closed(self, handle: SessionHandle) -> None:
        if handle.session.state is _CLOSED:
            sid = handle.session.sid
            if self._sessions.get(sid) is handle:
                del self._sessions[sid]

    def _closing_with_transport(self) -> bool:
        """Whether a closing session still has a poll or WebSocket to send its close packet to."""
        for handle in list(self._sessions.values()):
            session = handle.session
            if session.state is SessionState.CLOSING and (
                session.poll_pending or session.transport is Transport.WEBSOCKET
            ):
                return True
        return False

    def _forget_all(self) -> None:
        """After shutdown: drop sessions whose client never came back for the close packet."""
        self._sessions.clear()
        self._heap.clear()

    def _ensure_heartbeat(self) -> None:
        if not self._heartbeat_running:
            self._heartbeat_running = True
            self._heartbeat_task = self._spawn_flow(self._heartbeat_flow())

    def _spawn_flow(self, flow: Flow) -> Any:
        raise NotImplementedError


def _make_logger(logger: bool | logging.Logger) -> logging.Logger:
    if isinstance(logger, logging.Logger):
        return logger
    log = logging.getLogger("engineio_core.server")
    if logger:
        if log.level == logging.NOTSET:
            log.setLevel(logging.INFO)
        if not logging.root.handlers and not log.handlers:
            log.addHandler(logging.StreamHandler())
    elif log.level == logging.NOTSET:
        log.setLevel(logging.ERROR)
    return log


def _accepts_two_args(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _is_secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.scheme == "https" or forwarded.split(",")[0].strip() == "https"
