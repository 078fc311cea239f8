"""Origin checks and CORS response headers.

``allowed_origins`` follows python-engineio:

* ``None``: same origin only (the request's own scheme and host, honouring
  ``X-Forwarded-Proto``/``X-Forwarded-Host`` from a proxy);
* ``"*"``: any origin;
* a string or a list of strings: exactly those origins;
* a callable ``f(origin) -> bool`` (or ``f(origin, environ)``): its verdict;
* ``[]``: CORS handling off: no check and no CORS headers (for apps that
  handle CORS themselves).

A request without an ``Origin`` header (not from a browser) is not checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from engineio_core.protocol.http import Request

__all__ = ["CorsPolicy"]

OriginsSetting = str | Sequence[str] | Callable[..., bool] | None


def _has_bad_chars(value: str) -> bool:
    """Control characters: never part of an origin, and unsafe to echo in a header."""
    return any((c < " " and c != "\t") or c == "\x7f" for c in value)


class CorsPolicy:
    """Decides whether an origin may connect and which headers to add."""

    __slots__ = ("_allowed", "_callable", "_credentials", "_pass_environ", "enabled")

    def __init__(self, allowed_origins: OriginsSetting, credentials: bool = True) -> None:
        self._credentials = credentials
        self._callable: Callable[..., bool] | None = None
        self._pass_environ = False
        self._allowed: frozenset[str] | None = None  # None: same origin; "*" in it: any
        self.enabled = True
        if callable(allowed_origins):
            self._callable = allowed_origins
            try:
                params = inspect.signature(allowed_origins).parameters
                self._pass_environ = len(params) >= 2
            except (TypeError, ValueError):
                self._pass_environ = False
        elif isinstance(allowed_origins, str):
            self._allowed = frozenset([allowed_origins])
        elif allowed_origins is not None:
            origins = frozenset(allowed_origins)
            self.enabled = bool(origins)
            self._allowed = origins

    def origin_allowed(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not self.enabled or origin is None:
            return True
        if _has_bad_chars(origin):
            return False
        if self._callable is not None:
            args: tuple[Any, ...] = (
                (origin, request.get_environ()) if self._pass_environ else (origin,)
            )
            return bool(self._callable(*args))
        if self._allowed is None:
            return origin in _same_origins(request)
        return "*" in self._allowed or origin in self._allowed

    def response_headers(self, request: Request) -> list[tuple[str, str]]:
        """CORS headers for a response: none unless the request's origin is allowed.

        The origin is echoed back, so one that is refused (or carries CR/LF)
        never gets here: the error answering it has no CORS headers.
        """
        origin = request.headers.get("origin")
        if not self.enabled or origin is None or not self.origin_allowed(request):
            return []
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if self._credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def preflight_headers(self, request: Request) -> list[tuple[str, str]]:
        headers = self.response_headers(request)
        if not headers:  # CORS off, no Origin, or a refused one: nothing to grant
            return headers
        headers.append(("Access-Control-Allow-Methods", "OPTIONS, GET, POST"))
        requested = request.headers.get("access-control-request-headers")
        if requested and not _has_bad_chars(requested):
            headers.append(("Access-Control-Allow-Headers", requested))
        return headers


def _same_origins(request: Request) -> set[str]:
    headers = request.headers
    schemes = {request.scheme}
    forwarded_proto = headers.get("x-forwarded-proto")
    if forwarded_proto:
        schemes.add(forwarded_proto.split(",")[0].strip())
    hosts = set()
    for name in ("host", "x-forwarded-host"):
        value = headers.get(name)
        if value:
            hosts.add(value.split(",")[0].strip())
    return {f"{scheme}://{host}" for scheme in schemes for host in hosts}
