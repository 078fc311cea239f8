"""eio-sanic passes the plugin contract suite (a Sanic app, single process)."""

from __future__ import annotations

from pathlib import Path

from engineio_core.testing import check_mode


def test_sanic_mode_passes_the_contract() -> None:
    here = str(Path(__file__).resolve().parent)
    report = check_mode("sanic", serve="serve_sanic:serve", pythonpath=[here])
    assert report.ok, report.text
