"""Detached tasks on reused greenlets, for greenlet modes' ``eio_spawn_detached``.

A new greenlet is dear on Python 3.11 and later: its first frame needs a data
stack of its own, which CPython maps with ``mmap`` and unmaps when the greenlet
ends. Under gevent that is about 10 µs per greenlet, more than the rest of an
echoed message's work, and a greenlet mode starts one per message
(``async_handlers``). :func:`pooled_spawner` keeps the greenlets that finished a
job parked in the hub and runs new jobs on them.

Jobs are queued, and one hub callback hands them out in order, each to a
greenlet parked at that moment. A job that does not wait is over, and its
greenlet parked again, before the next one is handed out, so a burst of such
jobs (every message a loop turn's reads brought in) runs on one greenlet
however long it is. Only jobs that wait at the same time need greenlets of
their own: the pool grows to what the handlers wait on, not to the burst.

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

#: Greenlets kept parked per hub. Jobs that wait at the same time each hold a
#: greenlet; past this many parked, the extra ones end when their job does.
DEFAULT_MAX_IDLE = 64

_STATE = "_engineio_core_parked"

_Job = tuple[Callable[..., Any], tuple[Any, ...]]


class _Parked:
    """One hub's parked greenlets, its queued jobs and its "run this soon" call."""

    __slots__ = ("hub", "idle", "jobs", "schedule")

    def __init__(self, hub: Any, schedule: Callable[..., Any]) -> None:
        self.hub = hub
        self.idle: list[Any] = []
        self.jobs: list[_Job] = []  # not empty only while a dispatch is scheduled
        self.schedule = schedule


def _raise(error: BaseException) -> None:
    raise error


def pooled_spawner(
    get_hub: Callable[[], Any],
    scheduler: Callable[[Any], Callable[..., Any]],
    max_idle: int = DEFAULT_MAX_IDLE,
) -> Callable[[Callable[..., Any], tuple[Any, ...]], None]:
    """An ``eio_spawn_detached(target, args)`` that reuses finished greenlets.

    ``get_hub()`` is the library's hub of the calling thread (each hub has its
    own parked greenlets); ``scheduler(hub)`` is the hub's call that runs
    ``fn(*args)`` in the hub's greenlet once the greenlets ready now have run
    (gevent: ``hub.loop.run_callback``; eventlet:
    ``functools.partial(hub.schedule_call_global, 0)``). Greenlets are started
    from there, as children of the hub's greenlet, and parked ones wait in
    ``hub.switch()``, as the library's own waits do.

    A job that raises ends its greenlet with the exception, which the hub then
    reports as it does an error in its callbacks; only greenlets whose job
    returned are parked.
    """
    from greenlet import getcurrent, greenlet

    def work(parked: _Parked, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        current = getcurrent()
        switch = parked.hub.switch
        idle = parked.idle
        while True:
            target(*args)
            if len(idle) >= max_idle:
                return
            current.gr_context = None  # the next job starts in an empty context
            idle.append(current)
            target, args = switch()  # parked until dispatch hands it a job

    def dispatch(parked: _Parked) -> None:
        # In the hub's greenlet. Switching to a greenlet runs its job until the
        # job ends (the greenlet parks again, in hub.switch()) or waits; either
        # way the switch returns here.
        jobs = parked.jobs
        parked.jobs = []  # jobs queued from here on get a dispatch of their own
        idle = parked.idle
        for target, args in jobs:
            worker: Any = None
            while idle:
                worker = idle.pop()
                if not worker.dead:  # only if something killed it while parked
                    break
                worker = None
            try:
                if worker is None:
                    worker = greenlet(work)  # a child of this, the hub's greenlet
                    worker.switch(parked, target, args)
                else:
                    worker.switch(target, args)
            except BaseException as error:
                if not worker.dead:
                    raise  # thrown into the hub itself, not a job's
                # The job raised and its greenlet ended, handing the error to
                # its parent, the hub, here: report it from a callback of its own
                # and go on with the other jobs.
                parked.schedule(_raise, error)

    def spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
        hub = get_hub()
        parked = getattr(hub, _STATE, None)
        if parked is None:
            parked = _Parked(hub, scheduler(hub))
            setattr(hub, _STATE, parked)
        jobs = parked.jobs
        jobs.append((target, args))
        if len(jobs) == 1:
            parked.schedule(dispatch, parked)

    return spawn_detached
