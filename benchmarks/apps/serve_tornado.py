"""tornado's own server: ``python serve_tornado.py PORT`` (``BENCH_IMPL`` core, pyeio, plain)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import minimal_eio
import tornado.web
import tornado.websocket


class PlainEcho(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class MinimalEngineIO(tornado.web.RequestHandler):
    async def _respond(self) -> None:
        request = self.request

        async def read_body() -> bytes:
            return request.body

        status, content_type, out = await minimal_eio.respond_async(
            request.method or "GET", request.query, read_body
        )
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(out)

    get = post = _respond


async def main(port: int) -> None:
    handlers: list[Any]
    if os.environ.get("BENCH_IMPL") == "plain":
        handlers = [(r"/ws", PlainEcho), (r"/engine.io/", MinimalEngineIO)]
    else:
        from bench_app import engineio, make_async_server

        eio = make_async_server("tornado")
        handlers = [(r"/engine.io/", engineio.get_tornado_handler(eio))]
    tornado.web.Application(handlers).listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
