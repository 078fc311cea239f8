"""How the contract suite serves the sanic mode: eio.attach on a Sanic app, single process."""

from __future__ import annotations

from typing import Any


def serve(server: Any, host: str, port: int) -> None:
    from sanic import Sanic

    app = Sanic("engineio_contract")
    server.attach(app)
    app.run(host=host, port=port, single_process=True, motd=False, access_log=False)
