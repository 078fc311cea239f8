"""Error codes, disconnect reasons and the protocol's own exceptions.

As in h11, errors are split by who is at fault: :class:`ProtocolError` means
the peer sent something invalid and carries the HTTP status and Engine.IO
error code to answer with; misuse of the API by the application raises
ordinary ``ValueError``/``TypeError`` or :class:`LocalProtocolError`.
"""

from __future__ import annotations

import enum
import json

__all__ = [
    "DisconnectReason",
    "ErrorCode",
    "LocalProtocolError",
    "ProtocolError",
    "error_body",
]


class ErrorCode(enum.IntEnum):
    """The error codes Node's engine.io answers with, and their messages."""

    UNKNOWN_TRANSPORT = 0
    UNKNOWN_SID = 1
    BAD_HANDSHAKE_METHOD = 2
    BAD_REQUEST = 3
    FORBIDDEN = 4
    UNSUPPORTED_PROTOCOL_VERSION = 5

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def status(self) -> int:
        """403 for Forbidden, 400 for everything else (as Node does)."""
        return 403 if self is ErrorCode.FORBIDDEN else 400


_MESSAGES = {
    ErrorCode.UNKNOWN_TRANSPORT: "Transport unknown",
    ErrorCode.UNKNOWN_SID: "Session ID unknown",
    ErrorCode.BAD_HANDSHAKE_METHOD: "Bad handshake method",
    ErrorCode.BAD_REQUEST: "Bad request",
    ErrorCode.FORBIDDEN: "Forbidden",
    ErrorCode.UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}


def error_body(code: ErrorCode) -> bytes:
    """The JSON body Node's engine.io sends with an error code."""
    return json.dumps({"code": int(code), "message": code.message}).encode()


class DisconnectReason(str, enum.Enum):
    """Why a session ended; passed to the ``disconnect`` handler.

    The values match python-engineio's ``Server.reason`` strings, so handlers
    that compare against those strings keep working.
    """

    CLIENT_DISCONNECT = "client disconnect"
    SERVER_DISCONNECT = "server disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"
    PAYLOAD_TOO_LARGE = "payload too large"
    SERVER_SHUTDOWN = "server shutdown"
    #: More packets waited for the client than ``max_send_queue`` allows.
    SEND_QUEUE_FULL = "send queue full"

    def __str__(self) -> str:
        return self.value


class ProtocolError(Exception):
    """The peer sent something invalid.

    ``code`` and ``status`` say how to answer the HTTP request that carried
    it; ``detail`` says what was wrong, for the log.
    """

    def __init__(
        self, detail: str, code: ErrorCode = ErrorCode.BAD_REQUEST, status: int | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = code.status if status is None else status


class LocalProtocolError(Exception):
    """The application asked the protocol core for something invalid."""
