"""Exceptions users of engineio-core may catch or raise."""

from __future__ import annotations

__all__ = [
    "AsyncModeError",
    "AsyncModeNotInstalled",
    "AsyncModeUnavailable",
    "AsyncModeWrongFamily",
    "ConnectionRefusedError",
    "EngineIOError",
    "PluginError",
    "SessionNotFound",
]


class EngineIOError(Exception):
    """Base class of every engineio-core exception."""


class AsyncModeError(EngineIOError, ValueError):
    """The async mode asked for cannot be used.

    A ``ValueError`` too, as python-engineio raised ``ValueError`` for an
    invalid ``async_mode``.
    """


class AsyncModeNotInstalled(AsyncModeError):
    """No installed plugin provides the mode asked for."""


class AsyncModeUnavailable(AsyncModeError):
    """The mode's plugin is installed but cannot run in this process."""


class AsyncModeWrongFamily(AsyncModeError):
    """A sync mode was asked of ``AsyncServer``, or an asyncio one of ``Server``."""


class PluginError(EngineIOError):
    """A mode plugin is broken: it failed to import or lacks a required hook."""


class SessionNotFound(EngineIOError, KeyError):
    """No session has this sid (it never existed or has closed)."""


class ConnectionRefusedError(EngineIOError):
    """Raise from a ``connect`` handler to refuse a client with a message.

    The client gets HTTP 401 with ``{"message": <first argument>}``.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.error_args = {"message": str(args[0]) if args else "Unauthorized"}
