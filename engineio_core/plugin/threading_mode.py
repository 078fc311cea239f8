"""The built-in ``threading`` async mode: one OS thread per task.

Registered through engineio-core's own entry point, like any installed mode.
Requests and responses are WSGI (see :mod:`engineio_core.plugin.wsgi_mode`);
WebSockets are spoken with wsproto over the raw socket that werkzeug's
development server and gunicorn's sync/gthread workers put in the environ
(see :mod:`engineio_core.plugin.wsproto_socket`, imported on first use).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from contextvars import Context
from typing import Any

from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.plugin.types import ModeInfo
from engineio_core.plugin.wsgi_mode import eio_make_response, eio_translate_request
from engineio_core.protocol.http import Request

__all__ = [
    "eio_can_upgrade",
    "eio_create_event",
    "eio_create_queue",
    "eio_make_response",
    "eio_mode_info",
    "eio_sleep",
    "eio_spawn",
    "eio_translate_request",
    "eio_unavailable_reason",
    "eio_wrap_websocket",
]

_INFO = ModeInfo(
    name="threading",
    family="sync",
    rank=0,
    can_websocket=True,
    description="OS threads; WSGI; WebSocket on werkzeug and gunicorn (sync, gthread)",
)
# Same keys as wsproto_socket.RAW_SOCKET_KEYS, kept here so that answering a
# handshake does not import wsproto.
_RAW_SOCKET_KEYS = frozenset(("werkzeug.socket", "gunicorn.socket"))


@hookimpl
def eio_mode_info() -> ModeInfo:
    return _INFO


@hookimpl
def eio_unavailable_reason() -> str | None:
    return None


class _Task:
    """A job run by a pooled thread; joinable like a ``threading.Thread``, unless
    made with ``joinable=False`` (``eio_spawn_detached``: a message handler per
    message, which nobody joins, then costs no Event to make and to set)."""

    __slots__ = ("_args", "_done", "_kwargs", "_target", "daemon")

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        joinable: bool = True,
    ) -> None:
        self._target, self._args, self._kwargs = target, args, kwargs
        self._done = threading.Event() if joinable else None
        self.daemon = True

    def run(self) -> None:
        try:
            # In an empty context, as in a new thread: a task must not find the
            # context variables the previous task on this pooled thread set.
            Context().run(self._target, *self._args, **self._kwargs)
        except Exception:
            # Reported as an uncaught exception in a thread would be; the thread lives on.
            exc_type, exc, tb = sys.exc_info()
            threading.excepthook(
                threading.ExceptHookArgs((exc_type, exc, tb, threading.current_thread()))
            )
        finally:
            self._target = self._args = self._kwargs = None  # type: ignore[assignment]

    def finish(self) -> None:
        if self._done is not None:
            self._done.set()

    def join(self, timeout: float | None = None) -> None:
        assert self._done is not None, "a detached task cannot be joined"
        self._done.wait(timeout)

    def is_alive(self) -> bool:
        assert self._done is not None, "a detached task has no handle"
        return not self._done.is_set()


class _ThreadPool:
    """Threads that outlive their task and take the next one: no thread start per task.

    Unbounded like a thread per task (a blocked task never delays another): a task
    goes to an idle thread if there is one, else to a new thread. A thread idle for
    ``idle_timeout`` seconds exits.
    """

    def __init__(self, idle_timeout: float = 30.0) -> None:
        self._tasks: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._idle_timeout = idle_timeout

    def submit(self, task: _Task) -> None:
        with self._lock:
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1
        if reuse:
            self._tasks.put(task)
        else:
            threading.Thread(target=self._work, args=(task,), daemon=True).start()

    def _work(self, task: _Task) -> None:
        while True:
            task.run()
            with self._lock:
                self._idle += 1
            # Counted as idle before anyone joining the task wakes: a task spawned
            # right after a join() always finds this thread.
            task.finish()
            del task
            while True:
                try:
                    task = self._tasks.get(timeout=self._idle_timeout)
                    break
                except queue.Empty:
                    with self._lock:
                        if self._idle > 0:  # nobody counted on this thread: leave
                            self._idle -= 1
                            return
                    # A submitter claimed an idle thread: its task is on the way.


_POOL = _ThreadPool()


@hookimpl
def eio_spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Task:
    task = _Task(target, args, kwargs)
    _POOL.submit(task)
    return task


_NO_KWARGS: dict[str, Any] = {}


@hookimpl
def eio_spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _POOL.submit(_Task(target, args, _NO_KWARGS, joinable=False))


@hookimpl
def eio_sleep(seconds: float) -> None:
    time.sleep(seconds)


@hookimpl
def eio_create_queue() -> queue.Queue[Any]:
    return queue.Queue()


@hookimpl
def eio_create_event() -> threading.Event:
    return threading.Event()


@hookimpl
def eio_can_upgrade(request: Request) -> bool:
    environ = request.environ
    # One C call rather than a generator: every polling handshake asks.
    return isinstance(environ, dict) and not _RAW_SOCKET_KEYS.isdisjoint(environ)


@hookimpl
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    from engineio_core.plugin.wsproto_socket import accept_websocket

    environ = request.environ
    if not isinstance(environ, dict):
        return None
    return accept_websocket(environ, max_message_size=max_message_size)
