"""Tools for testing engineio-core and its mode plugins.

* :func:`check_mode`: the contract suite every async-mode plugin runs
  against itself (see ``docs/writing-a-plugin.md``).
* :class:`RawEngineIOClient`: a blocking Engine.IO peer speaking the wire
  format directly.

Nothing here is loaded by pytest on its own: a project opts in by importing it.
"""

from engineio_core.testing.client import HTTPReply, RawEngineIOClient, RawWebSocket
from engineio_core.testing.contract import CheckResult, ContractReport, check_mode

__all__ = [
    "CheckResult",
    "ContractReport",
    "HTTPReply",
    "RawEngineIOClient",
    "RawWebSocket",
    "check_mode",
]
