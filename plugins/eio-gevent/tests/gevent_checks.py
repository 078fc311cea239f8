"""Checks of the gevent modes under the real gevent, run in a subprocess.

``python gevent_checks.py CHECK`` runs one check and prints ``ok`` (the pytest
process never imports gevent: see test_gevent_mode.py). The process is not
monkey-patched, so a primitive that blocked the OS thread instead of yielding
to gevent's hub would stall the checks.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import gevent
import gevent.socket
from eio_gevent import gevent_mode
from eio_gevent._websocket import GeventWebSocket, accept_websocket, refuse_upgraded
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Request,
    TextMessage,
)

from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.http import Response


def check_primitives() -> None:
    seen: list[str] = []
    task = gevent_mode.eio_spawn(seen.append, ("ran",), {})
    task.join(1)
    assert seen == ["ran"], seen

    ticks: list[float] = []
    ticker = gevent_mode.eio_spawn(lambda: ticks.append(time.monotonic()), (), {})
    gevent_mode.eio_sleep(0.01)
    assert ticks, "eio_sleep did not yield"
    ticker.join(1)

    slow = gevent_mode.eio_spawn(gevent_mode.eio_sleep, (0.5,), {})
    start = time.monotonic()
    slow.join(0.05)
    assert 0.04 < time.monotonic() - start < 0.4 and not slow.dead

    # call_soon runs after the greenlets that were ready, in the hub.
    order: list[str] = []
    gevent_mode.eio_spawn(order.append, ("spawned",), {})
    gevent_mode.eio_call_soon(order.append, ("soon",))
    order.append("caller")
    gevent_mode.eio_sleep(0)
    assert order == ["caller", "spawned", "soon"], order

    # spawn_detached starts a greenlet too, with no handle, and in order.
    detached: list[int] = []
    assert gevent_mode.eio_spawn_detached(detached.append, (1,)) is None
    gevent_mode.eio_spawn_detached(detached.append, (2,))
    assert detached == []  # not run in the caller
    gevent_mode.eio_sleep(0)
    assert detached == [1, 2], detached

    q = gevent_mode.eio_create_queue()
    producer = gevent_mode.eio_spawn(lambda: [q.put(i) for i in range(3)], (), {})
    assert [q.get(timeout=1) for _ in range(3)] == [0, 1, 2]
    producer.join(1)
    start = time.monotonic()
    try:
        q.get(timeout=0.05)
    except queue.Empty:
        assert time.monotonic() - start < 0.5
    else:
        raise AssertionError("get() on an empty queue did not raise queue.Empty")

    event = gevent_mode.eio_create_event()
    assert event.wait(0.02) is False and not event.is_set()
    setter = gevent_mode.eio_spawn(event.set, (), {})
    assert event.wait(1) is True and event.is_set()
    setter.join(1)
    event.clear()
    assert not event.is_set()
    assert threading.active_count() == 1, threading.enumerate()


class Peer:
    """A wsproto client on the other end of a gevent socket pair."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.events: list[Event] = []
        self.answered: list[int] = []  # close codes answered by answer_close

    def request_environ(self) -> dict[str, Any]:
        raw = self.request = self.conn.send(Request(host="localhost", target="/engine.io/"))
        environ: dict[str, Any] = {"REQUEST_METHOD": "GET"}
        for line in raw.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                environ["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
        return environ

    def next_event(self, timeout: float = 2.0) -> Event:
        with gevent.Timeout(timeout):
            while not self.events:
                data = self.sock.recv(65536)
                self.conn.receive_data(data or None)
                self.events.extend(self.conn.events())
        return self.events.pop(0)

    def send(self, data: str | bytes) -> None:
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.conn.send(event))

    def answer_close(self, code: int) -> None:
        event = self.next_event()
        assert isinstance(event, CloseConnection) and event.code == code, event
        self.sock.sendall(self.conn.send(event.response()))
        self.answered.append(code)


def server_environ(kind: str) -> tuple[dict[str, Any], Peer, Any]:
    """An upgrade request's environ as ``kind`` of server builds it, the peer, and a
    handle on what the server would look at afterwards."""
    server, client = gevent.socket.socketpair()
    peer = Peer(client)
    environ = peer.request_environ()
    rfile = server.makefile("rb")
    if kind == "gunicorn":
        environ["gunicorn.socket"] = server
        return environ, peer, server
    if kind == "pywsgi":
        environ["wsgi.input"] = rfile  # pywsgi's rfile itself, for an upgrade request
        return environ, peer, rfile
    # gevent-websocket's handler writes the 101 before calling the application
    # and puts its own socket object in the environ.
    handshake = WSConnection(ConnectionType.SERVER)
    handshake.receive_data(peer.request)
    list(handshake.events())
    server.sendall(handshake.send(AcceptConnection()))
    handler = types.SimpleNamespace(socket=server, rfile=rfile)
    handler_ws = types.SimpleNamespace(handler=handler, closed=False)
    environ["wsgi.websocket"] = handler_ws
    return environ, peer, handler_ws


