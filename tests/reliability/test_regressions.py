"""Regression tests for the core bugs the reliability suite found, in-process and fast.

Each test names the hostile input that once broke the server (see
docs/reliability.md, "Bugs found"). The live-server versions are corpus cases
in tests/reliability/corpus.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

import engineio_core
from engineio_core.plugin.wsgi_mode import _read_declared, read_wsgi_body
from engineio_core.protocol.cors import CorsPolicy
from engineio_core.protocol.http import Request
from tests.scenarios.harness import Harness

Q = {"EIO": "4", "transport": "polling"}


def record(h: Harness) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"message": [], "disconnect": []}
    h.server.on("message", lambda sid, data: seen["message"].append(data))
    h.server.on("disconnect", lambda sid, reason: seen["disconnect"].append(str(reason)))
    return seen


def test_deeply_nested_json_message_is_delivered_as_text(make: Callable[..., Harness]) -> None:
    """``4`` + ``[`` * 19000 raised RecursionError in json.loads: 500 / a dead WebSocket."""
    h = make()
    seen = record(h)
    sid, _ = h.handshake()
    reply = h.post(sid, b"4" + b"[" * 19_000)
    assert (reply.status, reply.body) == (200, b"ok")
    h.wait_until(lambda: len(seen["message"]) == 1)
    assert seen["message"] == ["[" * 19_000]
    huge = b"4[" + b"9" * 10_000 + b"]"  # past int()'s digit limit: a ValueError, text too
    assert h.post(sid, huge).status == 200
    h.wait_until(lambda: len(seen["message"]) == 2)
    assert seen["message"][1] == huge[1:].decode()


def test_body_shorter_than_content_length_is_not_delivered(make: Callable[..., Harness]) -> None:
    """A client that left mid-body got its partial message delivered (asgi, werkzeug)."""
    h = make()
    seen = record(h)
    sid, _ = h.handshake()
    reply = h.request("POST", {**Q, "sid": sid}, b"4partial", {"Content-Length": "100"})
    assert (reply.status, reply.json()["code"]) == (400, 3)
    h.wait_until(lambda: seen["disconnect"] == ["transport error"])
    assert seen["message"] == []


class _BrokenInput:
    """A wsgi.input that fails like werkzeug's on a bad chunk size."""

    def read(self, size: int = -1) -> bytes:
        raise ValueError("Invalid chunk header")


def _wsgi_call(server: Any, environ: dict[str, Any]) -> tuple[int, bytes]:
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/engine.io/",
        "QUERY_STRING": urlencode(Q),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    status: list[int] = []

    def start_response(line: str, headers: list[tuple[str, str]]) -> None:
        status.append(int(line.split()[0]))

    body = b"".join(server.handle_request({**base, **environ}, start_response))
    return status[0], body


def test_unreadable_body_is_a_bad_request_not_a_500() -> None:
    """``Transfer-Encoding: chunked`` + ``zz\\r\\n``: werkzeug's input raised into a 500."""
    server = engineio_core.Server(async_mode="threading")
    disconnects: list[str] = []
    server.on("disconnect", lambda sid, reason: disconnects.append(str(reason)))
    status, body = _wsgi_call(server, {})
    sid = body.decode()[1:].split('"sid":"')[1].split('"')[0]
    status, body = _wsgi_call(
        server,
        {
            "REQUEST_METHOD": "POST",
            "QUERY_STRING": urlencode({**Q, "sid": sid}),
            "CONTENT_TYPE": "text/plain",
            "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input_terminated": True,
            "wsgi.input": _BrokenInput(),
        },
    )
    assert (status, body) == (400, b'{"code": 3, "message": "Bad request"}')
    assert disconnects == ["transport error"]
    server.shutdown(timeout=1)


def test_chunked_wsgi_body_is_read_without_input_terminated() -> None:
    """eventlet and uWSGI de-chunk without setting wsgi.input_terminated: POSTs read empty."""
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"4hello")}
    assert read_wsgi_body(environ, 100) == b"4hello"
    # Still no read at all for a body-less request on a kept-alive connection.
    assert read_wsgi_body({"wsgi.input": io.BytesIO(b"GET / HTTP/1.1")}, 100) == b""


