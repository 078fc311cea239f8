"""Tag the engine.io server's log lines in the reliability suite's server processes.

The reliability tests put this directory first on the servers' PYTHONPATH, so
Python imports this module at start-up, before any server or framework
configures logging. Every record of the ``engineio_core`` loggers then goes
to stderr as one line ``[engineio] LEVEL message`` (and nowhere else),
whatever the framework does with the root logger, so a test can count
exactly the lines the core wrote for one request. Having a handler already,
``Server(logger=True)`` adds none of its own.
"""

import logging
import sys

_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("[engineio] %(levelname)s %(message)s"))
for _name in ("engineio_core", "engineio_core.server"):
    _logger = logging.getLogger(_name)
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False
