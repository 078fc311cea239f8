"""A deliberately broken sync mode, to prove the contract suite catches bugs.

It is the threading mode, except that its request translation keeps only the
last value of a repeated query key, as a naive ``dict(parse_qsl(...))``
would. Registered by hand with ``register_mode`` (the frozen-app recipe).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engineio_core.plugin import threading_mode
from engineio_core.plugin.hookspecs import hookimpl
from engineio_core.plugin.threading_mode import (  # noqa: F401 - re-exported hooks
    eio_can_upgrade,
    eio_create_event,
    eio_create_queue,
    eio_make_response,
    eio_sleep,
    eio_spawn,
    eio_unavailable_reason,
    eio_wrap_websocket,
)
from engineio_core.plugin.types import ModeInfo
from engineio_core.protocol.http import Request


@hookimpl
def eio_mode_info() -> ModeInfo:
    return ModeInfo(name="broken_threading", family="sync", rank=-100)


@hookimpl
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    request = threading_mode.eio_translate_request(args)
    return dataclasses.replace(request, query={k: v[-1:] for k, v in request.query.items()})


def serve(server: Any, host: str, port: int) -> None:
    from tests.contract.serve_threading import serve as serve_threading

    serve_threading(server, host, port)


def _register() -> None:
    import sys

    import engineio_core

    engineio_core.register_mode(sys.modules[__name__])


_register()
