"""The sync end-to-end test app: an echo server that reports what it saw.

Options come from the ENGINEIO_TEST_OPTIONS environment variable (JSON,
passed to ``Server``). Messages:

* anything else is echoed back (text as text, binary as binary);
* ``"server-send"``: the server sends ``"from-server"`` and ``b"\\x00\\x01"``;
* ``"disconnect-me"``: the server closes the session.

A query string ``reject=1`` makes the connect handler refuse the client.
``GET /_state`` answers JSON: the live sids and each disconnect with its
reason, so tests can check what the server saw.

Run: ``python -m tests.apps.echo_app werkzeug PORT`` or
``gunicorn -k gthread --threads 8 -w 1 tests.apps.echo_app:app``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

import engineio_core

options: dict[str, Any] = json.loads(os.environ.get("ENGINEIO_TEST_OPTIONS", "{}"))
eio = engineio_core.Server(**options)
_lock = threading.Lock()
disconnects: list[dict[str, str]] = []
messages: list[Any] = []


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> bool:
    return "reject=1" not in environ.get("QUERY_STRING", "")


@eio.on("message")
def message(sid: str, data: Any) -> None:
    with _lock:
        messages.append(data if isinstance(data, str) else repr(data))
    if data == "server-send":
        eio.send(sid, "from-server")
        eio.send(sid, b"\x00\x01")
    elif data == "disconnect-me":
        eio.disconnect(sid)
    else:
        eio.send(sid, data)


@eio.on("disconnect")
def disconnect(sid: str, reason: str) -> None:
    with _lock:
        disconnects.append({"sid": sid, "reason": str(reason)})


def state_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") != "/_state":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    with _lock:
        body = json.dumps(
            {
                "sessions": sorted(eio._sessions),
                "disconnects": disconnects,
                "messages": messages,
                "async_mode": eio.async_mode,
            }
        ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


app = engineio_core.WSGIApp(eio, state_app)


def main() -> None:
    server, port = sys.argv[1], int(sys.argv[2])
    if server == "werkzeug":
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)
    else:
        raise SystemExit(f"unknown server {server}")


if __name__ == "__main__":
    main()
