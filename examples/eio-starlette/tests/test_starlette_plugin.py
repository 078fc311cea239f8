"""The example plugin, as a user installed it (pip install examples/eio-starlette)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engineio_core.testing import check_mode

HERE = Path(__file__).resolve().parent


def test_passes_the_contract_suite() -> None:
    report = check_mode("starlette", serve="serve_starlette:serve", pythonpath=[str(HERE)])
    assert report.ok, report.text


def run(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip()


def test_discovered_and_selected_by_name_and_by_environment() -> None:
    code = (
        "import json, engineio_core;"
        "by_name = engineio_core.AsyncServer(async_mode='starlette');"
        "import os; os.environ['ENGINEIO_ASYNC_MODE'] = 'starlette';"
        "by_env = engineio_core.AsyncServer();"
        "print(json.dumps([by_name.async_mode, by_env.async_mode, by_env._mode.distribution]))"
    )
    assert json.loads(run(code)) == ["starlette", "starlette", "eio-starlette"]


def test_never_chosen_unless_asked_for() -> None:
    code = "import engineio_core; print(engineio_core.AsyncServer().async_mode)"
    assert run(code, ENGINEIO_ASYNC_MODE="") != "starlette"


def test_importing_the_plugin_does_not_import_starlette() -> None:
    code = (
        "import sys, eio_starlette;"
        "eio_starlette.eio_mode_info(); eio_starlette.eio_unavailable_reason();"
        "print('starlette' in sys.modules)"
    )
    assert run(code) == "False"


def test_listed_by_python_m_engineio_core() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engineio_core"], capture_output=True, text=True, timeout=60
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("starlette"))
    assert "eio-starlette" in line and "-50" in line
