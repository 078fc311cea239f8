"""``AsyncServer``: the Engine.IO server for asyncio frameworks.

The same flows as :class:`~engineio_core.server.Server`, performed by
awaiting instead of blocking; compare the two classes: besides ``async`` and
``await`` they differ only where asyncio needs it (handlers may be
coroutines, tasks instead of threads).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from types import CoroutineType
from typing import Any

from engineio_core._signals import watch_sigterm
from engineio_core.base_server import (
    _OK,
    _POLLING,
    _TEXT_HTML,
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
)
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.errors import DisconnectReason, ProtocolError
from engineio_core.protocol.http import Request, Response
from engineio_core.protocol.router import Handshake
from engineio_core.protocol.session import Closed, Event, Wake

__all__ = ["AsyncServer"]

# Python 3.12+ starts tasks eagerly by itself (asyncio.Task(..., eager_start=True)).
_EAGER_TASKS = sys.version_info >= (3, 12)
# Seconds a WebSocket close may take before the server gives up on it.
_CLOSE_TIMEOUT = 10.0


def _copy_outcome(task: asyncio.Task[None], future: asyncio.Future[None]) -> None:
    if future.done():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        future.set_result(None)


async def _maybe_await(value: Any) -> Any:
    return await value if _awaitable(value) else value


def _awaitable(value: Any) -> bool:
    """``inspect.isawaitable`` for Python 3.10+ without its ABC checks, for the
    result of a hook or handler that may or may not be a coroutine function:
    run for every request."""
    return isinstance(value, CoroutineType) or (
        value is not None and hasattr(type(value), "__await__")
    )


#: What ``next()`` returns for a coroutine that has ended (_start_eagerly_by_hand).
_ENDED: Any = object()

#: ``SessionHandle.writer`` while a message handler's task writes the replies it
#: queued (AsyncServer._spawn_message swaps in the task, if one was needed).
_INLINE_WRITER: Any = object()


def _time_out(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class _Wake:
    """A session's wake event under asyncio: ``asyncio.Event``'s ``set``, ``clear``
    and ``is_set``, and ``wait(timeout)``.

    The timeout is a timer on the waiter future, where ``asyncio.wait_for`` (before
    Python 3.12) makes a task for every wait: a pending long-poll waits once per
    message it carries. Not ``asyncio.timeout()`` either: it cancels the current
    task, and a flow that starts eagerly (``_start_eagerly_by_hand``) takes its
    first step in a task that is not the one that resumes it. The heartbeat loop
    waits on one too.
    """

    __slots__ = ("_is_set", "_waiters")

    def __init__(self) -> None:
        self._is_set = False
        self._waiters: list[asyncio.Future[bool]] = []

    def is_set(self) -> bool:
        return self._is_set

    def set(self) -> None:
        if not self._is_set:
            self._is_set = True
            waiters = self._waiters
            if waiters:
                self._waiters = []
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(True)

    def clear(self) -> None:
        self._is_set = False

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until set (True) or ``timeout`` seconds have passed (False)."""
        if self._is_set:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _time_out, waiter)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            # Timed out or cancelled: not woken, so still in the list (set() hands
            # the woken ones a new, empty list).
            waiters = self._waiters
            if waiters and waiter in waiters:
                waiters.remove(waiter)


