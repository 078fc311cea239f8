"""The sync servers every end-to-end scenario runs under.

Each entry: how to start the server (``{port}`` is substituted) and the
``async_mode`` its app must use. Add a server here and every scenario in
``test_sync_*.py`` runs under it. A server whose requirements are missing
here is skipped with the reason from its ``requires`` check, never silently.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerKind:
    argv: list[str]
    async_mode: str
    #: None when the server can run here, else why not (e.g. a package is missing).
    requires: Callable[[], str | None] = field(default=lambda: None)
    env: dict[str, str] = field(default_factory=dict)


def _gunicorn(worker: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "-k", worker, *extra, "-w", "1",
        "-b", "127.0.0.1:{port}", "--graceful-timeout", "2", "--no-control-socket",
        "tests.apps.echo_app:app",
    ]  # fmt: skip


SYNC_SERVERS: dict[str, ServerKind] = {
    "werkzeug": ServerKind(
        [sys.executable, "-m", "tests.apps.echo_app", "werkzeug", "{port}"], "threading"
    ),
    "gunicorn-gthread": ServerKind(_gunicorn("gthread", "--threads", "32"), "threading"),
}
