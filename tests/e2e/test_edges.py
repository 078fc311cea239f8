"""Edge behaviour matching Node's engine.io 6, checked with a raw peer on real servers."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs

import pytest

from tests.e2e.conftest import LiveServer
from tests.rawclient import RawClient, Reply


def raw(server: LiveServer, eio: int = 4) -> RawClient:
    return RawClient(server.url, eio=eio)


def poll_in_thread(client: RawClient, sid: str) -> tuple[threading.Thread, list[Reply]]:
    out: list[Reply] = []
    thread = threading.Thread(target=lambda: out.append(client.poll(sid)), daemon=True)
    thread.start()
    return thread, out


def test_handshake_advertises_exact_milliseconds(live_server: LiveServer) -> None:
    _, info = raw(live_server).handshake()
    assert info["pingInterval"] == 500 and info["pingTimeout"] == 500
    assert info["maxPayload"] == 20_000
    assert info["upgrades"] == ["websocket"]


def test_handshake_sets_the_cookie(live_server: LiveServer) -> None:
    client = raw(live_server)
    reply = client.request("GET", client.query())
    assert reply.headers["set-cookie"].startswith("io=")
    assert (
        "HttpOnly" in reply.headers["set-cookie"] and "SameSite=Lax" in reply.headers["set-cookie"]
    )


def test_connect_handler_gets_the_raw_query_string(live_server: LiveServer) -> None:
    # As WSGI's QUERY_STRING is: still percent-encoded, so that parsing it gives
    # the values sent. One decoded already would turn "+" into " " and "%26" into "&".
    value = "a+b&c%d=e f"
    raw(live_server).handshake(probe=value)
    sent = "probe=a%2Bb%26c%25d%3De+f"  # urlencode's
    state = live_server.wait_state(lambda s: any(sent in q for q in s["connect_queries"]))
    query = next(q for q in state["connect_queries"] if sent in q)
    assert parse_qs(query)["probe"] == [value]


def test_post_is_answered_ok(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    reply = client.post(sid, b"4hello\x1e4world")
    assert (reply.status, reply.body) == (200, b"ok")
    assert reply.headers["content-type"].startswith("text/html")
    live_server.wait_state(lambda s: "world" in s["messages"])


#: Servers whose glue offers no request to the short path for plain polls: the
#: example third-party plugin (examples/eio-starlette), written with the hooks alone.
_NO_SHORT_PATH = {"starlette"}


def test_plain_polls_and_posts_take_the_short_path(live_server: LiveServer) -> None:
    """Every bundled glue (WSGIApp, ASGIApp, the aiohttp, Sanic and tornado routes)
    offers a long-polling client's handshake, polls and POSTs to handle_polling_request."""
    client = raw(live_server)
    before = live_server.state()
    sid, _ = client.handshake()
    assert client.post(sid, b"4short").body == b"ok"
    assert client.poll(sid).body == b"4short"
    after = live_server.state()
    served = after["plain_served"] - before["plain_served"]
    handshakes = after["plain_handshakes"] - before["plain_handshakes"]
    expected = (0, 0) if live_server.name in _NO_SHORT_PATH else (2, 1)
    assert (served, handshakes) == expected


@pytest.mark.parametrize(
    ("method", "query", "status", "code"),
    [
        ("GET", {"EIO": "4"}, 400, 0),
        ("GET", {"EIO": "4", "transport": "carrier-pigeon"}, 400, 0),
        ("GET", {"EIO": "4", "transport": "polling", "sid": "nope"}, 400, 1),
        ("PUT", {"EIO": "4", "transport": "polling"}, 400, 2),
        ("POST", {"EIO": "4", "transport": "polling"}, 400, 2),
        ("GET", {"EIO": "4", "transport": "websocket"}, 400, 3),
        ("GET", {"EIO": "5", "transport": "polling"}, 400, 5),
        ("GET", {"transport": "polling"}, 400, 5),
    ],
)
def test_error_codes(
    live_server: LiveServer, method: str, query: dict[str, str], status: int, code: int
) -> None:
    reply = raw(live_server).request(method, query)
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["code"] == code


