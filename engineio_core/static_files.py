"""Map request paths to static files, for ``WSGIApp`` and ``ASGIApp``.

``static_files`` maps a URL path to what to serve there:

* a file name: ``{'/': 'index.html'}``;
* a dict: ``{'/': {'filename': 'index.html', 'content_type': 'text/html'}}``;
* a directory: ``{'/static': './public'}`` serves ``/static/app.js`` from
  ``./public/app.js`` (and ``/static/`` from its ``index.html``).

The longest matching prefix wins. Paths that climb out of a directory
(``..``) are never served. Content types come from the file name unless
given.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["StaticFile", "resolve_static"]


@dataclass(frozen=True, slots=True)
class StaticFile:
    filename: str
    content_type: str


def _content_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json"):
        return guessed + "; charset=utf-8"
    return guessed


def resolve_static(path: str, static_files: Mapping[str, Any] | None) -> StaticFile | None:
    """The file to serve for ``path``, or None."""
    if not static_files:
        return None
    for prefix in sorted(static_files, key=len, reverse=True):
        target = static_files[prefix]
        if isinstance(target, Mapping):
            if path == prefix and "filename" in target:
                filename = str(target["filename"])
                ctype = target.get("content_type") or _content_type(filename)
                return StaticFile(filename, str(ctype))
            continue
        target = os.fspath(target)
        if path == prefix and not os.path.isdir(target):
            return StaticFile(target, _content_type(target))
        base = prefix.rstrip("/")
        if os.path.isdir(target) and (path == prefix or path.startswith(base + "/")):
            rest = path[len(base) :].lstrip("/") or "index.html"
            if rest.endswith("/"):
                rest += "index.html"
            root = os.path.realpath(target)
            filename = os.path.realpath(os.path.join(root, *rest.split("/")))
            if not filename.startswith(root + os.sep) or not os.path.isfile(filename):
                return None
            return StaticFile(filename, _content_type(filename))
    return None
