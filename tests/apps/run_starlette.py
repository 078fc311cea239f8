"""The e2e runner for the example starlette mode: a Starlette app with eio.attach, uvicorn.

``python -m tests.apps.run_starlette PORT``; ENGINEIO_TEST_OPTIONS has
``async_mode: "starlette"``.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.apps.async_echo_app import eio, state


async def state_endpoint(request: Request) -> Response:
    return Response(state(), media_type="application/json")


app = Starlette(routes=[Route("/_state", state_endpoint)])
eio.attach(app)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
