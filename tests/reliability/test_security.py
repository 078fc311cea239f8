"""Security: cross-site WebSocket hijacking, CORS, the sid cookie, session ids, injection.

Live-server tests run on every installed server kind (default options) or,
for the CORS settings that need their own server, on one server per async
mode. What cannot be configured through the test app's JSON options (a
callable ``cors_allowed_origins``, hostile header values no HTTP client can
send) runs in-process against both ``Server`` and ``AsyncServer``.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import string
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

import engineio_core
from engineio_core.protocol.cookie import CookieSpec
from engineio_core.protocol.cors import CorsPolicy
from engineio_core.protocol.errors import ErrorCode
from engineio_core.protocol.http import Request, parse_query
from engineio_core.protocol.packets import Packet, PacketType
from engineio_core.protocol.payloads import encode_jsonp
from engineio_core.protocol.router import Handshake, Reject, Router
from tests.e2e.conftest import SERVERS
from tests.reliability.live import (
    RELIABILITY_OPTIONS,
    ReliabilityServer,
    skip_if_missing,
    start_kind,
)
from tests.reliability.rawhttp import build_request, exchange
from tests.reliability.runner import (
    check_websocket_refused,
    client,
    handshake_sid,
    open_websocket,
    websocket_session,
)
from tests.scenarios.harness import Harness

WS4 = "EIO=4&transport=websocket"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SID_CHARS = set(string.ascii_letters + string.digits + "-_")


def same_origin(server: ReliabilityServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def foreign_origins(server: ReliabilityServer) -> list[str]:
    port = server.port
    return [
        "http://evil.example",
        "null",
        f"https://127.0.0.1:{port}",  # another scheme
        f"http://127.0.0.1:{port + 1}",  # another port
        f"http://127.0.0.1:{port}.evil.example",  # a prefix trick
        f"http://evil.example/http://127.0.0.1:{port}",
        f"http://localhost:{port}",  # the same machine under another name
    ]


# -- cross-site WebSocket hijacking, default settings, every server -----------------------


def test_foreign_origin_websocket_is_refused(rel_server: ReliabilityServer) -> None:
    for origin in foreign_origins(rel_server):
        ws = open_websocket(rel_server, WS4, {"Origin": origin})
        try:
            check_websocket_refused(rel_server, ws, 403, ErrorCode.FORBIDDEN)
        finally:
            ws.close()
    assert rel_server.state()["sessions"] == []


def test_foreign_origin_cannot_take_over_a_session(rel_server: ReliabilityServer) -> None:
    """The upgrade of a live polling session from another site is refused too."""
    sid = handshake_sid(rel_server)
    ws = open_websocket(rel_server, f"{WS4}&sid={sid}", {"Origin": "http://evil.example"})
    try:
        check_websocket_refused(rel_server, ws, 403, ErrorCode.FORBIDDEN)
    finally:
        ws.close()
    raw = client(rel_server)
    assert raw.post(sid, b"1").body == b"ok"  # still a polling session, still the client's


def test_same_origin_and_originless_websockets_are_accepted(
    rel_server: ReliabilityServer,
) -> None:
    for headers in ({}, {"Origin": same_origin(rel_server)}):
        sid, ws = websocket_session(rel_server, WS4, headers)
        ws.close()
        assert sid
    rel_server.wait_state(lambda s: not s["sessions"])


def test_foreign_origin_polling_is_refused_without_cors_headers(
    rel_server: ReliabilityServer,
) -> None:
    raw = client(rel_server)
    for origin in foreign_origins(rel_server):
        reply = raw.request("GET", raw.query(), headers={"Origin": origin})
        assert (reply.status, reply.json()["code"]) == (403, 4), (origin, reply)
        assert not any(h.startswith("access-control-") for h in reply.headers), reply.headers
        preflight = raw.request("OPTIONS", raw.query(), headers={"Origin": origin})
        assert preflight.status == 403
        assert "access-control-allow-origin" not in preflight.headers
    ok = raw.request("GET", raw.query(), headers={"Origin": same_origin(rel_server)})
    assert ok.status == 200
    assert ok.headers["access-control-allow-origin"] == same_origin(rel_server)
    sid = json.loads(ok.body.decode()[1:])["sid"]
    assert raw.post(sid, b"1").body == b"ok"


# -- the sid cookie, every server -----------------------------------------------------------


def _cookie(reply_headers: dict[str, str]) -> tuple[str, set[str]]:
    name_value, *attributes = (p.strip() for p in reply_headers["set-cookie"].split(";"))
    return name_value, set(attributes)


def test_sid_cookie_attributes(rel_server: ReliabilityServer) -> None:
    raw = client(rel_server)
    plain = raw.request("GET", raw.query())
    name_value, attributes = _cookie(plain.headers)
    sid = json.loads(plain.body.decode()[1:])["sid"]
    assert name_value == f"io={sid}"
    assert attributes == {"HttpOnly", "Path=/", "SameSite=Lax"}
    for proto in ("https", "https, http"):
        behind_tls = raw.request("GET", raw.query(), headers={"X-Forwarded-Proto": proto})
        _, attributes = _cookie(behind_tls.headers)
        assert attributes == {"HttpOnly", "Path=/", "SameSite=Lax", "Secure"}
        raw.post(json.loads(behind_tls.body.decode()[1:])["sid"], b"1")
    raw.post(sid, b"1")


# -- session ids, every server ------------------------------------------------------------------


def test_client_cannot_choose_its_sid(rel_server: ReliabilityServer) -> None:
    chosen = "A" * 20
    raw = client(rel_server)
    for method in ("GET", "POST"):
        reply = raw.request(method, raw.query(chosen), body=b"4x" if method == "POST" else None)
        assert (reply.status, reply.json()["code"]) == (400, 1)
    ws = open_websocket(rel_server, f"{WS4}&sid={chosen}")
    try:
        check_websocket_refused(rel_server, ws, 400, ErrorCode.UNKNOWN_SID)
    finally:
        ws.close()
    # A cookie or a query parameter naming a sid does not choose the new session's id.
    reply = raw.request(
        "GET", {**raw.query(), "id": chosen}, headers={"Cookie": f"io={chosen}; sid={chosen}"}
    )
    sid = json.loads(reply.body.decode()[1:])["sid"]
    assert sid != chosen
    assert chosen not in rel_server.state()["sessions"]
    raw.post(sid, b"1")


def test_session_ids_are_unique_and_url_safe(rel_server: ReliabilityServer) -> None:
    raw = client(rel_server)
    sids = []
    for _ in range(50):
        sid, _info = raw.handshake()
        sids.append(sid)
        raw.post(sid, b"1")
    assert len(set(sids)) == len(sids)
    assert all(len(s) == 20 and set(s) <= SID_CHARS for s in sids), sids


# -- hostile input reflected in headers or JSONP, every server ----------------------------------


def test_hostile_query_values_never_reach_a_header(rel_server: ReliabilityServer) -> None:
    port = rel_server.port
    for query in (
        "EIO=4&transport=polling&j=0%0d%0aX-Injected:%201",
        "EIO=4&transport=polling&sid=x%0d%0aX-Injected:%201",
        "EIO=4&transport=polling%0d%0aX-Injected:%201",
        "EIO=4%0d%0aX-Injected:%201&transport=polling",
    ):
        reply = exchange(port, build_request("GET", f"/engine.io/?{query}", port))
        assert reply.status == 400, reply
        for name, value in reply.headers:
            assert name.lower() != "x-injected" and "\r" not in value and "\n" not in value


def test_jsonp_answer_is_a_safe_script(rel_server: ReliabilityServer) -> None:
    """A hostile message comes back through JSONP as one script statement, escaped."""
    raw = client(rel_server)
    reply = raw.request("GET", raw.query(j="0"))
    assert reply.headers["content-type"].startswith("text/javascript")
    sid = json.loads(json.loads(reply.body[len(b"___eio[0](") : -2])[1:])["sid"]
    hostile = '</script><script>alert(1)</script>\u2028\u2029"\\<!--&'
    post = raw.request(
        "POST",
        raw.query(sid, j="0"),
        body=urlencode({"d": "4" + hostile}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert post.body == b"ok", post
    payload = "2"
    while payload == "2":  # a ping may come first: answer it
        answer = raw.request("GET", raw.query(sid, j="0"), timeout=5)
        payload = assert_safe_jsonp(answer.body, "0")
        if payload == "2":
            raw.request("POST", raw.query(sid, j="0"), body=b"d=3", headers=FORM)
    assert "4" + hostile in payload.split("\x1e")
    raw.request("POST", raw.query(sid, j="0"), body=b"d=1", headers=FORM)


# -- CORS settings, one server per async mode --------------------------------------------------

#: One server kind per async mode (those the issue names first).
CORS_KINDS = [
    "werkzeug",
    "uvicorn",
    "aiohttp",
    "gevent-pywsgi",
    "eventlet-wsgi",
    "tornado",
    "sanic",
]
CORS_CONFIGS: dict[str, dict[str, Any]] = {
    "list": {"cors_allowed_origins": ["http://allowed.example", "https://other.example"]},
    "star-no-credentials": {"cors_allowed_origins": "*", "cors_credentials": False},
    "off": {"cors_allowed_origins": []},
}


@pytest.fixture(
    scope="module",
    params=[(k, c) for c in sorted(CORS_CONFIGS) for k in CORS_KINDS if k in SERVERS],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def cors_server(request: pytest.FixtureRequest) -> Iterator[tuple[ReliabilityServer, str]]:
    kind, config = request.param
    skip_if_missing(kind)
    options = {**RELIABILITY_OPTIONS, **CORS_CONFIGS[config]}
    with start_kind(kind, options) as (url, proc):
        yield ReliabilityServer(kind, url, proc), config


def test_websocket_origins_follow_the_setting(cors_server: tuple[ReliabilityServer, str]) -> None:
    server, config = cors_server
    allowed = {
        "list": ["http://allowed.example", "https://other.example"],
        "star-no-credentials": ["http://evil.example", "null"],
        "off": ["http://evil.example", "null"],
    }[config]
    for origin in allowed:
        _, ws = websocket_session(server, WS4, {"Origin": origin})
        ws.close()
    if config == "list":
        for origin in ("http://evil.example", "http://allowed.example.evil", "null"):
            ws = open_websocket(server, WS4, {"Origin": origin})
            try:
                check_websocket_refused(server, ws, 403, ErrorCode.FORBIDDEN)
            finally:
                ws.close()
    server.wait_state(lambda s: not s["sessions"])


def test_polling_cors_headers_follow_the_setting(
    cors_server: tuple[ReliabilityServer, str],
) -> None:
    server, config = cors_server
    raw = client(server)
    origin = "http://allowed.example" if config == "list" else "http://evil.example"
    reply = raw.request("GET", raw.query(), headers={"Origin": origin})
    assert reply.status == 200
    sid = json.loads(reply.body.decode()[1:])["sid"]
    headers = reply.headers
    if config == "off":
        assert not any(h.startswith("access-control-") for h in headers), headers
    else:
        assert headers["access-control-allow-origin"] == origin
        assert "origin" in headers.get("vary", "").lower()
        credentials = headers.get("access-control-allow-credentials")
        assert credentials == ("true" if config == "list" else None)
    preflight = raw.request(
        "OPTIONS",
        raw.query(),
        headers={"Origin": origin, "Access-Control-Request-Headers": "x-token"},
    )
    assert preflight.status == 200
    if config != "off":
        assert preflight.headers["access-control-allow-headers"] == "x-token"
        assert "POST" in preflight.headers["access-control-allow-methods"]
    assert raw.post(sid, b"1").body == b"ok"
    if config == "list":
        refused = raw.request("GET", raw.query(), headers={"Origin": "http://evil.example"})
        assert (refused.status, refused.json()["code"]) == (403, 4)
        assert "access-control-allow-origin" not in refused.headers


# -- in-process: what no real client can send, and callables ------------------------------------


HANDSHAKE = {"EIO": "4", "transport": "polling"}


def _close(h: Harness, reply: Any) -> None:
    if reply.status == 200:
        sid = json.loads(reply.body.decode().split("\x1e")[0][1:])["sid"]
        h.post(sid, b"1")


@pytest.mark.parametrize("pass_environ", [False, True])
def test_callable_origins(make: Callable[..., Harness], pass_environ: bool) -> None:
    seen: list[tuple[Any, ...]] = []

    def one(origin: str) -> bool:
        seen.append((origin,))
        return origin.endswith(".trusted.example")

    def two(origin: str, environ: Any) -> bool:
        seen.append((origin, environ))
        return origin.endswith(".trusted.example")

    h = make(cors_allowed_origins=two if pass_environ else one)
    ok = h.request("GET", HANDSHAKE, headers={"Origin": "https://app.trusted.example"})
    assert ok.status == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.trusted.example"
    _close(h, ok)
    bad = h.request("GET", HANDSHAKE, headers={"Origin": "https://trusted.example.evil"})
    assert (bad.status, bad.json()["code"]) == (403, 4)
    assert "access-control-allow-origin" not in bad.headers
    assert all(len(args) == (2 if pass_environ else 1) for args in seen)


def test_callable_origins_decide_websockets() -> None:
    """The router applies the callable to WebSocket handshakes like to polling."""
    router = Router(("polling", "websocket"), False, CorsPolicy(lambda o: o == "http://ok"))
    for origin, allowed in (("http://ok", True), ("http://evil", False)):
        request = Request(
            "GET",
            "/engine.io/",
            parse_query(WS4),
            {"origin": origin, "upgrade": "websocket", "host": "h"},
        )
        decision = router.route(request, lambda sid: None, 0.0)
        assert isinstance(decision, Handshake if allowed else Reject)
        if isinstance(decision, Reject):
            assert decision.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize("origins", ["*", ["http://a.example\r\nX-Injected: 1"], None])
@pytest.mark.parametrize(
    "origin",
    [
        "http://a.example\r\nX-Injected: 1",
        "http://a.example\nX-Injected: 1",
        "http://a.example\x00",
        "http://a.example\x0b",
    ],
)
def test_control_characters_in_origin_are_refused_not_echoed(
    make: Callable[..., Harness], origins: Any, origin: str
) -> None:
    h = make(cors_allowed_origins=origins)
    for method in ("GET", "OPTIONS"):
        reply = h.request(method, HANDSHAKE, headers={"Origin": origin})
        assert (reply.status, reply.json()["code"]) == (403, 4)
        assert not any("\n" in v or "\r" in v or "\x00" in v for v in reply.headers.values())
        assert "access-control-allow-origin" not in reply.headers


def test_requested_headers_with_control_characters_are_not_echoed(
    make: Callable[..., Harness],
) -> None:
    h = make(cors_allowed_origins="*")
    for requested in ("x-a\r\nX-Injected: 1", "x-a\nSet-Cookie: io=1", "x-a\x00"):
        reply = h.request(
            "OPTIONS",
            HANDSHAKE,
            headers={"Origin": "http://a.example", "Access-Control-Request-Headers": requested},
        )
        assert reply.status == 200
        assert "access-control-allow-headers" not in reply.headers
    fine = h.request(
        "OPTIONS",
        HANDSHAKE,
        headers={"Origin": "http://a.example", "Access-Control-Request-Headers": "x-a, x-b"},
    )
    assert fine.headers["access-control-allow-headers"] == "x-a, x-b"


@pytest.mark.parametrize(
    "j", ["0\r\nX-Injected: 1", "0);alert(1);//", "0\u2028", "\u0661", "0" * 10, "-1", " 1"]
)
def test_hostile_jsonp_index_is_refused(make: Callable[..., Harness], j: str) -> None:
    h = make()
    reply = h.request("GET", {**HANDSHAKE, "j": j})
    assert (reply.status, reply.json()["code"]) == (400, 3)


def test_cookie_from_a_dict(make: Callable[..., Harness]) -> None:
    h = make(
        cookie={
            "name": "eio_sid",
            "path": "/chat",
            "domain": "example.com",
            "max_age": 600,
            "samesite": "Strict",
            "httponly": False,
            "secure": True,
        }
    )
    reply = h.request("GET", HANDSHAKE)
    name_value, attributes = _cookie(reply.headers)
    assert name_value.startswith("eio_sid=")
    assert attributes == {"Path=/chat", "Domain=example.com", "Max-Age=600", "SameSite=Strict",
                          "Secure"}  # fmt: skip
    _close(h, reply)


def test_cookie_secure_follows_the_request(make: Callable[..., Harness]) -> None:
    h = make(cookie={"name": "io", "samesite": None})
    plain = h.request("GET", HANDSHAKE)
    assert _cookie(plain.headers)[1] == {"Path=/", "HttpOnly"}
    _close(h, plain)
    tls = h.request("GET", HANDSHAKE, headers={"X-Forwarded-Proto": "https"})
    assert _cookie(tls.headers)[1] == {"Path=/", "HttpOnly", "Secure"}
    _close(h, tls)
    never = make(cookie={"name": "io", "secure": False})
    reply = never.request("GET", HANDSHAKE, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in _cookie(reply.headers)[1]
    _close(never, reply)


@pytest.mark.parametrize(
    "setting",
    [
        "io\r\nSet-Cookie: evil=1",
        "io;",
        "io value",
        "$Version",
        "",
        {"name": "io\n"},
        {"name": "io", "path": "/\r\nSet-Cookie: evil=1"},
        {"name": "io", "domain": "a.example; Secure"},
        {"name": "io", "samesite": "Lax\x00"},
    ],
)
def test_cookie_settings_that_would_inject_are_refused(setting: Any) -> None:
    with pytest.raises(ValueError, match="cookie"):
        CookieSpec(setting)


def test_cookie_setting_refused_at_server_construction() -> None:
    with pytest.raises(ValueError, match="cookie"):
        engineio_core.Server(async_mode="threading", cookie="io\r\nX-Injected: 1")


def test_session_ids_come_from_the_os_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    """120 bits from os.urandom (the source secrets uses), in URL-safe base64."""
    calls: list[int] = []

    def urandom(nbytes: int) -> bytes:
        calls.append(nbytes)
        return b"\xfb\xff" + b"\x00" * (nbytes - 2)

    monkeypatch.setattr(os, "urandom", urandom)
    server = engineio_core.Server(async_mode="threading")
    assert server.generate_id() == "-_8" + "A" * 17  # "+/8AAA..." in standard base64
    assert calls == [15]


def test_session_ids_are_uniformly_distributed() -> None:
    """20 characters of 6 bits each, every one of the 64 letters about equally often."""
    server = engineio_core.Server(async_mode="threading")
    ids = [server.generate_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    counts = collections.Counter("".join(ids))
    assert set(counts) == SID_CHARS
    expected = 5000 * 20 / 64
    # chi-square with 63 degrees of freedom: p < 1e-6 above ~ 130
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 130, chi2


# -- JSONP answers are valid JavaScript ---------------------------------------------------------

_JSONP = re.compile(rb'^___eio\[(\d{1,9})\]\("((?:[^"\\\x00-\x1f\x7f-\xff]|\\.)*)"\);$')


def assert_safe_jsonp(body: bytes, index: str) -> str:
    """The body is one ASCII call with a JSON string and no HTML-significant characters."""
    match = _JSONP.match(body)
    assert match is not None, body
    assert match.group(1).decode() == index
    for dangerous in (b"<", b">", b"&", b"\xe2\x80\xa8", b"\xe2\x80\xa9"):
        assert dangerous not in body, body
    payload: str = json.loads(b'"' + match.group(2) + b'"')
    return payload


HOSTILE_TEXTS = [
    "</script><script>alert(1)</script>",
    "<!--",
    "\u2028\u2029",
    '"); alert(1); ("',
    "\\u2028",
    "\\",
    "\x00\x1f\x7f",
    "😀 é \ufeff",
    "]]>",
    "&lt;",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_jsonp_bodies_evaluate_in_javascript() -> None:
    """node runs every JSONP answer and gets back exactly the payload text."""
    bodies = []
    expected = []
    for i, text in enumerate(HOSTILE_TEXTS):
        for protocol in (3, 4):
            packets = [Packet(PacketType.MESSAGE, text), Packet(PacketType.MESSAGE, b"\x00<")]
            body = encode_jsonp(packets, protocol, str(i))
            payload = assert_safe_jsonp(body, str(i))
            bodies.append(body.decode("ascii"))
            expected.append(payload)
    script = (
        "const out = []; const ___eio = new Proxy({}, {get: () => (s) => out.push(s)});\n"
        + "\n".join(bodies)
        + "\nprocess.stdout.write(JSON.stringify(out));"
    )
    result = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == expected
