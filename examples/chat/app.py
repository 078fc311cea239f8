"""A small chat room: Flask serves the page, engineio-core carries the messages.

Run it with ``./scripts/demo`` (or ``python examples/chat/app.py`` once the
project and ``npm ci --prefix examples/chat`` are installed), then open
http://127.0.0.1:5000/ in two browser tabs.

It runs on the default sync mode (``threading`` unless you installed a
greenlet mode) under Flask's threaded development server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import Flask, send_from_directory

import engineio_core

HERE = Path(__file__).resolve().parent
CLIENT_DIST = HERE / "node_modules" / "engine.io-client" / "dist"

eio = engineio_core.Server(logger=True)
flask_app = Flask(__name__)
names: dict[str, str] = {}


@flask_app.route("/")
def index() -> Any:
    return send_from_directory(HERE, "index.html")


@flask_app.route("/engine.io.min.js")
def client_library() -> Any:
    return send_from_directory(CLIENT_DIST, "engine.io.min.js", mimetype="text/javascript")


def broadcast(event: dict[str, Any]) -> None:
    text = json.dumps(event)
    for sid in list(names):
        eio.send(sid, text)  # a sid that just left is skipped with a log line


@eio.on("connect")
def connect(sid: str, environ: dict[str, Any]) -> None:
    names[sid] = f"guest-{sid[:4]}"
    eio.send(sid, json.dumps({"type": "welcome", "name": names[sid], "online": len(names)}))
    broadcast({"type": "joined", "name": names[sid], "online": len(names)})


@eio.on("message")
def message(sid: str, data: Any) -> None:
    if isinstance(data, dict) and data.get("type") == "say":
        text = str(data.get("text", ""))[:500]
        transport = eio.transport(sid)
        broadcast({"type": "said", "name": names.get(sid, "?"), "text": text, "via": transport})


@eio.on("disconnect")
def disconnect(sid: str, reason: str) -> None:
    name = names.pop(sid, "?")
    broadcast({"type": "left", "name": name, "reason": str(reason), "online": len(names)})


app = engineio_core.WSGIApp(eio, flask_app.wsgi_app)

if __name__ == "__main__":
    if not CLIENT_DIST.is_dir():
        raise SystemExit("run `npm ci --prefix examples/chat` first (or use ./scripts/demo)")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"chat demo on http://{host}:{port}/ (async mode: {eio.async_mode})", flush=True)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True)
