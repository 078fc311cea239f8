"""eventlet's primitives in the shapes engineio-core's sync family expects.

Imported only once the eventlet mode is in use. Nothing here needs eventlet's
monkey-patching: every wait goes through eventlet's hub explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.green import threading as green_threading

__all__ = ["GreenTask", "new_event", "new_lock"]


def new_event() -> Any:
    """An event shaped like ``threading.Event`` whose ``wait`` yields to the hub."""
    return green_threading.Event()


def new_lock() -> Any:
    """A lock shaped like ``threading.Lock`` whose ``acquire`` yields to the hub."""
    return green_threading.Lock()


class GreenTask:
    """A green thread running ``target``, with ``threading.Thread``'s ``join(timeout)``.

    eventlet's ``GreenThread`` only has ``wait()``, which re-raises the
    target's exception and cannot time out.
    """

    __slots__ = ("_done", "thread")

    def __init__(
        self, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self._done = new_event()
        self.thread = eventlet.spawn(self._run, target, args, kwargs)

    def _run(
        self, target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            return target(*args, **kwargs)
        finally:
            self._done.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the target returned or raised, at most ``timeout`` seconds."""
        self._done.wait(timeout)

    def is_alive(self) -> bool:
        return not self._done.is_set()
