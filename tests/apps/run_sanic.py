"""The asyncio echo app (tests/apps/async_echo_app.py) on Sanic's own server.

Run either way (ENGINEIO_TEST_OPTIONS must name ``"async_mode": "sanic"``)::

    python -m tests.apps.run_sanic PORT
    python -m sanic tests.apps.run_sanic:app --host 127.0.0.1 --port PORT --single-process

Serves Engine.IO at ``/engine.io/`` and the app's state at ``GET /_state``.
``app`` is built at import, once per process: the Sanic CLI imports this
module to find it, and Sanic app names must be unique within a process.
"""

from __future__ import annotations

import sys

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from tests.apps import async_echo_app

app = Sanic("engineio_e2e")
async_echo_app.eio.attach(app)


@app.get("/_state")
async def state(request: Request) -> HTTPResponse:
    return HTTPResponse(async_echo_app.state(), content_type="application/json")


def main(port: int) -> None:
    app.run(host="127.0.0.1", port=port, single_process=True, motd=False, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
