"""gevent's primitives in the shapes engineio-core's sync family expects.

Imported only once a gevent mode is in use. Nothing here needs gevent's
monkey-patching: every wait goes through gevent's hub explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.queue
import gevent.thread

# eio_spawn_detached and eio_call_soon (gevent_mode) call gevent through this
# module's ``gevent`` directly.
__all__ = [
    "new_event",
    "new_lock",
    "new_queue",
    "sleep",
    "spawn",
]


def spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Start a greenlet; it has ``join(timeout)`` like ``threading.Thread``."""
    return gevent.spawn(target, *args, **kwargs)


def sleep(seconds: float) -> None:
    gevent.sleep(seconds)


def new_queue() -> Any:
    """A FIFO whose ``get`` yields to the hub and raises ``queue.Empty`` on timeout."""
    return gevent.queue.Queue()


def new_event() -> Any:
    """An event shaped like ``threading.Event`` whose ``wait`` yields to the hub."""
    return gevent.event.Event()


def new_lock() -> Any:
    """A lock shaped like ``threading.Lock`` whose ``acquire`` yields to the hub."""
    return gevent.thread.allocate_lock()