def opened(kind: str, max_size: int = 100) -> tuple[GeventWebSocket, Peer, Any]:
    environ, peer, handle = server_environ(kind)
    ws = accept_websocket(environ, max_message_size=max_size, close_timeout=1.0)
    assert ws is not None
    assert isinstance(peer.next_event(), AcceptConnection)  # exactly one 101
    return ws, peer, handle


def check_websocket() -> None:
    ws, peer, rfile = opened("pywsgi")
    assert ws.server == "pywsgi"
    peer.send("hello ☃")
    assert ws.receive(timeout=2) == "hello ☃"
    peer.send(b"\x00\x01")
    assert ws.receive(timeout=2) == b"\x00\x01"

    ticks: list[int] = []

    def tick() -> None:
        for i in range(5):
            ticks.append(i)
            gevent.sleep(0.005)

    ticker = gevent_mode.eio_spawn(tick, (), {})
    try:
        ws.receive(timeout=0.1)
    except TimeoutError:
        pass
    else:
        raise AssertionError("receive(timeout) did not time out")
    assert ticks == [0, 1, 2, 3, 4], ticks
    ticker.join(1)

    def reply() -> None:
        ws.send("from server")
        event = peer.next_event()
        assert isinstance(event, TextMessage) and event.data == "from server", event
        peer.send("done")

    replier = gevent_mode.eio_spawn(reply, (), {})
    assert ws.receive() == "done"
    replier.join(1)

    def close_later() -> None:
        gevent.sleep(0.02)
        ws.close(1000)

    closer = gevent_mode.eio_spawn(close_later, (), {})
    answerer = gevent_mode.eio_spawn(peer.answer_close, (1000,), {})
    assert ws.receive() is None
    closer.join(2)
    answerer.join(2)
    assert ws.closed and ws.close_code == 1000 and peer.answered == [1000]
    try:
        ws.send("late")
    except WebSocketClosed:
        pass
    else:
        raise AssertionError("send() after close did not raise WebSocketClosed")
    # pywsgi stops reading requests on this connection once its rfile is closed.
    assert ws.response() == [] and rfile.closed
    assert threading.active_count() == 1, threading.enumerate()


def check_oversize_message() -> None:
    ws, peer, _ = opened("pywsgi", max_size=100)
    peer.send("x" * 101)
    answerer = gevent_mode.eio_spawn(peer.answer_close, (1009,), {})
    try:
        ws.receive(timeout=2)
    except MessageTooLarge:
        pass
    else:
        raise AssertionError("an oversize message did not raise MessageTooLarge")
    answerer.join(2)
    assert ws.receive(timeout=2) is None
    assert ws.closed_for_size and ws.close_code == 1009 and peer.answered == [1009]


def check_gunicorn_response() -> None:
    ws, peer, _ = opened("gunicorn")
    gevent_mode.eio_spawn(peer.answer_close, (1000,), {})
    try:
        ws.response()
    except StopIteration:
        pass
    else:
        raise AssertionError("gunicorn must get StopIteration after a WebSocket")
    assert ws.closed and peer.answered == [1000]


def check_gevent_websocket_handler() -> None:
    # The handler wrote the 101: accepting writes no second one, messages flow.
    ws, peer, handler_ws = opened("gevent-websocket")
    peer.send("hi")
    assert ws.receive(timeout=2) == "hi"
    ws.send("back")
    event = peer.next_event()
    assert isinstance(event, TextMessage) and event.data == "back", event
    gevent_mode.eio_spawn(peer.answer_close, (1000,), {})
    assert ws.response() == [] and peer.answered == [1000]
    # ... and the handler is told not to write a close frame of its own.
    assert handler_ws.closed is True


def check_refusal_after_101() -> None:
    environ, peer, handler_ws = server_environ("gevent-websocket")
    assert isinstance(peer.next_event(), AcceptConnection)
    answerer = gevent_mode.eio_spawn(peer.answer_close, (4403,), {})
    refused = refuse_upgraded(environ, Response(403, [], b'{"code":4,"message":"Forbidden"}'))
    assert refused == [] and handler_ws.closed is True
    answerer.join(2)
    assert peer.answered == [4403]


def check_uwsgi_can_upgrade() -> None:
    fake = types.ModuleType("uwsgi")
    sys.modules["uwsgi"] = fake
    from eio_gevent import _uwsgi

    for options, expected in [
        ({"http": b"127.0.0.1:9000", "http-websockets": True}, True),
        ({"http": b"127.0.0.1:9000"}, False),
        ({"http-socket": b"127.0.0.1:9000"}, True),
        ({"socket": b"/tmp/app.sock"}, True),
    ]:
        fake.opt = options  # type: ignore[attr-defined]
        assert _uwsgi.can_upgrade() is expected, options


