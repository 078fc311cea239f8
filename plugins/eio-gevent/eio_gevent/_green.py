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

from engineio_core.plugin.greenlets import pooled_spawner

# eio_call_soon (gevent_mode) calls gevent through this module's ``gevent``.
__all__ = [
    "new_event",
    "new_lock",
    "new_queue",
    "sleep",
    "spawn",
    "spawn_detached",
]


def spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Start a greenlet; it has ``join(timeout)`` like ``threading.Thread``."""
    return gevent.spawn(target, *args, **kwargs)


#: A greenlet per message, but a reused one: a new greenlet costs about 10 µs on
#: Python 3.11+ (see engineio_core.plugin.greenlets), a parked one 0.7 µs.
spawn_detached = pooled_spawner(gevent.get_hub, lambda hub: hub.loop.run_callback)


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
