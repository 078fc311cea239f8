"""ASGIApp around a Starlette app with its own lifespan, for test_asgi_app.py.

Every lifespan step appends a line to the file named by LIFESPAN_LOG.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import engineio_core

LOG = os.environ["LIFESPAN_LOG"]


def note(line: str) -> None:
    with open(LOG, "a") as f:
        f.write(line + "\n")


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    note("starlette startup")
    yield
    note("starlette shutdown")


async def hello(request: Any) -> PlainTextResponse:
    return PlainTextResponse("from starlette")


eio = engineio_core.AsyncServer(async_mode="asgi")


@eio.on("disconnect")
def disconnect(sid: str, reason: str) -> None:
    note(f"disconnect {reason}")


app = engineio_core.ASGIApp(
    eio,
    Starlette(routes=[Route("/hello", hello)], lifespan=lifespan),
    static_files={"/static": os.path.dirname(__file__)},
    on_startup=lambda: note("engineio startup"),
    on_shutdown=lambda: note("engineio shutdown"),
)
