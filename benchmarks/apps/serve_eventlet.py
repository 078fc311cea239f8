"""eventlet.wsgi, monkey-patched: ``python serve_eventlet.py PORT`` (core, pyeio, plain)."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import eventlet.websocket  # noqa: E402
import eventlet.wsgi  # noqa: E402
import minimal_eio  # noqa: E402


@eventlet.websocket.WebSocketWSGI  # type: ignore[untyped-decorator,misc]
def plain_echo(ws: Any) -> None:
    while True:
        message = ws.wait()
        if message is None:
            return
        ws.send(message)


def plain_app(environ: dict[str, Any], start_response: Any) -> Any:
    if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
        return plain_echo(environ, start_response)
    return minimal_eio.wsgi_app(environ, start_response)


def main(port: int) -> None:
    if os.environ.get("BENCH_IMPL") == "plain":
        app: Any = plain_app
    else:
        from bench_app import wsgi_app

        app = wsgi_app("eventlet")
    listener = eventlet.listen(("127.0.0.1", port), backlog=1024)
    eventlet.wsgi.server(listener, app, log_output=False, max_size=20000)


if __name__ == "__main__":
    main(int(sys.argv[1]))
