"""The steps a server flow asks its driver to perform.

The request, WebSocket and heartbeat logic is written once, as generators
that ``yield`` these operations and receive their results (httpx's auth
flows work the same way). ``Server`` performs them by blocking calls,
``AsyncServer`` by awaiting; neither contains protocol logic. An operation
that fails is thrown back into the flow at the ``yield``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from engineio_core.protocol.http import Request

__all__ = [
    "AcceptWebSocket",
    "CallHandler",
    "Cancel",
    "Flow",
    "Join",
    "ReadBody",
    "SpawnFlow",
    "WaitWake",
    "WsClose",
    "WsReceive",
    "WsSend",
    "run_flow",
]


@dataclass(slots=True)
class ReadBody:
    """Read at most ``limit`` bytes of the request body -> ``bytes``."""

    request: Request
    limit: int


@dataclass(slots=True)
class WaitWake:
    """Wait until ``event`` is set or ``timeout`` seconds pass -> None."""

    event: Any
    timeout: float | None


@dataclass(slots=True)
class CallHandler:
    """Run event handler ``event`` now and return its result (errors are raised)."""

    event: str
    args: tuple[Any, ...]


@dataclass(slots=True)
class SpawnFlow:
    """Run another flow concurrently -> a task handle for :class:`Join`."""

    flow: Flow


@dataclass(slots=True)
class Join:
    """Wait (at most ``timeout``) for a task from :class:`SpawnFlow` -> None."""

    task: Any
    timeout: float


@dataclass(slots=True)
class Cancel:
    """Stop a task from :class:`SpawnFlow` that may be stuck in an operation -> None.

    Best effort: asyncio cancels the task; a thread cannot be stopped, so the
    sync driver does nothing and relies on closing the socket under it.
    """

    task: Any


@dataclass(slots=True)
class AcceptWebSocket:
    """Accept the request's WebSocket -> the wrapped socket, or None if impossible."""

    request: Request
    max_message_size: int


@dataclass(slots=True)
class WsReceive:
    """Next message -> ``str``/``bytes``, None when closed; TimeoutError after ``timeout``."""

    ws: Any
    timeout: float | None


@dataclass(slots=True)
class WsSend:
    """Send a message, or a list of messages in order -> None; ``WebSocketClosed``."""

    ws: Any
    data: str | bytes | list[str | bytes]


@dataclass(slots=True)
class WsClose:
    ws: Any
    code: int = 1000


Op = (
    ReadBody
    | WaitWake
    | CallHandler
    | SpawnFlow
    | Join
    | Cancel
    | AcceptWebSocket
    | WsReceive
    | WsSend
    | WsClose
)
Flow = Generator[Any, Any, Any]


def run_flow(
    flow: Flow,
    perform: Callable[[Any], Any],
    result: Any = None,
    error: BaseException | None = None,
) -> Any:
    """Drive ``flow`` to completion with a blocking ``perform(op)``; return its value.

    A flow resumed after an operation performed elsewhere gets that
    operation's ``result`` (or ``error``, thrown in) first.
    """
    while True:
        try:
            op = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as stop:
            return stop.value
        error = None
        try:
            result = perform(op)
        except Exception as exc:
            result, error = None, exc
