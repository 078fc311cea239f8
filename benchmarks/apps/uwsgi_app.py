"""WSGI app for ``uwsgi --gevent N --http-websockets`` (core, pyeio, plain)."""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def plain_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    import uwsgi

    if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    uwsgi.websocket_handshake()
    while True:
        message = uwsgi.websocket_recv()
        uwsgi.websocket_send(message)


application: Any
if os.environ.get("BENCH_IMPL") == "plain":
    application = plain_echo
else:
    from bench_app import wsgi_app

    application = wsgi_app("gevent_uwsgi")
