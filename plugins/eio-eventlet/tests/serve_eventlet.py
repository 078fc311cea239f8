"""How the contract suite serves the eventlet mode: eventlet.wsgi.server, unpatched."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    import eventlet
    import eventlet.wsgi

    import engineio_core

    listener = eventlet.listen((host, port))
    eventlet.wsgi.server(listener, engineio_core.WSGIApp(server), log_output=False)