class _Trickle(io.RawIOBase):
    """A wsgi.input that gives at most ``step`` bytes a read, as a slow socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._step = step
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        size = self._step if size < 0 else min(size, self._step)
        data, self._data = self._data[:size], self._data[size:]
        return data


@pytest.mark.parametrize("step", [1, 7, 64 * 1024, 1 << 20])
@pytest.mark.parametrize("length", [0, 6, 70_000, 200_000])
def test_wsgi_body_reads_short_reads_to_the_end_or_the_limit(step: int, length: int) -> None:
    """Both WSGI readers (by Content-Length, and the short path's with the length
    known) take what a server gives in short reads, and stop at the limit."""
    body = bytes(i % 251 for i in range(length))
    limit = 100_000
    for read in (
        lambda env, lim: read_wsgi_body(env, lim),
        lambda env, lim: _read_declared(env, length, lim),
    ):
        stream = _Trickle(body, step)
        environ = {"CONTENT_LENGTH": str(length), "wsgi.input": stream}
        got = read(environ, limit)
        assert got == body[:limit]
        if step == 1 and length <= 70_000:  # no read beyond the declared length
            assert stream.reads == length


@pytest.mark.parametrize("family", ["sync", "async"])
def test_path_with_crlf_cannot_forge_a_log_line(
    family: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``GET /engine.io/%0d%0a[engineio] ERROR forged``: the decoded path split the log line."""
    path = "/engine.io/\r\n[engineio] ERROR forged"
    query = "EIO=4&transport=nope"
    with caplog.at_level(logging.WARNING, logger="engineio_core.server"):
        if family == "sync":
            server = engineio_core.Server(async_mode="threading", logger=True)
            status, _ = _wsgi_call(server, {"PATH_INFO": path, "QUERY_STRING": query})
        else:
            status = asyncio.run(_asgi_get(path, query))
    assert status == 400
    records = [r for r in caplog.records if r.name == "engineio_core.server"]
    assert len(records) == 1
    assert "\n" not in records[0].getMessage() and "\r" not in records[0].getMessage()


async def _asgi_get(path: str, query: str) -> int:
    server = engineio_core.AsyncServer(async_mode="asgi", logger=True)
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "scheme": "http",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await server.handle_request(scope, receive, send)
    status: int = sent[0]["status"]
    return status


@pytest.mark.parametrize("origins", [None, ["http://ok.example"], lambda origin: False])
def test_refused_origin_gets_no_cors_headers(origins: Any) -> None:
    """A 403 for a refused origin echoed it in Access-Control-Allow-Origin (CRLF and all)."""
    policy = CorsPolicy(origins)
    for origin in ("http://evil.example", "http://ok.example\r\nX-Injected: 1"):
        request = Request("GET", "/", {}, {"origin": origin, "host": "testserver"})
        assert policy.response_headers(request) == []
        assert policy.preflight_headers(request) == []


def test_refused_origin_error_has_no_cors_headers(make: Callable[..., Harness]) -> None:
    h = make()
    reply = h.request("GET", Q, headers={"Origin": "http://evil.example"})
    assert (reply.status, reply.json()["code"]) == (403, 4)
    assert not [name for name in reply.headers if name.startswith("access-control-")]


def test_ping_comes_an_interval_after_the_pong(make: Callable[..., Harness]) -> None:
    """With ping_timeout > ping_interval, a pong did not reschedule the heartbeat: the
    next ping came at the old pong deadline, every other ping late, and a client
    answering within its timeout was dropped (found by the 1,000-session soak)."""
    import time

    h = make(ping_interval=0.2, ping_timeout=1.0)
    seen = record(h)
    sid, _ = h.handshake()
    gaps = []
    last = time.monotonic()
    for _ in range(5):
        assert h.poll(sid).packets == ["2"]
        now = time.monotonic()
        gaps.append(now - last)
        time.sleep(0.1)  # well within the 1 s timeout
        h.post(sid, b"3")
        last = time.monotonic()
    assert seen["disconnect"] == []
    # Due 0.2 s after each pong; with the bug, 0.9 s (at the old pong deadline).
    assert all(gap < 0.5 for gap in gaps[1:]), gaps
