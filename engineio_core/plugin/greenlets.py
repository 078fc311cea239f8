"""Detached tasks on reused greenlets, for greenlet modes' ``eio_spawn_detached``.

A new greenlet is dear on Python 3.11 and later: its first frame needs a data
stack of its own, which CPython maps with ``mmap`` and unmaps when the greenlet
ends. Under gevent that is about 10 µs per greenlet, more than the rest of an
echoed message's work, and a greenlet mode starts one per message
(``async_handlers``). :func:`pooled_spawner` keeps the greenlets that finished a
job parked in the hub, and gives each new job to one of them.

What a job sees is what a fresh greenlet would give it, but for greenlet-local
storage (``gevent.local``, or ``threading.local`` when monkey-patched), which a
later job on the same greenlet may find, as threads of a pool do: each job runs
in an empty ``contextvars`` context, so use context variables for per-call state.

Nothing here imports a greenlet library; the plugin passes its own calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_MAX_IDLE", "pooled_spawner"]

#: Greenlets kept parked per hub. A burst that runs more jobs at once starts
#: more greenlets; past this many, the extra ones end when their job does.
DEFAULT_MAX_IDLE = 64

_STATE = "_engineio_core_parked"


class _Parked:
    """One hub's parked greenlets and its "run this soon" call."""

    __slots__ = ("idle", "schedule")

    def __init__(self, schedule: Callable[..., Any]) -> None:
        self.idle: list[Any] = []
        self.schedule = schedule


def pooled_spawner(
    get_hub: Callable[[], Any],
    spawn_raw: Callable[..., Any],
    scheduler: Callable[[Any], Callable[..., Any]],
    max_idle: int = DEFAULT_MAX_IDLE,
) -> Callable[[Callable[..., Any], tuple[Any, ...]], None]:
    """An ``eio_spawn_detached(target, args)`` that reuses finished greenlets.

    ``get_hub()`` is the library's hub of the calling thread (each hub has its
    own parked greenlets); ``spawn_raw(fn, *args)`` starts a bare greenlet that
    runs ``fn(*args)`` soon; ``scheduler(hub)`` is the hub's call that runs
    ``fn(*args)`` once the greenlets ready now have run (gevent:
    ``hub.loop.run_callback``; eventlet: ``functools.partial(hub.schedule_call_global, 0)``).
    Parked greenlets wait in ``hub.switch()``, as the library's own waits do.

    A job that raises ends its greenlet with the exception, which the hub reports
    as it does for a raw greenlet; only greenlets whose job returned are parked.
    """
    from greenlet import getcurrent

    def work(hub: Any, parked: _Parked, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        current = getcurrent()
        idle = parked.idle
        while True:
            target(*args)
            if len(idle) >= max_idle:
                return
            current.gr_context = None  # the next job starts in an empty context
            idle.append(current)
            target, args = hub.switch()  # parked until spawn_detached hands it a job

    def spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        hub = get_hub()
        parked = getattr(hub, _STATE, None)
        if parked is None:
            parked = _Parked(scheduler(hub))
            setattr(hub, _STATE, parked)
        idle = parked.idle
        while idle:
            worker = idle.pop()
            if not worker.dead:  # only if something killed it while parked
                parked.schedule(worker.switch, target, args)
                return
        spawn_raw(work, hub, parked, target, args)

    return spawn_detached
