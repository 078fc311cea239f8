"""Polling payloads: several packets in one HTTP body.

* v4: packets in text form joined by ``"\\x1e"``; binary as ``b<base64>``.
* v3 text: each packet as ``<length>:<packet>``, where the length counts
  UTF-16 code units, as JavaScript's ``String.length`` does.
* v3 binary (XHR2): each packet as a ``0`` (text) or ``1`` (binary) byte,
  the length as one byte per decimal digit, ``0xFF``, then the packet
  (UTF-8 text, or the type byte and the raw bytes).
* JSONP (both versions): a GET answer wraps the text payload in
  ``___eio[<j>]("...");``; a POST sends it form-encoded as ``d=...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qs

from engineio_core.protocol.errors import ProtocolError
from engineio_core.protocol.packets import Packet, PacketType, decode_packet, encode_packet

__all__ = [
    "decode_jsonp_body",
    "decode_payload",
    "encode_jsonp",
    "encode_payload",
]

SEPARATOR = "\x1e"
# A v3 length prefix is at most this many digits; more is garbage or an attack.
_MAX_LENGTH_DIGITS = 12


def encode_payload(packets: Iterable[Packet], protocol: int, binary: bool) -> tuple[bytes, str]:
    """Encode packets for a GET response: ``(body, content_type)``.

    ``binary`` says the client takes XHR2 binary payloads (v3 without
    ``b64=1``); it is ignored in v4.
    """
    if protocol >= 4:
        text = SEPARATOR.join([encode_packet(p, 4) for p in packets])
        return text.encode(), "text/plain; charset=UTF-8"
    packets = list(packets)
    if binary and any(p.binary for p in packets):
        return _encode_v3_binary(packets), "application/octet-stream"
    return _encode_v3_text(packets).encode(), "text/plain; charset=UTF-8"


def encode_text_payload(packets: Iterable[Packet], protocol: int) -> str:
    """The text form of a payload (what JSONP wraps)."""
    if protocol >= 4:
        return SEPARATOR.join([encode_packet(p, 4) for p in packets])
    return _encode_v3_text(list(packets))


def decode_payload(body: bytes, protocol: int, content_type: str = "") -> list[Packet]:
    """Decode a POST body into packets; raise :class:`ProtocolError` if invalid."""
    if not body:
        raise ProtocolError("empty payload")
    ctype = content_type.lower()
    # (The full check only for a type that might be it: every text POST skips it.)
    is_binary = "octet-stream" in ctype and (
        ctype.split(";", 1)[0].strip() == "application/octet-stream"
    )
    if is_binary:
        if protocol >= 4:
            raise ProtocolError("binary payloads are not part of protocol v4")
        return _decode_v3_binary(body)
    text = _utf8(body)
    if protocol >= 4:
        if SEPARATOR not in text:
            return [decode_packet(text, 4)]  # one packet: no split, no comprehension
        return [decode_packet(part, 4) for part in text.split(SEPARATOR)]
    return _decode_v3_text(text)


def decode_text_payload(text: str, protocol: int) -> list[Packet]:
    """Decode the text form of a payload."""
    if not text:
        raise ProtocolError("empty payload")
    if protocol >= 4:
        return [decode_packet(part, 4) for part in text.split(SEPARATOR)]
    return _decode_v3_text(text)


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("payload is not valid UTF-8") from exc


# -- v3 text ---------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _encode_v3_text(packets: list[Packet]) -> str:
    parts = []
    for packet in packets:
        encoded = encode_packet(packet, 3)
        parts.append(f"{_utf16_len(encoded)}:{encoded}")
    return "".join(parts)


def _decode_v3_text(text: str) -> list[Packet]:
    if text.isascii():
        return _split_v3(text, text)
    # Lengths count UTF-16 code units: walk the UTF-16 form, decode slices.
    units = text.encode("utf-16-le", "surrogatepass")
    return _split_v3(_Utf16View(units), text)


class _Utf16View:
    """Index a UTF-16 string by code unit, like a JavaScript string."""

    __slots__ = ("_units",)

    def __init__(self, units: bytes) -> None:
        self._units = units

    def __len__(self) -> int:
        return len(self._units) // 2

    def find(self, char: str, start: int) -> int:
        target = char.encode("utf-16-le")
        pos = start * 2
        while True:
            pos = self._units.find(target, pos)
            if pos < 0 or pos % 2 == 0:
                return -1 if pos < 0 else pos // 2
            pos += 1

    def slice(self, start: int, end: int) -> str:
        try:
            return self._units[start * 2 : end * 2].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise ProtocolError("v3 packet length splits a character") from exc


def _split_v3(view: _Utf16View | str, text: str) -> list[Packet]:
    packets = []
    pos, end = 0, len(view)
    while pos < end:
        colon = view.find(":", pos)
        if colon < 0:
            raise ProtocolError("v3 payload: missing ':' after length")
        digits = view.slice(pos, colon) if isinstance(view, _Utf16View) else view[pos:colon]
        if not digits.isdigit() or not digits.isascii() or len(digits) > _MAX_LENGTH_DIGITS:
            raise ProtocolError("v3 payload: invalid length prefix")
        length = int(digits)
        start = colon + 1
        if length == 0 or start + length > end:
            raise ProtocolError("v3 payload: length does not match the data")
        chunk = (
            view.slice(start, start + length)
            if isinstance(view, _Utf16View)
            else view[start : start + length]
        )
        packets.append(decode_packet(chunk, 3))
        pos = start + length
    return packets


# -- v3 binary (XHR2) --------------------------------------------------------------


def _encode_v3_binary(packets: list[Packet]) -> bytes:
    out = bytearray()
    for packet in packets:
        if isinstance(packet.data, bytes):
            data = bytes((packet.type,)) + packet.data
            out.append(1)
        else:
            data = encode_packet(packet, 3).encode()
            out.append(0)
        out += bytes(int(d) for d in str(len(data)))
        out.append(0xFF)
        out += data
    return bytes(out)


def _decode_v3_binary(body: bytes) -> list[Packet]:
    packets = []
    pos, end = 0, len(body)
    while pos < end:
        kind = body[pos]
        if kind not in (0, 1):
            raise ProtocolError("v3 binary payload: invalid packet kind byte")
        sep = body.find(b"\xff", pos + 1, pos + 2 + _MAX_LENGTH_DIGITS)
        if sep < 0:
            raise ProtocolError("v3 binary payload: missing length terminator")
        digits = body[pos + 1 : sep]
        if not digits or any(d > 9 for d in digits):
            raise ProtocolError("v3 binary payload: invalid length digits")
        length = int("".join(str(d) for d in digits))
        start = sep + 1
        if length == 0 or start + length > end:
            raise ProtocolError("v3 binary payload: length does not match the data")
        chunk = body[start : start + length]
        if kind == 1:
            try:
                ptype = PacketType(chunk[0])
            except ValueError as exc:
                raise ProtocolError("v3 binary payload: invalid packet type") from exc
            packets.append(Packet(ptype, chunk[1:]))
        else:
            packets.append(decode_packet(_utf8(chunk), 3))
        pos = start + length
    return packets


# -- JSONP ---------------------------------------------------------------------------

_SLASH_N = re.compile(r"(\\)?\\n")
# JSON escapes for the characters that could end a <script> or open an HTML comment.
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def encode_jsonp(packets: Iterable[Packet], protocol: int, index: str) -> bytes:
    """A JSONP GET answer: ``___eio[<index>]("<payload>");``.

    The payload is a JSON string with every non-ASCII character escaped, so
    U+2028/U+2029 (valid JSON, invalid JavaScript before ES2019) cannot break
    the script, and ``<``, ``>``, ``&`` escaped too, so no ``</script>`` or
    ``<!--`` appears even if the answer ends up inside an HTML page. ``index``
    must be digits only (the router checks).
    """
    text = encode_text_payload(packets, protocol)
    literal = json.dumps(text).translate(_HTML_SAFE)
    return f"___eio[{index}]({literal});".encode("ascii")


def decode_jsonp_body(body: bytes, protocol: int) -> list[Packet]:
    """Decode a JSONP POST body (``d=<payload>``, form-encoded).

    The client escapes newlines as ``\\n`` and literal ``\\n`` as ``\\\\n``;
    this undoes both, as Node's engine.io does.
    """
    form = parse_qs(_utf8(body), keep_blank_values=True)
    values = form.get("d")
    if not values:
        raise ProtocolError("JSONP body has no 'd' field")
    data = _SLASH_N.sub(lambda m: m.group(0) if m.group(1) else "\n", values[0])
    return decode_text_payload(data.replace("\\\\n", "\\n"), protocol)
