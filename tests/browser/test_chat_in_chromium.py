"""The demo page in a real browser: headless Chromium, driven by playwright-core.

Both chats run: the sync demo (examples/chat/app.py: Flask on werkzeug, the
threading mode, what ./scripts/demo starts) and the asyncio one
(examples/chat/asgi_app.py under uvicorn). The page loads engine.io-client
from the npm package, upgrades to WebSocket, sends a message through its form
and shows the server's broadcast.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import run_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


APPS = {
    # The test venv has every plugin; the demo's own venv has only the core, where the
    # default sync mode is threading: say so explicitly here.
    "sync-demo": (
        [sys.executable, "examples/chat/app.py"],
        {"ENGINEIO_ASYNC_MODE": "threading", "HOST": "127.0.0.1"},
    ),
    "asgi-uvicorn": (
        [sys.executable, "-m", "uvicorn", "examples.chat.asgi_app:app",
         "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning"],
        {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("app", sorted(APPS))
def test_chat_page_upgrades_and_echoes_in_chromium(tmp_path: Path, app: str) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        why = f"{CHROMIUM} or node missing (./scripts/setup installs Debian's chromium)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(why)
    assert (ROOT / "examples" / "chat" / "node_modules").is_dir(), "npm ci --prefix examples/chat"
    argv, env = APPS[app]
    with run_server(argv, env=env, cwd=ROOT) as (url, proc):
        shot = Path(os.environ.get("CHAT_SCREENSHOT_DIR", tmp_path)) / f"chat-{app}.png"
        result = subprocess.run(
            ["node", str(ROOT / "tests" / "js" / "browser_chat.mjs"), url + "/", str(shot)],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{proc.output()}"
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["transport"] == "(websocket)"
    assert any(line.endswith(": hello from chromium") for line in report["log"])
    assert shot.stat().st_size > 1000
