"""Checks of the eventlet mode under the real eventlet, run in a subprocess.

``python eventlet_checks.py CHECK`` runs one check and prints ``ok`` (the
pytest process never imports eventlet: see test_eventlet_mode.py). The
process is not monkey-patched, so a primitive that blocked the OS thread
instead of yielding to eventlet's hub would stall the checks.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import eio_eventlet
import eventlet
import eventlet.wsgi
from eio_eventlet._websocket import EventletWebSocket, accept_websocket
from eventlet.green import socket as green_socket
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


def check_primitives() -> None:
    seen: list[str] = []
    task = eio_eventlet.eio_spawn(seen.append, ("ran",), {})
    task.join(1)
    assert seen == ["ran"], seen
    assert not task.is_alive()

    # sleep yields: a spawned task runs while this one sleeps.
    ticks: list[float] = []
    ticker = eio_eventlet.eio_spawn(lambda: ticks.append(time.monotonic()), (), {})
    eio_eventlet.eio_sleep(0.01)
    assert ticks, "eio_sleep did not yield"
    ticker.join(1)

    # join(timeout) returns after the timeout while the task still runs.
    slow = eio_eventlet.eio_spawn(eio_eventlet.eio_sleep, (0.5,), {})
    start = time.monotonic()
    slow.join(0.05)
    assert 0.04 < time.monotonic() - start < 0.4 and slow.is_alive()

    # call_soon runs after the green threads that were ready, in the hub.
    order: list[str] = []
    eio_eventlet.eio_spawn(order.append, ("spawned",), {})
    eio_eventlet.eio_call_soon(order.append, ("soon",))
    order.append("caller")
    eio_eventlet.eio_sleep(0)
    assert order == ["caller", "spawned", "soon"], order

    # spawn_detached starts a green thread too, with no handle, and in order.
    detached: list[int] = []
    assert eio_eventlet.eio_spawn_detached(detached.append, (1,)) is None
    eio_eventlet.eio_spawn_detached(detached.append, (2,))
    assert detached == []  # not run in the caller
    eio_eventlet.eio_sleep(0)
    assert detached == [1, 2], detached

    q = eio_eventlet.eio_create_queue()
    producer = eio_eventlet.eio_spawn(lambda: [q.put(i) for i in range(3)], (), {})
    assert [q.get(timeout=1) for _ in range(3)] == [0, 1, 2]
    producer.join(1)
    start = time.monotonic()
    try:
        q.get(timeout=0.05)
    except queue.Empty:
        assert time.monotonic() - start < 0.5
    else:
        raise AssertionError("get() on an empty queue did not raise queue.Empty")

    event = eio_eventlet.eio_create_event()
    assert event.wait(0.02) is False and not event.is_set()
    setter = eio_eventlet.eio_spawn(event.set, (), {})
    assert event.wait(1) is True and event.is_set()
    setter.join(1)
    event.clear()
    assert not event.is_set()
    assert threading.active_count() == 1, threading.enumerate()


class Peer:
    """A wsproto client on the other end of a green socket pair."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.events: list[Event] = []
        self.answered: list[int] = []  # close codes answered by answer_close

    def answer_close(self, code: int) -> None:
        event = self.next_event()
        assert isinstance(event, CloseConnection) and event.code == code, event
        self.sock.sendall(self.conn.send(event.response()))
        self.answered.append(code)

    def request_environ(self) -> dict[str, Any]:
        raw = self.conn.send(Request(host="localhost", target="/engine.io/"))
        lines = raw.decode("latin-1").split("\r\n")
        environ: dict[str, Any] = {"REQUEST_METHOD": "GET"}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                environ["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
        return environ

    def next_event(self, timeout: float = 2.0) -> Event:
        with eventlet.Timeout(timeout):
            while not self.events:
                data = self.sock.recv(65536)
                self.conn.receive_data(data or None)
                self.events.extend(self.conn.events())
        return self.events.pop(0)

    def send(self, data: str | bytes) -> None:
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.conn.send(event))


