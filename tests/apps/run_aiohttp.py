"""The asyncio echo app (tests/apps/async_echo_app.py) on aiohttp's own server.

Run: ``ENGINEIO_TEST_OPTIONS='{"async_mode": "aiohttp"}' python -m tests.apps.run_aiohttp PORT``.
Serves Engine.IO at ``/engine.io/`` and the app's state at ``GET /_state``.
"""

from __future__ import annotations

import sys

from aiohttp import web

from tests.apps import async_echo_app


async def state(request: web.Request) -> web.Response:
    return web.Response(body=async_echo_app.state(), content_type="application/json")


def make_app() -> web.Application:
    app = web.Application()
    async_echo_app.eio.attach(app)
    app.router.add_get("/_state", state)
    return app


def main(port: int) -> None:
    web.run_app(make_app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
