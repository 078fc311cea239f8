"""How the contract suite serves the gevent mode: gevent.pywsgi, unpatched, no handler."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    from gevent.pywsgi import WSGIServer

    import engineio_core

    WSGIServer((host, port), engineio_core.WSGIApp(server), log=None).serve_forever()
