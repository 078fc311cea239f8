"""eventlet's primitives in the shapes engineio-core's sync family expects.

Imported only once the eventlet mode is in use. Nothing here needs eventlet's
monkey-patching: every wait goes through eventlet's hub explicitly.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.hubs
from eventlet.green import threading as green_threading
from eventlet.support.greenlets import GreenletExit

from engineio_core.plugin.greenlets import pooled_spawner

__all__ = ["GreenTask", "call_soon", "new_event", "new_lock", "spawn_detached"]

#: Bare greenlets (as spawn_n's, without GreenThread's exit event and result),
#: reused: a new greenlet costs about 10 µs on Python 3.11+ (see
#: engineio_core.plugin.greenlets).
spawn_detached = pooled_spawner(
    eventlet.hubs.get_hub,
    lambda hub: functools.partial(hub.schedule_call_global, 0),
)


def call_soon(callback: Callable[..., None], args: tuple[Any, ...]) -> None:
    """Run ``callback(*args)`` in the hub once the green threads ready now have run."""
    eventlet.hubs.get_hub().schedule_call_global(0, callback, *args)


def new_event() -> Any:
    """An event shaped like ``threading.Event`` whose ``wait`` yields to the hub."""
    return green_threading.Event()


def new_lock() -> Any:
    """A lock shaped like ``threading.Lock`` whose ``acquire`` yields to the hub."""
    return green_threading.Lock()


class GreenTask:
    """A green thread running ``target``, with ``threading.Thread``'s ``join(timeout)``.

    eventlet's ``GreenThread`` only has ``wait()``, which re-raises the
    target's exception and cannot time out: ``join`` bounds it with an
    ``eventlet.Timeout`` and does not raise. No event of our own per task:
    a message handler is a task, so spawning has to stay cheap.
    """

    __slots__ = ("thread",)

    def __init__(
        self, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.thread = eventlet.spawn(target, *args, **kwargs)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the target returned or raised, at most ``timeout`` seconds."""
        if self.thread.dead:
            return
        # wait() re-raises the target's failure, which eventlet has reported already.
        with eventlet.Timeout(timeout, False), contextlib.suppress(Exception, GreenletExit):
            self.thread.wait()

    def is_alive(self) -> bool:
        return not self.thread.dead
