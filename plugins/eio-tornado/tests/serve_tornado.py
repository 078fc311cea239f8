"""How the contract suite serves the tornado mode: get_tornado_handler in an app, app.listen."""

from __future__ import annotations

import asyncio
from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    import tornado.web
    from eio_tornado import get_tornado_handler

    async def main() -> None:
        app = tornado.web.Application([(r"/engine\.io/?", get_tornado_handler(server))])
        app.listen(port, address=host)
        await asyncio.Event().wait()

    asyncio.run(main())
