"""One scenario suite, run against both Server and AsyncServer."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import engineio_core
from tests.scenarios.harness import AsyncHarness, Harness, Reply, SyncHarness

Factory = Callable[..., Harness]


@pytest.fixture(params=["sync", "sync-general", "async", "async-general"])
def make(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Every scenario on both servers, each both through its app wrapper
    (``WSGIApp``, ``ASGIApp``: plain polls and POSTs on ``handle_polling_request``)
    and with every request on ``handle_request``: the two paths must answer alike."""
    made: list[Harness] = []

    def factory(**options: Any) -> Harness:
        kind = SyncHarness if request.param.startswith("sync") else AsyncHarness
        harness: Harness = kind(plain=not request.param.endswith("-general"), **options)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()


def record(h: Harness) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"connect": [], "message": [], "disconnect": []}
    h.server.on("connect", lambda sid, environ: seen["connect"].append(sid))
    h.server.on("message", lambda sid, data: seen["message"].append((sid, data)))
    h.server.on("disconnect", lambda sid, reason: seen["disconnect"].append((sid, reason)))
    return seen


def test_handshake_then_messages_both_ways(make: Factory) -> None:
    h = make()
    seen = record(h)
    sid, info = h.handshake()
    assert seen["connect"] == [sid]
    # Threading needs the WSGI server's raw socket for WebSocket: none in-process.
    assert info["upgrades"] == ([] if isinstance(h, SyncHarness) else ["websocket"])
    assert h.post(sid, b"4hello\x1ebAQI=").body == b"ok"
    h.wait_until(lambda: len(seen["message"]) == 2)
    assert sorted(seen["message"], key=repr) == sorted(
        [(sid, "hello"), (sid, b"\x01\x02")], key=repr
    )
    h.call("send", sid, "text")
    h.call("send", sid, b"\xff")
    h.call("send", sid, {"a": [1, 2]})
    assert h.poll(sid).packets == ["4text", "b/w==", '4{"a":[1,2]}']
    assert h.call("transport", sid) == "polling"
    # The POST and the poll: on the short path or not.
    assert isinstance(h, (SyncHarness, AsyncHarness))
    assert h.plain_served == (2 if h.plain else 0)
    assert h.plain_handshakes == (1 if h.plain else 0)


def test_json_text_arrives_decoded(make: Factory) -> None:
    h = make()
    seen = record(h)
    sid, _ = h.handshake()
    h.post(sid, b'4{"x":1}\x1e4[1]\x1e4{not json')
    h.wait_until(lambda: len(seen["message"]) == 3)
    assert sorted(repr(d) for _, d in seen["message"]) == sorted(
        [repr({"x": 1}), repr([1]), repr("{not json")]
    )


def test_json_module_per_server(make: Factory) -> None:
    class Loud:
        @staticmethod
        def dumps(obj: Any, **kwargs: Any) -> str:
            return json.dumps(obj, **kwargs).upper()

        loads = staticmethod(json.loads)

    h = make(json=Loud)
    other = make()
    sid, _ = h.handshake()
    h.call("send", sid, {"a": "b"})
    assert h.poll(sid).packets == ['4{"A":"B"}']
    sid2, _ = other.handshake()
    other.call("send", sid2, {"a": "b"})
    assert other.poll(sid2).packets == ['4{"a":"b"}']


def test_connect_handler_refusals(make: Factory) -> None:
    h = make()
    h.server.on("connect", lambda sid, environ: False)
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    assert h.server._sessions == {}

    def refuse(sid: str, environ: Any) -> None:
        raise engineio_core.ConnectionRefusedError("go away")

    h.server.on("connect", refuse)
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()) == (401, {"message": "go away"})


