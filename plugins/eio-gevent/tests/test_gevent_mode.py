"""eio-gevent: discovery without importing gevent (or uwsgi), availability of both
modes, and the gevent mode under the real gevent (in subprocesses: this process
must never import it)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from eio_gevent import gevent_mode, uwsgi_mode

from engineio_core.testing import check_mode

HERE = Path(__file__).resolve().parent
GREEN_LIBRARIES = ("eventlet", "gevent", "greenlet", "uwsgi")


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


def test_entry_modules_import_no_green_library() -> None:
    loaded = loaded_after(
        "from eio_gevent import gevent_mode, uwsgi_mode\n"
        "assert gevent_mode.eio_mode_info().name == 'gevent'\n"
        "assert gevent_mode.eio_unavailable_reason() is None\n"
        "assert uwsgi_mode.eio_mode_info().name == 'gevent_uwsgi'\n"
        "assert 'uWSGI' in uwsgi_mode.eio_unavailable_reason()"
    )
    assert loaded == dict.fromkeys(GREEN_LIBRARIES, False)


def test_listing_modes_imports_no_green_library() -> None:
    loaded = loaded_after(
        "from engineio_core.plugin.manager import format_modes_table\n"
        "table = format_modes_table()\n"
        "assert 'gevent_uwsgi' in table and 'gevent' in table"
    )
    assert loaded == dict.fromkeys(GREEN_LIBRARIES, False)


def test_entry_modules_import_fast() -> None:
    """The plugin's own cost, on top of the engineio-core it needs anyway."""
    seconds = float(
        run_python(
            "import time\nimport engineio_core.plugin.wsgi_mode\n"
            "start = time.perf_counter()\nfrom eio_gevent import gevent_mode, uwsgi_mode\n"
            "print(time.perf_counter() - start)"
        )
    )
    assert seconds < 0.1


def test_mode_info() -> None:
    infos = [gevent_mode.eio_mode_info(), uwsgi_mode.eio_mode_info()]
    assert [(i.name, i.family, i.rank, i.can_websocket, i.preemptive) for i in infos] == [
        ("gevent", "sync", 300, True, False),  # greenlets: the server takes no locks
        ("gevent_uwsgi", "sync", 350, True, False),
    ]


def test_gevent_unavailable_without_gevent(monkeypatch: pytest.MonkeyPatch) -> None:
    # importlib.util.find_spec answers None for a module set to None in sys.modules.
    monkeypatch.setitem(sys.modules, "gevent", None)
    reason = gevent_mode.eio_unavailable_reason()
    assert reason is not None and "pip install eio-gevent" in reason


def test_gevent_unavailable_once_eventlet_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eventlet", types.ModuleType("eventlet"))
    reason = gevent_mode.eio_unavailable_reason()
    assert reason is not None and "eventlet is already imported" in reason


def test_uwsgi_mode_unavailable_outside_uwsgi() -> None:
    reason = uwsgi_mode.eio_unavailable_reason()
    assert reason is not None
    assert "not running inside uWSGI" in reason and "--gevent" in reason


def fake_uwsgi(loop: bytes | None) -> types.ModuleType:
    module = types.ModuleType("uwsgi")
    module.loop = loop  # type: ignore[attr-defined]
    return module


def test_uwsgi_mode_needs_the_gevent_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uwsgi", fake_uwsgi(None))
    reason = uwsgi_mode.eio_unavailable_reason()
    assert reason is not None and "add --gevent" in reason
    monkeypatch.setitem(sys.modules, "uwsgi", fake_uwsgi(b"ugreen"))
    reason = uwsgi_mode.eio_unavailable_reason()
    assert reason is not None and "ugreen" in reason


def test_uwsgi_mode_available_in_uwsgi_with_gevent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uwsgi", fake_uwsgi(b"gevent"))
    assert uwsgi_mode.eio_unavailable_reason() is None
    monkeypatch.setitem(sys.modules, "gevent", None)  # gevent missing after all
    reason = uwsgi_mode.eio_unavailable_reason()
    assert reason is not None and "pip install eio-gevent" in reason


def test_ranking_inside_uwsgi() -> None:
    """In uWSGI's gevent loop (gevent imported), gevent_uwsgi wins; eventlet steps aside."""
    chosen = run_python(
        "import sys, types\n"
        "uwsgi = types.ModuleType('uwsgi'); uwsgi.loop = b'gevent'; sys.modules['uwsgi'] = uwsgi\n"
        "import gevent\n"
        "from engineio_core.plugin.manager import select_async_mode\n"
        "print(select_async_mode('sync').name)"
    )
    assert chosen == "gevent_uwsgi"


def test_ranking_under_a_gevent_server() -> None:
    """gevent already imported (gunicorn -k gevent, say): gevent, not eventlet."""
    chosen = run_python(
        "import gevent\n"
        "from engineio_core.plugin.manager import select_async_mode\n"
        "print(select_async_mode('sync').name)"
    )
    assert chosen == "gevent"


@pytest.mark.parametrize(
    "check",
    [
        "primitives",
        "websocket",
        "oversize",
        "gunicorn",
        "gevent-websocket",
        "refusal",
        "uwsgi-can-upgrade",
        "pywsgi-no-delay",
        "try-send-raw",
        "pooled-greenlets",
    ],
)
def test_under_real_gevent(check: str) -> None:
    """See gevent_checks.py: each check runs in its own unpatched gevent process."""
    out = subprocess.run(
        [sys.executable, str(HERE / "gevent_checks.py"), check],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr


def test_gevent_mode_passes_the_contract() -> None:
    report = check_mode("gevent", serve="serve_gevent:serve", pythonpath=[str(HERE)])
    assert report.ok, report.text
