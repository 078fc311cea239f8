"""How the contract suite serves the aiohttp mode: eio.attach on an app, web.run_app."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    from aiohttp import web

    app = web.Application()
    server.attach(app)
    web.run_app(app, host=host, port=port, print=None)
