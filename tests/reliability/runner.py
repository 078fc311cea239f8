"""Run corpus cases against a live server and check everything the corpus promises.

After each case, whatever it was, the server must:

* not have answered 500, nor anything the case does not allow;
* have written at most one engine.io warning line for the refused request
  (exactly one when it answered with an Engine.IO error code), no engine.io
  ERROR line, and no traceback (for requests the HTTP server refuses itself,
  a traceback of its own, with no engine.io code in it, is its business);
* still answer a normal handshake quickly (no stuck worker);
* hold no session the case created (``GET /_state``), waiting out the
  heartbeat (0.5 s + 0.5 s) for sessions a case leaves to time out.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tests.rawclient import RawClient, RawWebSocket
from tests.reliability.corpus import HttpCase, RawFrame, WsCase
from tests.reliability.live import ReliabilityServer
from tests.reliability.rawhttp import RawReply, build_request, exchange

PATH = "/engine.io/"
#: How long the test servers' heartbeat takes to give up on a silent client.
HEARTBEAT = 1.0
LEAK_WAIT = HEARTBEAT + 3.0
#: Every correct answer comes in milliseconds; a case that waits this long hung.
REPLY_TIMEOUT = 3.0
_WARNING = re.compile(r"^\[engineio\] (WARNING|ERROR|CRITICAL) ", re.MULTILINE)
_ERROR = re.compile(r"^\[engineio\] (ERROR|CRITICAL) ", re.MULTILINE)
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):\n(?:[ \t].*\n)*.*", re.MULTILINE)
#: (server kind, what) for every traceback an HTTP server logged about a request it
#: refused itself; conftest.py prints them at the end of the run.
FRAMEWORK_TRACEBACKS: list[tuple[str, str]] = []


def client(server: ReliabilityServer, eio: int = 4) -> RawClient:
    return RawClient(server.url, eio=eio)


def healthy_handshake(server: ReliabilityServer, timeout: float = 5.0) -> None:
    """A normal client can still open and close a session, quickly."""
    start = time.monotonic()
    raw = client(server)
    reply = raw.request("GET", raw.query(), timeout=timeout)
    assert reply.status == 200, (reply.status, reply.body, server.proc.output())
    sid = json.loads(reply.body.decode().split("\x1e")[0][1:])["sid"]
    assert raw.post(sid, b"1").body == b"ok"
    assert time.monotonic() - start < timeout


def assert_no_leak(server: ReliabilityServer, timeout: float = LEAK_WAIT) -> None:
    server.wait_state(lambda s: not s["sessions"], timeout)


def check_output(
    server: ReliabilityServer,
    expected: int | None,
    at_most: int = 1,
    framework: bool = False,
    label: str = "",
) -> str:
    """The server's new output: no traceback, no engine.io ERROR, the expected warnings.

    ``expected`` None: at most ``at_most`` warnings. ``framework``: tracebacks
    that involve no engine.io code are the HTTP server's own business (they
    are recorded in ``FRAMEWORK_TRACEBACKS``).
    """
    output = server.new_output()
    for traceback in _TRACEBACK.findall(output):
        ours = "engineio_core" in traceback or "/eio_" in traceback
        assert framework and not ours, output
        FRAMEWORK_TRACEBACKS.append((server.name, f"{label}: {traceback.splitlines()[-1]}"))
    if not framework:
        assert "Traceback" not in output, output
    assert not _ERROR.search(output), output
    warnings = len(_WARNING.findall(output))
    if expected is None:
        assert warnings <= at_most, output
    else:
        assert warnings == expected, output
    return output


def finish_case(
    server: ReliabilityServer,
    logs: int | None,
    at_most: int = 1,
    framework: bool = False,
    label: str = "",
) -> None:
    """The server is alive and healthy, holds no session, and logged as expected."""
    assert server.alive(), server.proc.output()
    healthy_handshake(server)
    assert_no_leak(server)
    check_output(server, logs, at_most, framework, label)


def open_websocket(
    server: ReliabilityServer, query: str, headers: dict[str, str] | None = None
) -> RawWebSocket:
    return RawWebSocket("127.0.0.1", server.port, f"{PATH}?{query}", headers or {})


def receive_skipping_pings(ws: RawWebSocket, timeout: float = 5.0) -> str | bytes | None:
    """The next message that is not a server ping (None once closed)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if msg != "2":
            return msg


