"""The sync end-to-end test app: an echo server that reports what it saw.

Options come from the ENGINEIO_TEST_OPTIONS environment variable (JSON,
passed to ``Server``). Messages:

* anything else is echoed back (text as text, binary as binary);
* ``"server-send"``: the server sends ``"from-server"`` and ``b"\\x00\\x01"``;
* ``"disconnect-me"``: the server closes the session.
* ``"flood:N:SIZE"``: the server sends N text messages of SIZE bytes, as fast as
  it can, until the session is gone (for the send-queue bound).

A query string ``reject=1`` makes the connect handler refuse the client.
``GET /_state`` answers JSON: the live sids and each disconnect with its
reason, so tests can check what the server saw; also how many disconnects
there were by reason, and how many Engine.IO requests are being handled now
(``requests_in_flight``: waiting polls and open WebSockets). A positive
``ENGINEIO_TEST_KEEP`` keeps only the last that many disconnects and
messages, so a long load test does not grow the server's memory.

Run: ``python -m tests.apps.echo_app werkzeug PORT`` or
``gunicorn -k gthread --threads 8 -w 1 tests.apps.echo_app:app``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from typing import Any

import engineio_core

options: dict[str, Any] = json.loads(os.environ.get("ENGINEIO_TEST_OPTIONS", "{}"))
eio = engineio_core.Server(**options)
_lock = threading.Lock()
disconnects: list[dict[str, str]] = []
messages: list[Any] = []
disconnect_reasons: Counter[str] = Counter()
#: The QUERY_STRING of each connect handler's environ (it must be the raw one).
connect_queries: list[str] = []
KEEP = int(os.environ.get("ENGINEIO_TEST_KEEP", "0"))
_in_flight = 0


def _record(records: list[Any], item: Any) -> None:
    """Append ``item``, dropping the oldest records beyond ``KEEP`` (call with _lock held)."""
    records.append(item)
    if KEEP > 0 and len(records) > 2 * KEEP:
        del records[:-KEEP]


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> bool:
    query = environ.get("QUERY_STRING", "")
    if "probe=" in query:
        with _lock:
            _record(connect_queries, query)
    return "reject=1" not in query


@eio.on("message")
def message(sid: str, data: Any) -> None:
    with _lock:
        _record(messages, data if isinstance(data, str) else repr(data))
    if data == "server-send":
        eio.send(sid, "from-server")
        eio.send(sid, b"\x00\x01")
    elif data == "disconnect-me":
        eio.disconnect(sid)
    elif isinstance(data, str) and data.startswith("flood:"):
        _, count, size = data.split(":")
        for _ in range(int(count)):
            try:
                eio.transport(sid)
            except KeyError:
                break
            eio.send(sid, "x" * int(size))
    else:
        eio.send(sid, data)


#: Requests the short path (handle_polling_request) answered: a session's polls
#: and POSTs, and handshakes.
plain_served = plain_handshakes = 0
_offer_plain = eio.handle_polling_request


def _count_plain(*args: Any) -> Any:
    global plain_served, plain_handshakes
    response = _offer_plain(*args)
    if response is not None:
        with _lock:
            if "sid=" in args[2]:  # the query string
                plain_served += 1
            else:
                plain_handshakes += 1
    return response


eio.handle_polling_request = _count_plain  # type: ignore[method-assign]


@eio.on("disconnect")
def disconnect(sid: str, reason: str) -> None:
    with _lock:
        _record(disconnects, {"sid": sid, "reason": str(reason)})
        disconnect_reasons[str(reason)] += 1


def state_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") != "/_state":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    with _lock:
        body = json.dumps(
            {
                "sessions": sorted(eio._sessions),
                "disconnects": disconnects[-KEEP:] if KEEP > 0 else disconnects,
                "messages": messages[-KEEP:] if KEEP > 0 else messages,
                "disconnect_reasons": disconnect_reasons,
                "requests_in_flight": _in_flight,
                "async_mode": eio.async_mode,
                "connect_queries": connect_queries,
                "plain_served": plain_served,
                "plain_handshakes": plain_handshakes,
            }
        ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


_wsgi_app = engineio_core.WSGIApp(eio, state_app)


def app(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI app: counts the Engine.IO requests in flight (see ``/_state``)."""
    global _in_flight
    if not environ.get("PATH_INFO", "").startswith("/engine.io"):
        return _wsgi_app(environ, start_response)
    with _lock:
        _in_flight += 1
    try:
        return _wsgi_app(environ, start_response)
    finally:
        with _lock:
            _in_flight -= 1


def main() -> None:
    server, port = sys.argv[1], int(sys.argv[2])
    if server == "werkzeug":
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)
    else:
        raise SystemExit(f"unknown server {server}")


if __name__ == "__main__":
    main()
