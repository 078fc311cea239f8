"""The contract server as a WSGI app, for servers that import the app themselves.

Some modes only exist inside their server's process (``gevent_uwsgi`` needs
uWSGI's embedded ``uwsgi`` module), so ``python -m engineio_core.testing``
cannot start them. Point the server at this module instead and name the mode
in ``ENGINEIO_CONTRACT_MODE``; :func:`~engineio_core.testing.check_mode`
does this when given ``command=``::

    check_mode("gevent_uwsgi", command=["uwsgi", "--http", "127.0.0.1:{port}",
               "--gevent", "100", "--http-websockets",
               "--module", "engineio_core.testing.embedded:app"])

The primitive checks run when the server imports the module, before it serves.
"""

from __future__ import annotations

import os

import engineio_core
from engineio_core.testing.contract_server import prepare

app = engineio_core.WSGIApp(prepare(os.environ["ENGINEIO_CONTRACT_MODE"]))
