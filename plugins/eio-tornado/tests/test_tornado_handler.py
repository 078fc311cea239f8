"""The handler on a real tornado server, driven by raw HTTP and tornado's WebSocket client.

Each test runs one asyncio loop with an ``AsyncServer`` routed in a
``tornado.web.Application`` on a free 127.0.0.1 port. tornado's and the
server's loggers must stay free of errors throughout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket
from eio_tornado import get_tornado_handler

import engineio_core

MAX = 1000


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Live:
    def __init__(self, eio: engineio_core.AsyncServer, port: int) -> None:
        self.eio = eio
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.disconnects: dict[str, str] = {}
        self.messages: list[Any] = []

    async def request(
        self,
        method: str,
        query: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        chunked: bool = False,
    ) -> Reply:
        """One HTTP/1.1 request on its own connection, written by hand."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            head = {"Host": f"127.0.0.1:{self.port}", "Connection": "close", **(headers or {})}
            if chunked:
                head["Transfer-Encoding"] = "chunked"
                parts = [body[i : i + 4096] for i in range(0, len(body), 4096)]
                payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
            else:
                if body or method in ("POST", "PUT"):
                    head["Content-Length"] = str(len(body))
                payload = body
            lines = [f"{method} /engine.io/?{query} HTTP/1.1"]
            lines += [f"{k}: {v}" for k, v in head.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
            await writer.drain()
            head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status_line, *header_lines = head_bytes.decode("latin-1").strip().split("\r\n")
            parsed = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                parsed[name.strip().lower()] = value.strip()
            length = 0 if method == "HEAD" else int(parsed.get("content-length", "0"))
            rest = await asyncio.wait_for(reader.readexactly(length), 10)
        finally:
            writer.close()
        return Reply(int(status_line.split()[1]), parsed, rest)

    async def handshake(self, **headers: str) -> str:
        reply = await self.request("GET", "EIO=4&transport=polling", headers)
        assert reply.status == 200, reply
        sid: str = json.loads(reply.body[1:])["sid"]
        return sid

    async def websocket(
        self, query: str = "EIO=4&transport=websocket", headers: dict[str, str] | None = None
    ) -> tornado.websocket.WebSocketClientConnection:
        request = tornado.httpclient.HTTPRequest(
            f"ws://127.0.0.1:{self.port}/engine.io/?{query}", headers=headers or {}
        )
        return await tornado.websocket.websocket_connect(request)

    async def reason_for(self, sid: str) -> str:
        for _ in range(200):
            if sid in self.disconnects:
                return self.disconnects[sid]
            await asyncio.sleep(0.01)
        raise AssertionError(f"{sid} never disconnected: {self.disconnects}")


@asynccontextmanager
async def serve(
    settings: dict[str, Any] | None = None,
    attach: bool = False,
    extra_routes: list[Any] | None = None,
    **options: Any,
) -> AsyncIterator[Live]:
    eio = engineio_core.AsyncServer(async_mode="tornado", max_http_buffer_size=MAX, **options)
    routes: list[Any] = [] if attach else [(r"/engine\.io/?", get_tornado_handler(eio))]
    app = tornado.web.Application(routes + (extra_routes or []), **(settings or {}))
    if attach:
        eio.attach(app)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    live = Live(eio, sockets[0].getsockname()[1])

    async def echo(sid: str, data: Any) -> None:
        live.messages.append(data)
        await eio.send(sid, data)

    def gone(sid: str, reason: str) -> None:
        live.disconnects[sid] = str(reason)

    eio.on("message", echo)
    eio.on("disconnect", gone)

    try:
        yield live
    finally:
        server.stop()
        await eio.shutdown(timeout=1)
        await server.close_all_connections()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 20))


@pytest.fixture(autouse=True)
def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# -- polling --------------------------------------------------------------------------


