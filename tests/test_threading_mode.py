"""The built-in threading mode: its primitives, WSGI translation and WebSocket.

The WebSocket tests run the echo app in tests/threading_mode_echo_app.py under
the real servers the mode supports (werkzeug's threaded server in-process,
gunicorn's gthread and sync workers in a subprocess) and talk to it with a
wsproto client over a plain socket. Every wait is bounded by a socket timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import threading_mode_echo_app
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import FrameProtocol

import engineio_core
from engineio_core.base_server import NO_LOCK
from engineio_core.plugin import threading_mode
from engineio_core.plugin.manager import select_async_mode
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.plugin.wsgi_mode import WSGIHeaders, wsgi_headers
from engineio_core.plugin.wsproto_socket import (
    WebSocketTakenOver,
    WsprotoWebSocket,
    accept_websocket,
)
from engineio_core.protocol.http import Response

TESTS = Path(__file__).parent
TIMEOUT = 10.0


# -- primitives -----------------------------------------------------------------


def test_mode_info() -> None:
    info = threading_mode.eio_mode_info()
    assert (info.name, info.family, info.rank, info.can_websocket, info.preemptive) == (
        "threading",
        "sync",
        0,
        True,
        True,
    )
    assert threading_mode.eio_unavailable_reason() is None


def test_session_locks_only_for_preemptive_modes() -> None:
    # Threads can switch inside a critical section: each session gets a real lock.
    # A mode that says its tasks are cooperative (greenlets) gets none.
    server = engineio_core.Server(async_mode="threading")
    lock = server._new_lock()
    assert lock is not NO_LOCK
    assert lock.acquire(blocking=False)
    assert not lock.acquire(blocking=False)  # a real lock, held
    lock.release()
    server._mode.info = dataclasses.replace(server._mode.info, preemptive=False)
    assert server._new_lock() is NO_LOCK


def test_spawn_runs_on_pooled_daemon_threads() -> None:
    results: queue.Queue[Any] = threading_mode.eio_create_queue()
    release = threading.Event()

    def work(a: int, b: int = 0) -> None:
        results.put((a + b, threading.current_thread()))
        release.wait(TIMEOUT)

    task = threading_mode.eio_spawn(work, (1,), {"b": 2})
    total, thread = results.get(timeout=TIMEOUT)
    assert total == 3 and thread is not threading.current_thread() and thread.daemon
    assert task.is_alive()
    # A task never waits for another: a second one gets a thread of its own.
    other = threading_mode.eio_spawn(work, (5,), {})
    other_thread = results.get(timeout=TIMEOUT)[1]
    assert other_thread is not thread
    release.set()
    task.join(TIMEOUT)
    other.join(TIMEOUT)
    assert not task.is_alive() and not other.is_alive()
    # Finished threads take the next task instead of a new thread starting.
    existing = set(threading.enumerate())
    reused = threading_mode.eio_spawn(lambda: results.put(threading.current_thread()), (), {})
    reused.join(TIMEOUT)
    assert results.get(timeout=TIMEOUT) in existing


def test_queue_event_and_sleep() -> None:
    q = threading_mode.eio_create_queue()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    event = threading_mode.eio_create_event()
    assert event.wait(0.01) is False
    event.set()
    assert event.wait(0) is True
    start = time.monotonic()
    threading_mode.eio_sleep(0.02)
    assert time.monotonic() - start >= 0.02


def test_the_selected_threading_mode_binds_these_hooks() -> None:
    mode = select_async_mode("sync", "threading")
    assert mode.sleep is threading_mode.eio_sleep
    assert mode.translate_request is threading_mode.eio_translate_request
    assert mode.wrap_websocket is threading_mode.eio_wrap_websocket
    thread = mode.spawn(lambda: None)
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    # No eio_spawn_detached here: the mode's spawn runs it, the handle dropped.
    ran = threading.Event()
    assert mode.spawn_detached(ran.set, ()) is None
    assert ran.wait(TIMEOUT)


# -- WSGI translation ---------------------------------------------------------------


def _environ(**kwargs: Any) -> dict[str, Any]:
    environ: dict[str, Any] = EnvironBuilder(**kwargs).get_environ()
    return environ


def test_translate_request() -> None:
    environ = _environ(
        path="/engine.io/",
        query_string="EIO=4&transport=polling&t=a&t=b&empty=",
        method="POST",
        headers={"X-Forwarded-For": "10.0.0.1", "Origin": "http://x"},
        content_type="text/plain;charset=UTF-8",
        data=b"4hello",
        base_url="https://example.com",
        environ_base={"REMOTE_ADDR": "127.0.0.9"},
    )
    start_response = object()
    request = threading_mode.eio_translate_request((environ, start_response))
    assert request.method == "POST"
    assert request.path == "/engine.io/"
    assert request.query == {
        "EIO": ["4"],
        "transport": ["polling"],
        "t": ["a", "b"],
        "empty": [""],
    }
    assert request.arg("t") == "a"
    assert request.headers["x-forwarded-for"] == "10.0.0.1"
    assert request.headers["origin"] == "http://x"
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"
    assert request.headers["content-length"] == "6"
    assert request.content_length == 6
    assert request.remote_addr == "127.0.0.9"
    assert request.scheme == "https"
    assert request.environ is environ
    assert request.native == (environ, start_response)
    assert request.read_body is not None
    assert request.read_body(100) == b"4hello"


_HEADER_KEYS = st.sampled_from(
    [
        "HTTP_ORIGIN",
        "HTTP_UPGRADE",
        "HTTP_X_FORWARDED_PROTO",
        "HTTP_ACCEPT_ENCODING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "REQUEST_METHOD",
        "wsgi.input",
        "HTTP_X_A_B",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    environ=st.dictionaries(_HEADER_KEYS, st.sampled_from(["", "v", "http://x"]), max_size=8),
    names=st.lists(
        st.sampled_from(
            [
                "origin",
                "upgrade",
                "x-forwarded-proto",
                "accept-encoding",
                "content-type",
                "content-length",
                "request-method",
                "x-a-b",
                "absent",
            ]
        ),
        max_size=6,
    ),
)
def test_wsgi_headers_on_demand_match_the_copied_dict(
    environ: dict[str, str], names: list[str]
) -> None:
    """WSGIHeaders reads each header from the environ; it must agree with wsgi_headers."""
    lazy, copied = WSGIHeaders(environ), wsgi_headers(environ)
    for name in names:
        assert lazy.get(name) == copied.get(name)
        assert lazy.get(name, "d") == copied.get(name, "d")
        assert (name in lazy) == (name in copied)
        if name in copied:
            assert lazy[name] == copied[name]
        else:
            with pytest.raises(KeyError):
                lazy[name]
    assert dict(lazy) == copied
    assert len(lazy) == len(copied)


def test_path_is_the_wsgi_string() -> None:
    # WSGI gives PATH_INFO as latin-1-decoded bytes; it is passed on as given.
    environ = _environ(path="/caf\u00e9")
    request = threading_mode.eio_translate_request((environ, None))
    assert request.path == environ["PATH_INFO"]


def test_read_body_stops_at_the_limit() -> None:
    environ = _environ(method="POST", data=b"x" * 1000)
    request = threading_mode.eio_translate_request((environ, None))
    assert request.read_body is not None
    assert request.read_body(10) == b"x" * 10
    assert environ["wsgi.input"].read() == b"x" * 990  # nothing read past the limit


def test_read_body_honours_content_length() -> None:
    environ = _environ(method="POST")
    environ["wsgi.input"] = io.BytesIO(b"abcdefNEXT REQUEST")
    environ["CONTENT_LENGTH"] = "6"
    request = threading_mode.eio_translate_request((environ, None))
    assert request.read_body is not None
    assert request.read_body(1000) == b"abcdef"
    assert environ["wsgi.input"].read() == b"NEXT REQUEST"


@pytest.mark.parametrize("value", ["", "abc", "-5"])
def test_invalid_content_length_is_none(value: str) -> None:
    environ = _environ(method="POST")
    environ["CONTENT_LENGTH"] = value
    environ["wsgi.input"] = io.BytesIO(b"body")
    request = threading_mode.eio_translate_request((environ, None))
    assert request.content_length is None
    assert request.read_body is not None
    # No length and no wsgi.input_terminated: HTTP says there is no body.
    assert request.read_body(100) == b""


def test_body_without_length_is_read_to_eof_when_the_input_is_terminated() -> None:
    environ = _environ(method="POST")
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(b"y" * 300)
    environ["wsgi.input_terminated"] = True
    request = threading_mode.eio_translate_request((environ, None))
    assert request.content_length is None
    assert request.read_body is not None
    assert request.read_body(100) == b"y" * 100
    assert request.read_body(1000) == b"y" * 200


def test_make_response() -> None:
    calls: list[tuple[str, list[tuple[str, str]]]] = []
    environ = _environ()
    request = threading_mode.eio_translate_request(
        (environ, lambda status, headers: calls.append((status, headers)))
    )
    body = threading_mode.eio_make_response(
        Response(200, [("Content-Type", "text/plain")], b"ok"), request
    )
    assert body == [b"ok"]
    assert calls == [("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])]
    calls.clear()
    threading_mode.eio_make_response(Response(204), request)
    assert calls == [("204 No Content", [])]


def test_can_upgrade_needs_a_raw_socket() -> None:
    environ = _environ()
    assert not threading_mode.eio_can_upgrade(threading_mode.eio_translate_request((environ, None)))
    for key in ("werkzeug.socket", "gunicorn.socket"):
        with_socket = {**environ, key: object()}
        request = threading_mode.eio_translate_request((with_socket, None))
        assert threading_mode.eio_can_upgrade(request)


def _upgrade_headers() -> dict[str, str]:
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }


def test_wrap_websocket_declines_without_a_raw_socket() -> None:
    environ = _environ(headers=_upgrade_headers())
    request = threading_mode.eio_translate_request((environ, None))
    assert threading_mode.eio_wrap_websocket(request, 1000) is None


@pytest.mark.parametrize("missing", ["Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"])
def test_wrap_websocket_declines_an_invalid_upgrade_and_writes_nothing(missing: str) -> None:
    headers = _upgrade_headers()
    del headers[missing]
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        environ = _environ(headers=headers)
        environ["werkzeug.socket"] = server_side
        request = threading_mode.eio_translate_request((environ, None))
        assert threading_mode.eio_wrap_websocket(request, 1000) is None
        client_side.setblocking(False)
        with pytest.raises(BlockingIOError):
            client_side.recv(100)


def test_websocket_over_a_socketpair() -> None:
    """The wsproto socket without a server: handshake, echo, close from the peer."""
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client_side.settimeout(TIMEOUT)
        environ = _environ(headers=_upgrade_headers())
        environ["werkzeug.socket"] = server_side
        ws = accept_websocket(environ, max_message_size=100)
        assert ws is not None
        response = client_side.recv(4096)
        assert response.startswith(b"HTTP/1.1 101 ")
        assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in response  # RFC 6455's example key
        # The 101 was read above: speak frames directly.
        frames = FrameProtocol(client=True, extensions=[])
        client_side.sendall(frames.send_data("hi", fin=True))
        assert ws.receive(timeout=TIMEOUT) == "hi"
        with pytest.raises(TimeoutError):
            ws.receive(timeout=0.05)
        client_side.sendall(frames.close(1000))
        assert ws.receive(timeout=TIMEOUT) is None
        assert ws.close_code == 1000
        assert ws.closed


def _read_messages(sock: socket.socket, count: int) -> list[str | bytes]:
    """Read ``count`` server frames (a client's view) from ``sock``."""
    frames = FrameProtocol(client=True, extensions=[])  # the client side: unmasked frames in
    messages: list[str | bytes] = []
    parts: list[Any] = []
    while len(messages) < count:
        data = sock.recv(1 << 16)
        assert data, "connection closed early"
        frames.receive_bytes(data)
        for frame in frames.received_frames():
            parts.append(frame.payload)
            if frame.message_finished:
                kind = str if isinstance(frame.payload, str) else bytes
                messages.append(kind().join(parts))  # type: ignore[attr-defined]
                parts = []
    return messages


@contextlib.contextmanager
def _accepted_pair() -> Iterator[tuple[Any, socket.socket]]:
    """A WebSocket accepted on one end of a socketpair; the other end, past the 101."""
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client_side.settimeout(TIMEOUT)
        environ = _environ(headers=_upgrade_headers())
        environ["werkzeug.socket"] = server_side
        ws = accept_websocket(environ, max_message_size=100)
        assert ws is not None
        assert client_side.recv(4096).startswith(b"HTTP/1.1 101 ")
        yield ws, client_side


def test_try_send_never_waits_and_keeps_order() -> None:
    """try_send writes what the socket takes now; what it cannot is finished, in
    order and whole, by the callable it returns, before any later frame."""
    with _accepted_pair() as (ws, client_side):
        assert ws.try_send("small") is None  # the buffer took it: nothing left to do
        assert ws.try_send(["a", b"b"]) is None  # a batch, in one write
        assert _read_messages(client_side, 3) == ["small", "a", b"b"]
        # The peer stops reading: a large message cannot go out now.
        big = b"x" * (8 << 20)
        start = time.monotonic()
        finish = ws.try_send(big)
        assert finish is not None
        assert time.monotonic() - start < 1.0  # it returned instead of waiting
        # The reader drains while another thread finishes the write; the next
        # message follows the big one whole.
        reader = threading.Thread(
            target=lambda: received.extend(_read_messages(client_side, 2)), daemon=True
        )
        received: list[str | bytes] = []
        reader.start()
        finish()
        ws.send("after")
        reader.join(TIMEOUT)
        assert received == [big, "after"]


def test_try_send_hands_over_while_a_send_waits() -> None:
    """While another thread's send holds the socket (a slow peer), try_send does not
    wait for it: it returns a callable that sends the message in full."""
    with _accepted_pair() as (ws, client_side):
        big = b"y" * (8 << 20)
        sender = threading.Thread(target=ws.send, args=(big,), daemon=True)
        sender.start()
        deadline = time.monotonic() + TIMEOUT
        while not ws._lock.locked() and time.monotonic() < deadline:
            time.sleep(0.001)
        finish = ws.try_send("next")
        assert finish is not None
        received: list[str | bytes] = []
        reader = threading.Thread(
            target=lambda: received.extend(_read_messages(client_side, 2)), daemon=True
        )
        reader.start()
        sender.join(TIMEOUT)
        finish()
        reader.join(TIMEOUT)
        assert received == [big, "next"]


def test_try_send_on_a_closed_websocket_raises() -> None:
    with _accepted_pair() as (ws, _):
        ws._finish()
        with pytest.raises(WebSocketClosed):
            ws.try_send("late")


def test_receive_many_takes_a_burst_in_one_call() -> None:
    """Messages that arrived together come back together, in order; a ping among
    them is answered; a close after them is reported by the next call."""
    with _accepted_pair() as (ws, client_side):
        frames = FrameProtocol(client=True, extensions=[])
        burst = (
            frames.send_data("one", fin=True)
            + frames.ping(b"p")
            + frames.send_data(b"two", fin=True)
            + frames.send_data("three", fin=True)
            + frames.close(1000)
        )
        client_side.sendall(burst)
        assert ws.receive_many(timeout=TIMEOUT) == ["one", b"two", "three"]
        assert ws.receive_many(timeout=TIMEOUT) is None
        assert ws.close_code == 1000
    with _accepted_pair() as (idle, _), pytest.raises(TimeoutError):
        idle.receive_many(timeout=0.05)  # nothing has arrived: it waits, bounded


def test_receive_many_stops_at_an_oversize_message() -> None:
    """The messages before a too-large one are delivered; then MessageTooLarge, once."""
    with _accepted_pair() as (ws, client_side):
        frames = FrameProtocol(client=True, extensions=[])
        too_big = frames.send_data("x" * 200, fin=True)
        client_side.sendall(frames.send_data("fits", fin=True) + too_big)
        assert ws.receive_many(timeout=TIMEOUT) == ["fits"]
        with pytest.raises(MessageTooLarge):
            ws.receive_many(timeout=TIMEOUT)
        assert ws.receive_many(timeout=TIMEOUT) is None
        assert ws.closed_for_size


# -- end to end under real servers ------------------------------------------------------


class Client:
    """A WebSocket client: wsproto over a plain socket with a timeout."""

    def __init__(self, sock: socket.socket, ws: WSConnection) -> None:
        self.sock = sock
        self.ws = ws
        self.pending: deque[Event] = deque()

    @classmethod
    def connect(cls, port: int, path: str = "/ws", early: bytes = b"") -> Client:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        client = cls(sock, WSConnection(ConnectionType.CLIENT))
        sock.sendall(client.ws.send(Request(host="127.0.0.1", target=path)) + early)
        assert isinstance(client.next_event(), AcceptConnection)
        return client

    def next_event(self) -> Event:
        while not self.pending:
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())
        return self.pending.popleft()

    def send(self, event: Event) -> None:
        self.sock.sendall(self.ws.send(event))

    def send_message(self, data: str | bytes) -> None:
        self.send(TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data))

    def receive_message(self) -> str | bytes:
        parts: list[Any] = []
        while True:
            event = self.next_event()
            assert isinstance(event, (TextMessage, BytesMessage)), event
            parts.append(event.data)
            if event.message_finished:
                return "".join(parts) if isinstance(parts[0], str) else b"".join(parts)

    def expect_close(self) -> int:
        """Wait for the server's close frame, answer it, and check the server hangs up."""
        event = self.next_event()
        while isinstance(event, (TextMessage, BytesMessage)):
            event = self.next_event()
        assert isinstance(event, CloseConnection), event
        self.send(event.response())
        self.expect_eof()
        return event.code

    def close(self, code: int = 1000) -> int:
        self.send(CloseConnection(code=code))
        event = self.next_event()
        assert isinstance(event, CloseConnection), event
        self.expect_eof()
        return event.code

    def expect_eof(self) -> None:
        """The server must close the TCP connection and write nothing after the close frame."""
        rest = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                break
            rest += data
        assert rest == b""
        self.sock.close()


