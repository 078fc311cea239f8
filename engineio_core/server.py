"""``Server``: the Engine.IO server for WSGI and greenlet servers.

A thin blocking driver: it performs the operations that the shared flows in
:mod:`engineio_core.base_server` yield, using the selected async mode's
primitives (threads, greenlets). It holds no protocol logic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from engineio_core._signals import watch_sigterm
from engineio_core.base_server import BaseServer, _WebSocketDone
from engineio_core.ops import (
    AcceptWebSocket,
    CallHandler,
    Cancel,
    Flow,
    Join,
    ReadBody,
    SpawnFlow,
    SpawnHandler,
    WaitWake,
    WsClose,
    WsReceive,
    WsSend,
    run_flow,
)
from engineio_core.protocol.errors import DisconnectReason

__all__ = ["Server"]


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
            ReadBody: lambda op: op.request.read_body(op.limit),
            WaitWake: lambda op: op.event.wait(op.timeout),
            CallHandler: self._perform_call,
            SpawnHandler: self._perform_spawn_handler,
            SpawnFlow: lambda op: self._spawn_flow(op.flow),
            Join: lambda op: op.task.join(op.timeout),
            # Threads cannot be cancelled: WsClose shuts the socket under a stuck send.
            Cancel: lambda op: None,
            AcceptWebSocket: self._perform_accept,
            WsReceive: lambda op: op.ws.receive(op.timeout),
            WsSend: lambda op: op.ws.send(op.data),
            WsClose: lambda op: op.ws.close(op.code),
        }

    # -- public API ------------------------------------------------------------------

    def handle_request(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Handle one HTTP request; the WSGI application interface."""
        request = self._mode.translate_request((environ, start_response))
        result = self._run(self._request_flow(request))
        if isinstance(result, _WebSocketDone):
            return result.ws.response()
        return self._mode.make_response(result, request)

    def send(self, sid: str, data: Any, binary: bool | None = None) -> None:
        """Send a message to ``sid``: str (text), bytes (binary), list or dict (JSON)."""
        flow = self._queue(sid, self._encode_message(data, binary))
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
        # Critical sections never block, so a plain lock is also safe between greenlets.
        return threading.Lock()

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

    def _perform_call(self, op: CallHandler) -> Any:
        handler = self.handlers.get(op.event)
        return handler(*op.args) if handler is not None else None

    def _perform_spawn_handler(self, op: SpawnHandler) -> None:
        self._mode.spawn(self._call_handler_logged, op.event, op.args)

    def _call_handler_logged(self, event: str, args: tuple[Any, ...]) -> None:
        handler = self.handlers.get(event)
        if handler is None:
            return
        try:
            handler(*args)
        except Exception:
            self.logger.exception("%s handler failed", event)

    def _perform_accept(self, op: AcceptWebSocket) -> Any:
        wrap = self._mode.wrap_websocket
        if wrap is None:
            return None
        return wrap(op.request, op.max_message_size)
