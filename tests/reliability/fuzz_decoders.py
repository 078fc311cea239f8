"""A coverage-guided fuzz target (atheris / libFuzzer) for the packet and payload decoders.

Run it for a bounded time::

    .venv/bin/python tests/reliability/fuzz_decoders.py -max_total_time=60 [CORPUS_DIR ...]

The first input byte picks a decoder and a protocol version, the rest is
its input. Every decoder must either succeed or raise the protocol's own
``ProtocolError``; what it decodes must survive re-encoding (decode, encode,
decode gives the same packets). The last targets POST the input to a live
session of an in-process ``Server`` (threading mode, handlers run inline),
so message decoding and the session see it too: the answer must be 200, 400
or 413, never an exception. Anything else is a crash: libFuzzer stops and
writes the input to ``crash-<sha1>``. Turn it into a regression test and fix
the codec.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    import engineio_core
    from engineio_core.protocol.errors import ProtocolError
    from engineio_core.protocol.packets import (
        Packet,
        decode_packet,
        decode_ws_binary,
        encode_packet,
        encode_ws,
    )
    from engineio_core.protocol.payloads import (
        decode_jsonp_body,
        decode_payload,
        decode_text_payload,
        encode_payload,
        encode_text_payload,
    )

BINARY = "application/octet-stream"


def _text(data: bytes) -> str:
    # Any text, lone surrogates included: what a framework might hand over.
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _same_after_reencoding(packets: list[Packet], protocol: int) -> None:
    """What was decoded encodes to something that decodes to the same packets."""
    text = encode_text_payload(packets, protocol)
    assert decode_text_payload(text, protocol) == packets, (packets, text)
    body, ctype = encode_payload(packets, protocol, binary=True)
    assert decode_payload(body, protocol, ctype) == packets, (packets, body)


def _payload(protocol: int, ctype: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        _same_after_reencoding(decode_payload(data, protocol, ctype), protocol)

    return run


def _text_payload(protocol: int) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        _same_after_reencoding(decode_text_payload(_text(data), protocol), protocol)

    return run


def _packet(protocol: int) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        packet = decode_packet(_text(data), protocol)
        assert not (protocol >= 4 and packet.binary and packet.type != 4), packet
        assert decode_packet(encode_packet(packet, protocol), protocol) == packet

    return run


def _ws_binary(protocol: int) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        packet = decode_ws_binary(data, protocol)
        assert decode_ws_binary(encode_ws(packet, protocol), protocol) == packet  # type: ignore[arg-type]

    return run


def _jsonp(protocol: int) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        decode_jsonp_body(data, protocol)

    return run


_SERVER: Any = None


def _server() -> Any:
    global _SERVER
    if _SERVER is None:
        _SERVER = engineio_core.Server(
            async_mode="threading",
            async_handlers=False,  # the message handler (and JSON decoding) runs inline
            allow_eio3=True,
            max_http_buffer_size=100_000,
            cookie=None,
        )
        _SERVER.on("message", lambda sid, data: None)
    return _SERVER


def _call(
    method: str, query: str, body: bytes = b"", ctype: str = "text/plain"
) -> tuple[int, bytes]:
    status: list[int] = []

    def start_response(line: str, headers: list[tuple[str, str]]) -> None:
        status.append(int(line.split()[0]))

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/engine.io/",
        "QUERY_STRING": query,
        "HTTP_HOST": "fuzz",
        "CONTENT_TYPE": ctype,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(_server().handle_request(environ, start_response))
    return status[0], out


def _session_post(protocol: int, suffix: str, ctype: str) -> Callable[[bytes], None]:
    base = f"EIO={protocol}&transport=polling"

    def run(data: bytes) -> None:
        status, body = _call("GET", base + suffix)
        assert status == 200, (status, body)
        first = body.decode()
        opening = first.split(":", 1)[1] if protocol == 3 and not suffix else first
        if suffix:  # JSONP: ___eio[0]("...");
            opening = json.loads(first[len("___eio[0](") : -2])
            opening = opening.split(":", 1)[1] if protocol == 3 else opening
        sid = json.loads(opening.split("\x1e")[0][1:])["sid"]
        query = f"{base}&sid={sid}{suffix}"
        status, body = _call("POST", query, data, ctype)
        assert status in (200, 400, 413), (status, body)
        if sid in _server()._sessions:
            close = b"1" if protocol == 4 else b"1:1"
            if suffix:
                close = b"d=" + close.replace(b":", b"%3A")
            _call("POST", query, close, ctype)
        assert sid not in _server()._sessions

    return run


TARGETS: list[Callable[[bytes], None]] = [
    _payload(4, ""),
    _payload(4, BINARY),
    _payload(3, ""),
    _payload(3, BINARY),
    _text_payload(4),
    _text_payload(3),
    _packet(4),
    _packet(3),
    _ws_binary(3),
    _ws_binary(4),
    _jsonp(4),
    _jsonp(3),
    _session_post(4, "", "text/plain;charset=UTF-8"),
    _session_post(3, "", "text/plain;charset=UTF-8"),
    _session_post(3, "", BINARY),
    _session_post(4, "&j=0", "application/x-www-form-urlencoded"),
]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    with contextlib.suppress(ProtocolError):
        target(data[1:])


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
