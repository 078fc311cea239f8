"""The aiohttp mode on a real aiohttp server (127.0.0.1), driven by aiohttp's client.

Each test builds an ``AsyncServer(async_mode="aiohttp")``, attaches it to a
fresh ``web.Application`` served by an ``AppRunner`` on port 0 and talks
to it over real sockets. Every test runs under one overall timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import eio_aiohttp
import pytest
from aiohttp import WSMsgType, web
from eio_aiohttp._websocket import AiohttpWebSocket
from multidict import CIMultiDict
from yarl import URL

import engineio_core
from engineio_core.plugin.types import MessageTooLarge, WebSocketClosed
from engineio_core.protocol.http import Response

LIMIT = 1000
HANDSHAKE = "/engine.io/?EIO=4&transport=polling"
WS_HANDSHAKE = "/engine.io/?EIO=4&transport=websocket"


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


class Echo:
    """An AsyncServer that echoes messages and records why sessions ended."""

    def __init__(self, **options: Any) -> None:
        options = {"max_http_buffer_size": LIMIT, **options}
        self.eio = engineio_core.AsyncServer(async_mode="aiohttp", **options)
        self.reasons: dict[str, str] = {}
        self.eio.on("connect", self._connect)
        self.eio.on("message", self._message)
        self.eio.on("disconnect", self._disconnect)

    def _connect(self, sid: str, environ: dict[str, Any]) -> bool:
        return "reject=1" not in environ["QUERY_STRING"]

    async def _message(self, sid: str, data: Any) -> None:
        await self.eio.send(sid, data)

    def _disconnect(self, sid: str, reason: str) -> None:
        self.reasons[sid] = str(reason)

    async def reason_for(self, sid: str) -> str:
        await until(lambda: sid in self.reasons)
        return self.reasons[sid]


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


class Served:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


@asynccontextmanager
async def serving(
    app: web.Application, handler_cancellation: bool = False
) -> AsyncIterator[tuple[Served, aiohttp.ClientSession]]:
    """Serve ``app`` as ``web.run_app`` does (aiohttp's TestServer would turn on
    handler_cancellation, which run_app leaves off)."""
    runner = web.AppRunner(app, handler_cancellation=handler_cancellation)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served = Served(runner.addresses[0][1])
    try:
        async with aiohttp.ClientSession(served.url) as client:
            yield served, client
    finally:
        await runner.cleanup()


def attached(echo: Echo, path: str = "engine.io") -> web.Application:
    app = web.Application()
    echo.eio.attach(app, path)
    return app


async def handshake(client: aiohttp.ClientSession, path: str = HANDSHAKE) -> str:
    async with client.get(path) as resp:
        assert resp.status == 200
        body = await resp.text()
    sid: str = json.loads(body[1:])["sid"]
    return sid


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# -- requests ------------------------------------------------------------------


def test_translate_request() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        core = eio_aiohttp.eio_translate_request((request,))
        seen["core"] = core
        # Built on first use: read while the connection is up, as a connect handler does.
        seen["environ"] = core.get_environ()
        seen["first"] = await core.read_body(5)
        seen["rest"] = await request.content.read()
        seen["request"] = request
        return web.Response(text="done")

    async def test() -> None:
        app = web.Application()
        app.router.add_post("/some path", handler)
        async with serving(app) as (_, client):
            headers = CIMultiDict(
                [("X-Thing", "a"), ("X-Thing", "b"), ("Content-Type", "text/plain")]
            )
            body = bytes(range(100))
            target = URL("/some%20path?a=1&a=2&b=&c=%2B%2526", encoded=True)
            async with client.post(target, data=body, headers=headers) as resp:
                assert resp.status == 200

    run(test)
    core, request = seen["core"], seen["request"]
    assert (core.method, core.path) == ("POST", "/some path")
    # Decoded once, as sent (yarl's query_string is decoded already).
    assert core.query == {"a": ["1", "2"], "b": [""], "c": ["+%26"]}
    assert core.headers["x-thing"] == "a, b"
    assert core.headers["content-type"] == "text/plain"
    assert all(name == name.lower() for name in core.headers)
    assert (core.remote_addr, core.scheme, core.content_length) == ("127.0.0.1", "http", 100)
    assert core.native == (request,)
    # read_body never reads past its limit: the rest is still in the stream.
    assert (seen["first"], seen["rest"]) == (bytes(range(5)), bytes(range(5, 100)))
    environ = seen["environ"]
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/some path"
    assert environ["QUERY_STRING"] == "a=1&a=2&b=&c=%2B%2526"
    assert environ["HTTP_X_THING"] == "a, b"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "100"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert int(environ["REMOTE_PORT"]) > 0
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["aiohttp.request"] is request


def test_translate_an_absolute_form_target() -> None:
    # "GET http://host/path?query": what a client sends through a forward proxy.
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        core = eio_aiohttp.eio_translate_request((request,))
        seen["target"] = (core.path, dict(core.query), core.get_environ()["QUERY_STRING"])
        return web.Response(text="done")

    async def test() -> None:
        app = web.Application()
        app.router.add_get("/a path", handler)
        async with serving(app) as (served, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
            writer.write(
                f"GET {served.url}/a%20path?x=%2B1 HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{served.port}\r\nConnection: close\r\n\r\n".encode()
            )
            status = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            assert status.startswith(b"HTTP/1.1 200"), status

    run(test)
    assert seen["target"] == ("/a path", {"x": ["+1"]}, "x=%2B1")


def test_read_body_of_a_chunked_request_stops_at_the_limit() -> None:
    seen: dict[str, bytes] = {}

    async def handler(request: web.Request) -> web.Response:
        core = eio_aiohttp.eio_translate_request((request,))
        assert core.content_length is None
        seen["body"] = await core.read_body(250)
        return web.Response(text="done")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 100

    async def test() -> None:
        app = web.Application()
        app.router.add_post("/", handler)
        async with serving(app) as (_, client), client.post("/", data=chunks()) as resp:
            assert resp.status == 200

    run(test)
    assert seen["body"] == b"x" * 250


def test_read_body_when_the_client_leaves_mid_body() -> None:
    seen: asyncio.Future[bytes]

    async def handler(request: web.Request) -> web.Response:
        core = eio_aiohttp.eio_translate_request((request,))
        seen.set_result(await core.read_body(5000))
        return web.Response(text="done")

    async def test() -> None:
        nonlocal seen
        seen = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_post("/", handler)
        async with serving(app) as (server, _):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"y" * 10)
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()
            # Never a truncated body: the core refuses an empty one.
            assert await seen == b""

    run(test)


def test_make_response_keeps_headers_as_given() -> None:
    response = Response(
        201,
        [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        b"{}",
    )

    async def handler(request: web.Request) -> web.Response:
        core = eio_aiohttp.eio_translate_request((request,))
        made = eio_aiohttp.eio_make_response(response, core)
        assert isinstance(made, web.Response)
        return made

    async def test() -> None:
        app = web.Application()
        app.router.add_get("/", handler)
        async with serving(app) as (_, client), client.get("/") as resp:
            assert resp.status == 201
            assert resp.headers.getall("Content-Type") == ["application/json"]
            assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
            assert resp.headers["Content-Length"] == "2"
            assert await resp.read() == b"{}"

    run(test)


# -- attach ----------------------------------------------------------------------


def test_attach_routes_every_method_with_and_without_the_slash() -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            await handshake(client, HANDSHAKE)
            await handshake(client, "/engine.io?EIO=4&transport=polling")
            for method in ("PUT", "POST", "DELETE", "PATCH"):
                async with client.request(method, HANDSHAKE) as resp:
                    # Node's answer to a wrong handshake method, not aiohttp's 405.
                    assert resp.status == 400, method
                    assert await resp.json() == {"code": 2, "message": "Bad handshake method"}
            async with client.options(HANDSHAKE) as resp:
                assert resp.status == 200
            async with client.get("/elsewhere") as resp:
                assert resp.status == 404

    run(test)


def test_attach_at_a_custom_path() -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo, "/socket/")) as (_, client):
            await handshake(client, "/socket/?EIO=4&transport=polling")
            async with client.get(HANDSHAKE) as resp:
                assert resp.status == 404

    run(test)


def test_attach_to_a_sub_application() -> None:
    echo = Echo()

    async def test() -> None:
        app = web.Application()
        app.add_subapp("/chat/", attached(echo))
        async with serving(app) as (_, client):
            await handshake(client, "/chat/engine.io/?EIO=4&transport=polling")
            await handshake(client, "/chat/engine.io?EIO=4&transport=polling")

    run(test)
    # The parent app's shutdown reached the sub-application's on_shutdown.
    assert sorted(echo.reasons.values()) == ["server shutdown", "server shutdown"]


def test_polling_session(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            async with client.get(HANDSHAKE) as resp:
                assert resp.headers.getall("Content-Type") == ["text/plain; charset=UTF-8"]
                assert resp.headers["Set-Cookie"].startswith("io=")
                sid = json.loads((await resp.text())[1:])["sid"]
            url = f"{HANDSHAKE}&sid={sid}"
            text = {"Content-Type": "text/plain;charset=UTF-8"}
            async with client.post(url, data=b"4hello", headers=text) as resp:
                assert (resp.status, await resp.text()) == (200, "ok")
            async with client.get(url) as resp:
                assert await resp.text() == "4hello"
            async with client.post(url, data=b"1", headers=text) as resp:
                assert resp.status == 200
            assert await echo.reason_for(sid) == "client disconnect"

    run(test)
    no_errors_logged(caplog)


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_post_gets_413(chunked: bool) -> None:
    echo = Echo()

    async def body() -> AsyncIterator[bytes]:
        yield b"4" + b"x" * LIMIT

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            sid = await handshake(client)
            data = body() if chunked else b"4" + b"x" * LIMIT
            async with client.post(f"{HANDSHAKE}&sid={sid}", data=data) as resp:
                assert resp.status == 413
            assert await echo.reason_for(sid) == "payload too large"

    run(test)


@pytest.mark.parametrize("handler_cancellation", [False, True])
def test_post_abandoned_mid_body_closes_the_session(
    caplog: pytest.LogCaptureFixture, handler_cancellation: bool
) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo), handler_cancellation) as (server, client):
            sid = await handshake(client)
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"POST {HANDSHAKE}&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: 500\r\n\r\n4hello".encode()
            )
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.close()
            # As in Node: the transport failed, nothing half-read is delivered.
            assert await echo.reason_for(sid) == "transport error"

    run(test)
    no_errors_logged(caplog)


@pytest.mark.parametrize("handler_cancellation", [False, True])
def test_requests_are_shielded_only_where_aiohttp_cancels_handlers(
    handler_cancellation: bool,
) -> None:
    """The shield (a task and a future per request) only where aiohttp would cancel."""
    from eio_aiohttp._attach import _cancels_handlers

    async def report(request: web.Request) -> web.Response:
        return web.Response(text=str(_cancels_handlers(request)))

    async def test() -> None:
        app = attached(Echo())
        app.router.add_get("/cancels", report)
        async with (
            serving(app, handler_cancellation) as (_, client),
            client.get("/cancels") as resp,
        ):
            assert await resp.text() == str(handler_cancellation)

    run(test)


def test_app_shutdown_closes_every_session() -> None:
    echo = Echo()

    async def test() -> None:
        runner = web.AppRunner(attached(echo))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession(url) as client:
            sid = await handshake(client)
            poll = asyncio.ensure_future(client.get(f"{HANDSHAKE}&sid={sid}"))
            ws = await client.ws_connect(WS_HANDSHAKE)
            ws_sid = json.loads((await ws.receive_str())[1:])["sid"]
            await asyncio.sleep(0.1)
            start = time.monotonic()
            await runner.cleanup()
            assert time.monotonic() - start < 5
            resp = await poll
            assert await resp.text() == "1"
            assert await ws.receive_str() == "1"
            assert (await ws.receive()).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
            await ws.close()
        assert echo.reasons == {sid: "server shutdown", ws_sid: "server shutdown"}

    run(test)


# -- WebSocket -------------------------------------------------------------------


def test_websocket_session(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            async with client.ws_connect(WS_HANDSHAKE) as ws:
                opened = await ws.receive_str()
                assert opened.startswith("0")
                sid = json.loads(opened[1:])["sid"]
                await ws.send_str("4hello ☃")
                assert await ws.receive_str() == "4hello ☃"
                await ws.send_bytes(b"\x00\xff")
                assert await ws.receive_bytes() == b"\x00\xff"
            assert await echo.reason_for(sid) == "transport close"

    run(test)
    no_errors_logged(caplog)


async def raw_websocket(port: int, target: str) -> tuple[asyncio.StreamWriter, bytes]:
    """A WebSocket handshake on a bare connection -> (writer, the first frame's payload)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    first, length = await reader.readexactly(2)
    assert first == 0x81 and length < 126  # an unmasked, short text frame
    return writer, await reader.readexactly(length)


@pytest.mark.parametrize("handler_cancellation", [False, True])
def test_websocket_client_that_vanishes(
    caplog: pytest.LogCaptureFixture, handler_cancellation: bool
) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo), handler_cancellation) as (server, _):
            writer, opened = await raw_websocket(server.port, WS_HANDSHAKE)
            sid = json.loads(opened[1:])["sid"]
            writer.transport.abort()  # no close frame, no FIN: a reset
            assert await echo.reason_for(sid) == "transport close"
            await until(lambda: not echo.eio._sessions)

    run(test)
    no_errors_logged(caplog)