def check_pywsgi_no_delay() -> None:
    """pywsgi sends headers and body apart: Nagle's algorithm must be off for the
    body to leave without waiting for the client's (delayed) acknowledgement."""
    from gevent.pywsgi import WSGIServer

    import engineio_core

    accepted: list[Any] = []

    class Recording(WSGIServer):  # type: ignore[misc]
        def handle(self, sock: Any, address: Any) -> None:
            accepted.append(sock)
            super().handle(sock, address)

    eio = engineio_core.Server(async_mode="gevent", handle_sigterm=False)
    server = Recording(("127.0.0.1", 0), engineio_core.WSGIApp(eio), log=None)
    server.start()
    try:
        client = gevent.socket.create_connection(("127.0.0.1", server.server_port))
        client.sendall(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        with gevent.Timeout(5):
            reply = b""
            while b'"sid"' not in reply:
                reply += client.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200"), reply
        nodelay = accepted[0].getsockopt(gevent.socket.IPPROTO_TCP, gevent.socket.TCP_NODELAY)
        assert nodelay, "TCP_NODELAY is off on pywsgi's connection"
        client.close()
    finally:
        server.stop(timeout=1)


def check_try_send_on_the_raw_socket() -> None:
    # try_send writes on the non-blocking socket under gevent's (no Python frame);
    # a write the buffer cannot take whole is handed over, and finished in order.
    ws, peer, _ = opened("pywsgi")
    assert ws._send_nowait == ws.sock._sock.send, ws._send_nowait
    assert ws.try_send("small") is None
    event = peer.next_event()
    assert isinstance(event, TextMessage) and event.data == "small", event
    big = b"x" * (8 << 20)
    finish = ws.try_send(big)
    assert finish is not None  # the peer is not reading: the rest waits
    received: list[bytes] = []

    def read() -> None:
        chunks = []
        while True:
            event = peer.next_event(timeout=5.0)
            chunks.append(event.data)
            if event.message_finished:
                break
        received.append(b"".join(chunks))
        event = peer.next_event(timeout=5.0)
        received.append(event.data)

    reader = gevent_mode.eio_spawn(read, (), {})
    finish()
    ws.send("after")
    reader.join(5)
    assert received == [big, "after"], [len(r) for r in received]


def check_pooled_greenlets() -> None:
    # Detached tasks reuse parked greenlets, up to DEFAULT_MAX_IDLE of them; one
    # killed while parked is skipped, not handed a task.
    from engineio_core.plugin.greenlets import DEFAULT_MAX_IDLE

    ran: list[Any] = []

    def job(n: int) -> None:
        gevent.sleep(0)
        ran.append(gevent.getcurrent())

    for n in range(DEFAULT_MAX_IDLE + 36):  # all at once: one greenlet each
        gevent_mode.eio_spawn_detached(job, (n,))
    gevent.sleep(0.05)
    parked = gevent.get_hub()._engineio_core_parked.idle
    assert len(ran) == DEFAULT_MAX_IDLE + 36 and len(set(ran)) == len(ran), len(set(ran))
    assert len(parked) == DEFAULT_MAX_IDLE, len(parked)
    first = list(parked)
    ran.clear()
    for n in range(10):
        gevent_mode.eio_spawn_detached(job, (n,))
    gevent.sleep(0.05)
    assert len(ran) == 10 and set(ran) <= set(first), "parked greenlets were not reused"
    victim = parked[-1]
    gevent.kill(victim)  # something kills a parked greenlet
    gevent.sleep(0.01)
    assert victim.dead
    ran.clear()
    gevent_mode.eio_spawn_detached(job, (0,))
    gevent.sleep(0.05)
    assert len(ran) == 1 and ran[0] is not victim, ran

    # Jobs that do not wait are handed out one after another, as they are run:
    # a burst of them, far larger than the pool, runs in order on one greenlet.
    order: list[int] = []
    runners: set[Any] = set()

    def quick(n: int) -> None:
        order.append(n)
        runners.add(gevent.getcurrent())

    for n in range(DEFAULT_MAX_IDLE * 4):
        gevent_mode.eio_spawn_detached(quick, (n,))
    gevent.sleep(0.05)
    assert order == list(range(DEFAULT_MAX_IDLE * 4)), order[:10]
    assert len(runners) == 1 and runners <= set(parked), len(runners)

    # A job that raises is reported by the hub once; the jobs queued with it run.
    reported: list[BaseException] = []
    hub = gevent.get_hub()
    hub.handle_error = lambda context, kind, value, tb: reported.append(value)  # type: ignore[method-assign]
    order.clear()

    def fail() -> None:
        raise LookupError("job failed")

    gevent_mode.eio_spawn_detached(quick, (1,))
    gevent_mode.eio_spawn_detached(fail, ())
    gevent_mode.eio_spawn_detached(quick, (2,))
    gevent.sleep(0.05)
    assert order == [1, 2], order
    assert [type(e) for e in reported] == [LookupError], reported


CHECKS: dict[str, Callable[[], None]] = {
    "pooled-greenlets": check_pooled_greenlets,
    "try-send-raw": check_try_send_on_the_raw_socket,
    "primitives": check_primitives,
    "websocket": check_websocket,
    "oversize": check_oversize_message,
    "gunicorn": check_gunicorn_response,
    "gevent-websocket": check_gevent_websocket_handler,
    "refusal": check_refusal_after_101,
    "uwsgi-can-upgrade": check_uwsgi_can_upgrade,
    "pywsgi-no-delay": check_pywsgi_no_delay,
}

if __name__ == "__main__":
    CHECKS[sys.argv[1]]()
    print("ok")