def test_invalid_packet_closes_the_session(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    reply = client.post(sid, b"9garbage")
    assert (reply.status, reply.json()["code"]) == (400, 3)
    assert client.poll(sid).status == 400
    assert live_server.reason_for(sid) == "transport error"


def test_binary_post_on_v4_is_refused(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    reply = client.post(sid, b"\x00\x01", headers={"Content-Type": "application/octet-stream"})
    assert reply.status == 400
    assert client.poll(sid).status == 400


def test_second_get_while_pending_closes_the_session(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    thread, first = poll_in_thread(client, sid)
    time.sleep(0.1)
    second = client.poll(sid)
    thread.join(5)
    assert second.status == 400
    assert first[0].status == 200 and first[0].body == b"1"
    assert live_server.reason_for(sid) == "transport error"


def test_client_close_packet_releases_poll_with_noop(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    thread, pending = poll_in_thread(client, sid)
    time.sleep(0.1)
    assert client.post(sid, b"1").body == b"ok"
    thread.join(5)
    assert pending[0].body == b"6"
    assert live_server.reason_for(sid) == "client disconnect"
    assert client.poll(sid).status == 400


def test_upgrade_ends_pending_poll_with_one_noop(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    thread, pending = poll_in_thread(client, sid)
    time.sleep(0.1)
    ws = client.websocket(sid)
    try:
        assert ws.status == 101
        ws.send("2probe")
        assert ws.receive() == "3probe"
        thread.join(5)
        assert pending[0].body == b"6"
        ws.send("5")
        ws.send("4after-upgrade")
        # Only the echo (and pings) follow on the WebSocket: no noop, no stray packets.
        seen = []
        while True:
            msg = ws.receive(timeout=5)
            assert msg is not None
            if msg == "2":
                ws.send("3")
                continue
            seen.append(msg)
            if msg == "4after-upgrade":
                break
        assert seen == ["4after-upgrade"]
        # Polling is refused once upgraded.
        reply = client.poll(sid)
        assert (reply.status, reply.json()["code"]) == (400, 3)
        # A second WebSocket for the upgraded sid is accepted, then closed.
        extra = client.websocket(sid)
        assert extra.status == 101
        assert extra.receive(timeout=5) is None
        extra.close()
        assert sid in live_server.state()["sessions"]
    finally:
        ws.close()


def test_poll_after_heartbeat_deadline_is_refused(live_server: LiveServer) -> None:
    client = raw(live_server)
    sid, _ = client.handshake()
    start = time.monotonic()
    # ping_interval 0.5 + ping_timeout 0.5: the session is dead at 1.0 s.
    ping = client.poll(sid)
    assert ping.body == b"2"
    time.sleep(max(0.0, 1.02 - (time.monotonic() - start)))
    reply = client.poll(sid)
    assert (reply.status, reply.json()["code"]) == (400, 1)


def test_jsonp_polling(live_server: LiveServer) -> None:
    client = raw(live_server)
    reply = client.request("GET", client.query(j="3"))
    assert reply.headers["content-type"].startswith("text/javascript")
    assert reply.body.startswith(b'___eio[3]("0{')
    sid = json.loads(json.loads(reply.body[len(b"___eio[3](") : -2])[1:])["sid"]
    body = b"d=4hi%5Cnthere"
    post = client.request(
        "POST",
        client.query(sid, j="3"),
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert post.body == b"ok"
    live_server.wait_state(lambda s: "hi\nthere" in s["messages"])


def test_gzip_for_large_payloads(live_server: LiveServer) -> None:
    import gzip

    client = raw(live_server)
    sid, _ = client.handshake()
    big = "y" * 5000
    client.post(sid, ("4" + big).encode())
    reply = client.request("GET", client.query(sid), headers={"Accept-Encoding": "gzip"})
    assert reply.headers.get("content-encoding") == "gzip"
    assert big in gzip.decompress(reply.body).decode()
