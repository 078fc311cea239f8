"""The plugin author's guide covers every hook and the names it promises."""

from __future__ import annotations

import inspect
from pathlib import Path

from engineio_core.plugin import hookspecs

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "writing-a-plugin.md").read_text()


def test_guide_names_every_hook() -> None:
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)]
    hooks = [name for name in hooks if name.startswith("eio_")]
    assert len(hooks) >= 12
    missing = [name for name in hooks if f"`{name}(" not in GUIDE]
    assert not missing, f"docs/writing-a-plugin.md does not document {missing}"


def test_guide_states_the_entry_point_group_and_environment_variables() -> None:
    from engineio_core.plugin import ENTRY_POINT_GROUP
    from engineio_core.plugin.manager import ASYNC_MODE_ENV, DISABLED_PLUGINS_ENV

    for name in (ENTRY_POINT_GROUP, ASYNC_MODE_ENV, DISABLED_PLUGINS_ENV, "check_mode"):
        assert name in GUIDE
