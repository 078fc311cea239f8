"""The core on the other Pythons we support: 3.10 (the lowest), 3.12 (where
asyncio has eager tasks, which AsyncServer uses instead of its own eager start)
and 3.13 (the newest here).

scripts/setup makes ``.venv-py310``, ``.venv-py312`` and ``.venv-py313`` where pyenv has those
interpreters; this runs the unit tests, the in-process scenarios and the ASGI
app's tests there, and the SIGTERM test of the ASGI servers, in a subprocess.
"""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITES = [
    "tests/unit",
    "tests/scenarios",
    "plugins/eio-asgi/tests/test_asgi_app.py",
    "plugins/eio-asgi/tests/test_asgi_websocket_writes.py",
    # The ASGI servers' stop, which moved with asyncio in 3.12 (Server.wait_closed).
    *(
        f"tests/reliability/test_sigterm.py::test_sigterm_closes_sessions_and_exits[{name}]"
        for name in ("uvicorn", "hypercorn", "hypercorn-workers-0", "daphne")
    ),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_suites_pass_on(version: str) -> None:
    python = ROOT / f".venv-py{version.replace('.', '')}" / "bin" / "python"
    if not python.exists():
        if glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python") and os.environ.get("CI"):
            pytest.fail(f"Python {version} is on this machine but scripts/setup made no venv")
        pytest.skip(f"no Python {version} here")
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