def wait_closed(ws: RawWebSocket, timeout: float = 5.0) -> None:
    """Read until the server closes the socket."""
    deadline = time.monotonic() + timeout
    while not ws.closed:
        assert time.monotonic() < deadline, "the server did not close the WebSocket"
        try:
            ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        except OSError:
            break


def wait_polled_message(server: ReliabilityServer, sid: str, eio: int = 4) -> None:
    """Poll until the app's echo arrives (answering pings), so nothing is in flight."""
    raw = client(server, eio)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        reply = raw.poll(sid, timeout=5.0)
        assert reply.status == 200, reply
        if any(p[:1] in ("4", "b") for p in reply.body.decode().split("\x1e")):
            return
        raw.post(sid, b"3")
    raise AssertionError("the echo never came")


# -- the sessions cases run against -----------------------------------------------------


class CaseSession:
    """The session a case runs against, and how to end it if it survived."""

    def __init__(self, sid: str | None, ws: RawWebSocket | None = None, eio: int = 4) -> None:
        self.sid = sid
        self.ws = ws
        self.eio = eio

    def end(self, server: ReliabilityServer) -> None:
        if self.ws is not None:
            self.ws.close()
        elif self.sid is not None:
            reply = client(server, self.eio).post(self.sid, b"1" if self.eio == 4 else b"1:1")
            assert reply.status in (200, 400), reply


def handshake_sid(server: ReliabilityServer, eio: int = 4) -> str:
    sid, _ = client(server, eio).handshake()
    return sid


def upgrade(server: ReliabilityServer, sid: str) -> RawWebSocket:
    """Upgrade polling session ``sid`` to a WebSocket, and wait until the server has."""
    ws = open_websocket(server, f"EIO=4&transport=websocket&sid={sid}")
    assert ws.status == 101, ws.status
    ws.send("2probe")
    assert receive_skipping_pings(ws) == "3probe"
    ws.send("5")
    ws.send("4upgraded?")  # the echo proves the server has processed the "5"
    assert receive_skipping_pings(ws) == "4upgraded?"
    return ws


def websocket_session(
    server: ReliabilityServer, query: str, headers: dict[str, str] | None = None
) -> tuple[str, RawWebSocket]:
    """Open a WebSocket-only session; the socket is returned open."""
    ws = open_websocket(server, query, headers)
    assert ws.status == 101, (ws.status, ws.reject_body)
    opening = receive_skipping_pings(ws)
    assert isinstance(opening, str) and opening.startswith("0{"), opening
    sid: str = json.loads(opening[1:])["sid"]
    return sid, ws


@contextmanager
def case_session(server: ReliabilityServer, kind: str | None) -> Iterator[CaseSession]:
    if kind is None:
        yield CaseSession(None)
    elif kind in ("v4", "v3"):
        eio = int(kind[1])
        yield CaseSession(handshake_sid(server, eio), eio=eio)
    elif kind == "closed":
        sid = handshake_sid(server, 4)
        assert client(server).post(sid, b"1").body == b"ok"
        server.wait_state(lambda s: sid not in s["sessions"])
        yield CaseSession(sid)
    elif kind == "upgraded":
        sid = handshake_sid(server, 4)
        ws = upgrade(server, sid)
        try:
            yield CaseSession(sid, ws)
        finally:
            ws.close()
    else:  # "ws"/"ws3": a WebSocket-only session
        sid, ws = websocket_session(server, f"EIO={3 if kind == 'ws3' else 4}&transport=websocket")
        try:
            yield CaseSession(sid, ws, 3 if kind == "ws3" else 4)
        finally:
            ws.close()


# -- HTTP cases ---------------------------------------------------------------------------


def _subst(text: str, session: CaseSession, server: ReliabilityServer) -> str:
    return text.replace("{sid}", session.sid or "").replace("{port}", str(server.port))


def send_http_case(server: ReliabilityServer, case: HttpCase, session: CaseSession) -> RawReply:
    if case.raw is not None:
        data = case.raw.replace(b"{port}", str(server.port).encode())
    else:
        target = PATH if case.query is None else f"{PATH}?{_subst(case.query, session, server)}"
        length = case.content_length
        if length is None and not case.body and case.method in ("POST", "PUT", "PATCH"):
            length = 0
        data = build_request(
            case.method, target, server.port, case.headers, case.body, content_length=length
        )
    return exchange(server.port, data, case.method, timeout=REPLY_TIMEOUT)


