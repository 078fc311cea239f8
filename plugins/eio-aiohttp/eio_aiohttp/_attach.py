"""``AsyncServer.attach(app)``: Engine.IO routes in an ``aiohttp.web.Application``."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


def attach(app: web.Application, server: Any, path: str) -> None:
    """Route ``/<path>/`` and ``/<path>`` to ``server`` and close it with the app.

    Every method is routed ("*"), not only GET, POST and OPTIONS: Engine.IO
    answers a wrong method itself (e.g. 400 code 2 for a PUT handshake, as
    Node does) where aiohttp would answer 405. The app's ``on_shutdown`` closes
    every session first, so pending polls and WebSockets end with a close
    packet ("server shutdown") instead of being cut by aiohttp's shutdown.
    Mount it on a sub-application with ``app.add_subapp`` to serve it under a
    prefix.
    """
    if not isinstance(app, web.Application):
        raise TypeError(
            f"the aiohttp mode attaches to an aiohttp.web.Application, not {type(app).__name__}"
        )

    async def handle(request: web.Request) -> web.StreamResponse:
        # With handler_cancellation on (aiohttp's TestServer turns it on), aiohttp
        # cancels a handler whose client left. Let the exchange finish anyway: the
        # failed read or receive then ends the session now, as Node does, instead
        # of leaving it to the next ping timeout.
        response: web.StreamResponse = await asyncio.shield(server.handle_request(request))
        return response

    async def shutdown(app: web.Application) -> None:
        await server.shutdown()

    routes = [f"/{path}/", f"/{path}"] if path else ["/"]
    for route in routes:
        app.router.add_route("*", route, handle)
    app.on_shutdown.append(shutdown)
