"""eio-aiohttp passes the plugin contract suite (served by aiohttp.web.run_app)."""

from __future__ import annotations

from pathlib import Path

from engineio_core.testing import check_mode


def test_aiohttp_mode_passes_the_contract() -> None:
    here = str(Path(__file__).resolve().parent)
    report = check_mode("aiohttp", serve="serve_aiohttp:serve", pythonpath=[here])
    assert report.ok, report.text
