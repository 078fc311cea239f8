"""What a real, fresh install of a set of distributions selects.

The issue: "installing only engineio-core + eio-asgi makes AsyncServer() pick
asgi, and installing aiohttp alone (without eio-aiohttp) never changes the
chosen mode"; and for sync: "only installed plugin distributions count".

One virtual environment, built once per session in pytest's temporary
directory: engineio-core and eio-asgi from this checkout (wheels built from
copies of their sources, so the checkout is not written to) with their
dependencies, probed; then the aiohttp and eventlet libraries from the package
index, without their plugins eio-aiohttp and eio-eventlet, probed again. The
probe (tests/install_probe.py) and ``python -m engineio_core`` run in that
environment's interpreter in isolated mode (``-I``): neither this checkout nor
this test environment is on their ``sys.path``.

Needs the package index (PyPI, or whatever pip is configured to use) for the
dependencies; about 15 s when the index is near.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(300)  # the first test also builds the environment

ROOT = Path(__file__).parent.parent
PROBE = Path(__file__).parent / "install_probe.py"
PIP_TIMEOUT = 240
PIP_FLAGS = ("--disable-pip-version-check", "--no-input", "-q")
#: The libraries installed without their plugins.
LIBRARIES = ("aiohttp", "eventlet")
#: What a subprocess must not inherit from the test run.
SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "ENGINEIO_ASYNC_MODE",
    "ENGINEIO_DISABLED_PLUGINS",
)


def _environ(**env: str) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    environ.update(env)
    return environ


def _run(what: str, command: list[str], timeout: float, **kwargs: Any) -> str:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout} s: {' '.join(command)}")
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit status {result.returncode}): {' '.join(command)}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _can_build_here() -> bool:
    """Whether this environment's setuptools builds the projects (PEP 639
    ``license = "MIT"`` needs setuptools 77); if not, pip builds them in an
    isolated environment with a setuptools from the index."""
    try:
        major = importlib.metadata.version("setuptools").split(".")[0]
    except importlib.metadata.PackageNotFoundError:
        return False
    return major.isdigit() and int(major) >= 77


@dataclass
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def pip_install(self, *requirements: str) -> None:
        command = [sys.executable, "-m", "pip", "--python", str(self.python), "install"]
        _run(
            f"pip install {' '.join(requirements)}",
            [*command, *PIP_FLAGS, *requirements],
            PIP_TIMEOUT,
            env=_environ(),
        )

    def python_run(self, *args: str, **env: str) -> str:
        return _run(
            f"{self.python} {' '.join(args)}",
            [str(self.python), "-I", *args],
            60,
            env=_environ(**env),
            cwd=self.root,
        )

    def probe(self, **env: str) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.python_run(str(PROBE), **env))
        return report

    def main(self, **env: str) -> list[str]:
        """``python -m engineio_core``, by line."""
        return self.python_run("-m", "engineio_core", **env).splitlines()


@dataclass
class InstallSet:
    venv: Venv
    #: engineio-core and eio-asgi only.
    before: dict[str, Any]
    before_main: list[str]
    #: ... and the libraries, not their plugins.
    after: dict[str, Any]
    after_main: list[str]


def _build_wheels(work: Path) -> list[Path]:
    """Wheels of engineio-core and eio-asgi, built from copies of their sources."""
    ignore = shutil.ignore_patterns(
        ".*", "__pycache__", "*.egg-info", "build", "dist", "node_modules", "tests",
        "plugins", "examples",
    )  # fmt: skip
    sources = [work / "src" / "engineio-core", work / "src" / "eio-asgi"]
    shutil.copytree(ROOT, sources[0], ignore=ignore)
    shutil.copytree(ROOT / "plugins" / "eio-asgi", sources[1], ignore=ignore)
    wheelhouse = work / "wheels"
    isolation = ["--no-build-isolation"] if _can_build_here() else []
    _run(
        "building the wheels of engineio-core and eio-asgi",
        [
            sys.executable, "-m", "pip", "wheel", *PIP_FLAGS, "--no-deps", *isolation,
            "-w", str(wheelhouse), *map(str, sources),
        ],
        PIP_TIMEOUT,
        env=_environ(),
    )  # fmt: skip
    wheels = sorted(wheelhouse.glob("*.whl"))
    assert [wheel.name.split("-")[0] for wheel in wheels] == ["eio_asgi", "engineio_core"]
    return wheels


@pytest.fixture(scope="session")
def install_set(tmp_path_factory: pytest.TempPathFactory) -> InstallSet:
    work = tmp_path_factory.mktemp("install_sets")
    wheels = _build_wheels(work)
    venv = Venv(work / "venv")
    _run(
        "creating a virtual environment",
        [sys.executable, "-m", "venv", "--without-pip", str(venv.root)],
        60,
        env=_environ(),
    )
    venv.pip_install(*map(str, wheels))
    before, before_main = venv.probe(), venv.main()
    venv.pip_install(*LIBRARIES)
    return InstallSet(venv, before, before_main, venv.probe(), venv.main())


def _table(lines: list[str]) -> list[str]:
    """The table of ``python -m engineio_core``: from its header to the first blank line."""
    start = next(i for i, line in enumerate(lines) if line.startswith("mode "))
    end = lines.index("", start)
    return lines[start:end]


# -- what is installed ---------------------------------------------------------------


def test_the_environment_holds_the_install_set(install_set: InstallSet) -> None:
    venv = install_set.venv.root.resolve()
    core_version = importlib.metadata.version("engineio-core")
    for report, libraries in ((install_set.before, False), (install_set.after, True)):
        # The installed copy, not this checkout.
        assert Path(report["engineio_core"]).resolve().is_relative_to(venv)
        versions = report["versions"]
        assert versions["engineio-core"] == core_version
        assert versions["eio-asgi"] is not None
        assert versions["pluggy"] is not None
        assert versions["wsproto"] is not None
        for library in LIBRARIES:
            assert (versions[library] is not None) is libraries, library
        assert versions["eio-aiohttp"] is None
        assert versions["eio-eventlet"] is None
        assert report["imported"] == (list(LIBRARIES) if libraries else [])
        assert report["entry_points"] == [
            ["asgi", "eio_asgi", "eio-asgi"],
            ["threading", "engineio_core.plugin.threading_mode", "engineio-core"],
        ]


# -- engineio-core + eio-asgi ---------------------------------------------------------


def test_async_server_picks_asgi_and_server_threading(install_set: InstallSet) -> None:
    for report in (install_set.before, install_set.after):
        assert report["AsyncServer"] == {"mode": "asgi"}
        assert report["Server"] == {"mode": "threading"}
        assert report["selects"]["asyncio"] == {"mode": "asgi", "source": "rank", "notes": []}
        assert report["selects"]["sync"] == {"mode": "threading", "source": "rank", "notes": []}


def test_python_m_engineio_core_lists_threading_and_asgi(install_set: InstallSet) -> None:
    lines = install_set.after_main
    core = f"engineio-core {install_set.after['versions']['engineio-core']}"
    asgi = f"eio-asgi {install_set.after['versions']['eio-asgi']}"
    width = max(len(core), len(asgi), len("distribution"))
    assert lines[0] == "engineio-core async modes (entry-point group engineio_core.async_modes)"
    assert _table(lines) == [
        f"mode       family   rank  {'distribution'.ljust(width)}  available",
        f"threading  sync        0  {core.ljust(width)}  yes  <- Server default",
        f"asgi       asyncio     0  {asgi.ljust(width)}  yes  <- AsyncServer default",
    ]
    assert (
        "Not installed: eventlet (eio-eventlet), gevent_uwsgi (eio-gevent), gevent (eio-gevent), "
        "aiohttp (eio-aiohttp), sanic (eio-sanic), tornado (eio-tornado)"
    ) in lines
    assert lines[-3:] == [
        "ENGINEIO_ASYNC_MODE is not set",
        "Server (sync) selects: threading (by rank)",
        "AsyncServer (asyncio) selects: asgi (by rank)",
    ]
    assert not any(line.startswith(("Plugins that failed", "Disabled by")) for line in lines)


# -- + aiohttp and eventlet, without eio-aiohttp and eio-eventlet ------------------------------


def test_libraries_without_their_plugins_change_nothing(install_set: InstallSet) -> None:
    before, after = install_set.before, install_set.after
    for key in ("Server", "AsyncServer", "selects", "modes", "entry_points"):
        assert after[key] == before[key], key
    assert install_set.after_main == install_set.before_main
    assert {mode["name"] for mode in after["modes"]} == {"threading", "asgi"}


def test_a_library_is_not_a_mode(install_set: InstallSet) -> None:
    selects = install_set.after["selects"]
    assert selects["aiohttp"] == {
        "error": "AsyncModeNotInstalled",
        "message": "async mode 'aiohttp' is not installed: pip install eio-aiohttp; "
        "installed: threading, asgi",
    }
    assert selects["eventlet"] == {
        "error": "AsyncModeNotInstalled",
        "message": "async mode 'eventlet' is not installed: pip install eio-eventlet; "
        "installed: threading, asgi",
    }


def test_environment_naming_aiohttp(install_set: InstallSet) -> None:
    report = install_set.venv.probe(ENGINEIO_ASYNC_MODE="aiohttp")
    message = (
        "async mode 'aiohttp' (from ENGINEIO_ASYNC_MODE) is not installed: "
        "pip install eio-aiohttp; installed: threading, asgi"
    )
    assert report["AsyncServer"] == {"error": "AsyncModeNotInstalled", "message": message}
    # An asyncio mode named for the process does not concern Server.
    assert report["Server"] == {"mode": "threading"}
    assert report["selects"]["sync"]["notes"] == [
        "ENGINEIO_ASYNC_MODE=aiohttp ignored: aiohttp is an asyncio mode and Server runs sync modes"
    ]
    lines = install_set.venv.main(ENGINEIO_ASYNC_MODE="aiohttp")
    assert f"AsyncServer (asyncio) selects nothing: AsyncModeNotInstalled: {message}" in lines


def test_environment_naming_eventlet(install_set: InstallSet) -> None:
    report = install_set.venv.probe(ENGINEIO_ASYNC_MODE="eventlet")
    assert report["Server"] == {
        "error": "AsyncModeNotInstalled",
        "message": "async mode 'eventlet' (from ENGINEIO_ASYNC_MODE) is not installed: "
        "pip install eio-eventlet; installed: threading, asgi",
    }
    assert report["AsyncServer"] == {"mode": "asgi"}
