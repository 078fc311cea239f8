"""eio-tornado passes the plugin contract suite (served by tornado's own HTTP server)."""

from __future__ import annotations

from pathlib import Path

from engineio_core.testing import check_mode


def test_tornado_mode_passes_the_contract() -> None:
    here = str(Path(__file__).resolve().parent)
    report = check_mode("tornado", serve="serve_tornado:serve", pythonpath=[here])
    assert report.ok, report.text
