"""A small, strict server-side WebSocket frame codec (RFC 6455 framing only).

Why not wsproto on the hot path: wsproto is general (both sides, extensions,
incremental payload delivery), and pays for it on every message: a generator
step per frame, named tuples, an incremental UTF-8 decoder per text message and
a pure-Python XOR masker built from four strided ``translate`` calls. In the
gevent echo benchmark that was about a quarter of the server's CPU. The opening
handshake stays with whoever does it today; this module only reads the frames a
client sends and writes the frames the server sends.

What the reader accepts is deliberately narrow, because a server without
extensions has no reason to accept more: every client frame must be masked, no
RSV bit may be set, opcodes other than the six defined ones are refused, control
frames must be final and at most 125 bytes, lengths must use the minimal
encoding (as wsproto also insists), and a message larger than
``max_message_size`` is refused from its header, before its payload is read.
Text must be UTF-8 and close frames must carry a code a peer may send.

Where the time goes. :class:`FrameReader` keeps received bytes in one
``bytearray`` with a read offset, so several frames that arrive in one
``recv`` are parsed without copying the rest of the buffer after each one;
the consumed prefix is dropped only when :meth:`FrameReader.feed` finds it
at least as large as what is left. Headers are read by indexing, and the most
common frame (final, masked, text or binary, at most 125 bytes, no fragmented
message pending) is recognised from its first two bytes and handled by a
short path with no further checks to make. Since every C call costs about as
much as the work it does on a small payload, unmasking is done with as few as
possible: a payload of up to ``_BIGINT_UNMASK_MAX`` bytes is XORed with the
key as one big integer (both read as little-endian integers); a larger
payload uses four strided ``bytes.translate`` calls, whose cost per byte is
lower once the fixed cost no longer dominates. Where the ``websockets``
package is installed with its C speedups (uvicorn's standard extra brings it),
a payload over 125 bytes is unmasked by its ``apply_mask`` instead: 0.09 µs
for 1 KiB against 1.9 µs for the big integer. An unfragmented text message
is validated by decoding it in one ``bytes.decode("utf-8")``, which is as
strict as an incremental decoder and much cheaper; only a fragmented text
message gets an incremental decoder, so an invalid fragment fails without
waiting for the rest.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable
from typing import Any, TypeAlias

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameError",
    "FrameReader",
    "Message",
    "encode_close",
    "encode_frame",
    "encode_message",
    "encode_messages",
]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: What :meth:`FrameReader.next` returns: ``(OP_TEXT, str)``, ``(OP_BINARY, bytes)``,
#: ``(OP_PING, bytes)``, ``(OP_PONG, bytes)`` or ``(OP_CLOSE, (code, reason))``.
Message: TypeAlias = tuple[int, str | bytes | tuple[int | None, str]]

#: Largest payload unmasked with the big-integer XOR; above it the strided
#: ``translate`` is faster (measured crossover: roughly 1 KiB on CPython 3.11).
_BIGINT_UNMASK_MAX = 1024

# _XOR_TABLES[k] maps each byte value to itself XOR k, for bytes.translate. Built
# with the big-integer XOR itself so that importing the module stays cheap.
_IDENTITY = int.from_bytes(bytes(range(256)), "little")
_XOR_TABLES = tuple(
    (_IDENTITY ^ int.from_bytes(bytes((k,)) * 256, "little")).to_bytes(256, "little")
    for k in range(256)
)
del _IDENTITY

# Two-byte headers of final, short frames, prebuilt per opcode: one tuple index
# is several times cheaper than building ``bytes((first_byte, length))``. No
# OP_CONT: every frame the server sends is a whole message or a control frame.
_SHORT_HEADERS = {
    opcode: tuple(bytes((0x80 | opcode, n)) for n in range(126))
    for opcode in (OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG)
}
_TEXT_HEADERS = _SHORT_HEADERS[OP_TEXT]
_BINARY_HEADERS = _SHORT_HEADERS[OP_BINARY]
_pack_header_16 = struct.Struct("!BBH").pack
_pack_header_64 = struct.Struct("!BBQ").pack
_pack_close_code = struct.Struct("!H").pack
_unpack_mask = struct.Struct("<I").unpack_from
# _REPEAT[n] has a 1 every 32 bits for the ceil(n / 4) words of an n-byte payload,
# so that the masking key read as an integer, times _REPEAT[n], is the key
# repeated over the payload: one multiplication instead of building key bytes.
_REPEAT = tuple(int.from_bytes(b"\x01\0\0\0" * ((n + 3) // 4), "little") for n in range(126))

_MAX_CONTROL_PAYLOAD = 125
_MAX_CLOSE_REASON = _MAX_CONTROL_PAYLOAD - 2


class FrameError(Exception):
    """The peer broke the protocol; the connection should be closed with ``code``.

    ``code`` is 1002 (protocol error), 1007 (invalid payload data, such as text
    that is not UTF-8) or 1009 (message too big); ``reason`` is a short text fit
    for the close frame.
    """

    code: int
    reason: str

    def __init__(self, code: int, reason: str) -> None:
        # Both go to Exception.__init__ so that the exception pickles and copies.
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} ({self.code})"


def _find_c_unmask() -> Callable[[Any, Any], bytes] | None:
    """``websockets``' C ``apply_mask(data, mask)`` if it is installed, else None.

    Looked up at the first large frame, not at import: importing websockets
    costs milliseconds that a server which never sees such a frame need not pay.
    """
    global _c_unmask
    try:
        from websockets.speedups import apply_mask
    except ImportError:  # not installed, or without its C extension
        _c_unmask = None
        return None
    _c_unmask = apply_mask
    return apply_mask


#: The C unmasker: _UNSET until _find_c_unmask has looked for it.
_UNSET: Any = object()
_c_unmask: Any = _UNSET


def _unmask(payload: bytearray, mask: bytearray) -> bytes:
    """XOR ``payload`` (a fresh slice, modified in place when large) with ``mask``."""
    c_unmask = _c_unmask if _c_unmask is not _UNSET else _find_c_unmask()
    if c_unmask is not None:
        return c_unmask(payload, mask)
    n = len(payload)
    if n <= _BIGINT_UNMASK_MAX:
        # An empty payload gives (0).to_bytes(0, ...) == b"", so no special case.
        key = (mask * (n // 4 + 1))[:n]
        return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
            n, "little"
        )
    payload[::4] = payload[::4].translate(_XOR_TABLES[mask[0]])
    payload[1::4] = payload[1::4].translate(_XOR_TABLES[mask[1]])
    payload[2::4] = payload[2::4].translate(_XOR_TABLES[mask[2]])
    payload[3::4] = payload[3::4].translate(_XOR_TABLES[mask[3]])
    return bytes(payload)


def _is_valid_close_code(code: int) -> bool:
    """Whether a peer may send ``code`` in a close frame (RFC 6455 section 7.4 and
    the IANA registry): 1004 is reserved, 1005, 1006 and 1015 only ever stand for
    "no close frame" or a failure seen locally, and 1016-2999 are reserved for
    future versions of the protocol, with none assigned yet."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class FrameReader:
    """Parses the frames a client sends to this server into messages.

    Feed it whatever the socket returns with :meth:`feed` and call :meth:`next`
    until it returns ``None``. No extension is ever negotiated by this server,
    so any RSV bit is an error. After a :class:`FrameError` or a close frame the
    reader is finished: :meth:`next` returns ``None`` and :meth:`feed` discards
    its input, so a misbehaving peer cannot make it buffer more.
    """

    __slots__ = (
        "_binary_parts",
        "_buf",
        "_decoder",
        "_done",
        "_fast_second_max",
        "_frag_opcode",
        "_max_message_size",
        "_pos",
        "_room",
        "_text_parts",
    )

    def __init__(self, max_message_size: int) -> None:
        if max_message_size < 0:
            raise ValueError("max_message_size must not be negative")
        self._max_message_size = max_message_size
        # Received bytes; those before _pos have been parsed already.
        self._buf = bytearray()
        self._pos = 0
        self._done = False
        # Opcode of the fragmented message in progress, or 0 (OP_CONT) for none.
        self._frag_opcode = 0
        # How many more payload bytes the current message may have.
        self._room = max_message_size
        # Largest second header byte (mask bit and 7-bit length) the hot path of
        # next() takes; 0x7F, which no masked frame has, while a fragmented
        # message is in progress.
        self._fast_second_max = 0x80 + min(_MAX_CONTROL_PAYLOAD, max_message_size)
        self._binary_parts: list[bytes] = []
        self._text_parts: list[str] = []
        self._decoder: codecs.IncrementalDecoder | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes received from the socket (ignored once the reader is finished)."""
        if self._done:
            return
        pos = self._pos
        # Drop the parsed prefix only once it outweighs the unparsed rest, so the
        # cost of moving bytes stays proportional to the bytes received.
        if pos and pos << 1 >= len(self._buf):
            del self._buf[:pos]
            self._pos = 0
        self._buf += data

    def next(self) -> Message | None:
        """The next complete message or control frame, or ``None`` if more bytes are needed.

        Returns ``(OP_TEXT, str)`` or ``(OP_BINARY, bytes)`` for a complete
        message (fragments joined), ``(OP_PING, bytes)`` or ``(OP_PONG, bytes)``
        for a control frame (which may arrive between the fragments of a
        message), and ``(OP_CLOSE, (code, reason))`` for a close frame, with
        ``code`` ``None`` when the frame has no payload. Raises
        :class:`FrameError` if the client broke the protocol.
        """
        while True:
            buf = self._buf
            pos = self._pos
            available = len(buf) - pos
            # A finished reader has an empty buffer, so it ends up here too.
            if available < 2:
                return None
            first = buf[pos]
            second = buf[pos + 1]
            if 0x81 <= first <= 0x82 and 0x80 <= second <= self._fast_second_max:
                # The hot path: a final, masked text or binary frame of at most 125
                # bytes, within the size limit, with no fragmented message pending
                # (_fast_second_max rules out the last two). Same as the general
                # path below, with the checks this test already made left out.
                start = pos + 6
                stop = start + second - 0x80
                if stop > len(buf):
                    return None
                self._pos = stop
                n = stop - start
                # The key may reach up to 3 bytes past the payload; those bytes
                # come out after the first n and are cut off.
                key = _unpack_mask(buf, pos + 2)[0] * _REPEAT[n]
                payload = (int.from_bytes(buf[start:stop], "little") ^ key).to_bytes(
                    n + 3 & ~3, "little"
                )[:n]
                if first == 0x82:
                    return OP_BINARY, payload
                try:
                    return OP_TEXT, payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise self._fail(1007, "text message is not valid UTF-8") from None
            opcode = first & 0x0F
            if first & 0x70:
                raise self._fail(1002, "reserved bit set without an extension")
            if second < 0x80:
                raise self._fail(1002, "client frame not masked")
            length = second & 0x7F
            if opcode >= OP_CLOSE:
                if opcode > OP_PONG:
                    raise self._fail(1002, f"unknown opcode {opcode:#x}")
                if first < 0x80:
                    raise self._fail(1002, "fragmented control frame")
                if length > _MAX_CONTROL_PAYLOAD:
                    raise self._fail(1002, "control frame payload over 125 bytes")
            elif opcode == OP_CONT:
                if not self._frag_opcode:
                    raise self._fail(1002, "continuation frame without a message")
            elif opcode > OP_BINARY:
                raise self._fail(1002, f"unknown opcode {opcode:#x}")
            elif self._frag_opcode:
                raise self._fail(1002, "new message before the previous one ended")

            start = pos + 6
            if length == 126:
                if available < 4:
                    return None
                length = buf[pos + 2] << 8 | buf[pos + 3]
                if length < 126:
                    raise self._fail(1002, "non-minimal payload length")
                start = pos + 8
            elif length == 127:
                if available < 10:
                    return None
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if length >> 63:
                    raise self._fail(1002, "payload length with the top bit set")
                if length < 0x10000:
                    raise self._fail(1002, "non-minimal payload length")
                start = pos + 14
            # Control frames do not count towards the message (and are <= 125).
            if length > self._room and opcode < OP_CLOSE:
                raise self._fail(1009, "message too big")
            stop = start + length
            if stop > len(buf):
                return None
            self._pos = stop
            payload = _unmask(buf[start:stop], buf[start - 4 : start])

            if first & 0x80 and opcode:
                # A whole message in one frame, or a control frame.
                if opcode == OP_TEXT:
                    try:
                        return opcode, payload.decode("utf-8")
                    except UnicodeDecodeError:
                        raise self._fail(1007, "text message is not valid UTF-8") from None
                if opcode == OP_CLOSE:
                    return OP_CLOSE, self._close(payload)
                return opcode, payload

            message = self._fragment(opcode, first & 0x80, payload)
            if message is not None:
                return message
            # A non-final fragment: go on with the next frame.

    def _fragment(self, opcode: int, fin: int, payload: bytes) -> Message | None:
        """Account for one fragment of a message; the joined message after the last."""
        if opcode:
            self._frag_opcode = opcode
            self._fast_second_max = 0x7F
            if opcode == OP_TEXT:
                self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._room -= len(payload)
        decoder = self._decoder
        if decoder is not None:
            try:
                self._text_parts.append(decoder.decode(payload, bool(fin)))
            except UnicodeDecodeError:
                raise self._fail(1007, "text message is not valid UTF-8") from None
        else:
            self._binary_parts.append(payload)
        if not fin:
            return None
        message: Message
        if decoder is not None:
            message = OP_TEXT, "".join(self._text_parts)
            self._text_parts.clear()
            self._decoder = None
        else:
            message = OP_BINARY, b"".join(self._binary_parts)
            self._binary_parts.clear()
        self._frag_opcode = OP_CONT
        self._room = self._max_message_size
        self._fast_second_max = 0x80 + min(_MAX_CONTROL_PAYLOAD, self._max_message_size)
        return message

    def _close(self, payload: bytes) -> tuple[int | None, str]:
        """Validate a close frame's payload into ``(code, reason)``; finish the reader."""
        if not payload:
            self._finish()
            return None, ""
        if len(payload) == 1:
            raise self._fail(1002, "close frame with a one-byte payload")
        code = payload[0] << 8 | payload[1]
        if not _is_valid_close_code(code):
            raise self._fail(1002, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise self._fail(1007, "close reason is not valid UTF-8") from None
        self._finish()
        return code, reason

    def _finish(self) -> None:
        """Stop parsing for good and let go of everything buffered."""
        self._done = True
        self._buf = bytearray()
        self._pos = 0
        self._binary_parts.clear()
        self._text_parts.clear()
        self._decoder = None

    def _fail(self, code: int, reason: str) -> FrameError:
        """Finish the reader and return the error for the caller to raise."""
        self._finish()
        return FrameError(code, reason)


def encode_frame(opcode: int, payload: bytes | bytearray | memoryview) -> bytes:
    """One unmasked, final server frame (7-bit, 16-bit or 64-bit length as needed).

    Raises ``ValueError`` for ``OP_CONT`` (a final continuation frame would need
    a non-final frame before it, which this module never writes), an undefined
    opcode or a control frame payload over 125 bytes: each would be a bug here,
    not something to send.
    """
    headers = _SHORT_HEADERS.get(opcode)
    if headers is None:
        raise ValueError(f"unknown opcode {opcode:#x}")
    if isinstance(payload, memoryview):
        # len() of a memoryview counts items, not bytes.
        payload = payload.tobytes()
    n = len(payload)
    if n < 126:
        return headers[n] + payload
    if opcode >= OP_CLOSE:
        raise ValueError("control frame payload over 125 bytes")
    if n < 0x10000:
        return _pack_header_16(0x80 | opcode, 126, n) + payload
    return _pack_header_64(0x80 | opcode, 127, n) + payload


def encode_message(data: str | bytes | bytearray | memoryview) -> bytes:
    """A text frame for ``str`` (encoded as UTF-8), a binary frame for bytes-like data."""
    if isinstance(data, str):
        payload: bytes | bytearray = data.encode("utf-8")
        headers = _TEXT_HEADERS
        first = 0x80 | OP_TEXT
    else:
        payload = data.tobytes() if isinstance(data, memoryview) else data
        headers = _BINARY_HEADERS
        first = 0x80 | OP_BINARY
    n = len(payload)
    if n < 126:
        return headers[n] + payload
    if n < 0x10000:
        return _pack_header_16(first, 126, n) + payload
    return _pack_header_64(first, 127, n) + payload


def encode_messages(messages: list[str | bytes]) -> bytes:
    """The frames of ``messages``, in order, as one buffer for one write."""
    if len(messages) == 1:
        return encode_message(messages[0])
    return b"".join([encode_message(data) for data in messages])


def encode_close(code: int | None = 1000, reason: str = "") -> bytes:
    """A close frame; ``code`` ``None`` gives an empty payload.

    ``reason`` is cut so that the payload stays within 125 bytes, at a character
    boundary so that it remains valid UTF-8. Raises ``ValueError`` for a code an
    endpoint may not send (such as 1005 or 1006) or a reason without a code.
    """
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return _SHORT_HEADERS[OP_CLOSE][0]
    if not _is_valid_close_code(code):
        raise ValueError(f"invalid close code {code}")
    encoded = reason.encode("utf-8")
    if len(encoded) > _MAX_CLOSE_REASON:
        cut = _MAX_CLOSE_REASON
        # encoded[cut] is the first byte dropped; if it continues a character,
        # that character would be split, so drop all of it.
        while encoded[cut] & 0xC0 == 0x80:
            cut -= 1
        encoded = encoded[:cut]
    return encode_frame(OP_CLOSE, _pack_close_code(code) + encoded)
