"""A tiny WSGI app on the threading mode's hooks, for tests/test_threading_mode.py.

``/ws`` accepts a WebSocket (largest message: 1000 bytes) and echoes every
message; the text message ``close:<code>`` makes the server close with that
code. ``/last`` reports, as JSON, how the last WebSocket ended and how many
have ended (``count``). ``/hello``
is a plain HTTP response. Runs in-process under werkzeug and as
``threading_mode_echo_app:app`` under gunicorn.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from engineio_core.plugin import threading_mode
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.http import Response

MAX_MESSAGE_SIZE = 1000

_lock = threading.Lock()
last: dict[str, Any] = {"count": 0}


def _respond(request: Any, status: int, body: bytes, content_type: str) -> Iterable[bytes]:
    response = Response(status, [("Content-Type", content_type)], body)
    return threading_mode.eio_make_response(response, request)


def _serve_websocket(ws: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = {"messages": 0, "too_large": False, "send_failed": False}
    while True:
        try:
            message = ws.receive()
        except MessageTooLarge:
            outcome["too_large"] = True
            continue
        if message is None:
            break
        outcome["messages"] += 1
        if isinstance(message, str) and message.startswith("close:"):
            ws.close(int(message[6:]))
            continue
        try:
            ws.send(message)
        except WebSocketClosed:
            outcome["send_failed"] = True
            break
    outcome["close_code"] = ws.close_code
    outcome["closed_for_size"] = ws.closed_for_size
    return outcome


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    request = threading_mode.eio_translate_request((environ, start_response))
    if request.path == "/ws":
        ws = threading_mode.eio_wrap_websocket(request, MAX_MESSAGE_SIZE)
        if ws is None:
            return _respond(request, 400, b"not a websocket", "text/plain")
        outcome = _serve_websocket(ws)
        with _lock:
            outcome["count"] = last["count"] + 1
            last.clear()
            last.update(outcome)
        return ws.response()  # type: ignore[no-any-return]
    if request.path == "/last":
        with _lock:
            body = json.dumps(last).encode()
        return _respond(request, 200, body, "application/json")
    if request.path == "/hello":
        return _respond(request, 200, b"hello", "text/plain")
    return _respond(request, 404, b"not found", "text/plain")
