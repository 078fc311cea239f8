"""How the contract suite serves the starlette mode: a Starlette app under uvicorn."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("the app's own route")

    app = Starlette(routes=[Route("/", home)])
    server.attach(app)
    uvicorn.run(app, host=host, port=port, log_level="warning")
