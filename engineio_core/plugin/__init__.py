"""Async-mode plugins: the hook specs, the registry and the built-in threading mode."""

from __future__ import annotations

from engineio_core.plugin.manager import register_mode

__all__ = ["register_mode"]
