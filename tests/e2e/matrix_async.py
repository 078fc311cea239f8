"""The asyncio servers every end-to-end scenario runs under (see matrix.py).

Each framework mode has a runner module in tests/apps/ that builds its app
around tests/apps/async_echo_app.py's server.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

from tests.e2e.matrix import ServerKind

APP = "tests.apps.async_echo_app:app"
PY = sys.executable


def _needs(*modules: str) -> Callable[[], str | None]:
    def check() -> str | None:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            return f"{', '.join(missing)} not installed (./scripts/setup installs it)"
        return None

    return check


ASYNC_SERVERS: dict[str, ServerKind] = {
    "uvicorn": ServerKind(
        [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
         APP],
        "asgi", _needs("uvicorn", "eio_asgi"),
    ),
    "hypercorn": ServerKind(
        [PY, "-m", "hypercorn", "--bind", "127.0.0.1:{port}", APP],
        "asgi", _needs("hypercorn", "eio_asgi"),
    ),
    "daphne": ServerKind(
        [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", APP],
        "asgi", _needs("daphne", "eio_asgi"),
    ),
    "gunicorn-asgi": ServerKind(
        [PY, "-m", "gunicorn", "-k", "asgi", "-w", "1", "-b", "127.0.0.1:{port}",
         "--graceful-timeout", "2", "--no-control-socket", APP],
        "asgi", _needs("gunicorn", "eio_asgi"),
    ),
    # aiohttp.web.run_app on tests/apps/run_aiohttp.py's app.
    "aiohttp": ServerKind(
        [PY, "-m", "tests.apps.run_aiohttp", "{port}"], "aiohttp", _needs("aiohttp", "eio_aiohttp")
    ),
    # tornado's own server (app.listen + IOLoop) on tests/apps/run_tornado.py's app.
    "tornado": ServerKind(
        [PY, "-m", "tests.apps.run_tornado", "{port}"], "tornado", _needs("tornado", "eio_tornado")
    ),
    # Sanic single-process (app.run(single_process=True)) from tests/apps/run_sanic.py.
    "sanic": ServerKind(
        [PY, "-m", "tests.apps.run_sanic", "{port}"], "sanic", _needs("sanic", "eio_sanic")
    ),
    # The sanic CLI on the same module's app.
    "sanic-cli": ServerKind(
        [PY, "-m", "sanic", "tests.apps.run_sanic:app", "--host", "127.0.0.1", "--port", "{port}",
         "--single-process", "--no-motd"],
        "sanic", _needs("sanic", "eio_sanic"),
    ),
    # The example third-party plugin (examples/eio-starlette), installed with pip.
    "starlette": ServerKind(
        [PY, "-m", "tests.apps.run_starlette", "{port}"], "starlette",
        _needs("starlette", "uvicorn", "eio_starlette"),
    ),
}  # fmt: skip
