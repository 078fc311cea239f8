"""The e2e echo app on tornado's own server: ``python -m tests.apps.run_tornado PORT``.

Serves tests/apps/async_echo_app.py's ``eio`` (options from
ENGINEIO_TEST_OPTIONS, async_mode "tornado") at /engine.io/ and its
``state()`` at /_state. SIGTERM or SIGINT shuts the Engine.IO server down.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import tornado.web

import engineio_core
from tests.apps import async_echo_app


class StateHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(async_echo_app.state())


def make_app() -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/engine\.io/?", engineio_core.get_tornado_handler(async_echo_app.eio)),
            (r"/_state", StateHandler),
        ]
    )


async def main(port: int) -> None:
    server = make_app().listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    await async_echo_app.eio.shutdown(timeout=2)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
