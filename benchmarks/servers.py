"""How each async mode's benchmark server is started, for every implementation.

Each entry builds the command line for one ``(mode, impl)``: ``impl`` is ``core``
(engineio-core, from .venv), ``pyeio`` (python-engineio 4.15.1, from
benchmarks/.venv-pyeio) or ``plain`` (a WebSocket echo with no Engine.IO on the
same framework, from .venv: the ceiling). Both Engine.IO implementations run
the very same app (benchmarks/apps/bench_app.py) under the very same server,
with the same package versions (benchmarks/setup.sh pins them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "benchmarks" / "apps"
PYTHONS = {
    "core": ROOT / ".venv" / "bin" / "python",
    "pyeio": ROOT / "benchmarks" / ".venv-pyeio" / "bin" / "python",
    "plain": ROOT / ".venv" / "bin" / "python",
    # engineio-core from another source tree (run.py --patched-src): a proposal's gain.
    "patched": ROOT / ".venv" / "bin" / "python",
}
IMPLS = ("core", "pyeio")


def source_path(src: Path) -> str:
    """PYTHONPATH entries that make ``src``'s engineio_core and plugins win over .venv's."""
    return os.pathsep.join([str(src), *(str(p) for p in sorted((src / "plugins").glob("eio-*")))])


@dataclass(frozen=True)
class ServerSpec:
    """One framework/server an async mode runs under."""

    mode: str
    server: str
    #: (python, port, sessions) -> argv
    argv: Callable[[Path, int, int], list[str]]
    #: whether the plain ceiling echoes binary frames as binary
    plain_binary: bool = True


def _gunicorn_gthread(python: Path, port: int, sessions: int) -> list[str]:
    # Every WebSocket holds one of the worker's threads; long-polling sessions two.
    threads = max(128, 2 * sessions + 32)
    return [
        str(python), "-m", "gunicorn", "-k", "gthread", "--threads", str(threads), "-w", "1",
        "--worker-connections", str(max(1000, 2 * threads)),
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--keep-alive", "30",
        "--graceful-timeout", "1", "--no-control-socket", "--log-level", "warning",
        "threading_app:app",
    ]  # fmt: skip


def _uvicorn(python: Path, port: int, sessions: int) -> list[str]:
    return [
        str(python), "-m", "uvicorn", "asgi_app:app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "2048",
    ]  # fmt: skip


def _script(name: str) -> Callable[[Path, int, int], list[str]]:
    def argv(python: Path, port: int, sessions: int) -> list[str]:
        return [str(python), str(APPS / name), str(port)]

    return argv


def _uwsgi(python: Path, port: int, sessions: int) -> list[str]:
    return [
        str(python.parent / "uwsgi"), "--http", f"127.0.0.1:{port}",
        "--gevent", str(max(1000, 2 * sessions + 100)), "--http-websockets",
        "--master", "--wsgi-file", str(APPS / "uwsgi_app.py"), "--die-on-term",
        "--virtualenv", str(python.parent.parent), "--disable-logging", "--listen", "1024",
        "--http-keepalive", "--add-header", "Connection: Keep-Alive",
    ]  # fmt: skip


def _node_echo(python: Path, port: int, sessions: int) -> list[str]:
    return ["node", str(ROOT / "benchmarks" / "loadgen" / "echo-server.mjs"), str(port)]


#: Not an Engine.IO mode: a Node.js WebSocket echo, to measure the load generator's limit.
NODE_ECHO = ServerSpec("node-echo", "Node.js ws echo (load generator check)", _node_echo)

SERVERS: dict[str, ServerSpec] = {
    "threading": ServerSpec("threading", "gunicorn -k gthread", _gunicorn_gthread),
    "asgi": ServerSpec("asgi", "uvicorn", _uvicorn),
    "aiohttp": ServerSpec("aiohttp", "aiohttp.web", _script("serve_aiohttp.py")),
    "tornado": ServerSpec("tornado", "tornado", _script("serve_tornado.py")),
    "sanic": ServerSpec("sanic", "sanic", _script("serve_sanic.py")),
    "eventlet": ServerSpec("eventlet", "eventlet.wsgi", _script("serve_eventlet.py")),
    "gevent": ServerSpec("gevent", "gevent pywsgi + gevent-websocket", _script("serve_gevent.py")),
    "gevent_uwsgi": ServerSpec("gevent_uwsgi", "uWSGI --gevent", _uwsgi, plain_binary=False),
}
