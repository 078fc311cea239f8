"""Messages a client sent just before it closed are all delivered, whatever the
server notices first (found by the soak: uvicorn lost all but one of 200 and
reported "transport close", because a failed send made the ASGI socket stop
receiving, and the core's writer ended the session on a failed send)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from wsproto.events import CloseConnection, TextMessage

from engineio_core.testing.client import RawEngineIOClient
from tests.e2e.conftest import SERVERS
from tests.reliability.live import (
    RELIABILITY_OPTIONS,
    ReliabilityServer,
    skip_if_missing,
    start_kind,
)

N = 200
KINDS = ["uvicorn", "hypercorn", "aiohttp", "werkzeug", "gevent-pywsgi", "eventlet-wsgi"]


@pytest.mark.parametrize("name", KINDS)
def test_messages_before_a_close_are_delivered(name: str) -> None:
    assert name in SERVERS
    skip_if_missing(name)
    options = {**RELIABILITY_OPTIONS, "ping_interval": 25, "ping_timeout": 20}
    with start_kind(name, options) as (url, proc):
        server = ReliabilityServer(name, url, proc)
        for attempt in range(3):
            ws = RawEngineIOClient("127.0.0.1", proc.port).websocket()
            opened = ws.receive()
            assert isinstance(opened, str)
            sid = json.loads(opened[1:])["sid"]
            tag = f"a{attempt}-"
            data = b"".join(ws.conn.send(TextMessage(data=f"4{tag}{i}")) for i in range(N))
            data += ws.conn.send(TextMessage(data="1")) + ws.conn.send(CloseConnection(code=1000))
            ws.sock.sendall(data)  # the messages, a close packet, the close frame at once
            ws.sock.settimeout(10)
            try:
                while ws.sock.recv(65536):  # echoes, the close frame, then EOF
                    pass
            except ConnectionResetError:
                pass
            ws.sock.close()
            server.wait_state(lambda s, sid=sid: sid not in s["sessions"], 10)
            assert server.reason_for(sid) == "client disconnect", proc.output()

            # Handlers run concurrently (async_handlers): the last ones may finish
            # after the session ended.
            def delivered(state: dict[str, Any], tag: str = tag) -> bool:
                return sum(1 for m in state["messages"] if m.startswith(tag)) == N

            server.wait_state(delivered, 10)