def test_connect_handler_error_is_a_500_logged_once(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    h = make()

    def broken(sid: str, environ: Any) -> None:
        raise RuntimeError("boom")

    h.server.on("connect", broken)
    with caplog.at_level("ERROR", logger="engineio_core"):
        reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()) == (500, {"message": "connect handler error"})
    assert h.server._sessions == {}
    failed = [r for r in caplog.records if "connect handler failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None


@pytest.fixture(params=[True, False], ids=["async", "async-general"])
def make_async(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """The ``make`` fixture's AsyncServer half: for coroutine handlers."""
    made: list[Harness] = []

    def factory(**options: Any) -> Harness:
        made.append(AsyncHarness(plain=request.param, **options))
        return made[-1]

    yield factory
    for harness in made:
        harness.close()


def test_connect_handler_refusals_as_coroutines(make_async: Factory) -> None:
    h = make_async()

    async def refuse(sid: str, environ: Any) -> bool:
        return False

    h.server.on("connect", refuse)
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})

    async def refuse_with(sid: str, environ: Any) -> None:
        raise engineio_core.ConnectionRefusedError("bad token")

    h.server.on("connect", refuse_with)
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()) == (401, {"message": "bad token"})
    assert h.server._sessions == {}


def test_a_connect_handler_cancelled_leaves_no_session() -> None:
    """A coroutine connect handler cancelled mid-way (an aiohttp handler task whose
    client left, say) must not leave its session registered: it was never scheduled,
    so the heartbeat would never expire it."""

    async def scenario() -> dict[str, Any]:
        server = engineio_core.AsyncServer(async_mode="asgi", handle_sigterm=False)
        entered = asyncio.Event()

        async def connect(sid: str, environ: Any) -> None:
            entered.set()
            await asyncio.Event().wait()  # until cancelled

        server.on("connect", connect)
        scope = {
            "type": "http", "method": "GET", "path": "/engine.io/", "headers": [],
            "query_string": b"EIO=4&transport=polling", "scheme": "http",
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2), "root_path": "",
            "http_version": "1.1", "asgi": {"version": "3.0"},
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            return None

        task = asyncio.ensure_future(server.handle_request(scope, receive, send))
        await asyncio.wait_for(entered.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        left = dict(server._sessions)
        await server.shutdown(timeout=1)
        return left

    assert asyncio.run(scenario()) == {}


def test_what_the_connect_handler_sends_follows_the_open_packet(make: Factory) -> None:
    h = make()
    if isinstance(h, SyncHarness):
        h.server.on("connect", lambda sid, environ: h.server.send(sid, "welcome"))
    else:

        async def connect(sid: str, environ: Any) -> None:
            await h.server.send(sid, "welcome")

        h.server.on("connect", connect)
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    packets = reply.packets
    assert packets[0].startswith("0{") and packets[1:] == ["4welcome"]
    sid = json.loads(packets[0][1:])["sid"]
    assert h.call("transport", sid) == "polling"


def test_connect_handler_gets_the_environ(make: Factory) -> None:
    h = make()
    environs: list[Any] = []
    h.server.on("connect", lambda sid, environ: environs.append(environ))
    h.handshake(token="abc")
    assert "token=abc" in environs[0]["QUERY_STRING"]
    assert environs[0]["REMOTE_ADDR"] == "127.0.0.1"


def test_server_disconnect_delivers_queue_then_close(make: Factory) -> None:
    h = make()
    seen = record(h)
    sid, _ = h.handshake()
    h.call("send", sid, "last words")
    h.call("disconnect", sid)
    assert seen["disconnect"] == [(sid, "server disconnect")]
    assert h.poll(sid).packets == ["4last words", "1"]
    assert h.poll(sid).status == 400
    assert h.server._sessions == {}


def test_send_queue_bound_closes_a_session_that_stops_polling(make: Factory) -> None:
    h = make(max_send_queue=3)
    seen = record(h)
    sid, _ = h.handshake()
    for n in range(3):
        h.call("send", sid, f"m{n}")
    assert seen["disconnect"] == []
    h.call("send", sid, "one too many")
    assert seen["disconnect"] == [(sid, "send queue full")]
    assert h.server._sessions == {}
    # The queued messages are dropped with the session; its next poll is refused.
    assert h.poll(sid).status == 400


def test_send_queue_bound_counts_what_is_waiting_not_what_was_sent(make: Factory) -> None:
    h = make(max_send_queue=2)
    seen = record(h)
    sid, _ = h.handshake()
    for n in range(10):
        h.call("send", sid, f"m{n}")
        assert h.poll(sid).packets == [f"4m{n}"]
    assert seen["disconnect"] == []


def test_client_close_post_runs_the_disconnect_handler_once(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    h = make()
    seen = record(h)
    sid, _ = h.handshake()
    assert h.post(sid, b"1").body == b"ok"
    assert seen["disconnect"] == [(sid, "client disconnect")]
    assert h.server._sessions == {}
    assert h.poll(sid).status == 400
    # A disconnect handler that raises: logged once, the POST still answered.
    sid, _ = h.handshake()
    if isinstance(h, SyncHarness):

        def broken(sid: str, reason: Any) -> None:
            raise RuntimeError("boom")

    else:

        async def broken(sid: str, reason: Any) -> None:
            raise RuntimeError("boom")

    h.server.on("disconnect", broken)
    with caplog.at_level("ERROR", logger="engineio_core"):
        assert h.post(sid, b"6\x1e1").body == b"ok"
    failed = [r for r in caplog.records if "disconnect handler failed" in r.getMessage()]
    assert len(failed) == 1
    assert h.server._sessions == {}
    # The same close, but waking the session's pending poll: it gets a noop.
    h.server.on("disconnect", lambda sid, reason: seen["disconnect"].append((sid, reason)))
    sid, _ = h.handshake()
    polled: list[Reply] = []
    poller = threading.Thread(target=lambda: polled.append(h.poll(sid)))
    poller.start()
    h.wait_until(lambda: h.server._sessions[sid].session.poll_pending)
    assert h.post(sid, b"1").body == b"ok"
    poller.join(5)
    assert [r.packets for r in polled] == [["6"]]
    assert seen["disconnect"][-1] == (sid, "client disconnect")
    assert h.server._sessions == {}


def test_disconnect_all(make: Factory) -> None:
    h = make()
    seen = record(h)
    sids = {h.handshake()[0] for _ in range(3)}
    h.call("disconnect")
    assert {sid for sid, _ in seen["disconnect"]} == sids


def test_disconnect_handler_without_reason(make: Factory) -> None:
    h = make()
    gone: list[str] = []
    h.server.on("disconnect", lambda sid: gone.append(sid))
    sid, _ = h.handshake()
    h.post(sid, b"1")
    assert gone == [sid]


def test_user_sessions(make: Factory) -> None:
    h = make()
    sid, _ = h.handshake()
    assert h.server.get_session(sid) == {}
    h.server.save_session(sid, {"user": "ann"})
    with h.server.session(sid) as s:
        s["role"] = "admin"
    assert h.server.get_session(sid) == {"user": "ann", "role": "admin"}
    with pytest.raises(KeyError):
        h.server.get_session("nope")


def test_overridden_generate_id(make: Factory) -> None:
    h = make()
    ids = iter(["fixed-1", "fixed-2"])
    h.server.generate_id = lambda: next(ids)
    assert h.handshake()[0] == "fixed-1"
    # A client can never choose its sid: a sid in the handshake is a lookup, not a choice.
    reply = h.request("GET", {"EIO": "4", "transport": "polling", "sid": "mine"})
    assert reply.json()["code"] == 1


def test_default_ids_are_random_and_url_safe(make: Factory) -> None:
    h = make()
    sids = {h.handshake()[0] for _ in range(20)}
    assert len(sids) == 20
    assert all(len(s) == 20 and s.replace("-", "").replace("_", "").isalnum() for s in sids)


def test_transports_allow_list(make: Factory) -> None:
    h = make(transports=["websocket"])
    reply = h.request("GET", {"EIO": "4", "transport": "polling"})
    assert (reply.status, reply.json()["code"]) == (400, 0)


def test_sub_second_heartbeat_is_advertised_exactly(make: Factory) -> None:
    h = make(ping_interval=0.3, ping_timeout=0.25, max_http_buffer_size=1234)
    _, info = h.handshake()
    assert (info["pingInterval"], info["pingTimeout"], info["maxPayload"]) == (300, 250, 1234)


def test_ping_timeout_closes_silent_session(make: Factory) -> None:
    h = make(ping_interval=0.1, ping_timeout=0.1)
    seen = record(h)
    sid, _ = h.handshake()
    h.wait_until(lambda: bool(seen["disconnect"]), timeout=2)
    assert seen["disconnect"] == [(sid, "ping timeout")]
    assert h.server._sessions == {}


def test_pong_keeps_session_alive(make: Factory) -> None:
    h = make(ping_interval=0.1, ping_timeout=0.2)
    seen = record(h)
    sid, _ = h.handshake()
    for _ in range(4):
        assert h.poll(sid).packets == ["2"]
        h.post(sid, b"3")
    assert seen["disconnect"] == []


def test_v3_client_pings(make: Factory) -> None:
    h = make(allow_eio3=True)
    sid, info = h.handshake(eio=3)
    assert "maxPayload" not in info
    h.request("POST", {"EIO": "3", "transport": "polling", "sid": sid}, b"1:2")
    reply = h.request("GET", {"EIO": "3", "transport": "polling", "sid": sid})
    assert reply.body == b"1:3"


def test_compression(make: Factory) -> None:
    h = make(compression_threshold=100)
    sid, _ = h.handshake()
    for encoding, decode in (("gzip", gzip.decompress), ("deflate", zlib.decompress)):
        h.call("send", sid, "z" * 500)
        reply = h.request(
            "GET",
            {"EIO": "4", "transport": "polling", "sid": sid},
            headers={"Accept-Encoding": f"{encoding}, br"},
        )
        assert reply.headers["content-encoding"] == encoding
        assert decode(reply.body) == b"4" + b"z" * 500
    h.call("send", sid, "small")
    assert "content-encoding" not in h.poll(sid).headers
    off = make(http_compression=False, compression_threshold=1)
    sid, _ = off.handshake()
    off.call("send", sid, "z" * 500)
    reply = off.request(
        "GET", {"EIO": "4", "transport": "polling", "sid": sid}, headers={"Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in reply.headers


def test_cookie_settings(make: Factory) -> None:
    reply = make().request("GET", {"EIO": "4", "transport": "polling"})
    assert reply.headers["set-cookie"].startswith("io=")
    reply = make(cookie=None).request("GET", {"EIO": "4", "transport": "polling"})
    assert "set-cookie" not in reply.headers
    h = make(cookie={"name": "sess", "path": "/app", "samesite": "Strict", "secure": True})
    cookie = h.request("GET", {"EIO": "4", "transport": "polling"}).headers["set-cookie"]
    assert cookie.startswith("sess=")
    assert "Path=/app" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie


def test_cors_headers_and_preflight(make: Factory) -> None:
    h = make(cors_allowed_origins=["https://app.example"])
    origin = {"Origin": "https://app.example"}
    reply = h.request("GET", {"EIO": "4", "transport": "polling"}, headers=origin)
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    assert reply.headers["access-control-allow-credentials"] == "true"
    pre = h.request(
        "OPTIONS",
        {"EIO": "4", "transport": "polling"},
        headers={**origin, "Access-Control-Request-Headers": "x-token"},
    )
    assert pre.status == 200
    assert pre.headers["access-control-allow-headers"] == "x-token"
    assert "POST" in pre.headers["access-control-allow-methods"]
    bad = h.request("GET", {"EIO": "4", "transport": "polling"}, headers={"Origin": "https://x"})
    assert (bad.status, bad.json()) == (403, {"code": 4, "message": "Forbidden"})
    nocreds = make(cors_allowed_origins="*", cors_credentials=False)
    reply = nocreds.request("GET", {"EIO": "4", "transport": "polling"}, headers=origin)
    assert "access-control-allow-credentials" not in reply.headers
    off = make(cors_allowed_origins=[])
    reply = off.request("GET", {"EIO": "4", "transport": "polling"}, headers={"Origin": "http://x"})
    assert reply.status == 200 and "access-control-allow-origin" not in reply.headers


def test_long_poll_is_woken_by_send(make: Factory) -> None:
    h = make()
    sid, _ = h.handshake()
    out: list[Reply] = []
    thread = threading.Thread(target=lambda: out.append(h.poll(sid)), daemon=True)
    thread.start()
    h.wait_until(lambda: h.server._sessions[sid].session.poll_pending)
    h.call("send", sid, "wake up")
    thread.join(5)
    assert out[0].packets == ["4wake up"]


def test_background_task_and_sleep(make: Factory) -> None:
    h = make()
    done = threading.Event()
    if isinstance(h, SyncHarness):
        task = h.server.start_background_task(lambda x: done.set() if x == 1 else None, 1)
        task.join(5)
        h.server.sleep(0)
    else:

        async def job(x: int) -> None:
            await h.server.sleep(0.01)
            if x == 1:
                done.set()

        async def start() -> None:
            await h.server.start_background_task(job, 1)

        h._run(start())  # type: ignore[attr-defined]
    assert done.wait(5)


def test_shutdown_closes_every_session(make: Factory) -> None:
    h = make()
    seen = record(h)
    sids = {h.handshake()[0] for _ in range(3)}
    out: list[Reply] = []
    first = next(iter(sids))
    thread = threading.Thread(target=lambda: out.append(h.poll(first)), daemon=True)
    thread.start()
    h.wait_until(lambda: h.server._sessions[first].session.poll_pending)
    h.call("shutdown")
    thread.join(5)
    assert out[0].packets == ["1"]
    assert {sid for sid, reason in seen["disconnect"] if reason == "server shutdown"} == sids
    assert h.server._heartbeat_task is None


def test_invalid_options_are_refused(make: Factory) -> None:
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_send_queue"):
            make(max_send_queue=bad)
    with pytest.raises(ValueError):
        make(transports=["carrier-pigeon"])
    with pytest.raises(ValueError):
        make(ping_interval=0)


def test_unknown_event_name(make: Factory) -> None:
    with pytest.raises(ValueError):
        make().server.on("connected", print)


# -- WSGIApp (sync only) -------------------------------------------------------------------


def call_wsgi(app: Any, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured.update(status=status, headers=dict(headers))

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": ""}
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def test_wsgi_app_static_files_and_fallback(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.js").write_text("alert(1)")
    (tmp_path / "secret.txt").write_text("nope")
    eio = engineio_core.Server(async_mode="threading")

    def fallback(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"fallback"]

    app = engineio_core.WSGIApp(
        eio,
        fallback,
        static_files={
            "/": {"filename": str(tmp_path / "index.html"), "content_type": "text/html"},
            "/static": str(tmp_path / "static"),
        },
    )
    assert call_wsgi(app, "/")[2] == b"<h1>hi</h1>"
    status, headers, body = call_wsgi(app, "/static/app.js")
    assert body == b"alert(1)" and headers["Content-Type"].startswith("text/javascript")
    assert call_wsgi(app, "/static/../secret.txt")[2] == b"fallback"
    assert call_wsgi(app, "/other")[2] == b"fallback"
    status, _, body = call_wsgi(engineio_core.WSGIApp(eio), "/other")
    assert status.startswith("404")
    status, _, body = call_wsgi(app, "/engine.io/")
    assert status.startswith("400") and json.loads(body)["code"] == 0


def test_middleware_is_a_deprecated_alias() -> None:
    eio = engineio_core.Server(async_mode="threading")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = engineio_core.Middleware(eio)
    assert isinstance(app, engineio_core.WSGIApp)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert call_wsgi(app, "/custom/", "GET")[0].startswith("404")
