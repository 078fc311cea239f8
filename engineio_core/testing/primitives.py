"""Checks of a mode's primitives, run inside the mode's own runtime.

Each check returns None when it passes or a sentence saying what went wrong.
Sync-family checks call the primitives directly; asyncio-family checks run
in a coroutine on the running loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import time
from collections.abc import Awaitable, Callable
from typing import Any

from engineio_core.plugin.manager import SelectedMode

__all__ = ["run_async_checks", "run_sync_checks"]

Result = tuple[str, str | None]


def _sync_spawn_and_join(mode: SelectedMode) -> str | None:
    seen: list[int] = []
    task = mode.spawn(seen.append, 42)
    task.join(5)
    return None if seen == [42] else f"spawned task did not run (saw {seen})"


def _sync_sleep_yields(mode: SelectedMode) -> str | None:
    seen: list[str] = []
    task = mode.spawn(seen.append, "other task ran")
    mode.sleep(0.02)
    ran = bool(seen)
    task.join(5)
    return None if ran else "sleep() did not let a spawned task run"


def _sync_queue(mode: SelectedMode) -> str | None:
    q = mode.create_queue()
    for item in (1, 2, 3):
        q.put(item)
    got = [q.get(timeout=1) for _ in range(3)]
    if got != [1, 2, 3]:
        return f"queue order {got}, expected [1, 2, 3]"
    start = time.monotonic()
    try:
        q.get(timeout=0.05)
    except queue.Empty:
        elapsed = time.monotonic() - start
        return None if elapsed < 2 else f"get(timeout=0.05) took {elapsed:.2f}s"
    except Exception as exc:  # the contract: queue.Empty, nothing else
        return f"get() on an empty queue raised {type(exc).__name__}, not queue.Empty"
    return "get() on an empty queue returned instead of raising queue.Empty"


def _sync_event(mode: SelectedMode) -> str | None:
    event = mode.create_event()
    if event.wait(0.05) is not False:
        return "wait(timeout) on an unset event did not return False"
    mode.spawn(event.set)
    if event.wait(5) is not True:
        return "wait() did not return True after another task set the event"
    event.clear()
    return None if not event.is_set() else "clear() did not clear the event"


_MARK: contextvars.ContextVar[str] = contextvars.ContextVar("engineio_core_check_mark")


def _sync_detached_tasks(mode: SelectedMode) -> str | None:
    """spawn_detached's tasks run at once side by side, each in an empty context
    (as a new thread or greenlet would be, even where the mode reuses them), and
    one that raises stops no later one."""
    seen: list[tuple[int, str]] = []

    def job(n: int, wait: float) -> None:
        if wait:
            mode.sleep(wait)
        seen.append((n, _MARK.get("empty")))
        _MARK.set(f"left by task {n}")
        if n == 2:
            raise RuntimeError("a detached task failing on purpose (engineio-core check)")

    for n, wait in enumerate((0.2, 0, 0, 0, 0)):
        mode.spawn_detached(job, (n, wait))
    deadline = time.monotonic() + 5
    while len(seen) < 4 and time.monotonic() < deadline:
        mode.sleep(0.01)
    for n in range(5, 9):  # a second round, on whatever the first one left
        mode.spawn_detached(job, (n, 0))
    while len(seen) < 9 and time.monotonic() < deadline:
        mode.sleep(0.01)
    order = [n for n, _ in seen]
    if sorted(order) != list(range(9)):
        return f"detached tasks ran {order}, expected 0 to 8 (task 2 raises)"
    if order[0] == 0:
        return "a detached task that sleeps held up the tasks spawned after it"
    leaked = [(n, mark) for n, mark in seen if mark != "empty"]
    if leaked:
        return f"detached tasks started with a context variable set: {leaked}"
    return None


def run_sync_checks(mode: SelectedMode) -> list[Result]:
    checks: list[tuple[str, Callable[[SelectedMode], str | None]]] = [
        ("spawn_and_join", _sync_spawn_and_join),
        ("sleep_yields", _sync_sleep_yields),
        ("queue_order_and_timeout", _sync_queue),
        ("event_wait_and_timeout", _sync_event),
        ("detached_tasks", _sync_detached_tasks),
    ]
    return [(name, _guard(check, mode)) for name, check in checks]


def _guard(check: Callable[[SelectedMode], str | None], mode: SelectedMode) -> str | None:
    try:
        return check(mode)
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"


async def _async_spawn_and_join(mode: SelectedMode) -> str | None:
    seen: list[int] = []

    async def job() -> int:
        seen.append(42)
        return 7

    task = mode.spawn(job)
    if not isinstance(task, asyncio.Task):
        return f"eio_spawn returned {type(task).__name__}, not an asyncio.Task"
    result = await asyncio.wait_for(task, 5)
    return None if seen == [42] and result == 7 else "spawned task did not run to completion"


async def _async_sleep_yields(mode: SelectedMode) -> str | None:
    seen: list[str] = []

    async def job() -> None:
        seen.append("ran")

    task = mode.spawn(job)
    await mode.sleep(0.01)
    ran = bool(seen)
    await task
    return None if ran else "sleep() did not let a spawned task run"


async def _async_queue(mode: SelectedMode) -> str | None:
    q = mode.create_queue()
    for item in (1, 2, 3):
        await _maybe(q.put(item))
    got = [await asyncio.wait_for(q.get(), 1) for _ in range(3)]
    if got != [1, 2, 3]:
        return f"queue order {got}, expected [1, 2, 3]"
    try:
        await asyncio.wait_for(q.get(), 0.05)
    except asyncio.TimeoutError:
        return None
    return "get() on an empty queue returned"


async def _async_event(mode: SelectedMode) -> str | None:
    event = mode.create_event()
    try:
        await asyncio.wait_for(event.wait(), 0.05)
        return "wait() on an unset event returned"
    except asyncio.TimeoutError:
        pass

    async def setter() -> None:
        event.set()

    mode.spawn(setter)
    await asyncio.wait_for(event.wait(), 5)
    event.clear()
    return None if not event.is_set() else "clear() did not clear the event"


async def _maybe(value: Any) -> Any:
    return await value if isinstance(value, Awaitable) else value


async def run_async_checks(mode: SelectedMode) -> list[Result]:
    checks = [
        ("spawn_and_join", _async_spawn_and_join),
        ("sleep_yields", _async_sleep_yields),
        ("queue_order_and_timeout", _async_queue),
        ("event_wait_and_timeout", _async_event),
    ]
    results: list[Result] = []
    for name, check in checks:
        try:
            results.append((name, await check(mode)))
        except Exception as exc:
            results.append((name, f"raised {type(exc).__name__}: {exc}"))
    return results
