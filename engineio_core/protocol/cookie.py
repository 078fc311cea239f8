"""The session cookie set on the handshake response."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any

__all__ = ["CookieSpec"]

# The names http.cookies can set (RFC 6265 tokens, plus ':'), but not "$...":
# cookie parsers take those for RFC 2109 attributes ($Version, $Path).
_NAME = re.compile(r"(?!\$)[!#$%&'*+\-.^_`|~:0-9A-Za-z]+")
# Attribute values are written as they are: these would end the attribute or the header.
_UNSAFE_VALUE = re.compile(r"[\x00-\x1f\x7f;]")
# Session ids that need no quoting in a cookie (every id generate_id() makes).
_PLAIN_SID = re.compile(r"[A-Za-z0-9_-]+")
_MARKER = "Sid0Marker0Qz9"


class CookieSpec:
    """``cookie=`` as a name (``"io"``) or a dict of attributes.

    Dict keys: ``name`` (required), ``path`` (default ``/``), ``domain``,
    ``max_age``, ``expires``, ``httponly`` (default True), ``samesite``
    (default ``Lax``), ``secure`` (default: when the request is https or a
    proxy says ``X-Forwarded-Proto: https``).
    """

    __slots__ = ("_templates", "attributes", "name")

    def __init__(self, setting: str | Mapping[str, Any]) -> None:
        attrs: dict[str, Any] = {"path": "/", "httponly": True, "samesite": "Lax", "secure": None}
        if isinstance(setting, str):
            self.name = setting
        else:
            settings = {k.lower().replace("-", "_"): v for k, v in setting.items()}
            if "name" not in settings:
                raise ValueError("cookie dict needs a 'name' key")
            self.name = str(settings.pop("name"))
            attrs.update(settings)
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"invalid cookie name {self.name!r}: use letters, digits and -_.")
        for key, value in attrs.items():
            if isinstance(value, str) and _UNSAFE_VALUE.search(value):
                raise ValueError(f"invalid cookie {key} {value!r}: no ';' or control characters")
        self.attributes = attrs
        # The header is the same for every session but for the sid: built once per
        # security (http.cookies costs ~5% of a handshake), completed per session.
        self._templates = (self._template(False), self._template(True))

    def _template(self, secure_request: bool) -> tuple[str, str]:
        before, after = self._build(_MARKER, secure_request)[1].split(_MARKER, 1)
        return before, after

    def header(self, sid: str, secure_request: bool) -> tuple[str, str]:
        """The ``Set-Cookie`` header for session ``sid``."""
        if _PLAIN_SID.fullmatch(sid):
            before, after = self._templates[secure_request]
            return "Set-Cookie", before + sid + after
        return self._build(sid, secure_request)

    def _build(self, sid: str, secure_request: bool) -> tuple[str, str]:
        cookie: SimpleCookie = SimpleCookie()
        cookie[self.name] = sid
        morsel = cookie[self.name]
        for key, value in self.attributes.items():
            if key == "secure":
                if value or (value is None and secure_request):
                    morsel["secure"] = True
            elif key in ("httponly",):
                if value:
                    morsel["httponly"] = True
            elif value is not None and value is not False:
                morsel[key.replace("_", "-")] = str(value)
        return "Set-Cookie", morsel.OutputString()
