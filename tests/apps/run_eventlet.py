"""The sync echo app (tests/apps/echo_app.py) on ``eventlet.wsgi.server``.

Run: ``ENGINEIO_TEST_OPTIONS='{"async_mode": "eventlet"}' python -m tests.apps.run_eventlet PORT``.

No monkey-patching: the eventlet mode waits through eventlet's hub by itself,
and an unpatched process is the stricter test (a stray blocking call would
stall every client). gunicorn's eventlet worker covers the patched case.
"""

from __future__ import annotations

import sys

import eventlet
import eventlet.wsgi

from tests.apps.echo_app import app


def main(port: int) -> None:
    listener = eventlet.listen(("127.0.0.1", port))
    eventlet.wsgi.server(listener, app, log_output=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
