"""The short path for plain long-polling requests and handshakes (``handle_polling_request``).

Each case runs on each server twice, through its app wrapper (``WSGIApp``,
``ASGIApp``: plain polls and POSTs take the short path) and with every request
on ``handle_request``, and
the two must answer alike: same statuses, headers and bodies (session ids
aside), same handler calls. Every case also says how many requests the short
path must have served, so a case that silently fell back to the general path
fails.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engineio_core
from engineio_core.protocol.http import Request, parse_query, polling_handshake, polling_sid
from engineio_core.protocol.router import Handshake
from tests.scenarios.harness import AsyncHarness, Reply, SyncHarness

# -- polling_sid ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "sid"),
    [
        ("EIO=4&transport=polling&sid=abc", "abc"),
        ("EIO=4&transport=polling&t=PZx1a.b-c&sid=a_b-c", "a_b-c"),
        ("EIO=4&transport=polling&sid=abc&t=Pq", "abc"),
        ("EIO=3&transport=polling&sid=abc", "abc"),
        ("sid=abc&transport=polling", "abc"),  # any order
        ("token=x&EIO=4&transport=polling&sid=abc", "abc"),  # an app's own key
        ("EIO=4&transport=polling&sid=first&sid=second", "first"),  # parse_query's first
        ("EIO=4&transport=polling&transport=websocket&sid=abc", "abc"),
        ("EIO=4&transport=polling&sid=", None),  # empty sid: a handshake
        ("EIO=4&transport=polling", None),
        ("EIO=4&transport=websocket&sid=abc", None),
        ("EIO=4&transport=polling&sid=abc&j=0", None),  # JSONP
        ("EIO=4&transport=polling&sid=abc&b64=1", None),
        ("EIO=4&transport=polling&sid=abc&b64=0", None),  # b64 of any value: general
        ("EIO=4&transport=polling&sid=a%62c", None),  # something to unquote
        ("EIO=4&transport=polling&sid=a+c", None),
        ("", None),
    ],
)
def test_polling_sid(query: str, sid: str | None) -> None:
    assert polling_sid(query) == sid


_QUERY_PART = st.one_of(
    st.sampled_from(["EIO=4", "EIO=3", "transport=polling", "transport=websocket", "t=Pab.c"]),
    st.sampled_from(["j=0", "b64=1", "sid=", "sid=x%20y", "a+b=c", "", "=", "sid"]),
    st.from_regex(r"sid=[A-Za-z0-9_-]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z]{1,4}=[A-Za-z0-9]{0,4}", fullmatch=True),
)


@given(st.lists(_QUERY_PART, max_size=6))
def test_polling_sid_agrees_with_the_router(parts: list[str]) -> None:
    """A sid only for what the router would route as a plain poll or POST."""
    query = "&".join(parts)
    sid = polling_sid(query)
    parsed = parse_query(query)
    assert parsed == parse_qs(query, keep_blank_values=True)
    plain = (
        parsed.get("transport", [None])[0] == "polling"
        and bool(parsed.get("sid", [""])[0])
        and "j" not in parsed
        and "b64" not in parsed
        and "%" not in query
        and "+" not in query
    )
    assert sid == (parsed["sid"][0] if plain else None)


@pytest.mark.parametrize(
    ("query", "eio"),
    [
        ("EIO=4&transport=polling", "4"),
        ("EIO=4&transport=polling&t=PZx1a.b-c", "4"),
        ("EIO=3&transport=polling&t=Pq", "3"),
        ("transport=polling&EIO=4", "4"),  # any order
        ("token=x&EIO=4&transport=polling&t=Pq", "4"),  # an app's own key
        ("EIO=4&EIO=3&transport=polling", "4"),  # parse_query's first
        ("EIO=5&transport=polling", "5"),  # the server says which it speaks
        ("transport=polling", ""),
        ("EIO=4&transport=websocket", None),
        ("EIO=4&transport=polling&sid=abc", None),  # a session's request
        ("EIO=4&transport=polling&sid=", None),  # a blank sid: left to the router
        ("EIO=4&transport=polling&sid", None),
        ("EIO=4&transport=polling&j=0", None),  # JSONP
        ("EIO=4&transport=polling&b64=1", None),
        ("EIO=4&transport=polling&token=a%62c", None),  # something to unquote
        ("EIO=4&transport=polling&token=a+c", None),
        ("", None),
    ],
)
def test_polling_handshake(query: str, eio: str | None) -> None:
    assert polling_handshake(query) == eio


@given(st.lists(_QUERY_PART, max_size=6))
def test_polling_handshake_agrees_with_the_router(parts: list[str]) -> None:
    """What the server serves as a plain handshake is what the router decides for
    the same GET without an Origin: a polling handshake, without JSONP or b64."""
    query = "&".join(parts)
    server = _ROUTING_SERVER
    decision = server._plain_handshake("GET", query, None)
    request = Request("GET", "/engine.io/", parse_query(query), {})
    routed = server.router.route(request, lambda sid: None, 0.0)
    if decision is not None:
        assert routed == decision
    elif polling_handshake(query) is None:
        # Declined by the query alone: never a plain handshake the router accepts,
        # but for a blank sid or a key containing "sid=" (the general path's).
        assert not (
            isinstance(routed, Handshake)
            and routed == Handshake(routed.transport, routed.protocol, None, False)
            and routed.transport.value == "polling"
            and "sid=" not in query
            and "%" not in query
            and "+" not in query
            and "sid" not in parse_query(query)
        )
    else:
        assert polling_handshake(query) not in ("3", "4")  # a protocol it does not speak
    assert server._plain_handshake("POST", query, None) is None
    assert server._plain_handshake("GET", query, "https://a.example") is None


_ROUTING_SERVER = engineio_core.Server(async_mode="threading", allow_eio3=True)


# -- both paths answer alike ------------------------------------------------------------

Script = Callable[[Any], list[Any]]


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """A server of the kind twice: through its app wrapper, and on handle_request."""
    made: list[Any] = []
    kind = SyncHarness if request.param == "sync" else AsyncHarness

    def factory(**options: Any) -> tuple[Any, Any]:
        pair = (kind(plain=True, **options), kind(plain=False, **options))
        made.extend(pair)
        return pair

    yield factory
    for harness in made:
        harness.close()


def _seen(h: AsyncHarness) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"message": [], "disconnect": []}
    h.server.on("message", lambda sid, data: seen["message"].append(data))
    h.server.on("disconnect", lambda sid, reason: seen["disconnect"].append(reason))
    return seen


def _shown(reply: Reply, sid: str) -> tuple[int, dict[str, str], bytes]:
    return reply.status, reply.headers, reply.body.replace(sid.encode(), b"SID")


def compare(pair: tuple[Any, Any], script: Script, plain_served: int) -> list[Any]:
    outcomes = []
    for h in pair:
        seen = h.seen = _seen(h)
        observed = script(h)
        # Sync message handlers run in threads of their own: compare what arrived.
        seen["message"].sort(key=repr)
        outcomes.append((observed, seen))
    (plain_observed, plain_seen), (general_observed, general_seen) = outcomes
    assert plain_observed == general_observed
    assert plain_seen == general_seen
    assert pair[0].plain_served == plain_served
    assert pair[1].plain_served == 0
    return plain_observed


def q(sid: str, **extra: str) -> dict[str, str]:
    return {"EIO": "4", "transport": "polling", "sid": sid, **extra}


def test_messages_both_ways(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake()
        out = [_shown(h.post(sid, b"4hello\x1ebAQI=\x1e4[1,2]"), sid)]
        h.wait_until(lambda: len(h.seen["message"]) == 3)
        for data in ("text", b"\xff", {"a": 1}):
            h.call("send", sid, data)
        out.append(_shown(h.poll(sid), sid))
        return out

    observed = compare(both(), script, plain_served=2)
    assert observed[0][2] == b"ok"
    assert observed[1][2] == b'4text\x1eb/w==\x1e4{"a":1}'


def test_refused_posts_close_the_session_alike(both: Callable[..., Any]) -> None:
    bodies = {
        "short": (b"4abc", "100"),  # Content-Length says more than came
        "garbage": (b"zzz", None),  # not a packet
        "too large": (b"4" + b"a" * 250, None),  # over max_http_buffer_size: declined
        "fine": (b"4abc", None),
    }

    def script(h: Any) -> list[Any]:
        out = []
        for body, length in bodies.values():
            sid, _ = h.handshake()
            headers = {} if length is None else {"Content-Length": length}
            reply = h.request("POST", q(sid), body, headers)
            out.append((_shown(reply, sid), h.server._sessions.get(sid) is None))
        h.wait_until(lambda: len(h.seen["message"]) == 1)  # the fine one's
        return out

    observed = compare(both(max_http_buffer_size=200), script, plain_served=3)
    assert [status for (status, _, _), _ in observed] == [400, 400, 413, 200]
    assert [gone for _, gone in observed] == [True, True, True, False]


def test_declined_requests_take_the_general_path(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake()
        out = []
        h.call("send", sid, "one")
        origin = {"Origin": "https://app.example"}
        out.append(_shown(h.request("GET", q(sid), headers=origin), sid))  # CORS
        h.call("send", sid, "two")
        out.append(_shown(h.request("GET", q(sid, j="0")), sid))  # JSONP
        h.call("send", sid, "three")
        out.append(_shown(h.request("GET", q(sid, b64="1")), sid))
        out.append(_shown(h.request("GET", q("nosuchsid")), sid))  # unknown sid
        out.append(_shown(h.request("PUT", q(sid)), sid))
        return out

    observed = compare(both(cors_allowed_origins="https://app.example"), script, plain_served=0)
    assert observed[0][1]["access-control-allow-origin"] == "https://app.example"
    assert observed[1][2].startswith(b"___eio[0]")
    assert [o[0] for o in observed] == [200, 200, 200, 400, 400]


def test_compressed_polls(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake()
        out = []
        for encoding in ("gzip", "deflate", "br"):
            h.call("send", sid, "z" * 500)
            reply = h.request("GET", q(sid), headers={"Accept-Encoding": encoding})
            out.append(_shown(reply, sid))
        return out

    observed = compare(both(compression_threshold=100), script, plain_served=3)
    assert [o[1].get("content-encoding") for o in observed] == ["gzip", "deflate", None]


def test_v3_sessions(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake(eio=3)
        v3 = {"EIO": "3", "transport": "polling", "sid": sid}
        out = [_shown(h.request("POST", v3, b"6:4hello2:2x"), sid)]
        h.wait_until(lambda: len(h.seen["message"]) == 1)
        h.call("send", sid, "text")
        h.call("send", sid, b"\x01")
        out.append(_shown(h.request("GET", v3), sid))
        return out

    observed = compare(both(allow_eio3=True), script, plain_served=2)
    assert observed[1][0] == 200


def test_overlapping_polls_close_the_session_alike(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake()
        first: list[Reply] = []
        waiting = threading.Thread(target=lambda: first.append(h.poll(sid)))
        waiting.start()
        h.wait_until(lambda: h.server._sessions[sid].session.poll_pending)
        second = h.poll(sid)  # while the first waits: a client error
        waiting.join(5)
        return [_shown(second, sid), _shown(first[0], sid), sid in h.server._sessions]

    observed = compare(both(), script, plain_served=1)
    assert observed[0][0] == 400 and json.loads(observed[0][2])["message"] == "Bad request"
    assert (observed[1][0], observed[1][2], observed[2]) == (200, b"1", False)  # a close packet


def test_expired_session_is_refused_alike(both: Callable[..., Any]) -> None:
    def script(h: Any) -> list[Any]:
        sid, _ = h.handshake()
        h.server._sessions[sid].session.alive_until = 0.0  # past its deadline
        return [_shown(h.poll(sid), sid)]

    observed = compare(both(), script, plain_served=0)
    assert observed[0][0] == 400


# -- handshakes --------------------------------------------------------------------------


def _handshake_shown(reply: Reply) -> tuple[int, dict[str, str], bytes]:
    if reply.status != 200:
        return reply.status, reply.headers, reply.body
    found = re.search(rb'sid\\?":\\?"([A-Za-z0-9_-]+)', reply.body)  # v4, v3 or JSONP
    assert found is not None, reply.body
    sid = found[1].decode()
    headers = {k: v.replace(sid, "SID") for k, v in reply.headers.items()}
    return reply.status, headers, reply.body.replace(sid.encode(), b"SID")


def test_handshakes_alike(both: Callable[..., Any]) -> None:
    queries: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"EIO": "4", "transport": "polling", "t": "Pabc"}, {}),  # plain
        ({"EIO": "3", "transport": "polling"}, {}),  # plain (v3 allowed)
        ({"EIO": "4", "transport": "polling", "token": "abc"}, {}),  # plain, an app's key
        ({"EIO": "5", "transport": "polling"}, {}),  # 400 on the general path
        ({"transport": "polling"}, {}),
        ({"EIO": "4", "transport": "polling"}, {"Origin": "https://app.example"}),
        ({"EIO": "4", "transport": "polling", "j": "0"}, {}),
        ({"EIO": "4", "transport": "polling", "b64": "1"}, {}),
        ({"EIO": "4", "transport": "websocket"}, {}),  # no Upgrade: 400
        ({"EIO": "4", "transport": "polling", "refuse": "1"}, {}),  # plain, 401
        ({"EIO": "4", "transport": "polling", "fail": "1"}, {}),  # plain, 500
        ({"EIO": "4", "transport": "polling", "greet": "1"}, {}),  # plain, open + message
    ]

    def script(h: Any) -> list[Any]:
        environs: list[str] = []

        def connect(sid: str, environ: dict[str, Any]) -> Any:
            query = environ["QUERY_STRING"]
            environs.append(query)
            if "refuse" in query:
                return False
            if "fail" in query:
                raise RuntimeError("boom")
            if "greet" in query:
                h.server._queue_message(sid, "hi", None)  # what send() queues, on either server
            return None

        h.server.on("connect", connect)
        out = [
            _handshake_shown(h.request("GET", query, headers=headers)) for query, headers in queries
        ]
        return [out, environs, len(h.server._sessions)]

    options = {"allow_eio3": True, "cookie": "io", "cors_allowed_origins": "https://app.example"}
    pair = both(**options)
    observed = compare(pair, script, plain_served=0)
    statuses = [status for status, _, _ in observed[0]]
    assert statuses == [200, 200, 200, 400, 400, 200, 200, 200, 400, 401, 500, 200]
    assert pair[0].plain_handshakes == 6 and pair[1].plain_handshakes == 0
    assert "io=SID" in observed[0][0][1]["set-cookie"]
    assert observed[0][11][2].endswith(b"\x1e4hi")
    assert observed[1][2] == "EIO=4&transport=polling&token=abc"
    assert observed[2] == 7  # the 200s' sessions


def test_handshake_on_the_short_path_without_make_request_is_declined() -> None:
    """A plugin that passes no make_request (written before handshakes were served)
    gets None for a handshake, and handle_request answers it."""
    server = engineio_core.Server(async_mode="threading")
    args = ("GET", "/engine.io/", "EIO=4&transport=polling", None, "", None, None, None)
    assert server.handle_polling_request(*args) is None
    made: list[Request] = []

    def make_request() -> Request:
        made.append(Request("GET", "/engine.io/", parse_query(args[2]), {}, environ={}))
        return made[-1]

    response = server.handle_polling_request(*args, make_request)
    assert response is not None and response.status == 200 and len(made) == 1
    assert len(server._sessions) == 1
    server.shutdown(timeout=1)
