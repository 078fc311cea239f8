"""Hook implementations every asyncio-family mode can share.

A mode module re-exports these (``from engineio_core.plugin.asyncio_mode
import eio_spawn, eio_sleep, eio_create_queue, eio_create_event``) and adds
its own request, response and WebSocket hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engineio_core.plugin.hookspecs import hookimpl

__all__ = ["eio_create_event", "eio_create_queue", "eio_sleep", "eio_spawn"]


@hookimpl
def eio_spawn(
    target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> asyncio.Task[Any]:
    result = target(*args, **kwargs)
    if not asyncio.iscoroutine(result):
        raise TypeError(f"{target!r} is not a coroutine function: background tasks must be")
    return asyncio.ensure_future(result)


@hookimpl
async def eio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@hookimpl
def eio_create_queue() -> asyncio.Queue[Any]:
    return asyncio.Queue()


@hookimpl
def eio_create_event() -> asyncio.Event:
    return asyncio.Event()
