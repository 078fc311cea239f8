"""The real engine.io-client (6.x for v4, 3.5.x for v3) against every server in the matrix."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import SERVERS, LiveServer
from tests.jsclient import JSClient
from tests.rawclient import RawClient


def opened_sid(open_packet: str) -> str:
    sid: str = json.loads(open_packet[1:])["sid"]
    return sid


def refused_websocket_event(server: LiveServer, mode: str) -> str:
    """What the JS client reports when the server refuses its first request.

    Behind gevent-websocket's handler the WebSocket is already open (101) when
    the server refuses it, so the client sees it closed rather than failed.
    """
    after_101 = mode == "websocket" and SERVERS[server.name].refuses_websocket_after_101
    return "close" if after_101 else "error"


TRANSPORTS = {
    "polling": (("polling",), False),
    "websocket": (("websocket",), False),
    "upgrade": (("polling", "websocket"), True),
}


@pytest.mark.parametrize("protocol", [4, 3])
@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
def test_echo_send_and_client_close(live_server: LiveServer, protocol: int, mode: str) -> None:
    transports, upgrade = TRANSPORTS[mode]
    with JSClient(live_server.url, protocol, transports, upgrade) as c:
        opened = c.wait_for("open")
        sid = opened["sid"]
        if mode == "upgrade":
            c.wait_for("upgrade")
        c.send_text("hello ☃")
        assert c.recv() == "hello ☃"
        c.send_binary(b"\x00\x01\xfe\xff")
        assert c.recv() == b"\x00\x01\xfe\xff"
        c.send_text("server-send")
        assert c.recv() == "from-server"
        assert c.recv() == b"\x00\x01"
        expected = "websocket" if mode != "polling" else "polling"
        assert c.events[-1]  # the log is non-empty
        assert any(
            e.get("transport") == expected for e in c.events if e["event"] in ("open", "upgrade")
        )
        c.close()
        c.wait_for("close")
        # The client reports "close" before its close packet is flushed: keep it alive
        # until the server has seen the packet. Over WebSocket the client sends no close
        # packet, it just closes the socket: "transport close", as in Node and python-engineio.
        expected_reason = "client disconnect" if mode == "polling" else "transport close"
        assert live_server.reason_for(sid) == expected_reason


@pytest.mark.parametrize("protocol", [4, 3])
@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
def test_server_disconnect(live_server: LiveServer, protocol: int, mode: str) -> None:
    transports, upgrade = TRANSPORTS[mode]
    with JSClient(live_server.url, protocol, transports, upgrade) as c:
        sid = c.wait_for("open")["sid"]
        if mode == "upgrade":
            c.wait_for("upgrade")
        c.send_text("disconnect-me")
        c.wait_for("close")
    assert live_server.reason_for(sid) == "server disconnect"
    live_server.wait_state(lambda s: sid not in s["sessions"])


@pytest.mark.parametrize("protocol", [4, 3])
def test_heartbeat_keeps_an_idle_client_alive(live_server: LiveServer, protocol: int) -> None:
    with JSClient(live_server.url, protocol, ("polling", "websocket"), True) as c:
        sid = c.wait_for("open")["sid"]
        c.wait_for("upgrade")
        # ping_interval + ping_timeout is 1 s: stay idle for over two of those.
        with pytest.raises(AssertionError):
            c.wait_for("close", timeout=2.5)
        assert sid in live_server.state()["sessions"]


@pytest.mark.parametrize("protocol", [4, 3])
def test_silent_client_is_closed_by_ping_timeout(live_server: LiveServer, protocol: int) -> None:
    raw = RawClient(live_server.url, eio=protocol)
    sid, _ = raw.handshake()
    assert live_server.reason_for(sid, timeout=5) == "ping timeout"
    assert sid not in live_server.state()["sessions"]


@pytest.mark.parametrize("protocol", [4, 3])
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_connect_handler_rejection(live_server: LiveServer, protocol: int, mode: str) -> None:
    transports, _ = TRANSPORTS[mode]
    with JSClient(live_server.url, protocol, transports, False, query={"reject": "1"}) as c:
        c.wait_for(refused_websocket_event(live_server, mode))
        assert not [e for e in c.events if e["event"] == "open"]
    reply = RawClient(live_server.url, eio=protocol).request(
        "GET", {"EIO": str(protocol), "transport": "polling", "reject": "1"}
    )
    assert reply.status == 401
    assert reply.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("protocol", [4, 3])
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_wrong_origin_is_refused(live_server: LiveServer, protocol: int, mode: str) -> None:
    transports, _ = TRANSPORTS[mode]
    evil = {"Origin": "http://evil.example"}
    with JSClient(live_server.url, protocol, transports, False, extra_headers=evil) as c:
        c.wait_for(refused_websocket_event(live_server, mode))
        assert not [e for e in c.events if e["event"] == "open"]
    raw = RawClient(live_server.url, eio=protocol)
    reply = raw.request("GET", raw.query(), headers=evil)
    assert (reply.status, reply.json()) == (403, {"code": 4, "message": "Forbidden"})
    ws = raw.websocket(headers=evil)
    if SERVERS[live_server.name].refuses_websocket_after_101:
        assert ws.status == 101
        assert ws.receive(timeout=5) is None
        assert ws.close_code == 4403
    else:
        assert ws.status == 403
    ws.close()
    # The same origin is fine.
    host = live_server.url.removeprefix("http://")
    assert raw.request("GET", raw.query(), headers={"Origin": f"http://{host}"}).status == 200


@pytest.mark.parametrize("protocol", [4, 3])
def test_oversize_post_gets_413(live_server: LiveServer, protocol: int) -> None:
    raw = RawClient(live_server.url, eio=protocol)
    sid, _ = raw.handshake()
    payload = "4" + "x" * 30_000
    body = payload if protocol == 4 else f"{len(payload)}:{payload}"
    assert raw.post(sid, body.encode()).status == 413
    assert live_server.reason_for(sid) == "payload too large"


@pytest.mark.parametrize("protocol", [4, 3])
def test_oversize_websocket_message_closes_with_1009(
    live_server: LiveServer, protocol: int
) -> None:
    raw = RawClient(live_server.url, eio=protocol)
    ws = raw.websocket()
    try:
        assert ws.status == 101
        opened = ws.receive()
        assert isinstance(opened, str) and opened.startswith("0")
        ws.send("4" + "x" * 30_000)
        while ws.receive() is not None:
            pass
        # daphne lets applications send only 1000 and 3000-4999 (see eio-asgi's README).
        assert ws.close_code == (1000 if live_server.name == "daphne" else 1009)
        assert live_server.reason_for(opened_sid(opened)) == "payload too large"
    finally:
        ws.close()
