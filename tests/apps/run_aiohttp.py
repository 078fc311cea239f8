"""The asyncio echo app (tests/apps/async_echo_app.py) on aiohttp's own server.

Run: ``ENGINEIO_TEST_OPTIONS='{"async_mode": "aiohttp"}' python -m tests.apps.run_aiohttp PORT``.
Serves Engine.IO at ``/engine.io/`` and the app's state at ``GET /_state``
(a middleware counts the Engine.IO requests in flight there).
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web

from tests.apps import async_echo_app


@web.middleware
async def count_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/engine.io"):
        response: web.StreamResponse = await handler(request)
        return response
    with async_echo_app.counted():
        response = await handler(request)
        return response


async def state(request: web.Request) -> web.Response:
    return web.Response(body=async_echo_app.state(), content_type="application/json")


def make_app() -> web.Application:
    app = web.Application(middlewares=[count_requests])
    async_echo_app.in_flight["requests"] = 0
    async_echo_app.eio.attach(app)
    app.router.add_get("/_state", state)
    return app


def main(port: int) -> None:
    web.run_app(make_app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
