"""``Server``: the Engine.IO server for WSGI and greenlet servers.

A thin blocking driver: it performs the operations that the shared flows in
:mod:`engineio_core.base_server` yield, using the selected async mode's
primitives (threads, greenlets). It holds no protocol logic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from engineio_core._signals import watch_sigterm
from engineio_core.base_server import (
    _OK,
    _POLLING,
    _TEXT_HTML,
    NO_LOCK,
    BaseServer,
    SessionHandle,
    _PostRefused,
    _ReadWebSocket,
    _unreadable,
    _WebSocketDone,
)
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
    run_flow,
)
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.errors import DisconnectReason, ProtocolError
from engineio_core.protocol.http import Request, Response
from engineio_core.protocol.router import Handshake
from engineio_core.protocol.session import Closed, Event, Wake

__all__ = ["Server"]


def _read_body(op: ReadBody) -> bytes:
    read = op.request.read_body
    return b"" if read is None else read(op.limit)  # a mode may read only a POST's body


class Server(BaseServer):
    """An Engine.IO server for sync modes: ``threading``, ``eventlet``, ``gevent``,
    ``gevent_uwsgi`` or any installed sync-family plugin.

    See :class:`~engineio_core.base_server.BaseServer` for the options. Created in
    the main thread, it also shuts down on SIGTERM before the signal's previous
    handler runs (``handle_sigterm=False`` opts out; see :mod:`engineio_core._signals`).
    """

    family = "sync"

    def __init__(self, *args: Any, handle_sigterm: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if handle_sigterm:
            # WSGI servers give applications no shutdown hook: SIGTERM is the one.
            watch_sigterm(self)
        self._perform_table: dict[type, Callable[[Any], Any]] = {
            ReadBody: _read_body,
            WaitWake: lambda op: op.event.wait(op.timeout),
            CallHandler: self._perform_call,
            SpawnFlow: lambda op: self._spawn_flow(op.flow),
            Join: lambda op: op.task.join(op.timeout),
            # Threads cannot be cancelled: WsClose shuts the socket under a stuck send.
            Cancel: lambda op: None,
            AcceptWebSocket: self._perform_accept,
            WsReceive: lambda op: op.ws.receive(op.timeout),
            WsSend: self._perform_send,
            WsClose: lambda op: op.ws.close(op.code),
        }

    # -- public API ------------------------------------------------------------------

    def handle_request(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Handle one HTTP request; the WSGI application interface."""
        request = self._mode.translate_request((environ, start_response))
        decision = self.router.route(request, self._lookup, time.monotonic())
        if type(decision) is Handshake and decision.transport is _POLLING:
            return self._mode.make_response(self._polling_handshake(request, decision), request)
        result = self._run(self._request_flow(request, decision))
        if type(result) is _ReadWebSocket:
            reason = self._read_websocket(result)
            result = self._run(self._websocket_end_flow(result.handle, result.ws, reason))
        if isinstance(result, _WebSocketDone):
            return result.ws.response()
        return self._mode.make_response(result, request)

    def handle_polling_request(
        self,
        method: str,
        path: str,
        query_string: str,
        origin: str | None,
        content_type: str,
        content_length: int | None,
        accept_encoding: str | None,
        read_body: Callable[[int], bytes] | None,
        make_request: Callable[[], Request] | None = None,
    ) -> Response | None:
        """Serve a plain long-polling request, or return None for ``handle_request``.

        ``AsyncServer.handle_polling_request`` for sync modes, with a blocking
        ``read_body`` and a ``make_request`` that returns the request itself;
        ``WSGIApp`` offers its requests here first. The caller turns the
        response into its own.
        """
        if make_request is not None:  # a handshake, maybe (the glue passes it for those)
            handshake = self._plain_handshake(method, query_string, origin)
            if handshake is not None:
                return self._polling_handshake(make_request(), handshake)
        handle = self._plain_polling_handle(method, query_string, origin)
        if handle is None:
            return None
        if method != "GET":
            return self._plain_post(handle, path, content_type, content_length, read_body)
        # A poll: _poll_flow's steps, called directly. AsyncServer's twin differs
        # only in awaiting and in taking no locks: change both together (the
        # scenario suite and test_plain_polling.py run every case on both).
        session = handle.session
        with handle.lock:
            try:
                packets = session.begin_poll()
            except ProtocolError:
                return None  # overlapping polls: handle_request closes the session
            if not packets:
                handle.wake.clear()  # with the empty take: a wake after it counts
        if not packets:
            try:
                while not packets:
                    now = time.monotonic()
                    if session.expired(now):
                        self._run(self._close(handle, DisconnectReason.PING_TIMEOUT))
                    else:
                        handle.wake.wait(max(session.alive_until - now, 0.0) + 0.01)
                    with handle.lock:
                        packets = session.take_for_poll()
                        if not packets:
                            handle.wake.clear()
            finally:
                with handle.lock:
                    session.end_poll()
        self._forget_if_closed(handle)
        return self._plain_payload_response(packets, session.protocol, accept_encoding)

    def _polling_handshake(self, request: Request, decision: Handshake) -> Response:
        # No flow: see BaseServer._begin_polling_handshake. AsyncServer's twin awaits.
        handle = self._begin_polling_handshake(request, decision)
        handler = self.handlers.get("connect")
        try:
            result = handler(handle.session.sid, request.get_environ()) if handler else None
        except Exception as exc:
            return self._connect_failed(request, handle, exc)
        except BaseException:  # a greenlet killed in the handler, say: no session left
            self._sessions.pop(handle.session.sid, None)
            raise
        return self._end_polling_handshake(request, handle, decision, result)

    def takes_plain_polling(self) -> bool:
        """Whether an app wrapper may offer requests to :meth:`handle_polling_request`:
        not if ``handle_request`` was replaced (in a subclass or on the instance),
        which must then see every request."""
        return "handle_request" not in vars(self) and (
            type(self).handle_request is Server.handle_request
        )

    def _plain_post(
        self,
        handle: SessionHandle,
        path: str,
        content_type: str,
        declared: int | None,
        read_body: Callable[[int], bytes] | None,
    ) -> Response | None:
        # _post_flow's steps, called directly; AsyncServer._plain_post is the twin.
        session = handle.session
        if self._plain_post_declined(session, declared, read_body):
            return None
        assert read_body is not None
        try:
            body = read_body(self.max_http_buffer_size + 1)
        except Exception as exc:  # each server fails its own way on a broken body
            refused = _unreadable(exc)
        else:
            begun = self._begin_post(handle, body, declared, None, content_type)
            if not isinstance(begun, _PostRefused):
                try:
                    for packet in begun:
                        events = self._receive_packet(handle, packet)
                        if events:
                            self._after_plain(handle, events)
                finally:
                    with handle.lock:
                        session.end_post()
                return Response(200, [_TEXT_HTML], _OK)
            refused = begun
        self._run(self._close(handle, refused.reason))
        return self._plain_error("POST", path, refused)

    def _after_plain(self, handle: SessionHandle, events: list[Event]) -> None:
        """:meth:`_after` for a polling session's POST, without a flow for the
        commonest events (a close, a wake); AsyncServer's twin awaits."""
        for event in events:
            if type(event) is not Closed and type(event) is not Wake:
                self._run(self._after(handle, events))  # a message, without async_handlers
                return
        for event in events:
            if type(event) is Closed:
                args = self._on_closed(handle, event)
                if args is not None:
                    self._call_handler_logged("disconnect", args)
            else:
                self._wake(handle)
        self._forget_if_closed(handle)

    def send(self, sid: str, data: Any, binary: bool | None = None) -> None:
        """Send a message to ``sid``: str (text), bytes (binary), list or dict (JSON)."""
        flow = self._queue_message(sid, data, binary)
        if flow is not None:
            self._run(flow)

    def send_packet(self, sid: str, data: Any, binary: bool | None = None) -> None:
        """Alias of :meth:`send`, for code that mirrors python-engineio's packet API."""
        self.send(sid, data, binary)

    def disconnect(self, sid: str | None = None) -> None:
        """Close ``sid``, or every session when ``sid`` is None."""
        sids = [sid] if sid is not None else list(self._sessions)
        for one in sids:
            handle = self._sessions.get(one)
            if handle is not None:
                self._run(self._close(handle, DisconnectReason.SERVER_DISCONNECT))

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close every session with a close packet and stop the heartbeat loop.

        Waits (at most ``timeout`` seconds) for the close packets to go out on
        pending polls and WebSockets; a polling client with no request in
        flight then gets 400 on its next poll, which engine.io-client treats
        as a closed connection too.
        """
        for handle in list(self._sessions.values()):
            self._run(self._close(handle, DisconnectReason.SERVER_SHUTDOWN))
        deadline = time.monotonic() + timeout
        while self._closing_with_transport() and time.monotonic() < deadline:
            self.sleep(0.01)
        self._forget_all()
        self._heartbeat_running = False
        self._heartbeat_wake.set()
        if self._heartbeat_task is not None:
            self._heartbeat_task.join(max(deadline - time.monotonic(), 0.1))
            self._heartbeat_task = None

    def _shutdown_soon(self) -> None:
        """Start :meth:`shutdown` in the background (safe in a signal handler)."""
        self._mode.spawn(self._shutdown_logged)

    def _shutdown_logged(self) -> None:
        try:
            self.shutdown()
        except Exception:
            self.logger.exception("shutdown failed")

    def sleep(self, seconds: float = 0) -> None:
        """Sleep in the way the async mode wants (a greenlet-friendly sleep, say)."""
        self._mode.sleep(seconds)

    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` concurrently; returns a Thread-like handle."""
        return self._mode.spawn(target, *args, **kwargs)

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """A queue that suits the async mode."""
        return self._mode.create_queue()

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """An event that suits the async mode."""
        return self._mode.create_event()

    # -- driver --------------------------------------------------------------------------

    def _new_lock(self) -> Any:
        # Critical sections never wait, so greenlets cannot switch inside one: only
        # OS threads need the lock (a green lock would cost 0.2 µs a time for nothing).
        return threading.Lock() if self._mode.info.preemptive else NO_LOCK

    def _run(self, flow: Flow) -> Any:
        table = self._perform_table
        return run_flow(flow, lambda op: table[type(op)](op))

    def _spawn_flow(self, flow: Flow) -> Any:
        return self._mode.spawn(self._run_logged, flow)

    def _run_logged(self, flow: Flow) -> None:
        try:
            self._run(flow)
        except Exception:
            self.logger.exception("background flow failed")

    def _read_websocket(self, reading: _ReadWebSocket) -> DisconnectReason:
        # AsyncServer._read_websocket's loop, blocking instead of awaiting.
        handle = reading.handle
        session = handle.session
        ws = reading.ws
        receive_many = getattr(ws, "receive_many", None)
        if receive_many is None:
            receive_many = partial(_receive_one_as_list, ws)
        receive = self._receive_websocket_message
        while not session.closed:
            try:
                # Every message of a read at once (a wsproto socket parses all
                # the frames one recv() brought).
                batch = receive_many()
            except MessageTooLarge:
                return DisconnectReason.PAYLOAD_TOO_LARGE
            except (WebSocketClosed, OSError):
                return DisconnectReason.TRANSPORT_CLOSE
            if batch is None:
                return DisconnectReason.TRANSPORT_CLOSE
            for data in batch:
                events = receive(handle, data)
                if events is not None:
                    if not isinstance(events, list):
                        return events  # an invalid packet
                    self._run(self._after(handle, events))
        return DisconnectReason.TRANSPORT_CLOSE

    def _perform_send(self, op: WsSend) -> None:
        data = op.data
        if type(data) is not list:
            op.ws.send(data)
            return
        send_many = getattr(op.ws, "send_many", None)
        if send_many is not None:
            send_many(data)
            return
        for message in data:
            op.ws.send(message)

    def _perform_call(self, op: CallHandler) -> Any:
        handler = self.handlers.get(op.event)
        return handler(*op.args) if handler is not None else None

    def _spawn_handler(self, event: str, args: tuple[Any, ...]) -> None:
        # Never joined: the mode's cheapest way to start a task (spawn_detached).
        self._mode.spawn_detached(self._call_handler_logged, (event, args))

    def _call_handler_logged(self, event: str, args: tuple[Any, ...]) -> None:
        handler = self.handlers.get(event)
        if handler is None:
            return
        try:
            handler(*args)
        except Exception:
            self.logger.exception("%s handler failed", event)

    # -- WebSocket writes -------------------------------------------------------------
    #
    # On a WebSocket that can send without waiting (``try_send``: the wsproto
    # sockets of every built-in sync mode), a packet queued while no write is
    # under way starts one: at once in the thread that queued it, or, in a
    # mode with ``call_soon`` (greenlets), in the hub once the greenlets ready
    # now have run, so that replies queued by handlers woken together go out
    # in one write. A write that would wait for the peer (a full socket
    # buffer, a close handshake) moves to a task of its own, which sends the
    # rest and ends when the outbox is empty. So an echo's reply costs no task
    # switch, an idle session holds no writer, and neither ``send()`` nor the
    # heartbeat ever waits on a slow client. Other WebSockets keep a writer
    # task woken through ``handle.wake``.

    def _wake(self, handle: SessionHandle) -> None:
        ws = handle.ws
        if ws is None:
            # Else the next poll finds the packets itself: no event to make and set
            # (the poll marks itself pending under the lock before it waits).
            if handle.session.poll_pending:
                handle.wake.set()
            return
        if not hasattr(ws, "try_send"):
            handle.wake.set()  # a writer task
            return
        lock = handle.lock  # NO_LOCK (greenlets): no `with` on the path of every reply
        if lock is not NO_LOCK:
            lock.acquire()
        try:
            if handle.writing or handle.broken:
                return  # the write under way takes what was just queued
            handle.writing = True
        finally:
            if lock is not NO_LOCK:
                lock.release()
        call_soon = self._mode.call_soon
        if call_soon is None:
            self._write_eagerly(handle, ws)
        else:
            # After the other handlers woken by the same input: one write for all.
            call_soon(self._write_eagerly, (handle, ws))

    def _start_writer_flow(self, handle: SessionHandle, ws: Any) -> Flow:
        if not hasattr(ws, "try_send"):
            return (yield from super()._start_writer_flow(handle, ws))
        self._wake(handle)  # for what was queued before the socket took over
        return None

    def _write_eagerly(self, handle: SessionHandle, ws: Any) -> None:
        """Send the outbox here until it is empty; a send that would wait for the
        peer, and a close, go on in a task of their own (``handle.writer``).

        ``_websocket_writer_flow``'s steps as a loop, for a socket with
        ``try_send``: this runs for every reply, and a flow, a step and a
        ``WsSend`` op per reply cost more than the rest of the loop."""
        try:
            while True:
                data, closed = self._next_write(handle, True)
                if data is not None:
                    try:
                        finish = ws.try_send(data)
                    except (WebSocketClosed, OSError):
                        handle.broken = True  # as in _websocket_writer_flow
                        return
                    if finish is not None:
                        handle.writer = self._mode.spawn(self._finish_write, handle, ws, finish)
                        return
                if closed:
                    self._forget_if_closed(handle)
                    # A close handshake can wait for the peer: not in this thread.
                    handle.writer = self._mode.spawn(
                        self._finish_write, handle, ws, ws.close, False
                    )
                    return
                if data is None:
                    return
        except Exception:
            handle.writing = False
            self.logger.exception("WebSocket writer failed")

    def _finish_write(
        self, handle: SessionHandle, ws: Any, finish: Callable[[], Any], more: bool = True
    ) -> None:
        """The rest of an eager write, in its own task: ``finish()``, then (``more``)
        the outbox until it is empty, by ``_websocket_writer_flow``."""
        table = self._perform_table
        try:
            try:
                finish()
            except (WebSocketClosed, OSError):
                handle.broken = True
                return
            if more:
                run_flow(
                    self._websocket_writer_flow(handle, ws, until_empty=True),
                    lambda op: table[type(op)](op),
                )
        except Exception:
            handle.writing = False
            self.logger.exception("WebSocket writer failed")

    def _perform_accept(self, op: AcceptWebSocket) -> Any:
        wrap = self._mode.wrap_websocket
        if wrap is None:
            return None
        return wrap(op.request, op.max_message_size)


def _receive_one_as_list(ws: Any) -> list[str | bytes] | None:
    message = ws.receive()
    return None if message is None else [message]
