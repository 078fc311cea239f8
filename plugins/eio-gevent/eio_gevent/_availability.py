"""Cheap checks shared by both modes: no gevent import here."""

from __future__ import annotations

import sys
from importlib.util import find_spec

__all__ = ["gevent_problem"]


def gevent_problem() -> str | None:
    """Why gevent cannot run in this process, or None."""
    if "eventlet" in sys.modules:
        # Both replace the same parts of the standard library with their own
        # loops; a process runs on one of them.
        return "eventlet is already imported in this process: use the eventlet mode here"
    if find_spec("gevent") is None:
        return "gevent is not installed: pip install eio-gevent"
    return None
