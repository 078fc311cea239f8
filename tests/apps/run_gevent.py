"""The sync echo app (tests/apps/echo_app.py) on gevent's ``pywsgi.WSGIServer``.

Run: ``ENGINEIO_TEST_OPTIONS='{"async_mode": "gevent"}' python -m tests.apps.run_gevent
[plain|websockethandler] PORT``: ``websockethandler`` serves with gevent-websocket's
``WebSocketHandler``, ``plain`` with pywsgi's own handler (gevent-websocket installed
or not).

No monkey-patching: the gevent mode waits through gevent's hub by itself, and
an unpatched process is the stricter test (a stray blocking call would stall
every client). gunicorn's gevent workers cover the patched case.
"""

from __future__ import annotations

import sys
from typing import Any

from gevent.pywsgi import WSGIServer

from tests.apps.echo_app import app


def main(handler: str, port: int) -> None:
    options: dict[str, Any] = {"log": None}
    if handler == "websockethandler":
        from geventwebsocket.handler import WebSocketHandler

        options["handler_class"] = WebSocketHandler
    elif handler != "plain":
        raise SystemExit(f"unknown handler {handler!r}: plain or websockethandler")
    WSGIServer(("127.0.0.1", port), app, **options).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
