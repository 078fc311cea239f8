"""gevent_uwsgi passes the plugin contract suite, inside a real uWSGI process.

The mode exists only inside uWSGI, so the contract server runs as uWSGI's
app (engineio_core.testing.embedded) rather than from its own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engineio_core.testing import check_mode

UWSGI = Path(sys.executable).parent / "uwsgi"


def test_gevent_uwsgi_mode_passes_the_contract() -> None:
    assert UWSGI.exists(), "uWSGI is not installed in this venv (./scripts/setup installs it)"
    command = [
        str(UWSGI), "--http", "127.0.0.1:{port}", "--gevent", "100", "--http-websockets",
        "--module", "engineio_core.testing.embedded:app", "--die-on-term",
        "--virtualenv", sys.prefix, "--disable-logging",
    ]  # fmt: skip
    report = check_mode("gevent_uwsgi", command=command)
    assert report.ok, report.text
