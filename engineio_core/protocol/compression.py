"""gzip/deflate for polling responses, negotiated from ``Accept-Encoding``."""

from __future__ import annotations

import gzip
import zlib

__all__ = ["choose_encoding", "compress"]

_SUPPORTED = ("gzip", "deflate")


def choose_encoding(accept_encoding: str | None) -> str | None:
    """The first of gzip/deflate the client accepts (q=0 means refused)."""
    if not accept_encoding:
        return None
    offered: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        offered[name.strip().lower()] = q
    for encoding in _SUPPORTED:
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=6, mtime=0)
    return zlib.compress(body, 6)
