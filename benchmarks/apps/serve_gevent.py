"""gevent pywsgi with gevent-websocket's handler, monkey-patched (core, pyeio, plain)."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import minimal_eio  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def plain_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    ws = environ.get("wsgi.websocket")
    if ws is None:
        # As the gevent mode does (eio_gevent.send_without_delay): pywsgi sends a
        # response's headers and body apart, and with Nagle's algorithm on the
        # body waits for the client's delayed acknowledgement (40 ms).
        rfile = getattr(environ["wsgi.input"], "rfile", None)
        sock = getattr(getattr(rfile, "raw", None), "_sock", None)
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return minimal_eio.wsgi_app(environ, start_response)
    while True:
        message = ws.receive()
        if message is None:
            return []
        ws.send(message, binary=isinstance(message, (bytes, bytearray)))


def main(port: int) -> None:
    if os.environ.get("BENCH_IMPL") == "plain":
        app: Any = plain_echo
    else:
        from bench_app import wsgi_app

        app = wsgi_app("gevent")
    WSGIServer(
        ("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None, backlog=1024
    ).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
