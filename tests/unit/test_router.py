"""Routing decisions and Node's error codes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_core.protocol.cors import CorsPolicy
from engineio_core.protocol.errors import ErrorCode
from engineio_core.protocol.http import (
    Request,
    add_environ_headers,
    header_dict,
    parse_content_length,
    parse_query,
)
from engineio_core.protocol.router import (
    Expired,
    Handshake,
    Poll,
    Post,
    Preflight,
    RefuseWebSocket,
    Reject,
    Router,
    Upgrade,
)
from engineio_core.protocol.session import Session, SessionConfig, Transport

CONFIG = SessionConfig(ping_interval=1, ping_timeout=1)


def req(method: str = "GET", query: str = "EIO=4&transport=polling", **headers: str) -> Request:
    hdrs = {"host": "example.com", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Request(method=method, path="/engine.io/", query=parse_query(query), headers=hdrs)


def route(request: Request, sessions: dict[str, Session] | None = None, **kw: Any) -> Any:
    router = Router(
        kw.get("transports", ("polling", "websocket")),
        kw.get("allow_eio3", False),
        CorsPolicy(kw.get("origins"), True),
    )
    table = sessions or {}
    return router.route(request, table.get, kw.get("now", 0.0))


def code(decision: Any) -> ErrorCode:
    assert isinstance(decision, Reject), decision
    return decision.code


@pytest.mark.parametrize("query", ["EIO=4", "EIO=4&transport=", "EIO=4&transport=flash"])
def test_unknown_transport(query: str) -> None:
    assert code(route(req(query=query))) is ErrorCode.UNKNOWN_TRANSPORT


def test_transport_allow_list() -> None:
    assert code(route(req(), transports=["websocket"])) is ErrorCode.UNKNOWN_TRANSPORT


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_handshake_must_be_get(method: str) -> None:
    assert code(route(req(method))) is ErrorCode.BAD_HANDSHAKE_METHOD


@pytest.mark.parametrize("eio", ["", "2", "5", "3", "x"])
def test_unsupported_protocol(eio: str) -> None:
    decision = route(req(query=f"EIO={eio}&transport=polling"))
    assert code(decision) is ErrorCode.UNSUPPORTED_PROTOCOL_VERSION


def test_v3_when_allowed() -> None:
    decision = route(req(query="EIO=3&transport=polling&b64=1"), allow_eio3=True)
    assert decision == Handshake(Transport.POLLING, 3, None, True)


def test_unknown_sid() -> None:
    assert code(route(req(query="EIO=4&transport=polling&sid=nope"))) is ErrorCode.UNKNOWN_SID


def test_poll_post_and_other_methods() -> None:
    s = Session("abc", 4, Transport.POLLING, CONFIG, 0.0)
    table = {"abc": s}
    q = "EIO=4&transport=polling&sid=abc"
    assert route(req("GET", q), table) == Poll(s, None, False)
    assert route(req("POST", q), table) == Post(s, None)
    assert code(route(req("PUT", q), table)) is ErrorCode.BAD_REQUEST


def test_expired_session_is_reported() -> None:
    s = Session("abc", 4, Transport.POLLING, CONFIG, 0.0)
    q = "EIO=4&transport=polling&sid=abc"
    assert route(req("GET", q), {"abc": s}, now=1.999) == Poll(s, None, False)
    assert route(req("GET", q), {"abc": s}, now=2.0) == Expired(s)


def test_websocket_upgrade_and_refusal() -> None:
    s = Session("abc", 4, Transport.POLLING, CONFIG, 0.0)
    q = "EIO=4&transport=websocket&sid=abc"
    assert route(req(query=q, upgrade="websocket"), {"abc": s}) == Upgrade(s)
    assert code(route(req(query=q), {"abc": s})) is ErrorCode.BAD_REQUEST
    s.start_upgrade(0.0)
    s.complete_upgrade()
    assert route(req(query=q, upgrade="websocket"), {"abc": s}) == RefuseWebSocket(s)
    polling_q = "EIO=4&transport=polling&sid=abc"
    assert code(route(req(query=polling_q), {"abc": s})) is ErrorCode.BAD_REQUEST


def test_websocket_handshake_needs_upgrade_header() -> None:
    q = "EIO=4&transport=websocket"
    assert code(route(req(query=q))) is ErrorCode.BAD_REQUEST
    assert isinstance(route(req(query=q, upgrade="websocket")), Handshake)


def test_same_origin_by_default() -> None:
    assert isinstance(route(req(origin="http://example.com")), Handshake)
    assert code(route(req(origin="http://evil.com"))) is ErrorCode.FORBIDDEN
    assert code(route(req(origin="http://evil.com"))).status == 403
    # behind a TLS-terminating proxy
    assert isinstance(
        route(req(origin="https://example.com", x_forwarded_proto="https")), Handshake
    )


@pytest.mark.parametrize(
    ("origins", "origin", "ok"),
    [
        ("*", "http://any.where", True),
        (["http://a.com"], "http://a.com", True),
        (["http://a.com"], "http://b.com", False),
        ("http://a.com", "http://a.com", True),
        (lambda o: o.endswith(".ok"), "http://x.ok", True),
        (lambda o: o.endswith(".ok"), "http://x.no", False),
        ([], "http://anything", True),
    ],
)
def test_origin_settings(origins: Any, origin: str, ok: bool) -> None:
    decision = route(req(origin=origin), origins=origins)
    assert isinstance(decision, Handshake) if ok else code(decision) is ErrorCode.FORBIDDEN


def test_preflight() -> None:
    assert route(req("OPTIONS", origin="http://example.com")) == Preflight()
    assert code(route(req("OPTIONS", origin="http://evil.com"))) is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("j", ["abc", "1;alert(1)", "", "12345678901"])
def test_bad_jsonp_index(j: str) -> None:
    decision = route(req(query=f"EIO=4&transport=polling&j={j}"))
    assert code(decision) is ErrorCode.BAD_REQUEST


def test_jsonp_index() -> None:
    decision = route(req(query="EIO=4&transport=polling&j=7"))
    assert decision == Handshake(Transport.POLLING, 4, "7", False)


# -- query strings -----------------------------------------------------------------------

_QUERY_ALPHABET = "abEIO=&%+;x4_-.~é\x00 "


@pytest.mark.parametrize(
    "query",
    [
        "",
        "EIO=4&transport=polling&t=P3x9aQz",
        "EIO=4&transport=polling&sid=ab_c-d&sid=again",
        "a&b=&=c&&d==e",
        "sid=a%2Fb&x=one+two",
        "a;b=c",
    ],
)
def test_parse_query_matches_parse_qs(query: str) -> None:
    assert parse_query(query) == parse_qs(query, keep_blank_values=True)


@settings(max_examples=500)
@given(st.text(alphabet=_QUERY_ALPHABET, max_size=40))
def test_parse_query_matches_parse_qs_everywhere(query: str) -> None:
    """The direct split is only a shortcut: any query parses as parse_qs would."""
    assert parse_query(query) == parse_qs(query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0),
        ("1234", 1234),
        ("-5", None),
        ("+5", None),
        (" 5", None),
        ("1_000", None),
        ("5.0", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: int() takes them, HTTP does not
    ],
)
def test_parse_content_length_takes_only_plain_decimals(
    value: str | None, expected: int | None
) -> None:
    assert parse_content_length(value) == expected


def test_add_environ_headers_uses_wsgi_keys() -> None:
    environ = {"REQUEST_METHOD": "POST"}
    headers = {"content-type": "text/plain", "content-length": "3", "x-forwarded-for": "a, b"}
    assert add_environ_headers(environ, headers) is environ
    assert environ == {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "3",
        "HTTP_X_FORWARDED_FOR": "a, b",
    }


def test_header_dict_lowers_names_and_joins_repeats() -> None:
    class MultiDict:  # what aiohttp's and Sanic's header multidicts offer
        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            self.pairs = pairs

        def items(self) -> list[tuple[str, str]]:
            return self.pairs

        def __len__(self) -> int:
            return len(self.pairs)

    assert header_dict(MultiDict([("Host", "a"), ("X-Token", "t")])) == {
        "host": "a",
        "x-token": "t",
    }
    repeated = MultiDict([("X-A", "1"), ("Host", "a"), ("x-a", "2"), ("X-A", "3")])
    assert header_dict(repeated) == {"x-a": "1, 2, 3", "host": "a"}
