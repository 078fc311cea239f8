"""The built-in threading mode passes the plugin contract suite."""

from __future__ import annotations

from engineio_core.testing import check_mode


def test_threading_mode_passes_the_contract() -> None:
    report = check_mode("threading", serve="tests.contract.serve_threading:serve")
    assert report.ok, report.text
    print(report.text)


def test_the_contract_catches_a_broken_translation() -> None:
    report = check_mode("broken_threading", serve="tests.contract.broken_mode:serve")
    assert not report.ok
    failed = [r.name for r in report.results if not r.ok]
    assert failed == ["request translation"], report.text
    assert "repeated and blank keys" in report.text