def http_get(port: int, path: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


class Echo:
    """The echo app on a live server, and how many WebSockets it saw end."""

    def __init__(self, kind: str, port: int) -> None:
        self.kind = kind
        self.port = port
        self.seen = self._last()["count"]

    def _last(self) -> dict[str, Any]:
        status, body = http_get(self.port, "/last")
        assert status == 200
        outcome: dict[str, Any] = json.loads(body)
        return outcome

    def outcome(self) -> dict[str, Any]:
        """How the next WebSocket ended (the server records it after its close)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            outcome = self._last()
            if outcome["count"] > self.seen:
                self.seen = outcome["count"]
                return outcome
            assert time.monotonic() < deadline, "the server did not finish the WebSocket"
            time.sleep(0.01)


@pytest.fixture(scope="module")
def werkzeug_port() -> Iterator[int]:
    server = make_server("127.0.0.1", 0, threading_mode_echo_app.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(TIMEOUT)
    server.server_close()


def _start_gunicorn(worker: str) -> tuple[subprocess.Popen[str], int]:
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        worker,
        "-w",
        "1",
        "-b",
        "127.0.0.1:0",
        "--pythonpath",
        str(TESTS),
        "--log-level",
        "debug",
        "--no-control-socket",  # gunicorn 27 would share ~/.gunicorn/gunicorn.ctl
    ]
    if worker == "gthread":
        args += ["--threads", "4"]
    process = subprocess.Popen(
        [*args, "threading_mode_echo_app:app"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 30
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            process.kill()
            raise RuntimeError("gunicorn did not start:\n" + "".join(log)) from None
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if found:
            process.log = log  # type: ignore[attr-defined]
            return process, int(found.group(1))


@pytest.fixture(scope="module", params=["werkzeug", "gunicorn-gthread", "gunicorn-sync"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    kind: str = request.param
    if kind == "werkzeug":
        yield kind, request.getfixturevalue("werkzeug_port")
        return
    process, port = _start_gunicorn(kind.split("-")[1])
    yield kind, port
    process.terminate()
    try:
        process.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(TIMEOUT)
    log = "".join(process.log)  # type: ignore[attr-defined]
    assert "Error handling request" not in log, log
    assert "Traceback" not in log, log


@pytest.fixture
def echo(server: tuple[str, int]) -> Echo:
    return Echo(*server)


def test_text_and_binary_echo(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.send_message("hello")
    assert client.receive_message() == "hello"
    client.send_message("h\u00e9llo \u2603")
    assert client.receive_message() == "h\u00e9llo \u2603"
    client.send_message(b"\x00\x01\xff")
    assert client.receive_message() == b"\x00\x01\xff"
    assert client.close() == 1000
    outcome = echo.outcome()
    assert outcome["close_code"] == 1000
    assert outcome["messages"] == 3


def test_fragmented_messages(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.send(TextMessage(data="frag", message_finished=False))
    client.send(TextMessage(data="men", message_finished=False))
    client.send(TextMessage(data="ted", message_finished=True))
    assert client.receive_message() == "fragmented"
    client.send(BytesMessage(data=b"\x01\x02", message_finished=False))
    client.send(Ping(payload=b"in between"))  # a control frame inside a fragmented message
    client.send(BytesMessage(data=b"\x03", message_finished=True))
    event = client.next_event()
    assert event == Pong(payload=b"in between")
    assert client.receive_message() == b"\x01\x02\x03"
    client.close()


def test_ping_is_answered(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.send(Ping(payload=b"are you there"))
    assert client.next_event() == Pong(payload=b"are you there")
    client.close()


def test_close_from_the_server(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.send_message("close:4001")
    assert client.expect_close() == 4001
    outcome = echo.outcome()
    assert outcome["close_code"] == 4001
    assert outcome["closed_for_size"] is False


def test_close_from_the_client(echo: Echo) -> None:
    client = Client.connect(echo.port)
    assert client.close(4002) == 4002
    assert echo.outcome()["close_code"] == 4002


def test_client_dropping_the_connection(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.sock.close()
    assert echo.outcome()["close_code"] == 1006


@pytest.mark.parametrize("fragmented", [False, True])
def test_oversize_message_closes_with_1009(echo: Echo, fragmented: bool) -> None:
    client = Client.connect(echo.port)
    client.send_message(b"x" * 1000)  # the limit itself is fine
    assert client.receive_message() == b"x" * 1000
    if fragmented:
        client.send(BytesMessage(data=b"y" * 600, message_finished=False))
        client.send(BytesMessage(data=b"y" * 600, message_finished=True))
    else:
        client.send_message("z" * 1001)
    assert client.expect_close() == 1009
    outcome = echo.outcome()
    assert outcome["closed_for_size"] is True
    assert outcome["too_large"] is True
    assert outcome["close_code"] == 1009


def test_multibyte_text_is_measured_in_bytes(echo: Echo) -> None:
    client = Client.connect(echo.port)
    client.send_message("\u00e9" * 500)  # 1000 bytes in UTF-8
    assert client.receive_message() == "\u00e9" * 500
    client.send_message("\u00e9" * 501)  # 501 characters, 1002 bytes
    assert client.expect_close() == 1009


def test_bytes_sent_right_after_the_upgrade_request_are_not_lost(echo: Echo) -> None:
    early = bytes(FrameProtocol(client=True, extensions=[]).send_data("early bird", fin=True))
    client = Client.connect(echo.port, early=early)
    assert client.receive_message() == "early bird"
    client.close()


def test_not_a_websocket_gets_a_400(echo: Echo) -> None:
    status, body = http_get(echo.port, "/ws")
    assert (status, body) == (400, b"not a websocket")


def test_http_keeps_working_after_websockets(echo: Echo) -> None:
    for _ in range(3):
        Client.connect(echo.port).close()
        assert http_get(echo.port, "/hello") == (200, b"hello")
    if echo.kind != "gunicorn-sync":  # one request at a time there
        client = Client.connect(echo.port)
        assert http_get(echo.port, "/hello") == (200, b"hello")  # while a WebSocket is open
        client.close()


def test_werkzeug_writes_nothing_after_the_websocket(
    werkzeug_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="werkzeug"):
        Client.connect(werkzeug_port).close()
        assert http_get(werkzeug_port, "/hello") == (200, b"hello")
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors == []


# -- the socket's own guarantees, over a socketpair --------------------------------------


@pytest.fixture
def pair() -> Iterator[Callable[..., tuple[WsprotoWebSocket, Client]]]:
    """Make an accepted WebSocket and a client connected to it (a real handshake)."""
    sockets: list[socket.socket] = []

    def make(
        key: str = "werkzeug.socket", max_message_size: int = 100, close_timeout: float = 5.0
    ) -> tuple[WsprotoWebSocket, Client]:
        server_side, client_side = socket.socketpair()
        sockets.extend((server_side, client_side))
        client_side.settimeout(TIMEOUT)
        connection = WSConnection(ConnectionType.CLIENT)
        request = connection.send(Request(host="example.com", target="/ws")).decode("latin-1")
        headers = dict(line.split(": ", 1) for line in request.split("\r\n")[1:] if line)
        environ = _environ(headers=headers)
        environ[key] = server_side
        ws = accept_websocket(
            environ, max_message_size=max_message_size, close_timeout=close_timeout
        )
        assert ws is not None
        client = Client(client_side, connection)
        assert isinstance(client.next_event(), AcceptConnection)
        return ws, client

    yield make
    for sock in sockets:
        sock.close()


def in_thread(target: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``target`` in a thread; the returned function joins it and returns (or raises)."""
    outcome: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            outcome.put((True, target()))
        except BaseException as exc:
            outcome.put((False, exc))

    threading.Thread(target=run, daemon=True).start()

    def result() -> Any:
        ok, value = outcome.get(timeout=TIMEOUT)
        if not ok:
            raise value
        return value

    return result


def test_close_from_another_thread_wakes_the_receiver(pair: Any) -> None:
    ws, client = pair()
    received = in_thread(ws.receive)
    time.sleep(0.05)  # let the receiver block
    start = time.monotonic()
    closed = in_thread(lambda: ws.close(1001))
    event = client.next_event()
    assert event == CloseConnection(code=1001, reason="")
    client.send(event.response())
    assert closed() is None
    assert received() is None
    assert time.monotonic() - start < 2
    assert ws.close_code == 1001
    client.expect_eof()
    ws.close()  # idempotent


def test_close_without_a_reply_is_bounded(pair: Any) -> None:
    ws, client = pair(close_timeout=0.2)
    start = time.monotonic()
    ws.close()
    assert 0.15 < time.monotonic() - start < 2
    assert ws.closed
    assert isinstance(client.next_event(), CloseConnection)
    client.expect_eof()


def test_close_reads_the_reply_itself_when_nobody_receives(pair: Any) -> None:
    ws, client = pair()
    replied = in_thread(lambda: client.send(CloseConnection(code=1000)))
    ws.close()
    replied()
    assert ws.closed
    assert ws.receive() is None


def test_concurrent_sends_do_not_interleave(pair: Any) -> None:
    ws, client = pair()
    senders = [
        in_thread(lambda n=n: [ws.send(f"{n}:{i}:" + "x" * 500) for i in range(50)])
        for n in range(8)
    ]
    received = {client.receive_message() for _ in range(8 * 50)}
    for sender in senders:
        sender()
    assert received == {f"{n}:{i}:" + "x" * 500 for n in range(8) for i in range(50)}


def test_send_after_close_raises(pair: Any) -> None:
    ws, client = pair()
    in_thread(lambda: client.close())
    assert ws.receive() is None
    with pytest.raises(WebSocketClosed):
        ws.send("too late")


def test_send_to_a_vanished_peer_raises(pair: Any) -> None:
    ws, client = pair()
    client.sock.close()
    with pytest.raises(WebSocketClosed):
        for _ in range(100):
            ws.send(b"x" * 10_000)
    assert ws.receive() is None
    assert ws.close_code == 1006


def test_invalid_utf8_closes_with_1007(pair: Any) -> None:
    ws, client = pair()
    frames = FrameProtocol(client=True, extensions=[])
    frame = bytearray(frames.send_data(b"\xff\xfe", fin=True))
    frame[0] = (frame[0] & 0xF0) | 0x1  # turn the binary frame into a text frame
    client.sock.sendall(frame)
    assert ws.receive() is None
    assert ws.close_code == 1007
    event = client.next_event()
    assert isinstance(event, CloseConnection)
    assert event.code == 1007


def test_too_large_raises_once_then_returns_none(pair: Any) -> None:
    ws, client = pair(max_message_size=100)
    received = in_thread(ws.receive)
    client.send_message(b"x" * 101)
    assert client.expect_close() == 1009
    with pytest.raises(MessageTooLarge):
        received()
    assert ws.closed_for_size
    assert ws.receive() is None


def test_receive_timeout_keeps_a_partial_message(pair: Any) -> None:
    ws, client = pair()
    client.send(TextMessage(data="part ", message_finished=False))
    with pytest.raises(TimeoutError):
        ws.receive(timeout=0.05)
    client.send(TextMessage(data="two", message_finished=True))
    assert ws.receive(timeout=TIMEOUT) == "part two"


@pytest.mark.parametrize(
    ("key", "exception"),
    [("werkzeug.socket", WebSocketTakenOver), ("gunicorn.socket", StopIteration)],
)
def test_response_tells_the_server_to_write_nothing(
    pair: Any, key: str, exception: type[BaseException]
) -> None:
    ws, client = pair(key=key, close_timeout=0.2)
    with pytest.raises(exception):
        ws.response()
    assert ws.closed
    assert isinstance(client.next_event(), CloseConnection)
    assert issubclass(WebSocketTakenOver, ConnectionError)  # what werkzeug drops silently


def test_ping_while_closing_is_not_answered(pair: Any) -> None:
    ws, client = pair(close_timeout=2.0)
    closed = in_thread(lambda: ws.close(1000))
    assert isinstance(client.next_event(), CloseConnection)
    # The client pings before answering the close: the server, closing, stays quiet.
    client.sock.sendall(FrameProtocol(client=True, extensions=[]).ping(b"late"))
    client.sock.sendall(FrameProtocol(client=True, extensions=[]).close(1000))
    closed()
    assert ws.closed
    assert ws.close_code == 1000
    client.expect_eof()


def test_a_failing_task_is_reported_and_its_thread_lives_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", reported.append)

    def fail() -> None:
        raise RuntimeError("boom")

    task = threading_mode.eio_spawn(fail, (), {})
    task.join(TIMEOUT)
    assert not task.is_alive()
    assert [type(args.exc_value) for args in reported] == [RuntimeError]
    ran: queue.Queue[Any] = queue.Queue()
    threading_mode.eio_spawn(lambda: ran.put(threading.current_thread()), (), {}).join(TIMEOUT)
    assert ran.get(timeout=TIMEOUT).is_alive()