def check_reply(case: HttpCase, reply: RawReply) -> None:
    assert reply.status != 500, reply
    assert reply.status in case.statuses(), (reply.status, reply.body)
    if case.code is not None:
        assert reply.header("content-type") == "application/json", reply
        assert json.loads(reply.body)["code"] == case.code, reply.body
    names = {name.lower() for name, _ in reply.headers}
    for forbidden in case.forbidden_headers:
        assert forbidden not in names, reply.headers


def check_session_outcome(server: ReliabilityServer, sid: str | None, outcome: str) -> bool:
    """Check what became of the case's session; True if it is still open."""
    if sid is None:
        return False
    if outcome == "open":
        assert sid in server.state()["sessions"], f"session {sid} should have survived"
        return True
    if outcome == "any":
        return sid in server.state()["sessions"]
    assert server.reason_for(sid) == outcome
    return False


def expected_logs(case: HttpCase | WsCase) -> int | None:
    if case.logs is not None:
        return case.logs
    refused = case.code if isinstance(case, HttpCase) else case.refused
    return 1 if refused is not None else None


def run_http_case(server: ReliabilityServer, case: HttpCase) -> None:
    server.new_output()
    with case_session(server, case.session) as session:
        try:
            reply: RawReply | None = send_http_case(server, case, session)
        except (OSError, http.client.HTTPException):
            # The HTTP server may drop (or never answer) what is not HTTP at
            # all; the health check below shows it was not stuck on it.
            if not case.framework:
                raise
            reply = None
        if reply is not None:
            check_reply(case, reply)
        open_after = check_session_outcome(server, session.sid, case.outcome)
        if case.not_delivered is not None:
            assert case.not_delivered not in server.state()["messages"]
        if open_after:
            delivered = case.method == "POST" and case.body.startswith(b"4")
            if reply is not None and reply.status == 200 and delivered:
                wait_polled_message(server, session.sid or "", session.eio)
            session.end(server)
    finish_case(server, expected_logs(case), framework=case.framework, label=case.id)


# -- WebSocket cases -----------------------------------------------------------------------


def check_websocket_refused(
    server: ReliabilityServer, ws: RawWebSocket, status: int, code: int
) -> None:
    if ws.status == 101:
        # gevent-websocket accepts before the app runs: the refusal is a close.
        assert server.refuses_websocket_after_101, "a refused WebSocket was accepted"
        assert receive_skipping_pings(ws) is None, "a refused WebSocket got a message"
        assert ws.close_code == 4000 + status, ws.close_code
        return
    assert ws.status != 500, ws.reject_body
    if ws.reject_body.startswith(b"{"):
        assert ws.status == status, (ws.status, ws.reject_body)
        assert json.loads(ws.reject_body)["code"] == code, ws.reject_body
    else:
        # Servers with no way to answer a WebSocket with a body (no ASGI
        # "websocket.http.response" extension) can only refuse with 403; and a
        # server's WebSocket stack may refuse a malformed handshake itself (400).
        assert 400 <= ws.status < 500, (ws.status, ws.reject_body)


def run_ws_case(server: ReliabilityServer, case: WsCase) -> None:
    server.new_output()
    # A "ws"/"ws3" case's own WebSocket creates its session.
    own_session = case.session in ("ws", "ws3")
    setup = None if own_session else case.session
    with case_session(server, setup) as session, ExitStack() as stack:  # fmt: skip
        if own_session:
            sid, ws = websocket_session(server, case.query)
            session = CaseSession(sid, ws, 3 if case.session == "ws3" else 4)
        else:
            ws = open_websocket(server, _subst(case.query, session, server), dict(case.headers))
        stack.callback(ws.close)
        if case.refused is not None:
            assert case.code is not None
            check_websocket_refused(server, ws, case.refused, case.code)
        else:
            assert ws.status == 101, (ws.status, ws.reject_body)
            for message in case.send:
                try:
                    if isinstance(message, RawFrame):
                        ws.sock.sendall(message.data)
                    else:
                        ws.send(message)
                except OSError:
                    break  # the server already closed: that is what the case wanted
            if case.closes:
                wait_closed(ws)
            elif case.send:
                assert receive_skipping_pings(ws) == case.send[-1]  # the echo: nothing in flight
        open_after = check_session_outcome(server, session.sid, case.outcome)
        if open_after:
            # The case's own socket is the session's transport, or the upgraded one is.
            CaseSession(session.sid, ws if own_session else session.ws, session.eio).end(server)
    finish_case(server, expected_logs(case), framework=case.framework, label=case.id)