def test_polling_round_trip() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            post = await live.request("POST", f"EIO=4&transport=polling&sid={sid}", body=b"4hi")
            assert (post.status, post.body) == (200, b"ok")
            poll = await live.request("GET", f"EIO=4&transport=polling&sid={sid}")
            assert (poll.status, poll.body) == (200, b"4hi")
            assert poll.headers["content-type"].startswith("text/plain")
            # No ETag: tornado must never answer a poll with 304.
            assert "etag" not in poll.headers

    run(scenario)


# FINISH, CLOSE and _EXECUTE name handler methods: they must not be called.
@pytest.mark.parametrize(
    "method", ["PUT", "DELETE", "PATCH", "PROPFIND", "FOO", "FINISH", "CLOSE", "_EXECUTE"]
)
def test_every_method_reaches_the_server(method: str) -> None:
    async def scenario() -> None:
        async with serve() as live:
            reply = await live.request(method, "EIO=4&transport=polling", body=b"x" * 10)
            assert reply.status == 400
            assert reply.headers["content-type"] == "application/json"
            assert reply.json() == {"code": 2, "message": "Bad handshake method"}

    run(scenario)


def test_head_and_options() -> None:
    async def scenario() -> None:
        async with serve(cors_allowed_origins="*") as live:
            head = await live.request("HEAD", "EIO=4&transport=polling")
            assert (head.status, head.body) == (400, b"")
            preflight = await live.request(
                "OPTIONS",
                "EIO=4&transport=polling",
                {"Origin": "http://a.example", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status == 200
            assert preflight.headers["access-control-allow-origin"] == "http://a.example"

    run(scenario)


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_post_gets_413(chunked: bool) -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            reply = await live.request(
                "POST", f"EIO=4&transport=polling&sid={sid}", body=b"4" * 50_000, chunked=chunked
            )
            assert reply.status == 413
            assert await live.reason_for(sid) == "payload too large"

    run(scenario)


def test_post_of_exactly_the_limit_is_read_whole() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            body = b"4" + b"y" * (MAX - 1)
            reply = await live.request(
                "POST", f"EIO=4&transport=polling&sid={sid}", body=body, chunked=True
            )
            assert (reply.status, reply.body) == (200, b"ok")
            assert live.messages == ["y" * (MAX - 1)]

    run(scenario)


def test_tornado_xsrf_and_cross_origin_protection_defer_to_the_server() -> None:
    settings = {"xsrf_cookies": True, "cross_origin_protection": True}

    async def scenario() -> None:
        async with serve(settings, cors_allowed_origins=["http://good.example"]) as live:
            good = {"Origin": "http://good.example", "Sec-Fetch-Site": "cross-site"}
            sid = await live.handshake(**good)
            post = await live.request(
                "POST", f"EIO=4&transport=polling&sid={sid}", good, body=b"4hi"
            )
            assert (post.status, post.body) == (200, b"ok")
            evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
            refused = await live.request(
                "POST", f"EIO=4&transport=polling&sid={sid}", evil, body=b"4hi"
            )
            assert (refused.status, refused.json()) == (403, {"code": 4, "message": "Forbidden"})

    run(scenario)


def test_polling_client_that_leaves_mid_poll_logs_nothing() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            poll = asyncio.ensure_future(live.request("GET", f"EIO=4&transport=polling&sid={sid}"))
            await asyncio.sleep(0.1)
            poll.cancel()  # closes the connection while the poll waits
            await asyncio.gather(poll, return_exceptions=True)
            await live.eio.send(sid, "late")
            await asyncio.sleep(0.1)

    run(scenario)


# -- WebSocket ------------------------------------------------------------------------------


def test_websocket_session() -> None:
    async def scenario() -> None:
        async with serve() as live:
            ws = await live.websocket()
            opened = await ws.read_message()
            assert isinstance(opened, str) and opened.startswith("0")
            sid = json.loads(opened[1:])["sid"]
            await ws.write_message("4hello ☃")
            assert await ws.read_message() == "4hello ☃"
            await ws.write_message(b"\x00\x01", binary=True)
            assert await ws.read_message() == b"\x00\x01"
            ws.close()
            assert await live.reason_for(sid) == "transport close"

    run(scenario)


def test_websocket_burst_is_echoed_whole_and_in_order() -> None:
    """Messages that arrive together are taken together and their replies
    written together (one stream write per batch): none lost, none reordered."""

    async def scenario() -> None:
        async with serve() as live:
            ws = await live.websocket()
            opened = await ws.read_message()
            assert isinstance(opened, str)
            sent: list[str | bytes] = [f"4m{i}" for i in range(50)]
            sent[17] = b"\x00binary"
            for message in sent:  # written back to back, not awaited one by one
                ws.write_message(message, binary=isinstance(message, bytes))
            echoed = [await ws.read_message() for _ in sent]
            assert echoed == sent
            ws.close()

    run(scenario)


def test_server_disconnect_closes_the_websocket() -> None:
    async def scenario() -> None:
        async with serve() as live:
            ws = await live.websocket()
            opened = await ws.read_message()
            assert isinstance(opened, str)
            await live.eio.disconnect(json.loads(opened[1:])["sid"])
            assert await ws.read_message() == "1"
            assert await ws.read_message() is None
            assert ws.close_code == 1000

    run(scenario)


def test_upgrade_from_polling() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            ws = await live.websocket(f"EIO=4&transport=websocket&sid={sid}")
            await ws.write_message("2probe")
            assert await ws.read_message() == "3probe"
            await ws.write_message("5")
            await ws.write_message("4up")
            assert await ws.read_message() == "4up"
            assert live.eio.transport(sid) == "websocket"
            ws.close()
            assert await live.reason_for(sid) == "transport close"

    run(scenario)


def test_oversize_websocket_message_closes_with_1009() -> None:
    async def scenario() -> None:
        async with serve() as live:
            ws = await live.websocket()
            opened = await ws.read_message()
            assert isinstance(opened, str)
            await ws.write_message("4" + "x" * 5000)
            while await ws.read_message() is not None:
                pass
            assert ws.close_code == 1009
            assert await live.reason_for(json.loads(opened[1:])["sid"]) == "payload too large"

    run(scenario)


def test_message_of_exactly_the_limit_is_accepted() -> None:
    async def scenario() -> None:
        async with serve() as live:
            ws = await live.websocket()
            await ws.read_message()
            await ws.write_message("4" + "é" * ((MAX - 1) // 2))  # é: 2 bytes in UTF-8
            assert await ws.read_message() == "4" + "é" * ((MAX - 1) // 2)
            ws.close()

    run(scenario)


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("EIO=4&transport=websocket", {"Origin": "http://evil.example"}, 403),
        ("EIO=4&transport=websocket&reject=1", {}, 401),
        ("EIO=4&transport=websocket&sid=nope", {}, 400),
        ("EIO=9&transport=websocket", {}, 400),
    ],
)
def test_refused_websocket_gets_the_servers_status(
    query: str, headers: dict[str, str], status: int
) -> None:
    async def scenario() -> None:
        async with serve() as live:
            live.eio.on("connect", lambda sid, environ: "reject=1" not in environ["QUERY_STRING"])
            with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
                await live.websocket(query, headers)
            assert refused.value.code == status
            assert refused.value.response is not None
            assert json.loads(refused.value.response.body)["message"]
            assert not live.eio._sessions

    run(scenario)


def test_cross_origin_websocket_allowed_by_the_server() -> None:
    async def scenario() -> None:
        async with serve(cors_allowed_origins=["http://good.example"]) as live:
            headers = {"Origin": "http://good.example", "Sec-Fetch-Site": "cross-site"}
            ws = await live.websocket(headers=headers)
            opened = await ws.read_message()
            assert isinstance(opened, str) and opened.startswith("0")
            ws.close()

    run(scenario)


def test_refused_websocket_closes_its_connection() -> None:
    async def scenario() -> None:
        async with serve() as live:
            reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
            writer.write(
                b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"Origin: http://evil.example\r\n\r\n"
            )
            reply = await asyncio.wait_for(reader.read(), 2)  # up to EOF
            writer.close()
            assert reply.startswith(b"HTTP/1.1 403 ")
            assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {
                "code": 4,
                "message": "Forbidden",
            }

    run(scenario)


def test_websocket_upgrade_must_be_a_get() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            upgrade = {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            }
            reply = await live.request("PUT", f"EIO=4&transport=websocket&sid={sid}", upgrade)
            assert reply.status == 400
            assert live.eio.transport(sid) == "polling"

    run(scenario)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Connection": "Upgrade", "Sec-WebSocket-Version": "13"}, 400),  # no key
        (
            {"Connection": "keep-alive", "Sec-WebSocket-Key": "x", "Sec-WebSocket-Version": "13"},
            400,
        ),
        ({"Connection": "Upgrade", "Sec-WebSocket-Key": "x", "Sec-WebSocket-Version": "8"}, 426),
    ],
)
def test_handshake_tornado_cannot_complete(headers: dict[str, str], status: int) -> None:
    async def scenario() -> None:
        async with serve() as live:
            reply = await live.request(
                "GET", "EIO=4&transport=websocket", {"Upgrade": "websocket", **headers}
            )
            assert reply.status == status
            (sid,) = live.disconnects
            assert live.disconnects[sid] == "transport error"
            assert not live.eio._sessions

    run(scenario)


# -- attach ----------------------------------------------------------------------------------


class CatchAll(tornado.web.RequestHandler):
    def get(self) -> None:
        self.finish("app")


def test_attach_routes_before_the_apps_own_handlers() -> None:
    async def scenario() -> None:
        async with serve(attach=True, extra_routes=[(r"/.*", CatchAll)]) as live:
            sid = await live.handshake()
            ws = await live.websocket(f"EIO=4&transport=websocket&sid={sid}")
            await ws.write_message("2probe")
            assert await ws.read_message() == "3probe"
            ws.close()
            client = tornado.httpclient.AsyncHTTPClient()
            other = await client.fetch(live.url + "/elsewhere")
            assert other.body == b"app"

    run(scenario)


def _pending_handlers() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and getattr(t.get_coro(), "__name__", "") == "_execute"
    ]


