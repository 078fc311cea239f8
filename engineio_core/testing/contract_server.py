"""The server side of the contract suite: ``python -m engineio_core.testing``.

Runs the primitive checks inside the mode, prints their results as one JSON
line, then builds an Engine.IO server on the mode that records what the
mode's request translation produced and serves it with the plugin author's
``serve(server, host, port)`` function until it is killed.

The server echoes every message; the text message ``contract:state`` is
answered with a JSON report of the recorded requests and disconnects.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

from engineio_core.plugin.manager import describe_modes
from engineio_core.protocol.http import Request
from engineio_core.testing.primitives import run_async_checks, run_sync_checks

#: What the contract server is built with; the client side relies on these.
CONTRACT_OPTIONS: dict[str, Any] = {
    "ping_interval": 10,
    "ping_timeout": 10,
    "max_http_buffer_size": 10_000,
}
PROBE_PARAM = "contract-probe"


def load(ref: str) -> Callable[..., Any]:
    module_name, _, attr = ref.partition(":")
    if not attr:
        raise SystemExit(f"--serve must look like 'package.module:function', not {ref!r}")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return function


class Recorder:
    """Wraps the mode's translation to record probe requests (query has contract-probe)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.disconnects: list[list[str]] = []

    def wrap_translate(self, translate: Callable[..., Any]) -> Callable[..., Any]:
        def recording(args: tuple[Any, ...]) -> Any:
            result = translate(args)
            if inspect.isawaitable(result):

                async def later() -> Request:
                    return self._record(await result)

                return later()
            return self._record(result)

        return recording

    def _record(self, request: Request) -> Request:
        if PROBE_PARAM not in request.query:
            return request
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": {k: list(v) for k, v in request.query.items()},
            "headers": dict(request.headers),
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "content_length": request.content_length,
            "body": None,
        }
        self.requests.append(entry)
        read = request.read_body
        if read is None:
            return request

        def read_body(limit: int) -> Any:
            result = read(limit)
            if inspect.isawaitable(result):

                async def later() -> bytes:
                    body: bytes = await result
                    entry["body"] = body.decode("latin-1")
                    return body

                return later()
            entry["body"] = result.decode("latin-1")
            return result

        return dataclasses.replace(request, read_body=read_body)

    def state(self) -> str:
        return json.dumps({"requests": self.requests, "disconnects": self.disconnects})


def build_server(mode_name: str, family: str, recorder: Recorder) -> Any:
    import engineio_core

    cls = engineio_core.Server if family == "sync" else engineio_core.AsyncServer
    server: Any = cls(async_mode=mode_name, **CONTRACT_OPTIONS)
    server._mode.translate_request = recorder.wrap_translate(server._mode.translate_request)
    # The contract checks the mode's hooks, so every request must reach
    # translate_request: decline what an app wrapper (WSGIApp, ASGIApp) offers
    # to the short path for plain polls, which has tests of its own.
    if family == "sync":
        server.handle_polling_request = lambda *args: None
    else:

        async def decline(*args: Any) -> None:
            return None

        server.handle_polling_request = decline

    def on_disconnect(sid: str, reason: str) -> None:
        recorder.disconnects.append([sid, str(reason)])

    server.on("disconnect", on_disconnect)
    if family == "sync":

        def on_message(sid: str, data: Any) -> None:
            server.send(sid, recorder.state() if data == "contract:state" else data)

        server.on("message", on_message)
    else:

        async def on_async_message(sid: str, data: Any) -> None:
            reply = recorder.state() if data == "contract:state" else data
            await server.send(sid, reply)

        server.on("message", on_async_message)
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engineio_core.testing")
    parser.add_argument("--mode", required=True, help="the async mode under test")
    parser.add_argument("--serve", required=True, help="package.module:function")
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)

    # Import serve's module first: it may register its mode by hand (frozen apps).
    serve = load(args.serve)
    server = prepare(args.mode)
    serve(server, "127.0.0.1", args.port)


def prepare(mode_name: str) -> Any:
    """Check the mode's primitives, print the report line, return the contract server.

    Also used inside servers that load the app themselves (uWSGI): see
    :mod:`engineio_core.testing.embedded`.
    """
    modes = {c.name: c for c in describe_modes()}
    if mode_name not in modes or modes[mode_name].family is None:
        print(json.dumps({"error": f"mode {mode_name!r} is not installed"}), flush=True)
        raise SystemExit(2)
    family = modes[mode_name].family
    assert family is not None

    import engineio_core

    cls = engineio_core.Server if family == "sync" else engineio_core.AsyncServer
    mode = cls(async_mode=mode_name)._mode
    primitives = run_sync_checks(mode) if family == "sync" else asyncio.run(run_async_checks(mode))
    server = build_server(mode_name, family, Recorder())
    report = {
        "family": family,
        "can_websocket": mode.info.can_websocket,
        "primitives": primitives,
    }
    print(json.dumps(report), flush=True)
    sys.stdout.flush()
    return server
