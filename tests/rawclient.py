"""The raw Engine.IO peer the tests use, built from a server URL.

It is the public one, :mod:`engineio_core.testing.client`, so the tests and
plugin authors exercise the same code; only the constructor differs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from engineio_core.testing.client import TIMEOUT, RawEngineIOClient, RawWebSocket
from engineio_core.testing.client import HTTPReply as Reply

__all__ = ["TIMEOUT", "RawClient", "RawWebSocket", "Reply"]


class RawClient(RawEngineIOClient):
    """``RawClient("http://127.0.0.1:8000", eio=3)``."""

    def __init__(self, url: str, path: str = "/engine.io/", eio: int = 4) -> None:
        parts = urlsplit(url)
        super().__init__(parts.hostname or "127.0.0.1", parts.port or 80, path, eio)
