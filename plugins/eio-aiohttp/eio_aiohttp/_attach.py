"""``AsyncServer.attach(app)``: Engine.IO routes in an ``aiohttp.web.Application``."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from eio_aiohttp._translate import serve_plain_polling


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

    # Not if handle_request was replaced: then it must see every request.
    takes = getattr(server, "takes_plain_polling", None)
    plain_polling = takes is not None and takes()

    async def answer(request: web.Request) -> web.StreamResponse:
        # A long-polling client's polls and POSTs on the short path; the rest
        # (and what it declines, having read nothing) through handle_request.
        if plain_polling:
            response = await serve_plain_polling(server, request)
            if response is not None:
                return response
        served: web.StreamResponse = await server.handle_request(request)
        return served

    async def handle(request: web.Request) -> web.StreamResponse:
        if _cancels_handlers(request):
            # aiohttp cancels a handler whose client left. Let the exchange finish
            # anyway: the failed read or receive then ends the session now, as
            # Node does, instead of leaving it to the next ping timeout.
            return await asyncio.shield(answer(request))
        # The default: no shield, whose task and future would cost every request.
        return await answer(request)

    async def shutdown(app: web.Application) -> None:
        await server.shutdown()

    routes = [f"/{path}/", f"/{path}"] if path else ["/"]
    for route in routes:
        app.router.add_route("*", route, handle)
    app.on_shutdown.append(shutdown)


def _cancels_handlers(request: web.BaseRequest) -> bool:
    """Whether aiohttp cancels this request's handler when its client leaves.

    That is ``handler_cancellation`` of the ``web.Server`` behind the connection:
    off by default since aiohttp 3.9 (``run_app``, ``AppRunner``), on in its test
    server. The connection names its server only in a private attribute, so an
    aiohttp without it counts as cancelling, and the request is shielded."""
    manager = getattr(request.protocol, "_manager", None)
    return bool(getattr(manager, "handler_cancellation", True))
