"""WSGI app for ``uwsgi --gevent N --http-websockets`` (core, pyeio, plain)."""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import minimal_eio


def plain_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    import gevent.event
    import uwsgi

    if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        # Greenlets that uWSGI's gevent loop runs, not monkey-patched: gevent's Event.
        return minimal_eio.wsgi_app(environ, start_response, gevent.event.Event)
    uwsgi.websocket_handshake()
    while True:
        message = uwsgi.websocket_recv()
        uwsgi.websocket_send(message)


def plain_echo_own_framing(environ: dict[str, Any], start_response: Any) -> Any:
    """The same echo on the WebSocket engineio-core's gevent_uwsgi mode speaks:
    uWSGI's handshake, then the frames read and written in Python on a duplicate
    of the connection's descriptor (eio_gevent._uwsgi says why uWSGI's own
    WebSocket calls cannot carry Engine.IO). ``BENCH_UWSGI_PLAIN=own-framing``:
    the ceiling for engineio-core with that framing, beside uWSGI's C one."""
    import gevent.event
    from eio_gevent._uwsgi import accept_websocket

    if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        # Greenlets that uWSGI's gevent loop runs, not monkey-patched: gevent's Event.
        return minimal_eio.wsgi_app(environ, start_response, gevent.event.Event)
    ws = accept_websocket(environ, max_message_size=1_000_000)
    if ws is None:
        start_response("400 Bad Request", [("Content-Length", "0")])
        return []
    while True:
        batch = ws.receive_many()
        if batch is None:
            return ws.response()
        for message in batch:
            ws.send(message)


application: Any
if os.environ.get("BENCH_IMPL") == "plain":
    if os.environ.get("BENCH_UWSGI_PLAIN") == "own-framing":
        application = plain_echo_own_framing
    else:
        application = plain_echo
else:
    from bench_app import wsgi_app

    application = wsgi_app("gevent_uwsgi")
