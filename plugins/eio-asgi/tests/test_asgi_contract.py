"""eio-asgi passes the plugin contract suite (served by uvicorn)."""

from __future__ import annotations

from engineio_core.testing import check_mode


def test_asgi_mode_passes_the_contract() -> None:
    report = check_mode("asgi", serve="tests.contract.serve_asgi:serve")
    assert report.ok, report.text
