"""How the asgi mode is served for the contract suite: uvicorn."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    import uvicorn
    from eio_asgi import ASGIApp

    uvicorn.run(ASGIApp(server), host=host, port=port, log_level="warning")
