"""SIGTERM ends a WSGI or greenlet server's sessions cleanly.

ASGI servers, aiohttp, Sanic and Tornado tell the application they are
stopping (lifespan, on_shutdown); WSGI servers do not. So a sync
:class:`~engineio_core.Server` created in the main thread chains a SIGTERM
handler in front of whatever handler is there: it starts ``shutdown()`` in the
background (every session gets its close packet, WebSockets close, pending
polls return) and then lets the previous handler do what it did:

* gunicorn's workers stop gracefully, and since no request is left hanging on
  a long-poll or WebSocket, they exit at once instead of after
  ``graceful_timeout``;
* where SIGTERM had its default action (``eventlet.wsgi.server``, gevent's
  ``pywsgi``, werkzeug), the process is terminated by the same signal once the
  shutdown is over (bounded by ``shutdown()``'s timeout), as it would have been.

One handler per process serves every server created in it (held weakly).
``Server(handle_sigterm=False)`` opts out; a handler the application installs
later replaces this one, as usual.
"""

from __future__ import annotations

import os
import signal
import weakref
from types import FrameType
from typing import Any

__all__ = ["watch_sigterm"]

_servers: weakref.WeakSet[Any] = weakref.WeakSet()
_previous: Any = None
_stopping = False


def watch_sigterm(server: Any, chain_only: bool = False) -> bool:
    """Shut ``server`` down on SIGTERM; False where no handler can be installed.

    ``server._shutdown_soon()`` is called from the signal handler and must only
    schedule the shutdown. ``chain_only``: watch only in front of another
    handler (asyncio servers cannot finish a shutdown before a default action).
    """
    global _previous
    current = signal.getsignal(signal.SIGTERM)
    if current is signal.SIG_IGN or current is None:
        # Ignored on purpose (or set outside Python): not ours to change.
        return False
    underlying = _previous if current is _on_sigterm else current
    if chain_only and not callable(underlying):
        return False
    if current is not _on_sigterm:
        try:
            signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:
            # Not the main thread. (Asked this way because under eventlet's
            # patched threading the main greenlet is not main_thread().)
            return False
        _previous = current
    _servers.add(server)
    return True


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _stopping
    servers = list(_servers)
    previous = _previous
    if _stopping or not servers:
        _hand_over(previous, signum, frame)
        return
    _stopping = True
    if callable(previous):
        # The server's own handler (gunicorn's, uvicorn's...) only flags it to
        # stop: start our shutdown, then let it wind down while the close
        # packets go out.
        for server in servers:
            server._shutdown_soon()
        previous(signum, frame)
        return

    # The default action would kill the process now: shut down first, then
    # terminate by the same signal from the main thread.
    def stop_then_terminate() -> None:
        for server in servers:
            server._shutdown_logged()
        # Handlers run in the main thread: this call hands the signal over there.
        os.kill(os.getpid(), signum)

    servers[0].start_background_task(stop_then_terminate)


def _hand_over(previous: Any, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
