"""What a mode plugin provides, as types.

The hook specs in :mod:`engineio_core.plugin.hookspecs` return these.
Sync-family modes return the plain protocols; asyncio-family modes return the
``Async*`` ones, whose blocking methods are coroutines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "AsyncEvent",
    "AsyncWebSocket",
    "Event",
    "Family",
    "MessageTooLarge",
    "ModeInfo",
    "Queue",
    "WebSocket",
    "WebSocketClosed",
]

Family = Literal["sync", "asyncio"]


@dataclass(frozen=True, slots=True)
class ModeInfo:
    """How a mode describes itself.

    ``name`` is the ``async_mode`` users pass, and must equal the entry-point
    name. ``family`` says which server can drive it (``Server`` drives
    ``"sync"``, ``AsyncServer`` drives ``"asyncio"``). ``rank`` orders the
    automatic choice, highest first; the shipped ranks are spaced by 50 so a
    third-party mode can slot in between. ``can_websocket`` is False for a
    mode that only ever serves long-polling.

    ``preemptive`` (sync modes) says whether the mode's tasks can be switched
    anywhere, as OS threads are. A greenlet mode, whose tasks switch only where
    they wait, sets it to False: ``Server`` then takes no lock around a
    session's state, since nothing in those critical sections ever waits. A
    green lock costs 0.2 µs or more a time, three times per message. Leave it
    True unless every task of the mode is cooperative.
    """

    name: str
    family: Family
    rank: int
    can_websocket: bool = True
    description: str = ""
    preemptive: bool = True


class WebSocketClosed(Exception):
    """Raised by a wrapped WebSocket's ``send`` when the peer is gone."""


@runtime_checkable
class Event(Protocol):
    """A settable flag that tasks wait on (``threading.Event``'s shape)."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class AsyncEvent(Protocol):
    """``asyncio.Event``'s shape; timeouts are applied by the caller."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    async def wait(self) -> Any: ...


class Queue(Protocol):
    """A FIFO between tasks. ``get`` raises ``queue.Empty`` on timeout."""

    def put(self, item: Any) -> None: ...
    def get(self, block: bool = True, timeout: float | None = None) -> Any: ...


class WebSocket(Protocol):
    """An accepted WebSocket, in a sync mode.

    ``receive`` blocks for the next message and returns ``str`` for a text
    frame, ``bytes`` for a binary one, or None once the connection is closed;
    with a ``timeout`` it raises ``TimeoutError`` when nothing came in time.
    ``send`` raises :class:`WebSocketClosed` if the peer is gone. ``close``
    is idempotent. After the session ends, the server returns ``response()``
    to the framework as the result of the request.

    Optional, for speed: ``receive_many()`` returns every message already
    read (a non-empty list, waiting for the first; None once closed), so a
    burst costs the server one call; ``send_many(messages)`` sends a list in
    order, in one write; ``try_send(data)`` (a message or a list) never waits
    and returns None when all went out, else a blocking callable that
    finishes the job. With ``try_send`` the server runs no writer task per
    session (see ``docs/writing-a-plugin.md``).
    """

    def receive(self, timeout: float | None = None) -> str | bytes | None: ...
    def send(self, data: str | bytes) -> None: ...
    def close(self, code: int = 1000) -> None: ...
    def response(self) -> Any: ...


class AsyncWebSocket(Protocol):
    """An accepted WebSocket, in an asyncio mode; see :class:`WebSocket`."""

    async def receive(self, timeout: float | None = None) -> str | bytes | None: ...
    async def send(self, data: str | bytes) -> None: ...
    async def close(self, code: int = 1000) -> None: ...
    def response(self) -> Any: ...


class MessageTooLarge(Exception):
    """Raised by a wrapped WebSocket's ``receive`` after it closed the
    connection (code 1009) because a message exceeded the size limit."""
