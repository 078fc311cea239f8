"""The sync servers every end-to-end scenario runs under.

Each entry: how to start the server (``{port}`` is substituted) and the
``async_mode`` its app must use. Add a server here and every scenario in
``test_sync_*.py`` runs under it. A server whose requirements are missing
here is skipped with the reason from its ``requires`` check, never silently.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServerKind:
    argv: list[str]
    async_mode: str
    #: None when the server can run here, else why not (e.g. a package is missing).
    requires: Callable[[], str | None] = field(default=lambda: None)
    env: dict[str, str] = field(default_factory=dict)
    #: The server answers a WebSocket upgrade with 101 before the app runs
    #: (gevent-websocket's handler), so a refused one is closed with 4000 + status.
    refuses_websocket_after_101: bool = False


def _gunicorn(worker: str, *extra: str, python: str = sys.executable) -> list[str]:
    return [
        python, "-m", "gunicorn", "-k", worker, *extra, "-w", "1",
        "-b", "127.0.0.1:{port}", "--graceful-timeout", "2", "--no-control-socket",
        "tests.apps.echo_app:app",
    ]  # fmt: skip


def _needs(*modules: str) -> Callable[[], str | None]:
    def check() -> str | None:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            return f"{', '.join(missing)} not installed (./scripts/setup installs it)"
        return None

    return check


def _needs_file(path: Path, what: str) -> Callable[[], str | None]:
    def check() -> str | None:
        return None if path.exists() else f"{path} is missing: ./scripts/setup installs {what}"

    return check


ROOT = Path(__file__).resolve().parents[2]
# gunicorn 26 dropped its eventlet worker: scripts/setup installs the last
# release that has it (25.3) with the project and eio-eventlet in this venv.
GUNICORN_EVENTLET_PYTHON = ROOT / ".venv-gunicorn-eventlet" / "bin" / "python"
UWSGI = Path(sys.executable).parent / "uwsgi"


SYNC_SERVERS: dict[str, ServerKind] = {
    "werkzeug": ServerKind(
        [sys.executable, "-m", "tests.apps.echo_app", "werkzeug", "{port}"], "threading"
    ),
    "gunicorn-gthread": ServerKind(_gunicorn("gthread", "--threads", "32"), "threading"),
    # The greenlet modes: eventlet and gevent never share a process, and each
    # server kind runs in its own (tests/apps/run_*.py for the non-gunicorn ones).
    "eventlet-wsgi": ServerKind(
        [sys.executable, "-m", "tests.apps.run_eventlet", "{port}"],
        "eventlet", _needs("eventlet", "eio_eventlet"),
    ),
    "gunicorn-eventlet": ServerKind(
        _gunicorn("eventlet", python=str(GUNICORN_EVENTLET_PYTHON)),
        "eventlet", _needs_file(GUNICORN_EVENTLET_PYTHON, "gunicorn 25 with eio-eventlet"),
    ),
    "gevent-pywsgi": ServerKind(
        [sys.executable, "-m", "tests.apps.run_gevent", "plain", "{port}"],
        "gevent", _needs("gevent", "eio_gevent"),
    ),
    "gevent-pywsgi-websockethandler": ServerKind(
        [sys.executable, "-m", "tests.apps.run_gevent", "websockethandler", "{port}"],
        "gevent", _needs("gevent", "geventwebsocket", "eio_gevent"),
        refuses_websocket_after_101=True,
    ),
    "gunicorn-gevent": ServerKind(_gunicorn("gevent"), "gevent", _needs("gevent", "eio_gevent")),
    "gunicorn-geventwebsocket": ServerKind(
        _gunicorn("geventwebsocket.gunicorn.workers.GeventWebSocketWorker"),
        "gevent", _needs("gevent", "geventwebsocket", "eio_gevent"),
        refuses_websocket_after_101=True,
    ),
    "uwsgi-gevent": ServerKind(
        [str(UWSGI), "--http", "127.0.0.1:{port}", "--gevent", "1000", "--http-websockets",
         "--master", "--wsgi-file", "tests/apps/echo_app.py", "--callable", "app",
         "--die-on-term", "--virtualenv", sys.prefix, "--disable-logging"],
        "gevent_uwsgi", _needs_file(UWSGI, "uWSGI"),
    ),
}  # fmt: skip
