"""The frozen-app recipe: with entry points invisible, register_mode makes modes usable.

PyInstaller and similar freezers copy packages without their ``.dist-info``
metadata, so entry points vanish. This test builds such a tree (packages
copied, no metadata) and runs Python on it with site-packages off.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = ["engineio_core", "eio_asgi", "pluggy", "wsproto", "h11"]


@pytest.fixture(scope="module")
def frozen_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frozen")
    for name in PACKAGES:
        source = Path(importlib.import_module(name).__file__ or "").parent
        shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_frozen(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(root)},
        cwd=root,
    )


def test_entry_points_are_invisible_there(frozen_tree: Path) -> None:
    result = run_frozen(
        frozen_tree,
        "import engineio_core\n"
        "print(engineio_core.Server().async_mode)\n"
        "try:\n"
        "    engineio_core.AsyncServer(async_mode='asgi')\n"
        "except engineio_core.AsyncModeNotInstalled as exc:\n"
        "    print('not installed:', exc)\n",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The built-in threading mode is registered directly, even when frozen.
    assert lines[0] == "threading"
    assert lines[1].startswith("not installed:") and "pip install eio-asgi" in lines[1]


def test_register_mode_makes_a_frozen_mode_selectable(frozen_tree: Path) -> None:
    result = run_frozen(
        frozen_tree,
        "import engineio_core, eio_asgi\n"
        "engineio_core.register_mode(eio_asgi)\n"
        "print(engineio_core.AsyncServer(async_mode='asgi').async_mode)\n"
        "print(engineio_core.AsyncServer().async_mode)\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["asgi", "asgi"]
