"""Codecs: packets and payloads, v4 and v3, JSONP."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engineio_core.protocol.errors import ProtocolError
from engineio_core.protocol.packets import (
    Packet,
    PacketType,
    decode_packet,
    decode_ws_binary,
    encode_packet,
    encode_ws,
)
from engineio_core.protocol.payloads import (
    decode_jsonp_body,
    decode_payload,
    encode_jsonp,
    encode_payload,
)

MSG = PacketType.MESSAGE


def test_text_packets_encode_as_type_digit_then_data() -> None:
    assert encode_packet(Packet(MSG, "hello"), 4) == "4hello"
    assert encode_packet(Packet(PacketType.PING), 4) == "2"
    assert encode_packet(Packet(PacketType.PONG, "probe"), 3) == "3probe"


def test_binary_message_base64_forms_differ_by_version() -> None:
    assert encode_packet(Packet(MSG, b"\x01\x02"), 4) == "bAQI="
    assert encode_packet(Packet(MSG, b"\x01\x02"), 3) == "b4AQI="
    assert decode_packet("bAQI=", 4) == Packet(MSG, b"\x01\x02")
    assert decode_packet("b4AQI=", 3) == Packet(MSG, b"\x01\x02")


def test_websocket_binary_frames() -> None:
    assert encode_ws(Packet(MSG, b"ab"), 4) == b"ab"
    assert encode_ws(Packet(MSG, b"ab"), 3) == b"\x04ab"
    assert decode_ws_binary(b"\x04ab", 3) == Packet(MSG, b"ab")
    assert decode_ws_binary(b"\x04ab", 4) == Packet(MSG, b"\x04ab")
    with pytest.raises(ProtocolError):
        decode_ws_binary(b"\x09ab", 3)


def test_empty_text_message_is_empty_string() -> None:
    assert decode_packet("4", 4) == Packet(MSG, "")


@pytest.mark.parametrize("bad", ["", "9", "x", "b!!!", "b4%%"])
def test_invalid_packets_raise_protocol_error(bad: str) -> None:
    with pytest.raises(ProtocolError):
        decode_packet(bad, 3 if bad.startswith("b4") else 4)


def test_v4_payload_joins_with_record_separator() -> None:
    body, ctype = encode_payload([Packet(MSG, "a"), Packet(MSG, b"\xff")], 4, binary=True)
    assert body == b"4a\x1eb/w=="
    assert ctype.startswith("text/plain")
    assert decode_payload(body, 4) == [Packet(MSG, "a"), Packet(MSG, b"\xff")]


def test_v4_rejects_binary_content_type() -> None:
    with pytest.raises(ProtocolError):
        decode_payload(b"4a", 4, "application/octet-stream")


def test_v3_text_payload_counts_utf16_units() -> None:
    packets = [Packet(MSG, "héllo 😀"), Packet(PacketType.PING, "probe")]
    body, _ = encode_payload(packets, 3, binary=False)
    # "4héllo 😀" is 9 UTF-16 code units (the emoji is a surrogate pair).
    assert body.decode() == "9:4héllo 😀6:2probe"
    assert decode_payload(body, 3) == packets


def test_v3_binary_payload_round_trip() -> None:
    packets = [Packet(MSG, "hi"), Packet(MSG, b"\x00\x01\x02")]
    body, ctype = encode_payload(packets, 3, binary=True)
    assert ctype == "application/octet-stream"
    assert body == b"\x00\x03\xff4hi" + b"\x01\x04\xff\x04\x00\x01\x02"
    assert decode_payload(body, 3, "application/octet-stream") == packets


def test_v3_b64_payload_when_binary_not_supported() -> None:
    body, ctype = encode_payload([Packet(MSG, b"\x01")], 3, binary=False)
    assert body == b"6:b4AQ=="
    assert ctype.startswith("text/plain")


@pytest.mark.parametrize(
    "body",
    [b"", b"5:4abc", b"x:4a", b"3:4ab3:", b"0:", b"99999999999999:4", b"2:4\xff"],
)
def test_v3_bad_payloads(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_payload(body, 3)


@pytest.mark.parametrize(
    "body", [b"\x02\x01\xff4", b"\x00\x0a\xff4", b"\x00\x05\xff4a", b"\x01\x01\xff\x09", b"\x00"]
)
def test_v3_bad_binary_payloads(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_payload(body, 3, "application/octet-stream")


def test_jsonp_wraps_and_escapes() -> None:
    body = encode_jsonp([Packet(MSG, "a\u2028b</script>")], 4, "3")
    assert body.startswith(b'___eio[3]("')
    assert b"\\u2028" in body
    inner = body[len(b"___eio[3](") : -2]
    assert json.loads(inner) == "4a\u2028b</script>"


def test_jsonp_post_unescapes_newlines_like_node() -> None:
    # The client sends a real newline as "\n" and a literal backslash-n as "\\n".
    body = b"d=" + b"4line1%5Cnline2%5C%5Cnliteral"
    assert decode_jsonp_body(body, 4) == [Packet(MSG, "line1\nline2\\nliteral")]
    with pytest.raises(ProtocolError):
        decode_jsonp_body(b"x=1", 4)


text_or_bytes = st.one_of(st.text(), st.binary())


@given(st.lists(text_or_bytes, min_size=1, max_size=5), st.sampled_from([3, 4]), st.booleans())
def test_payload_round_trip(items: list[str | bytes], protocol: int, binary: bool) -> None:
    # v4 joins packets with "\x1e" and has no escape for it (nor has Node's parser).
    assume(protocol == 3 or not any(isinstance(i, str) and "\x1e" in i for i in items))
    packets = [Packet(MSG, item) for item in items]
    body, ctype = encode_payload(packets, protocol, binary)
    assert decode_payload(body, protocol, ctype) == packets


@given(
    st.binary(max_size=200),
    st.sampled_from([3, 4]),
    st.sampled_from(["", "application/octet-stream"]),
)
def test_decoding_garbage_only_raises_protocol_error(
    body: bytes, protocol: int, ctype: str
) -> None:
    with contextlib.suppress(ProtocolError):
        decode_payload(body, protocol, ctype)
