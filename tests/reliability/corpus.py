"""The hostile-request corpus: broken and malicious requests as data.

Every case says what to send and what a correct server answers. The runner
(``test_hostile_corpus.py``) sends each case to every installed server kind
and checks, besides the expected answer, that the server never answers 500,
logs at most one line per refused request and no traceback, still serves a
normal client afterwards and keeps no session the case left behind.

Placeholders in queries and bodies: ``{sid}`` is the id of the session the
case's ``session`` set up. The servers run with the e2e options:
``max_http_buffer_size`` 20,000, ``allow_eio3`` on, 0.5 s heartbeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The sessions a case can ask for before it runs.
#: ``v4``/``v3``: a polling session; ``closed``: a v4 session the client
#: already closed; ``ws``: a WebSocket-only session; ``upgraded``: a polling
#: session upgraded to WebSocket.
SessionKind = Literal["v4", "v3", "closed", "ws", "ws3", "upgraded"]

#: What becomes of the case's session: a disconnect reason it must end with,
#: ``"open"`` (it must survive; the runner then closes it), or ``"any"``.
Outcome = str

LIMIT = 20_000  # the servers' max_http_buffer_size
V4 = "EIO=4&transport=polling"
V3 = "EIO=3&transport=polling"
SID4 = V4 + "&sid={sid}"
SID3 = V3 + "&sid={sid}"
TEXT = (("Content-Type", "text/plain;charset=UTF-8"),)
BINARY = (("Content-Type", "application/octet-stream"),)
FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
#: Statuses a server framework may answer itself, before Engine.IO sees the request.
FRAMEWORK_REFUSALS = frozenset({400, 405, 411, 413, 414, 431, 501})


@dataclass(frozen=True)
class HttpCase:
    """One HTTP request and the answer it must get.

    ``status`` is the one right status, or a set when servers may differ
    (the HTTP server itself refusing a malformed request, say). ``code`` is
    the Engine.IO error code the JSON body must carry (None: not checked,
    for answers that are not Engine.IO's). ``framework``: the HTTP server
    itself may refuse the request before Engine.IO sees it, so it may also
    drop the connection without an answer, and log the refusal its own way
    (a traceback is tolerated if no engine.io code is in it).
    """

    id: str
    method: str = "GET"
    query: str | None = V4
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    status: int | frozenset[int] = 400
    code: int | None = None
    session: SessionKind | None = None
    outcome: Outcome = "open"
    #: Send this Content-Length instead of the body's length.
    content_length: int | str | None = None
    framework: bool = False
    #: Raw request bytes instead of method/query/headers/body ("{port}" substituted).
    raw: bytes | None = None
    #: The reply must not carry these headers (an injection would add them).
    forbidden_headers: tuple[str, ...] = ()
    #: A message the server must never have delivered to the app.
    not_delivered: str | None = None
    #: Engine.IO warning lines expected (None: 1 when ``code`` is set, else at most 1).
    logs: int | None = None

    def statuses(self) -> frozenset[int]:
        return self.status if isinstance(self.status, frozenset) else frozenset({self.status})


@dataclass(frozen=True)
class WsCase:
    """A WebSocket request: refused at the handshake, or accepted and then fed ``send``.

    ``refused``: the handshake must fail with that status and Engine.IO
    ``code`` (servers that answer 101 before the app runs close with 4000 +
    status instead). Otherwise the socket is accepted, an ``open`` packet is
    read if the case created the session, ``send`` (text, bytes, or
    ``RawFrame`` bytes written to the socket as they are) goes out and the
    server must close the socket within a few seconds when ``closes``.
    """

    id: str
    query: str = "EIO=4&transport=websocket"
    headers: tuple[tuple[str, str], ...] = ()
    session: SessionKind | None = None
    refused: int | None = None
    code: int | None = None
    send: tuple[str | bytes | RawFrame, ...] = ()
    closes: bool = True
    outcome: Outcome = "open"
    logs: int | None = None
    #: A WebSocket protocol violation the server's WebSocket stack handles, its own way.
    framework: bool = False


@dataclass(frozen=True)
class RawFrame:
    """Bytes written to a WebSocket as they are (a frame no client library would build)."""

    data: bytes


def masked_frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = True) -> RawFrame:
    """A WebSocket frame, client-masked unless ``mask`` is False."""
    first = (0x80 if fin else 0) | opcode
    key = b"\x01\x02\x03\x04"
    length = len(payload)
    if length < 126:
        head = bytes((first, (0x80 if mask else 0) | length))
    else:
        head = bytes((first, (0x80 if mask else 0) | 126)) + length.to_bytes(2, "big")
    if not mask:
        return RawFrame(head + payload)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return RawFrame(head + key + body)


def _post(
    id: str,
    body: bytes,
    session: SessionKind = "v4",
    headers: tuple[tuple[str, str], ...] = TEXT,
    query: str | None = None,
    *,
    status: int | frozenset[int] = 400,
    code: int | None = 3,
    outcome: Outcome = "transport error",
    logs: int | None = None,
) -> HttpCase:
    if query is None:
        query = SID3 if session == "v3" else SID4
    return HttpCase(
        id,
        "POST",
        query,
        headers,
        body,
        status=status,
        code=code,
        session=session,
        outcome=outcome,
        logs=logs,
    )


def _bad_payload(
    id: str,
    body: bytes,
    session: SessionKind = "v4",
    headers: tuple[tuple[str, str], ...] = TEXT,
) -> HttpCase:
    """A POST whose payload does not decode: 400, code 3, the session ends."""
    return _post(id, body, session, headers)


# -- wrong or missing query parameters --------------------------------------------

QUERY_CASES = [
    HttpCase("no-query", query=None, code=0),
    HttpCase("missing-transport", query="EIO=4", code=0),
    HttpCase("unknown-transport", query="EIO=4&transport=carrier-pigeon", code=0),
    HttpCase("empty-transport", query="EIO=4&transport=", code=0),
    HttpCase("transport-upper-case", query="EIO=4&transport=POLLING", code=0),
    HttpCase("transport-nul", query="EIO=4&transport=polling%00", code=0),
    HttpCase("transport-invalid-utf8", query="EIO=4&transport=%ff%fe", code=0),
    HttpCase("transport-first-value-wins", query="EIO=4&transport=x&transport=polling", code=0),
    HttpCase("transport-3000-chars", query="EIO=4&transport=" + "A" * 3000, code=0),
    HttpCase(
        "query-100kb",
        query="EIO=4&transport=" + "A" * 100_000,
        status=FRAMEWORK_REFUSALS,
        framework=True,
        logs=None,
    ),
    HttpCase("missing-eio", query="transport=polling", code=5),
    HttpCase("eio-5", query="EIO=5&transport=polling", code=5),
    HttpCase("eio-2", query="EIO=2&transport=polling", code=5),
    HttpCase("eio-text", query="EIO=four&transport=polling", code=5),
    HttpCase("eio-negative", query="EIO=-4&transport=polling", code=5),
    HttpCase("eio-huge", query="EIO=" + "9" * 40 + "&transport=polling", code=5),
    HttpCase("eio-nul", query="EIO=4%00&transport=polling", code=5),
    HttpCase("eio-arabic-digit", query="EIO=%D9%A4&transport=polling", code=5),
    HttpCase("unknown-sid", query=V4 + "&sid=nope", code=1),
    HttpCase("sid-path-traversal", query=V4 + "&sid=..%2F..%2Fetc%2Fpasswd", code=1),
    HttpCase("sid-2000-chars", query=V4 + "&sid=" + "s" * 2000, code=1),
    HttpCase(
        "sid-crlf-header-injection",
        query=V4 + "&sid=a%0d%0aSet-Cookie:%20evil=1",
        code=1,
        forbidden_headers=("evil",),
    ),
    HttpCase("sid-unknown-post", "POST", V4 + "&sid=nope", TEXT, b"4hi", code=1),
    HttpCase("closed-sid-get", query=SID4, session="closed", code=1, outcome="client disconnect"),
    HttpCase(
        "closed-sid-post",
        "POST",
        SID4,
        TEXT,
        b"4late",
        session="closed",
        code=1,
        outcome="client disconnect",
        not_delivered="late",
    ),
    HttpCase(
        "websocket-transport-without-upgrade",
        query="EIO=4&transport=websocket&sid={sid}",
        session="v4",
        code=3,
    ),
    HttpCase("websocket-handshake-without-upgrade", query="EIO=4&transport=websocket", code=3),
    HttpCase("poll-websocket-session", query=SID4, session="ws", code=3),
    HttpCase("post-websocket-session", "POST", SID4, TEXT, b"4x", session="ws", code=3),
    HttpCase("poll-after-upgrade", query=SID4, session="upgraded", code=3),
    HttpCase(
        "post-after-upgrade",
        "POST",
        SID4,
        TEXT,
        b"4after",
        session="upgraded",
        code=3,
        not_delivered="after",
    ),
]

# -- wrong methods ------------------------------------------------------------------

METHOD_CASES = [
    HttpCase("put-handshake", "PUT", code=2),
    HttpCase("delete-handshake", "DELETE", code=2),
    HttpCase("patch-handshake", "PATCH", headers=TEXT, body=b"4x", code=2),
    HttpCase("post-handshake", "POST", headers=TEXT, body=b"4x", code=2),
    HttpCase("post-handshake-empty", "POST", headers=TEXT, content_length=0, code=2),
    HttpCase("head-handshake", "HEAD", status=frozenset({400, 405})),
    HttpCase("unknown-method", "BREW", status=frozenset({400, 405, 501}), logs=None),
    HttpCase("put-session", "PUT", SID4, TEXT, b"4x", session="v4", code=3),
    HttpCase("delete-session", "DELETE", SID4, session="v4", code=3),
    HttpCase(
        "preflight-foreign-origin",
        "OPTIONS",
        headers=(("Origin", "http://evil.example"),),
        status=403,
        code=4,
    ),
]

# -- malformed packets and payloads, v4 --------------------------------------------

V4_PAYLOAD_CASES = [
    _bad_payload("v4-empty-body", b""),
    _bad_payload("v4-invalid-type", b"9garbage"),
    _bad_payload("v4-type-letter", b"x"),
    _bad_payload("v4-only-separator", b"\x1e"),
    _bad_payload("v4-trailing-separator", b"4a\x1e"),
    _bad_payload("v4-leading-separator", b"\x1e4a"),
    _bad_payload("v4-bad-base64", b"b!!!"),
    _bad_payload("v4-base64-with-newline", b"bAQ\nI="),
    _bad_payload("v4-base64-bad-padding", b"bAQI"),
    _bad_payload("v4-invalid-utf8", b"4\xff\xfe"),
    _bad_payload("v4-utf8-surrogate", b"4\xed\xa0\x80"),
    _bad_payload("v4-overlong-utf8", b"4\xc0\xaf"),
    _bad_payload("v4-truncated-utf8", b"4caf\xc3"),
    _bad_payload("v4-nul-bytes", b"\x00\x00\x00"),
    _bad_payload("v4-binary-content-type", b"4hello", headers=BINARY),
    _bad_payload(
        "v4-binary-content-type-params",
        b"4a",
        headers=(("Content-Type", "Application/Octet-Stream; x=1"),),
    ),
    # Valid packets with hostile content: delivered (as text), never a crash.
    _post(
        "v4-json-nested-19000-deep",
        b"4" + b"[" * 19_000,
        status=200,
        code=None,
        outcome="open",
        logs=0,
    ),
    _post(
        "v4-json-huge-integer",
        b"4[" + b"9" * 10_000 + b"]",
        status=200,
        code=None,
        outcome="open",
        logs=0,
    ),
    _post("v4-json-huge-float", b"4[1e999999]", status=200, code=None, outcome="open", logs=0),
    _post(
        "v4-json-invalid",
        b'4{"a":',
        status=200,
        code=None,
        outcome="open",
        logs=0,
    ),
    _post(
        "v4-open-packet-from-client", b'0{"sid":"x"}', status=200, code=None, outcome="open", logs=0
    ),
    _post("v4-upgrade-packet-over-polling", b"5", status=200, code=None, outcome="open", logs=0),
    _post("v4-noop", b"6", status=200, code=None, outcome="open", logs=0),
    _post("v4-client-ping", b"2", status=200, code=None, outcome="transport error", logs=0),
    _post(
        "v4-close-then-message",
        b"1\x1e4after-close",
        status=200,
        code=None,
        outcome="client disconnect",
        logs=0,
    ),
]

# -- malformed payloads, v3 text and binary ------------------------------------------

V3_PAYLOAD_CASES = [
    _bad_payload("v3-empty-body", b"", "v3"),
    _bad_payload("v3-length-too-long", b"5:4abc", "v3"),
    _bad_payload("v3-length-not-digits", b"x:4a", "v3"),
    _bad_payload("v3-length-14-digits", b"99999999999999:4", "v3"),
    _bad_payload("v3-length-12-digits", b"999999999999:4", "v3"),
    _bad_payload("v3-length-40-digits", b"9" * 40 + b":4", "v3"),
    _bad_payload("v3-length-zero", b"0:", "v3"),
    _bad_payload("v3-length-negative", b"-1:4", "v3"),
    _bad_payload("v3-length-exponent", b"1e1:4aaaaaaaaa", "v3"),
    _bad_payload("v3-length-arabic-digit", "\u0661:4".encode(), "v3"),
    _bad_payload("v3-length-superscript-digit", "²:4a".encode(), "v3"),
    _bad_payload("v3-missing-colon", b"4", "v3"),
    _bad_payload("v3-trailing-garbage", b"3:4ab3:", "v3"),
    _bad_payload("v3-invalid-utf8", b"2:4\xff", "v3"),
    _bad_payload("v3-bad-base64", b"4:b4!!", "v3"),
    _bad_payload("v3-base64-bad-type", b"4:b9AA", "v3"),
    _bad_payload("v3-invalid-type", b"2:9x", "v3"),
    _bad_payload("v3-length-splits-surrogate-pair", "2:4😀".encode(), "v3"),
    _bad_payload("v3-length-counts-bytes-not-units", "3:4é".encode(), "v3"),
    _bad_payload("v3-binary-bad-kind", b"\x02\x01\xff4", "v3", headers=BINARY),
    _bad_payload("v3-binary-digit-over-9", b"\x00\x0a\xff4", "v3", headers=BINARY),
    _bad_payload("v3-binary-truncated", b"\x01\x05\xff\x04ab", "v3", headers=BINARY),
    _bad_payload("v3-binary-kind-only", b"\x00", "v3", headers=BINARY),
    _bad_payload("v3-binary-no-terminator", b"\x00\x01\x02", "v3", headers=BINARY),
    _bad_payload("v3-binary-bad-type", b"\x01\x01\xff\x09", "v3", headers=BINARY),
    _bad_payload("v3-binary-20-digits", b"\x00" + b"\x01" * 20 + b"\xff4", "v3", headers=BINARY),
    _bad_payload("v3-binary-text-invalid-utf8", b"\x00\x01\xff\xff", "v3", headers=BINARY),
    _bad_payload("v3-binary-zero-length", b"\x01\x00\xff", "v3", headers=BINARY),
    _bad_payload("v3-binary-empty-digits", b"\x01\xff\x04", "v3", headers=BINARY),
    _post("v3-client-pong", b"1:3", "v3", status=200, code=None, logs=0),
]

# -- JSONP ------------------------------------------------------------------------------

JSONP_CASES = [
    HttpCase("jsonp-index-letters", query=V4 + "&j=abc", code=3),
    HttpCase("jsonp-index-negative", query=V4 + "&j=-1", code=3),
    HttpCase("jsonp-index-exponent", query=V4 + "&j=1e3", code=3),
    HttpCase("jsonp-index-10-digits", query=V4 + "&j=9999999999", code=3),
    HttpCase("jsonp-index-arabic-digit", query=V4 + "&j=%D9%A1", code=3),
    HttpCase("jsonp-index-fullwidth-digit", query=V4 + "&j=%EF%BC%91", code=3),
    HttpCase("jsonp-index-script", query=V4 + "&j=0%29%3Balert%281%29%2F%2F", code=3),
    HttpCase(
        "jsonp-index-crlf",
        query=V4 + "&j=0%0d%0aX-Injected:%201",
        code=3,
        forbidden_headers=("x-injected",),
    ),
    HttpCase("jsonp-index-empty", query=V4 + "&j=", code=3),
    HttpCase("jsonp-bad-index-on-poll", query=SID4 + "&j=x", session="v4", code=3),
    _post("jsonp-body-without-d", b"x=1", query=SID4 + "&j=0", headers=FORM),
    _post("jsonp-body-empty-d", b"d=", query=SID4 + "&j=0", headers=FORM),
    _post("jsonp-body-bad-packet", b"d=%ff", query=SID4 + "&j=0", headers=FORM),
    _post("jsonp-body-invalid-utf8", b"d=4\xff", query=SID4 + "&j=0", headers=FORM),
    _post("jsonp-body-empty", b"", query=SID4 + "&j=0", headers=FORM),
    _post("jsonp-v3-bad-length", b"d=9%3A4a", "v3", query=SID3 + "&j=0", headers=FORM),
]

# -- oversize bodies and odd framing -------------------------------------------------------

SIZE_CASES = [
    _post("body-over-limit", b"4" + b"a" * LIMIT, status=413, outcome="payload too large"),
    _post(
        "body-over-limit-v3",
        b"20001:4" + b"a" * LIMIT,
        "v3",
        status=413,
        outcome="payload too large",
    ),
    HttpCase(
        "content-length-5mb-body-never-sent",
        "POST",
        SID4,
        TEXT,
        b"4" + b"a" * 100,
        content_length=5_000_000,
        session="v4",
        status=413,
        code=3,
        outcome="payload too large",
        not_delivered="a" * 100,
    ),
    HttpCase(
        "chunked-body-over-limit",
        "POST",
        SID4,
        (*TEXT, ("Transfer-Encoding", "chunked")),
        b"".join(b"1000\r\n" + b"4" * 4096 + b"\r\n" for _ in range(6)) + b"0\r\n\r\n",
        session="v4",
        status=413,
        code=3,
        outcome="payload too large",
    ),
    HttpCase(
        "content-length-20-digits",
        "POST",
        SID4,
        TEXT,
        b"4x",
        content_length="9" * 20,
        session="v4",
        status=frozenset({400, 413}),
        outcome="any",
        framework=True,
    ),
    HttpCase(
        "content-length-not-a-number",
        "POST",
        SID4,
        TEXT,
        b"4x",
        content_length="abc",
        session="v4",
        status=frozenset({400, 411}),
        outcome="any",
        framework=True,
    ),
    HttpCase(
        "content-length-negative",
        "POST",
        SID4,
        TEXT,
        b"4x",
        content_length="-2",
        session="v4",
        status=frozenset({400, 411}),
        outcome="any",
        framework=True,
    ),
    HttpCase(
        "content-length-twice",
        "POST",
        SID4,
        (*TEXT, ("Content-Length", "3")),
        b"4x",
        session="v4",
        # Servers that take one of the lengths (werkzeug) answer 200.
        status=frozenset({200, 400}),
        outcome="any",
        framework=True,
    ),
    HttpCase(
        "bad-chunk-size",
        "POST",
        SID4,
        (*TEXT, ("Transfer-Encoding", "chunked")),
        b"zz\r\n4x\r\n0\r\n\r\n",
        session="v4",
        status=frozenset({400}),
        outcome="any",
        framework=True,
    ),
]

# -- hostile headers and requests that are barely HTTP ------------------------------------

HEADER_CASES = [
    HttpCase(
        "origin-latin1-bytes",
        headers=(("Origin", "http://\xff\xfe.example"),),
        status=frozenset({400, 403}),
        framework=True,
    ),
    HttpCase(
        "origin-folded-line",
        headers=(("Origin", "http://a.example\r\n X-Folded: 1"),),
        status=frozenset({400, 403}),
        forbidden_headers=("x-folded",),
        framework=True,
    ),
    HttpCase(
        "cookie-60kb",
        query="EIO=4&transport=nope",
        headers=(("Cookie", "io=" + "c" * 60_000),),
        status=frozenset({400, 413, 431}),
        framework=True,
    ),
    HttpCase(
        "no-host-header",
        raw=b"GET /engine.io/?EIO=4&transport=nope HTTP/1.1\r\nConnection: close\r\n\r\n",
        status=400,
        framework=True,
    ),
    # A TLS ClientHello, with a line end so that line-reading parsers do not just wait.
    HttpCase(
        "not-http",
        raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
        status=FRAMEWORK_REFUSALS,
        framework=True,
    ),
    HttpCase(
        "garbage-request-line", raw=b"GARBAGE\r\n\r\n", status=FRAMEWORK_REFUSALS, framework=True
    ),
    HttpCase(
        "http-0.9",
        raw=b"GET /engine.io/?EIO=4&transport=nope\r\n\r\n",
        status=FRAMEWORK_REFUSALS,
        framework=True,
    ),
    HttpCase(
        "websocket-upgrade-without-key",
        headers=(("Upgrade", "websocket"), ("Connection", "Upgrade")),
        query="EIO=4&transport=websocket",
        status=frozenset({400, 426}),
        framework=True,
    ),
    HttpCase(
        "path-with-crlf-escape",
        raw=(
            b"GET /engine.io/%0d%0a[engineio]%20ERROR%20forged?EIO=4&transport=nope HTTP/1.1\r\n"
            b"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ),
        status=frozenset({400, 404}),
    ),
]

HTTP_CASES: list[HttpCase] = [
    *QUERY_CASES,
    *METHOD_CASES,
    *V4_PAYLOAD_CASES,
    *V3_PAYLOAD_CASES,
    *JSONP_CASES,
    *SIZE_CASES,
    *HEADER_CASES,
]

# -- WebSocket -------------------------------------------------------------------------

WS = "EIO=4&transport=websocket"

WS_CASES: list[WsCase] = [
    WsCase("ws-unknown-sid", WS + "&sid=nope", refused=400, code=1),
    WsCase("ws-eio-5", "EIO=5&transport=websocket", refused=400, code=5),
    WsCase("ws-missing-eio", "transport=websocket", refused=400, code=5),
    WsCase(
        "ws-closed-sid",
        WS + "&sid={sid}",
        session="closed",
        refused=400,
        code=1,
        outcome="client disconnect",
    ),
    WsCase("ws-invalid-packet", session="ws", send=("9garbage",), outcome="transport error"),
    WsCase("ws-empty-text", session="ws", send=("",), outcome="transport error"),
    WsCase("ws-v4-client-ping", session="ws", send=("2",), outcome="transport error", logs=0),
    WsCase(
        "ws-v3-bad-binary-type",
        "EIO=3&transport=websocket",
        session="ws3",
        send=(b"\x09abc",),
        outcome="transport error",
    ),
    WsCase(
        "ws-v3-empty-binary",
        "EIO=3&transport=websocket",
        session="ws3",
        send=(b"",),
        outcome="transport error",
    ),
    WsCase(
        "ws-v3-bad-base64",
        "EIO=3&transport=websocket",
        session="ws3",
        send=("b4!!",),
        outcome="transport error",
    ),
    WsCase(
        "ws-message-over-limit",
        session="ws",
        send=("4" + "a" * LIMIT,),
        outcome="payload too large",
        logs=0,
    ),
    WsCase(
        "ws-binary-over-limit",
        session="ws",
        send=(b"\x00" * (LIMIT + 1),),
        outcome="payload too large",
        logs=0,
    ),
    WsCase(
        "ws-invalid-utf8-text-frame",
        session="ws",
        send=(masked_frame(1, b"4\xff\xfe"),),
        outcome="any",
        framework=True,
    ),
    WsCase(
        "ws-unmasked-frame",
        session="ws",
        send=(masked_frame(1, b"4hi", mask=False),),
        outcome="any",
        framework=True,
    ),
    WsCase(
        "ws-reserved-opcode",
        session="ws",
        send=(masked_frame(3, b"4hi"),),
        outcome="any",
        framework=True,
    ),
    WsCase(
        "ws-continuation-without-start",
        session="ws",
        send=(masked_frame(0, b"4hi"),),
        outcome="any",
        framework=True,
    ),
    WsCase(
        "ws-not-frames",
        session="ws",
        send=(RawFrame(b"GET / HTTP/1.1\r\n\r\n"),),
        outcome="any",
        framework=True,
    ),
    WsCase("ws-deep-json", session="ws", send=("4" + "[" * 19_000,), closes=False, logs=0),
    WsCase("upgrade-bad-probe", WS + "&sid={sid}", session="v4", send=("2notprobe",), logs=0),
    WsCase("upgrade-without-probe", WS + "&sid={sid}", session="v4", send=("5",), logs=0),
    WsCase(
        "upgrade-message-instead-of-probe", WS + "&sid={sid}", session="v4", send=("4hi",), logs=0
    ),
    WsCase(
        "upgrade-v3-sid-with-v4-probe",
        "EIO=3&transport=websocket&sid={sid}",
        session="v3",
        send=("2notprobe",),
        logs=0,
    ),
    WsCase(
        "second-websocket-after-upgrade", WS + "&sid={sid}", session="upgraded", send=(), logs=1
    ),
]

ALL_CASES: list[HttpCase | WsCase] = [*HTTP_CASES, *WS_CASES]
assert len({c.id for c in ALL_CASES}) == len(ALL_CASES), "case ids must be unique"

__all__ = [
    "ALL_CASES",
    "HTTP_CASES",
    "WS_CASES",
    "HttpCase",
    "RawFrame",
    "WsCase",
]
