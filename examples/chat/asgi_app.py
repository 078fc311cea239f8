"""The chat demo on asyncio: the same page, served by ASGIApp under any ASGI server.

    pip install engineio-core eio-asgi uvicorn
    npm ci --prefix examples/chat
    uvicorn examples.chat.asgi_app:app --port 5000     # from the repository root

Then open http://127.0.0.1:5000/ in two tabs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import engineio_core

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "node_modules" / "engine.io-client" / "dist" / "engine.io.min.js"

eio = engineio_core.AsyncServer(async_mode="asgi")
names: dict[str, str] = {}


async def broadcast(event: dict[str, Any]) -> None:
    text = json.dumps(event)
    for sid in list(names):
        await eio.send(sid, text)


@eio.on("connect")
async def connect(sid: str, environ: dict[str, Any]) -> None:
    names[sid] = f"guest-{sid[:4]}"
    await eio.send(sid, json.dumps({"type": "welcome", "name": names[sid], "online": len(names)}))
    await broadcast({"type": "joined", "name": names[sid], "online": len(names)})


@eio.on("message")
async def message(sid: str, data: Any) -> None:
    if isinstance(data, dict) and data.get("type") == "say":
        text = str(data.get("text", ""))[:500]
        await broadcast(
            {"type": "said", "name": names.get(sid, "?"), "text": text, "via": eio.transport(sid)}
        )


@eio.on("disconnect")
async def disconnect(sid: str, reason: str) -> None:
    name = names.pop(sid, "?")
    await broadcast({"type": "left", "name": name, "reason": str(reason), "online": len(names)})


app = engineio_core.ASGIApp(
    eio,
    static_files={
        "/": str(HERE / "index.html"),
        "/engine.io.min.js": {"filename": str(CLIENT), "content_type": "text/javascript"},
    },
)
