"""Every case of the hostile-request corpus against every installed server kind.

See tests/reliability/runner.py for what is checked after each case, and
tests/reliability/corpus.py for the cases. A few cases fail on one server for
reasons outside engine.io (the HTTP server's own limits or defects): they are
listed in ``KNOWN_DEFECTS`` and expected to fail there (strictly: once the
server is fixed the entry must go).
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack

import pytest

from tests.reliability.corpus import HTTP_CASES, WS_CASES, HttpCase, WsCase
from tests.reliability.live import ReliabilityServer
from tests.reliability.rawhttp import StalledRequest, build_request
from tests.reliability.runner import (
    LEAK_WAIT,
    PATH,
    CaseSession,
    client,
    finish_case,
    handshake_sid,
    healthy_handshake,
    run_http_case,
    run_ws_case,
    send_http_case,
)

_UWSGI_BUFFER = "uWSGI drops requests whose headers pass its --buffer-size (4096 by default)"
_BUFFERS_BODY = "the server reads the whole body before the app runs, so no early 413"

#: (server kind, case id) -> why the case fails there, outside engine.io's reach.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {
    ("uwsgi-gevent", "transport-3000-chars"): _UWSGI_BUFFER,
    ("uwsgi-gevent", "sid-2000-chars"): _UWSGI_BUFFER,
    ("uwsgi-gevent", "chunked-body-over-limit"): (
        "uWSGI hands the app no chunked body through wsgi.input (uwsgi.chunked_read() "
        "would): the gevent_uwsgi mode sees an empty POST (400, not 413)"
    ),
    ("daphne", "content-length-5mb-body-never-sent"): _BUFFERS_BODY,
}


def _known(request: pytest.FixtureRequest, server: ReliabilityServer, case_id: str) -> None:
    reason = KNOWN_DEFECTS.get((server.name, case_id))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.id)
def test_http_case(
    rel_server: ReliabilityServer, case: HttpCase, request: pytest.FixtureRequest
) -> None:
    _known(request, rel_server, case.id)
    run_http_case(rel_server, case)


@pytest.mark.parametrize("case", WS_CASES, ids=lambda c: c.id)
def test_websocket_case(
    rel_server: ReliabilityServer, case: WsCase, request: pytest.FixtureRequest
) -> None:
    _known(request, rel_server, case.id)
    run_ws_case(rel_server, case)


# -- slow and half-sent requests --------------------------------------------------------

HALF_HEADERS = b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"
HALF_WS = (
    b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
)
STALLED = 8


def test_half_sent_headers_do_not_block_others(rel_server: ReliabilityServer) -> None:
    rel_server.new_output()
    with ExitStack() as stack:
        for data in [HALF_HEADERS] * (STALLED // 2) + [HALF_WS] * (STALLED // 2):
            stack.enter_context(StalledRequest(rel_server.port, data))
        time.sleep(0.2)
        healthy_handshake(rel_server, timeout=3.0)
    # Some servers take the client's EOF for the end of the headers and answer
    # what they got: at most one refusal line each, and gevent-websocket fails
    # on the (key-less) upgrades its own way.
    finish_case(rel_server, None, at_most=STALLED, framework=True, label="half-sent headers")


def _stalled_post(server: ReliabilityServer, sid: str, body: bytes) -> bytes:
    return build_request(
        "POST",
        f"{PATH}?EIO=4&transport=polling&sid={sid}",
        server.port,
        (("Content-Type", "text/plain;charset=UTF-8"),),
        body,
        content_length=100,
    )


def test_body_shorter_than_content_length(rel_server: ReliabilityServer) -> None:
    """A POST that stops mid-body: others are served, the partial message is never delivered."""
    rel_server.new_output()
    sid = handshake_sid(rel_server)
    with StalledRequest(rel_server.port, _stalled_post(rel_server, sid, b"4partial")) as stalled:
        assert stalled.reply_within(0.2) is None  # it waits for the rest of the body
        healthy_handshake(rel_server, timeout=3.0)
    # The client gave up: the server frees the request, and the session ends
    # (at the latest by its heartbeat).
    rel_server.wait_state(lambda s: sid not in s["sessions"], LEAK_WAIT)
    messages = rel_server.state()["messages"]
    assert not any(str(m).startswith("partial") for m in messages), messages
    finish_case(rel_server, None)


def test_stalled_body_does_not_keep_the_session(rel_server: ReliabilityServer) -> None:
    """A POST that never finishes: the session still dies by its heartbeat."""
    rel_server.new_output()
    sid = handshake_sid(rel_server)
    with StalledRequest(rel_server.port, _stalled_post(rel_server, sid, b"4stalled")):
        rel_server.wait_state(lambda s: sid not in s["sessions"], LEAK_WAIT)
        healthy_handshake(rel_server, timeout=3.0)
    finish_case(rel_server, None)


def test_client_leaves_during_long_poll(rel_server: ReliabilityServer) -> None:
    rel_server.new_output()
    sid = handshake_sid(rel_server)
    data = build_request("GET", f"{PATH}?EIO=4&transport=polling&sid={sid}", rel_server.port)
    with StalledRequest(rel_server.port, data) as poll:
        assert poll.reply_within(0.1) is None
    healthy_handshake(rel_server)
    rel_server.wait_state(lambda s: sid not in s["sessions"], LEAK_WAIT)
    finish_case(rel_server, None)


#: Refused requests with short queries, for a concurrent burst.
GARBAGE = [
    c
    for c in HTTP_CASES
    if c.session is None and c.code is not None and c.raw is None and len(c.query or "") < 200
][:12]


def test_concurrent_garbage_does_not_disturb_a_live_session(
    rel_server: ReliabilityServer,
) -> None:
    """A session keeps working while other connections send a burst of bad requests."""
    rel_server.new_output()
    raw = client(rel_server)
    sid = handshake_sid(rel_server)
    errors: list[BaseException] = []

    def garbage() -> None:
        try:
            for case in GARBAGE:
                reply = send_http_case(rel_server, case, CaseSession(None))
                assert (reply.status, json.loads(reply.body)["code"]) == (400, case.code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=garbage) for _ in range(4)]
    for t in threads:
        t.start()
    assert raw.post(sid, b"4still-here").body == b"ok"
    reply = raw.poll(sid, timeout=5)
    assert reply.status == 200
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert b"still-here" in reply.body or "still-here" in raw.poll(sid, timeout=5).text
    assert raw.post(sid, b"1").body == b"ok"
    finish_case(rel_server, 4 * len(GARBAGE))