class FakeInput:
    """What eventlet.wsgi puts in environ["eventlet.input"]: the socket and its reader."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.rfile = sock.makefile("rb")

    def get_socket(self) -> Any:
        return self._sock


def opened(kind: str = "eventlet.wsgi", max_size: int = 100) -> tuple[EventletWebSocket, Peer]:
    server, client = green_socket.socketpair()
    peer = Peer(client)
    environ = peer.request_environ()
    if kind == "gunicorn":
        environ["gunicorn.socket"] = server
    else:
        environ["eventlet.input"] = FakeInput(server)
    ws = accept_websocket(environ, max_message_size=max_size, close_timeout=1.0)
    assert ws is not None
    assert isinstance(peer.next_event(), AcceptConnection)
    return ws, peer


def check_websocket() -> None:
    ws, peer = opened()
    peer.send("hello ☃")
    assert ws.receive(timeout=2) == "hello ☃"
    peer.send(b"\x00\x01")
    assert ws.receive(timeout=2) == b"\x00\x01"

    # A receive that times out parks only its green thread.
    ticks: list[int] = []

    def tick() -> None:
        for i in range(5):
            ticks.append(i)
            eventlet.sleep(0.005)

    ticker = eio_eventlet.eio_spawn(tick, (), {})
    try:
        ws.receive(timeout=0.1)
    except TimeoutError:
        pass
    else:
        raise AssertionError("receive(timeout) did not time out")
    assert ticks == [0, 1, 2, 3, 4], ticks
    ticker.join(1)

    # Another green thread sends while this one is blocked in receive().
    def reply() -> None:
        ws.send("from server")
        event = peer.next_event()
        assert isinstance(event, TextMessage) and event.data == "from server", event
        peer.send("done")

    replier = eio_eventlet.eio_spawn(reply, (), {})
    assert ws.receive() == "done"
    replier.join(1)

    # Closing from another green thread ends a blocked receive().
    def close_later() -> None:
        eventlet.sleep(0.02)
        ws.close(1000)

    closer = eio_eventlet.eio_spawn(close_later, (), {})
    answerer = eio_eventlet.eio_spawn(peer.answer_close, (1000,), {})
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
    # eventlet.wsgi is told the request was handled: it writes no response.
    assert ws.response() == []
    assert eventlet.wsgi.WSGI_LOCAL.already_handled is True
    assert threading.active_count() == 1, threading.enumerate()


def check_oversize_message() -> None:
    ws, peer = opened(max_size=100)
    peer.send("x" * 101)
    answerer = eio_eventlet.eio_spawn(peer.answer_close, (1009,), {})
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
    ws, peer = opened(kind="gunicorn")
    assert ws.server == "gunicorn"
    eio_eventlet.eio_spawn(peer.answer_close, (1000,), {})
    try:
        ws.response()
    except StopIteration:
        pass
    else:
        raise AssertionError("gunicorn must get StopIteration after a WebSocket")
    assert ws.closed and peer.answered == [1000]


def check_pooled_greenlets() -> None:
    # Detached tasks run on parked green threads: those that wait at the same
    # time each hold one; a burst that never waits runs, in order, on one.
    import eventlet.hubs

    from engineio_core.plugin.greenlets import DEFAULT_MAX_IDLE

    waited: list[Any] = []

    def waits() -> None:
        eventlet.sleep(0)
        waited.append(eventlet.getcurrent())

    for _ in range(DEFAULT_MAX_IDLE + 36):
        eio_eventlet.eio_spawn_detached(waits, ())
    eventlet.sleep(0.05)
    parked = eventlet.hubs.get_hub()._engineio_core_parked.idle
    assert len(waited) == DEFAULT_MAX_IDLE + 36 and len(set(waited)) == len(waited)
    assert len(parked) == DEFAULT_MAX_IDLE, len(parked)

    order: list[int] = []
    runners: set[Any] = set()

    def quick(n: int) -> None:
        order.append(n)
        runners.add(eventlet.getcurrent())

    for n in range(DEFAULT_MAX_IDLE * 4):
        eio_eventlet.eio_spawn_detached(quick, (n,))
    eventlet.sleep(0.05)
    assert order == list(range(DEFAULT_MAX_IDLE * 4)), order[:10]
    assert len(runners) == 1 and runners <= set(parked), len(runners)

    # A job that raises is reported by the hub once; the jobs queued with it run.
    hub = eventlet.hubs.get_hub()
    reported: list[Any] = []
    hub.squelch_timer_exception = lambda timer, exc_info: reported.append(exc_info[1])
    order.clear()

    def fail() -> None:
        raise LookupError("job failed")

    eio_eventlet.eio_spawn_detached(quick, (1,))
    eio_eventlet.eio_spawn_detached(fail, ())
    eio_eventlet.eio_spawn_detached(quick, (2,))
    eventlet.sleep(0.05)
    assert order == [1, 2], order
    assert [type(e) for e in reported] == [LookupError], reported


CHECKS: dict[str, Callable[[], None]] = {
    "pooled-greenlets": check_pooled_greenlets,
    "primitives": check_primitives,
    "websocket": check_websocket,
    "oversize": check_oversize_message,
    "gunicorn": check_gunicorn_response,
}

if __name__ == "__main__":
    CHECKS[sys.argv[1]]()
    print("ok")