class AsyncServer(BaseServer):
    """An Engine.IO server for asyncio modes: ``aiohttp``, ``sanic``, ``tornado``,
    ``asgi`` or any installed asyncio-family plugin.

    Takes the same options as :class:`~engineio_core.server.Server`. Event
    handlers may be plain functions or coroutine functions.
    """

    family = "asyncio"

    def __init__(self, *args: Any, handle_sigterm: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The events the flows wait on (WaitWake): sessions' and the heartbeat's.
        self._new_wake = _Wake
        self._heartbeat_wake = _Wake()
        #: Installed at the first request, once the server has put its own SIGTERM
        #: handler in place and the event loop is known. A plugin whose framework
        #: shuts the app down in order by itself (Sanic's before_server_stop)
        #: sets this to False in ``attach``.
        self.handle_sigterm = handle_sigterm
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The session whose message handler is taking its first step now (see
        #: _spawn_message): its replies wait for the handler's end.
        self._deferring: SessionHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._perform_table: dict[type, Callable[[Any], Awaitable[Any]]] = {
            ReadBody: self._perform_read_body,
            WaitWake: self._perform_wait,
            # CallHandler: carried out in _run itself.
            SpawnFlow: self._perform_spawn_flow,
            Join: self._perform_join,
            Cancel: self._perform_cancel,
            AcceptWebSocket: self._perform_accept,
            WsReceive: lambda op: op.ws.receive(op.timeout),
            WsSend: _send,
            WsClose: self._perform_close,
        }

    # -- public API ------------------------------------------------------------------

    def attach(self, app: Any, engineio_path: str = "engine.io") -> None:
        """Serve Engine.IO at ``/<engineio_path>/`` of a framework app (aiohttp, Sanic)."""
        attach = self._mode.attach
        if attach is None:
            raise ValueError(
                f"async mode {self.async_mode!r} has no attach(): "
                f"wrap the server in its app class instead (e.g. ASGIApp)"
            )
        attach(app, self, engineio_path.strip("/"))

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        """Handle one HTTP request; called by the mode's framework glue."""
        if self.handle_sigterm:
            self._first_request()
        request = self._mode.translate_request(args)
        if not isinstance(request, Request):
            request = await request
        decision = self.router.route(request, self._lookup, time.monotonic())
        if type(decision) is Handshake and decision.transport is _POLLING:
            result: Any = await self._polling_handshake(request, decision)
        else:
            flow = self._request_flow(request, decision)
            del decision  # a WebSocket session's frame must not keep it (nor its session)
            # The first step here: a poll with packets waiting ends in it, and then
            # needs no driver coroutine.
            try:
                op = flow.send(None)
            except StopIteration as stop:
                result = stop.value
            else:
                run = self._run(flow, op)
                # This frame lasts as long as a WebSocket session: it must not keep
                # the first op, a handshake's connect call with the whole environ,
                # nor the ended flow and driver (a generator keeps its frame's memory).
                del op
                result = await run
                del run
            del flow
        if type(result) is _ReadWebSocket:
            reason = await self._read_websocket(result)
            result = await self._run(self._websocket_end_flow(result.handle, result.ws, reason))
        if isinstance(result, _WebSocketDone):
            return result.ws.response()
        reply = self._mode.make_response(result, request)
        return (await reply) if _awaitable(reply) else reply

    async def handle_polling_request(
        self,
        method: str,
        path: str,
        query_string: str,
        origin: str | None,
        content_type: str,
        content_length: int | None,
        accept_encoding: str | None,
        read_body: Callable[[int], Awaitable[bytes]] | None,
        make_request: Callable[[], Any] | None = None,
    ) -> Response | None:
        """Serve a plain long-polling request, or return None for ``handle_request``.

        Plain: a poll (GET) or a POST of an open polling session, without an
        ``Origin`` header and with the query :func:`~engineio_core.protocol.http.polling_sid`
        accepts, which is nearly every request of a long-polling client; and,
        given ``make_request``, a polling handshake without an ``Origin``
        header and with the query :func:`~engineio_core.protocol.http.polling_handshake`
        accepts. A plugin may offer its requests here first, reading just
        these fields from its framework's request; None means nothing was
        done (no byte of the body read), and ``handle_request`` gives the
        answer. The response is the one ``handle_request`` would give; the
        plugin sends it.

        ``read_body(limit)`` reads at most ``limit`` bytes of the body, as
        :attr:`~engineio_core.protocol.http.Request.read_body` does; a POST
        without one is declined. ``make_request()`` returns the request as the
        mode's ``translate_request`` does (or an awaitable of it): a handshake
        needs all of it, for the connect handler's environ and the mode's
        ``can_upgrade``.
        """
        if make_request is not None:  # a handshake, maybe (the glue passes it for those)
            handshake = self._plain_handshake(method, query_string, origin)
            if handshake is not None:
                if self.handle_sigterm:
                    self._first_request()
                request = make_request()
                if not isinstance(request, Request):
                    request = await request
                return await self._polling_handshake(request, handshake)
        handle = self._plain_polling_handle(method, query_string, origin)
        if handle is None:
            return None
        if method != "GET":
            return await self._plain_post(handle, path, content_type, content_length, read_body)
        # A poll: _poll_flow's steps, awaited here (no locks: asyncio tasks never
        # preempt) rather than in a coroutine of their own, which a pending poll
        # would resume through once more.
        session = handle.session
        try:
            packets = session.begin_poll()
        except ProtocolError:
            return None  # overlapping polls: handle_request closes the session
        if not packets:
            wake = handle.wake
            wake.clear()  # with the empty take: a wake after it counts
            try:
                while not packets:
                    now = time.monotonic()
                    if session.expired(now):
                        await self._run(self._close(handle, DisconnectReason.PING_TIMEOUT))
                    else:
                        await wake.wait(max(session.alive_until - now, 0.0) + 0.01)
                    packets = session.take_for_poll()
                    if not packets:
                        wake.clear()
            finally:
                session.end_poll()
        self._forget_if_closed(handle)
        return self._plain_payload_response(packets, session.protocol, accept_encoding)

    def takes_plain_polling(self) -> bool:
        """Whether an app wrapper may offer requests to :meth:`handle_polling_request`:
        not if ``handle_request`` was replaced (in a subclass or on the instance),
        which must then see every request."""
        return "handle_request" not in vars(self) and (
            type(self).handle_request is AsyncServer.handle_request
        )

    async def _plain_post(
        self,
        handle: SessionHandle,
        path: str,
        content_type: str,
        declared: int | None,
        read_body: Callable[[int], Awaitable[bytes]] | None,
    ) -> Response | None:
        # _post_flow's steps, awaited directly.
        session = handle.session
        if self._plain_post_declined(session, declared, read_body):
            return None
        assert read_body is not None
        try:
            body = await read_body(self.max_http_buffer_size + 1)
        except Exception as exc:  # each server fails its own way on a broken body
            refused = _unreadable(exc)
        else:
            begun = self._begin_post(handle, body, declared, None, content_type)
            if not isinstance(begun, _PostRefused):
                try:
                    for packet in begun:
                        events = self._receive_packet(handle, packet)
                        if events:
                            await self._after_plain(handle, events)
                finally:
                    session.end_post()
                return Response(200, [_TEXT_HTML], _OK)
            refused = begun
        await self._run(self._close(handle, refused.reason))
        return self._plain_error("POST", path, refused)

    def _first_request(self) -> None:
        # At the first request (while handle_sigterm is true): the server's own
        # SIGTERM handler is in place by then, and the loop is known.
        self.handle_sigterm = False
        self._loop = asyncio.get_running_loop()
        watch_sigterm(self, chain_only=True)

    async def _polling_handshake(self, request: Request, decision: Handshake) -> Response:
        # Server._polling_handshake, awaiting a coroutine connect handler.
        handle = self._begin_polling_handshake(request, decision)
        handler = self.handlers.get("connect")
        try:
            result: Any = handler(handle.session.sid, request.get_environ()) if handler else None
            if _awaitable(result):
                result = await result
        except Exception as exc:
            return self._connect_failed(request, handle, exc)
        except BaseException:  # cancelled in the handler (a client gone, say): no session left
            self._sessions.pop(handle.session.sid, None)
            raise
        return self._end_polling_handshake(request, handle, decision, result)

    async def _after_plain(self, handle: SessionHandle, events: list[Event]) -> None:
        # Server._after_plain, awaiting the disconnect handler.
        for event in events:
            if type(event) is not Closed and type(event) is not Wake:
                await self._run(self._after(handle, events))  # a message, without async_handlers
                return
        for event in events:
            if type(event) is Closed:
                args = self._on_closed(handle, event)
                if args is not None:
                    await self._call_handler_logged("disconnect", args)
            else:
                self._wake(handle)
        self._forget_if_closed(handle)

    async def send(self, sid: str, data: Any, binary: bool | None = None) -> None:
        """Send a message to ``sid``: str (text), bytes (binary), list or dict (JSON)."""
        flow = self._queue_message(sid, data, binary)
        if flow is not None:
            await self._run(flow)

    async def send_packet(self, sid: str, data: Any, binary: bool | None = None) -> None:
        """Alias of :meth:`send`."""
        await self.send(sid, data, binary)

    async def disconnect(self, sid: str | None = None) -> None:
        """Close ``sid``, or every session when ``sid`` is None."""
        sids = [sid] if sid is not None else list(self._sessions)
        for one in sids:
            handle = self._sessions.get(one)
            if handle is not None:
                await self._run(self._close(handle, DisconnectReason.SERVER_DISCONNECT))

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Close every session with a close packet and stop the heartbeat loop.

        Waits (at most ``timeout`` seconds) for the close packets to go out on
        pending polls and WebSockets; a polling client with no request in
        flight then gets 400 on its next poll, which engine.io-client treats
        as a closed connection too.
        """
        for handle in list(self._sessions.values()):
            await self._run(self._close(handle, DisconnectReason.SERVER_SHUTDOWN))
        deadline = time.monotonic() + timeout
        while self._closing_with_transport() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._forget_all()
        self._heartbeat_running = False
        self._heartbeat_wake.set()
        task = self._heartbeat_task
        self._heartbeat_task = None
        if task is not None:
            await asyncio.wait({task}, timeout=max(deadline - time.monotonic(), 0.1))

    def _shutdown_soon(self) -> None:
        """Schedule :meth:`shutdown` on the server's loop (safe in a signal handler)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._spawn_shutdown)

    def _spawn_shutdown(self) -> None:
        self._keep(asyncio.ensure_future(self._shutdown_logged()))

    async def _shutdown_logged(self) -> None:
        try:
            await self.shutdown()
        except Exception:
            self.logger.exception("shutdown failed")

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep without blocking the event loop."""
        await self._mode.sleep(seconds)

    def start_background_task(
        self, target: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        """Run coroutine function ``target(*args, **kwargs)`` as a task; returns it."""
        task: asyncio.Task[Any] = self._mode.spawn(target, *args, **kwargs)
        return task

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """An ``asyncio.Queue`` (or the mode's equivalent)."""
        return self._mode.create_queue()

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """An ``asyncio.Event`` (or the mode's equivalent)."""
        return self._mode.create_event()

    # -- driver --------------------------------------------------------------------------

    async def _run(self, flow: Flow, op: Any = None) -> Any:
        """Drive ``flow`` to its end; ``op``: the one its first step yielded, if taken."""
        table = self._perform_table
        if op is None:
            try:
                op = flow.send(None)
            except StopIteration as stop:
                return stop.value
        while True:
            try:
                if type(op) is CallHandler:
                    # Inline rather than through a coroutine of its own: a
                    # plain-function handler (connect and disconnect often are)
                    # costs no coroutine.
                    handler = self.handlers.get(op.event)
                    result: Any = handler(*op.args) if handler is not None else None
                    if _awaitable(result):
                        result = await result
                else:
                    result = await table[type(op)](op)
            except Exception as exc:
                try:
                    op = flow.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    op = flow.send(result)
                except StopIteration as stop:
                    return stop.value

    def _keep(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        # The loop only keeps weak references to tasks: hold them until done.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _spawn_flow(self, flow: Flow) -> asyncio.Task[Any]:
        return self._keep(asyncio.ensure_future(self._run_logged(flow)))

    async def _run_logged(self, flow: Flow) -> None:
        try:
            await self._run(flow)
        except Exception:
            self.logger.exception("background flow failed")

    async def _perform_read_body(self, op: ReadBody) -> bytes:
        read = op.request.read_body
        if read is None:
            return b""
        body = read(op.limit)  # a coroutine, as the hook asks; bytes are taken too
        return body if isinstance(body, bytes) else await body

    async def _read_websocket(self, reading: _ReadWebSocket) -> DisconnectReason:
        # A loop of reads, rather than an op per read through _run: this runs for
        # every message, and an op, a flow step and a trip through the op table
        # per read cost about 0.4 µs. The socket's own receive_many() is awaited
        # directly: no coroutine of ours stays on the stack of every idle
        # session's wait but this one.
        handle = reading.handle
        session = handle.session
        ws = reading.ws
        receive_many = getattr(ws, "receive_many", None)
        if receive_many is None:
            receive_many = partial(_receive_one_as_list, ws)
        receive = self._receive_websocket_message
        while not session.closed:
            try:
                batch = await receive_many()
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
                    await self._run(self._after(handle, events))
        return DisconnectReason.TRANSPORT_CLOSE

    async def _perform_wait(self, op: WaitWake) -> None:
        # Every event the flows wait on is a _Wake: a timer, no task, per wait.
        await op.event.wait(op.timeout)

    def _spawn_handler(self, event: str, args: tuple[Any, ...]) -> None:
        """Run the handler as an *eager* task: at once, up to its first real wait.

        The receive loop goes on as soon as the handler waits for anything, as
        with a task per message (``async_handlers``), but a handler that never
        waits (an echo: ``send`` only queues) costs no task and no loop turn.
        """
        self._start_eagerly(self._call_handler_logged(event, args))

    def _spawn_message(self, handle: SessionHandle, args: tuple[Any, ...]) -> None:
        """The ``message`` handler and the session's writes as one eager task.

        An echo's handler queues its reply and ends in its first step. Rather
        than a writer of its own, started eagerly for that one reply (a second
        coroutine and, before Python 3.12, a second StopIteration per message),
        the handler's task sends it once the handler has ended. If the handler
        waits for anything first, what it queued goes out at once, as before:
        deferring lasts for the handler's first step only."""
        outer = self._deferring
        self._deferring = handle
        try:
            task = self._start_eagerly(self._handle_message(handle, args))
        finally:
            self._deferring = outer
        if handle.writer is _INLINE_WRITER:
            handle.writer = task  # the task is now the session's writer, for Join/Cancel
        elif handle.wake_deferred:
            handle.wake_deferred = False  # the handler waits, with replies queued
            self._wake(handle)

    async def _handle_message(self, handle: SessionHandle, args: tuple[Any, ...]) -> None:
        handler = self.handlers.get("message")
        if handler is not None:
            try:
                result = handler(*args)
                if result is not None and (  # _awaitable(result), inline
                    type(result) is CoroutineType or hasattr(type(result), "__await__")
                ):
                    await result
            except Exception:
                self.logger.exception("message handler failed")
        if handle.wake_deferred and self._deferring is handle:
            # Still the first step: this task becomes the writer, as _wake would
            # have started one.
            handle.wake_deferred = False
            ws = handle.ws
            if ws is not None and not (handle.writing or handle.broken):
                handle.writing = True
                handle.writer = _INLINE_WRITER
                await self._write_until_empty(handle, ws)

    # -- WebSocket writes -------------------------------------------------------------
    #
    # No writer task per session: when a WebSocket session's outbox gets work, a
    # writer starts eagerly and sends right away; it becomes a task only if a send
    # has to wait for the peer, and it ends when the outbox is empty. An idle
    # session holds no task, and an echo's reply costs no task switch.

    def _wake(self, handle: SessionHandle) -> None:
        ws = handle.ws
        if ws is None:
            if handle.session.poll_pending:
                handle.wake.set()  # else the next poll finds the packets itself
            return
        if handle.writing or handle.broken:
            return  # the running writer takes what was just queued
        if handle is self._deferring:
            handle.wake_deferred = True  # its message handler sends when it ends
            return
        handle.writing = True
        handle.writer = self._start_eagerly(self._write_until_empty(handle, ws), isolate=False)

    def _start_writer_flow(self, handle: SessionHandle, ws: Any) -> Flow:
        self._wake(handle)  # for what was queued before the socket took over
        return
        yield

    async def _write_until_empty(self, handle: SessionHandle, ws: Any) -> None:
        # The writer flow's steps, awaited here rather than through _run: this
        # runs for every reply, and the flow's generator and ops cost about a
        # microsecond a message more.
        session = handle.session
        try:
            while True:
                data, closed = self._next_write(handle, True)
                if data is not None:
                    try:
                        # _send_data(), inline for one message (an echo's reply)
                        await (ws.send(data) if type(data) is not list else _send_data(ws, data))
                    except (WebSocketClosed, OSError):
                        handle.broken = True  # as in _websocket_writer_flow
                        return
                if closed:
                    self._forget_if_closed(handle)
                    await self._perform_close(WsClose(ws))
                    return
                if data is None or not (session.outbox or session.closed):
                    # Nothing came while sending (an echo's case): what a second
                    # _next_write would find, without its call.
                    return
        except Exception:
            self.logger.exception("WebSocket writer failed")
        finally:
            handle.writing = False

    def _start_eagerly(
        self, coro: Coroutine[Any, Any, None], isolate: bool = True
    ) -> asyncio.Task[None] | None:
        """Run ``coro`` now up to its first real wait; a task (returned) only from there.

        ``isolate=False`` (our own writer, which sets no context variables) skips
        the copy of the context a task would make for the first step."""
        loop = asyncio.get_running_loop()
        task = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg]
        return None if task.done() else self._keep(task)

    def _start_eagerly_by_hand(
        self, coro: Coroutine[Any, Any, None], isolate: bool = True
    ) -> asyncio.Task[None] | None:
        """Python 3.12's eager task start, for 3.10 and 3.11 (it is their
        ``_start_eagerly``: one call less per message handler than a test inside it).

        The first step runs here, in a copy of the context as a task would; if
        the coroutine suspends on a future, a task takes it over once that
        future is done (resuming it earlier would break the future protocol).
        """
        context = contextvars.copy_context() if isolate else None
        # next() with a default rather than send(None): a coroutine that ends in
        # its first step then raises no StopIteration (0.12 µs per message).
        steps = coro.__await__()
        waited_on = next(steps, _ENDED) if context is None else context.run(next, steps, _ENDED)
        if waited_on is _ENDED:
            return None
        if waited_on is None:
            # A bare yield (asyncio.sleep(0)): resume on the next loop turn.
            return self._resume(coro, context)
        if getattr(waited_on, "_asyncio_future_blocking", False):
            # The task starts once the future is done; until then it is pending
            # on it, as the coroutine is. A future to hand out now, for Join/Cancel:
            # Cancelling it cancels what the coroutine waits on, as Task.cancel() does.
            resumed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waited_on._asyncio_future_blocking = False

            def cancel_waited_on(future: asyncio.Future[None]) -> None:
                if future.cancelled() and not waited_on.done():
                    waited_on.cancel()

            def resume(_: Any) -> None:
                task = self._resume(coro, context)
                task.add_done_callback(lambda t: _copy_outcome(t, resumed))

            resumed.add_done_callback(cancel_waited_on)
            waited_on.add_done_callback(resume)
            return resumed  # type: ignore[return-value]
        coro.close()
        self.logger.error("a coroutine awaited %r, which is not an asyncio future", waited_on)
        return None

    if not _EAGER_TASKS:
        _start_eagerly = _start_eagerly_by_hand

    def _resume(
        self, coro: Coroutine[Any, Any, None], context: contextvars.Context | None
    ) -> asyncio.Task[None]:
        if sys.version_info >= (3, 11):
            return self._keep(asyncio.get_running_loop().create_task(coro, context=context))
        return self._keep(asyncio.ensure_future(coro))  # pragma: no cover - 3.10

    async def _call_handler_logged(self, event: str, args: tuple[Any, ...]) -> None:
        handler = self.handlers.get(event)
        if handler is None:
            return
        try:
            result = handler(*args)
            if _awaitable(result):
                await result
        except Exception:
            self.logger.exception("%s handler failed", event)

    async def _perform_spawn_flow(self, op: SpawnFlow) -> asyncio.Task[Any]:
        return self._spawn_flow(op.flow)

    async def _perform_join(self, op: Join) -> None:
        await asyncio.wait({op.task}, timeout=op.timeout)

    async def _perform_cancel(self, op: Cancel) -> None:
        op.task.cancel()

    async def _perform_close(self, op: WsClose) -> None:
        # Bounded: a framework's close can wait on a peer that stopped reading.
        try:
            await asyncio.wait_for(op.ws.close(op.code), _CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            self.logger.warning("closing a WebSocket timed out")

    async def _perform_accept(self, op: AcceptWebSocket) -> Any:
        wrap = self._mode.wrap_websocket
        if wrap is None:
            return None
        return await _maybe_await(wrap(op.request, op.max_message_size))


def _send(op: WsSend) -> Awaitable[None]:
    return _send_data(op.ws, op.data)


def _send_data(ws: Any, data: str | bytes | list[str | bytes]) -> Awaitable[None]:
    """The socket's own ``send()`` awaitable for one message (no coroutine of ours)."""
    if type(data) is not list:
        return ws.send(data)  # type: ignore[no-any-return]
    send_many = getattr(ws, "send_many", None)
    if send_many is not None:
        return send_many(data)  # type: ignore[no-any-return]
    return _send_one_by_one(ws, data)


async def _send_one_by_one(ws: Any, data: list[str | bytes]) -> None:
    for message in data:
        await ws.send(message)


async def _receive_one_as_list(ws: Any) -> list[str | bytes] | None:
    message = await ws.receive()
    return None if message is None else [message]
