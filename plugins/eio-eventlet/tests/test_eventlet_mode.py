"""eio-eventlet: discovery without importing eventlet, availability, and the mode
under the real eventlet (in subprocesses: this process must never import it)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import eio_eventlet
import pytest

from engineio_core.testing import check_mode

HERE = Path(__file__).resolve().parent
GREEN_LIBRARIES = ("eventlet", "gevent", "greenlet")


def run_python(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def loaded_after(code: str) -> dict[str, bool]:
    probe = f"print(json.dumps({{m: m in sys.modules for m in {GREEN_LIBRARIES!r}}}))"
    result: dict[str, bool] = json.loads(run_python(f"import json, sys\n{code}\n{probe}"))
    return result


def test_this_process_has_no_green_library() -> None:
    assert not [m for m in GREEN_LIBRARIES if m in sys.modules]


def test_entry_module_imports_no_green_library() -> None:
    loaded = loaded_after(
        "import eio_eventlet\n"
        "assert eio_eventlet.eio_mode_info().name == 'eventlet'\n"
        "assert eio_eventlet.eio_unavailable_reason() is None"
    )
    assert loaded == dict.fromkeys(GREEN_LIBRARIES, False)


def test_listing_and_selecting_modes_imports_no_green_library() -> None:
    loaded = loaded_after(
        "from engineio_core.plugin.manager import format_modes_table\n"
        "table = format_modes_table()\n"
        "assert 'eventlet' in table and 'gevent' in table"
    )
    assert loaded == dict.fromkeys(GREEN_LIBRARIES, False)


def test_entry_module_imports_fast() -> None:
    """The plugin's own cost, on top of the engineio-core it needs anyway."""
    seconds = float(
        run_python(
            "import time\nimport engineio_core.plugin.wsgi_mode\n"
            "start = time.perf_counter()\nimport eio_eventlet\n"
            "print(time.perf_counter() - start)"
        )
    )
    assert seconds < 0.1


def test_mode_info() -> None:
    info = eio_eventlet.eio_mode_info()
    assert (info.name, info.family, info.rank, info.can_websocket, info.preemptive) == (
        "eventlet",
        "sync",
        400,
        True,
        False,  # greenlets: the server takes no locks
    )


def test_unavailable_without_eventlet(monkeypatch: pytest.MonkeyPatch) -> None:
    # importlib.util.find_spec answers None for a module set to None in sys.modules.
    monkeypatch.setitem(sys.modules, "eventlet", None)
    reason = eio_eventlet.eio_unavailable_reason()
    assert reason is not None and "pip install eio-eventlet" in reason


def test_unavailable_once_gevent_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gevent", types.ModuleType("gevent"))
    reason = eio_eventlet.eio_unavailable_reason()
    assert reason is not None and "gevent is already imported" in reason


def test_selected_by_rank_over_threading_but_never_beside_gevent() -> None:
    chosen = run_python(
        "import engineio_core\nprint(engineio_core.Server().async_mode)",
    )
    assert chosen == "eventlet"
    beside_gevent = run_python(
        "import sys, types\n"
        "sys.modules['gevent'] = types.ModuleType('gevent')\n"
        "from engineio_core.plugin.manager import select_async_mode\n"
        "print(select_async_mode('sync').name)"
    )
    assert beside_gevent != "eventlet"


@pytest.mark.parametrize(
    "check", ["primitives", "websocket", "oversize", "gunicorn", "pooled-greenlets"]
)
def test_under_real_eventlet(check: str) -> None:
    """See eventlet_checks.py: each check runs in its own unpatched eventlet process."""
    out = subprocess.run(
        [sys.executable, "-W", "ignore", str(HERE / "eventlet_checks.py"), check],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr


def test_eventlet_mode_passes_the_contract() -> None:
    report = check_mode("eventlet", serve="serve_eventlet:serve", pythonpath=[str(HERE)])
    assert report.ok, report.text