def test_websocket_message_size_limit(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            async with client.ws_connect(WS_HANDSHAKE) as ws:
                sid = json.loads((await ws.receive_str())[1:])["sid"]
                largest = "4" + "x" * (LIMIT - 1)  # exactly LIMIT bytes: allowed
                await ws.send_str(largest)
                assert await ws.receive_str() == largest
                await ws.send_str(largest + "x")
                message = await ws.receive()
                assert message.type is WSMsgType.CLOSE
                assert message.data == 1009
            assert await echo.reason_for(sid) == "payload too large"

    run(test)
    no_errors_logged(caplog)


def test_websocket_upgrade_from_polling() -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            sid = await handshake(client)
            poll = asyncio.ensure_future(client.get(f"{HANDSHAKE}&sid={sid}"))
            await asyncio.sleep(0.05)
            async with client.ws_connect(f"{WS_HANDSHAKE}&sid={sid}") as ws:
                await ws.send_str("2probe")
                assert await ws.receive_str() == "3probe"
                assert await (await poll).text() == "6"
                await ws.send_str("5")
                await ws.send_str("4upgraded")
                assert await ws.receive_str() == "4upgraded"
                assert echo.eio.transport(sid) == "websocket"

    run(test)


def test_refused_websockets_get_the_core_status() -> None:
    echo = Echo(cors_allowed_origins=["http://good.example"])

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            for path, headers, status in [
                (WS_HANDSHAKE, {"Origin": "http://evil.example"}, 403),
                (WS_HANDSHAKE + "&reject=1", {}, 401),
                ("/engine.io/?EIO=9&transport=websocket", {}, 400),
                (WS_HANDSHAKE + "&sid=unknown", {}, 400),
            ]:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(path, headers=headers)
                assert refused.value.status == status, path

    run(test)


def test_invalid_websocket_handshake_is_a_400() -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            # An Upgrade header but no Sec-WebSocket-Key: aiohttp cannot accept it.
            headers = {"Upgrade": "websocket", "Connection": "Upgrade"}
            async with client.get(WS_HANDSHAKE, headers=headers) as resp:
                assert resp.status == 400
                assert (await resp.json())["code"] == 3
            assert not echo.eio._sessions

    run(test)


def test_invalid_text_frame_ends_the_session(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()

    async def test() -> None:
        async with serving(attached(echo)) as (_, client):
            async with client.ws_connect(WS_HANDSHAKE) as ws:
                sid = json.loads((await ws.receive_str())[1:])["sid"]
                await ws.send_frame(b"4\xff\xfe", WSMsgType.TEXT)
                message = await ws.receive()
                assert message.type is WSMsgType.CLOSE
            assert await echo.reason_for(sid) == "transport close"

    run(test)
    no_errors_logged(caplog)


# -- the wrapped socket on its own ---------------------------------------------------


def socket_app(
    steps: Callable[[AiohttpWebSocket], Awaitable[None]], max_size: int = LIMIT
) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        core = eio_aiohttp.eio_translate_request((request,))
        ws = await eio_aiohttp.eio_wrap_websocket(core, max_size)
        assert ws is not None
        await steps(ws)
        response = ws.response()
        assert isinstance(response, web.WebSocketResponse)
        return response

    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


def test_socket_receive_timeouts_and_close() -> None:
    done: asyncio.Future[str]

    async def steps(ws: AiohttpWebSocket) -> None:
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.05)
        # 0 means "the deadline has passed", never "wait forever" as aiohttp reads it.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.receive(timeout=0), 2)
        await ws.send("ready")
        assert await ws.receive(timeout=5) == "text"
        assert await ws.receive(timeout=5) == b"bytes"
        # Two tasks closing at once: both return once the close handshake is over.
        await asyncio.gather(ws.close(4000), ws.close(1000))
        assert ws.close_code is not None
        await ws.close()
        assert await ws.receive() is None
        with pytest.raises(WebSocketClosed):
            await ws.send("too late")
        done.set_result("ok")

    async def test() -> None:
        nonlocal done
        done = asyncio.get_running_loop().create_future()
        async with serving(socket_app(steps)) as (_, client):
            async with client.ws_connect("/ws") as ws:
                assert await ws.receive_str() == "ready"
                await ws.send_str("text")
                await ws.send_bytes(b"bytes")
                message = await ws.receive()
                assert (message.type, message.data) == (WSMsgType.CLOSE, 4000)
            assert await done == "ok"

    run(test)


def test_socket_raises_message_too_large() -> None:
    done: asyncio.Future[str]

    async def steps(ws: AiohttpWebSocket) -> None:
        assert await ws.receive() == b"x" * 10
        with pytest.raises(MessageTooLarge):
            await ws.receive()
        assert await ws.receive() is None
        await ws.close()
        done.set_result("ok")

    async def test() -> None:
        nonlocal done
        done = asyncio.get_running_loop().create_future()
        async with serving(socket_app(steps, max_size=10)) as (_, client):
            async with client.ws_connect("/ws") as ws:
                await ws.send_bytes(b"x" * 10)
                await ws.send_bytes(b"x" * 11)
                message = await ws.receive()
                assert (message.type, message.data) == (WSMsgType.CLOSE, 1009)
            assert await done == "ok"

    run(test)


def test_socket_send_after_the_peer_left() -> None:
    done: asyncio.Future[str]

    async def steps(ws: AiohttpWebSocket) -> None:
        assert await ws.receive() is None  # the client closed
        with pytest.raises(WebSocketClosed):
            await ws.send("anyone?")
        await ws.close()
        done.set_result("ok")

    async def test() -> None:
        nonlocal done
        done = asyncio.get_running_loop().create_future()
        async with serving(socket_app(steps)) as (_, client):
            ws = await client.ws_connect("/ws")
            await ws.close()
            assert await done == "ok"

    run(test)


def test_socket_whose_handshake_failed_is_already_over() -> None:
    # What accept() returns when the client leaves while the 101 is being written.
    async def test() -> None:
        ws = AiohttpWebSocket(web.WebSocketResponse(), LIMIT, ended=True)
        assert await ws.receive(timeout=1) is None
        with pytest.raises(WebSocketClosed):
            await ws.send("hello")
        await ws.close()
        await ws.close()

    run(test)
