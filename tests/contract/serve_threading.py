"""How the threading mode is served for the contract suite: werkzeug, threaded."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    import engineio_core

    run_simple(host, port, engineio_core.WSGIApp(server), threaded=True)
