"""WSGI app for gunicorn's gthread worker: ``BENCH_IMPL`` core, pyeio or plain."""

from __future__ import annotations

import os
from typing import Any

app: Any
if os.environ.get("BENCH_IMPL") == "plain":
    from wsproto_echo import echo_app

    app = echo_app
else:
    from bench_app import wsgi_app

    app = wsgi_app("threading")
