"""Who writes a WebSocket session's replies under asyncio, and when.

A ``message`` handler that ends in its first step sends what it queued from its
own eager task (no writer of its own per reply). These tests pin down the
edges of that: a handler that waits after sending must not hold its reply
back, a reply to another session goes out at once, and a write that blocks
makes the handler's task the session's writer, which a stalled peer's
timeout cancels. And an open session keeps nothing of its handshake: it may
last hours. In-process ASGI, so that a send can be held at will; the e2e
suite runs the same path against engine.io-client under real servers.
Also run on Python 3.10 and 3.12 (tests/test_python_versions.py), where the
eager start is asyncio's own.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import engineio_core

WAIT = 2.0


class Peer:
    """One in-memory ASGI WebSocket client; ``hold`` makes its sends block."""

    def __init__(self, app: Any) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.received: asyncio.Queue[str] = asyncio.Queue()
        self.hold: asyncio.Future[None] | None = None
        self.sid = ""
        self.name = ""
        self.inbox.put_nowait({"type": "websocket.connect"})
        scope = {
            "type": "websocket",
            "path": "/engine.io/",
            "query_string": b"EIO=4&transport=websocket",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "scheme": "ws",
            "root_path": "",
        }
        self.task = asyncio.ensure_future(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":  # as a server does once it has closed
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": message["code"]})
        if message["type"] != "websocket.send":
            return
        if self.hold is not None:
            await self.hold
        text = message.get("text")
        if text is not None and text != "2":  # pings are not what these tests read
            self.received.put_nowait(text)

    async def open(self) -> str:
        packet = await self.next()
        assert packet[0] == "0", packet
        self.sid = json.loads(packet[1:])["sid"]
        return self.sid

    def say(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": "4" + text})

    async def next(self) -> str:
        return await asyncio.wait_for(self.received.get(), WAIT)

    async def leave(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, WAIT)


def run(test: Callable[[engineio_core.AsyncServer, Any], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        server = engineio_core.AsyncServer(async_mode="asgi", **options)
        app = engineio_core.ASGIApp(server)
        try:
            await test(server, app)
        finally:
            await server.shutdown()

    asyncio.run(main())


async def echo_peer(server: engineio_core.AsyncServer, app: Any) -> tuple[Peer, str]:
    """An echo ``message`` handler, and one client connected."""

    @server.on("message")
    async def echo(sid: str, data: Any) -> None:
        await server.send(sid, data)

    peer = Peer(app)
    return peer, await peer.open()


def test_an_echo_is_written_by_the_handler_and_leaves_no_writer() -> None:
    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        peer, sid = await echo_peer(server, app)
        starts = 0
        start_eagerly = server._start_eagerly

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal starts
            starts += 1
            return start_eagerly(*args, **kwargs)

        server._start_eagerly = counted  # type: ignore[method-assign]
        for text in ("one", "two", "three"):
            peer.say(text)
            assert await peer.next() == "4" + text
        assert starts == 3  # the handler's, one a message: no writer of its own
        handle = server._sessions[sid]
        assert handle.writer is None and not handle.writing and not handle.wake_deferred
        await peer.leave()

    run(test)


def test_a_handler_that_waits_after_sending_does_not_hold_its_reply() -> None:
    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        gate = asyncio.Event()

        @server.on("message")
        async def slow(sid: str, data: Any) -> None:
            await server.send(sid, "early " + data)
            await gate.wait()
            await server.send(sid, "late " + data)

        peer = Peer(app)
        await peer.open()
        peer.say("x")
        assert await peer.next() == "4early x"  # while the handler still waits
        gate.set()
        assert await peer.next() == "4late x"
        await peer.leave()

    run(test)


def test_replies_to_every_session_from_one_handler() -> None:
    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        peers: dict[str, Peer] = {}

        @server.on("message")
        async def broadcast(sid: str, data: Any) -> None:
            # The other session's reply goes out at once; this one's when it ends.
            for other in peers:
                await server.send(other, f"{data} from {peers[sid].name}")

        a, b = Peer(app), Peer(app)
        a.name, b.name = "a", "b"
        peers[await a.open()] = a
        peers[await b.open()] = b
        a.say("hello")
        assert await a.next() == "4hello from a"
        assert await b.next() == "4hello from a"
        b.say("hi")
        assert await a.next() == "4hi from b"
        assert await b.next() == "4hi from b"
        await a.leave()
        await b.leave()

    run(test)


def test_a_blocked_write_makes_the_handler_task_the_writer() -> None:
    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        peer, sid = await echo_peer(server, app)
        handle = server._sessions[sid]
        peer.hold = asyncio.get_running_loop().create_future()
        peer.say("a")
        for _ in range(20):
            if handle.writing:
                break
            await asyncio.sleep(0.01)
        writer = handle.writer
        assert handle.writing and isinstance(writer, asyncio.Future) and not writer.done()
        peer.say("b")  # queued behind the blocked write; no second writer starts
        await asyncio.sleep(0.05)
        assert handle.writer is writer
        peer.hold.set_result(None)
        peer.hold = None
        assert [await peer.next(), await peer.next()] == ["4a", "4b"]
        await asyncio.wait_for(writer, WAIT)
        assert not handle.writing
        await peer.leave()

    run(test)


def test_a_peer_that_stops_reading_is_dropped_and_its_writer_cancelled() -> None:
    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        gone = asyncio.Event()
        reasons: list[Any] = []

        @server.on("disconnect")
        def disconnect(sid: str, reason: Any) -> None:
            reasons.append(reason)
            gone.set()

        peer, sid = await echo_peer(server, app)
        handle = server._sessions[sid]
        peer.hold = asyncio.get_running_loop().create_future()  # never released
        peer.say("a")
        await asyncio.sleep(0.05)
        writer = handle.writer
        assert isinstance(writer, asyncio.Future) and not writer.done()
        await asyncio.wait_for(gone.wait(), WAIT)  # no pong: the ping times out
        assert reasons == [server.reason.PING_TIMEOUT]
        await asyncio.wait_for(peer.task, WAIT)  # the socket was closed, not left hanging
        assert writer.cancelled()

    run(test, ping_interval=0.2, ping_timeout=0.2)


def test_an_open_session_keeps_nothing_of_its_handshake() -> None:
    """The connect handler's environ goes once the handler has run: a WebSocket
    session's request coroutine lasts as long as the session, and an environ it
    kept cost every idle session about 1 KB (session 9's idle-1000 runs)."""

    class Marker:
        pass

    kept: list[weakref.ref[Marker]] = []

    async def test(server: engineio_core.AsyncServer, app: Any) -> None:
        @server.on("connect")
        def connect(sid: str, environ: dict[str, Any]) -> None:
            marker = Marker()
            environ["test.marker"] = marker
            kept.append(weakref.ref(marker))

        peer, _ = await echo_peer(server, app)
        peer.say("ping")  # answered: the session is in its receive loop
        assert await peer.next() == "4ping"
        gc.collect()
        assert len(kept) == 1
        assert kept[0]() is None, "an open session still holds its handshake's environ"
        await peer.leave()

    run(test)