def test_client_leaving_mid_body_ends_the_request() -> None:
    async def scenario() -> None:
        async with serve() as live:
            sid = await live.handshake()
            _, writer = await asyncio.open_connection("127.0.0.1", live.port)
            writer.write(
                f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nContent-Length: 500\r\n\r\n4partial".encode()
            )
            await writer.drain()
            await asyncio.sleep(0.1)
            assert _pending_handlers()
            writer.close()
            for _ in range(100):
                if not _pending_handlers():
                    break
                await asyncio.sleep(0.01)
            assert not _pending_handlers()
            assert sid in live.eio._sessions  # the session itself lives on

    run(scenario)


def test_upgrade_that_never_probes_times_out() -> None:
    async def scenario() -> None:
        async with serve(upgrade_timeout=0.2) as live:
            sid = await live.handshake()
            ws = await live.websocket(f"EIO=4&transport=websocket&sid={sid}")
            assert await asyncio.wait_for(ws.read_message(), 5) is None  # closed by the server
            assert live.eio.transport(sid) == "polling"
            post = await live.request("POST", f"EIO=4&transport=polling&sid={sid}", body=b"4hi")
            assert post.body == b"ok"

    run(scenario)


def test_websocket_client_vanishing_without_close_frame() -> None:
    async def scenario() -> None:
        async with serve() as live:
            reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
            writer.write(
                b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101 ")
            (sid,) = live.eio._sessions
            writer.transport.abort()  # no close frame, no FIN handshake
            await live.eio.send(sid, "into the void")
            assert await live.reason_for(sid) == "transport close"
            for _ in range(100):
                if not _pending_handlers():
                    break
                await asyncio.sleep(0.01)
            assert not _pending_handlers()

    run(scenario)
