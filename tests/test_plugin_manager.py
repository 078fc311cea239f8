"""The mode registry: discovery, checks, selection, errors and the report.

Fake plugins are real installed distributions: each test writes a
``<name>-<version>.dist-info`` (METADATA and entry_points.txt) and the plugin
module into its own directory on ``sys.path``, where importlib.metadata finds
them like any installed package.

So that the results do not depend on which real mode plugins are installed
(eio-asgi, eio-gevent, ...), most tests put their fakes under a private
entry-point group, :data:`GROUP`, and select with ``ModeRegistry(group=GROUP)``.
No real plugin is in that group, and neither is the core's own entry point, so
the built-in threading mode is registered directly, as in a frozen app.

The tests at the end cover what only the real group shows: the process-wide
registry (``select_async_mode``, ``register_mode``, ``describe_modes``,
``get_registry``) and ``python -m engineio_core``. They disable every real
plugin but the core's own threading mode with ``ENGINEIO_DISABLED_PLUGINS``,
listing them from importlib.metadata when the test runs, and expect those
plugins, by name, wherever the output mentions them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_core.exceptions import (
    AsyncModeError,
    AsyncModeNotInstalled,
    AsyncModeUnavailable,
    AsyncModeWrongFamily,
    PluginError,
)
from engineio_core.plugin import manager, register_mode, threading_mode
from engineio_core.plugin.manager import (
    ASYNC_MODE_ENV,
    DISABLED_PLUGINS_ENV,
    ENTRY_POINT_GROUP,
    KNOWN_MODES,
    Candidate,
    ModeRegistry,
    describe_modes,
    select_async_mode,
)
from engineio_core.plugin.types import ModeInfo

ROOT = Path(__file__).parent.parent

#: The entry-point group the fake plugins register under: no real plugin is in it.
GROUP = "engineio_core.tests.async_modes"


def plugin_source(
    name: str,
    *,
    family: str = "sync",
    rank: int = 100,
    reason: str | None = None,
    info_name: str | None = None,
    omit: tuple[str, ...] = (),
    coroutine_sleep: bool | None = None,
    extra: str = "",
) -> str:
    """A mode plugin module; ``omit`` leaves hooks out, ``extra`` adds code."""
    if coroutine_sleep is None:
        coroutine_sleep = family == "asyncio"
    hooks = {
        "eio_mode_info": f"""
            def eio_mode_info():
                return ModeInfo(name={info_name or name!r}, family={family!r}, rank={rank})
            """,
        "eio_unavailable_reason": f"""
            def eio_unavailable_reason():
                return {reason!r}
            """,
        "eio_spawn": """
            def eio_spawn(target, args, kwargs):
                return ("spawned", target(*args, **kwargs))
            """,
        "eio_sleep": f"""
            {"async " if coroutine_sleep else ""}def eio_sleep(seconds):
                SLEPT.append(seconds)
            """,
        "eio_create_queue": """
            def eio_create_queue():
                return "a queue"
            """,
        "eio_create_event": """
            def eio_create_event():
                return "an event"
            """,
        "eio_translate_request": """
            def eio_translate_request(args):
                return ("request", args)
            """,
        "eio_make_response": """
            def eio_make_response(response, request):
                return ("response", response, request)
            """,
    }
    parts = [
        "from engineio_core.plugin.hookspecs import hookimpl",
        "from engineio_core.plugin.types import ModeInfo",
        "SLEPT = []",
    ]
    for hook, source in hooks.items():
        if hook not in omit:
            parts.append("@hookimpl" + textwrap.dedent(source))
    parts.append(textwrap.dedent(extra))
    return "\n".join(parts)


class Installer:
    """Writes fake installed distributions into a directory on sys.path."""

    def __init__(self, root: Path, group: str) -> None:
        self.root = root
        self.group = group
        self.modules: list[str] = []

    def __call__(self, dist: str, modes: dict[str, str], version: str = "0.1") -> None:
        """Install ``dist`` providing ``modes`` (mode name -> module source) in ``group``."""
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        entry_points = [f"[{self.group}]"]
        for mode, source in modes.items():
            module = f"{dist.replace('-', '_')}_{mode}"
            (self.root / f"{module}.py").write_text(source)
            entry_points.append(f"{mode} = {module}")
            self.modules.append(module)
        (info / "entry_points.txt").write_text("\n".join(entry_points) + "\n")
        importlib.invalidate_caches()


def _installer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: str, disabled: str | None = None
) -> Iterator[Installer]:
    monkeypatch.delenv(ASYNC_MODE_ENV, raising=False)
    if disabled is None:
        monkeypatch.delenv(DISABLED_PLUGINS_ENV, raising=False)
    else:
        monkeypatch.setenv(DISABLED_PLUGINS_ENV, disabled)
    monkeypatch.syspath_prepend(str(tmp_path))
    manager.reset_registry()
    installer = Installer(tmp_path, group)
    yield installer
    manager.reset_registry()
    for module in installer.modules:
        sys.modules.pop(module, None)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Installs fakes in the private group :data:`GROUP`."""
    yield from _installer(tmp_path, monkeypatch, GROUP)


@pytest.fixture
def registry(install: Installer) -> ModeRegistry:
    """A registry of the private group; it reads the fakes installed before its first use."""
    return ModeRegistry(group=GROUP)


def by_name(report: tuple[Candidate, ...] | list[Candidate]) -> dict[str, Candidate]:
    return {candidate.name: candidate for candidate in report}


def core_version() -> str:
    return importlib.metadata.version("engineio-core")


def dist_cell(text: str) -> str:
    """``text`` padded to the width of the report's distribution column when
    its widest cell is the core's ``engineio-core <version>``."""
    return text.ljust(max(len(f"engineio-core {core_version()}"), len("eio-quick 0.1")))


# -- automatic choice --------------------------------------------------------------


def test_threading_is_the_builtin_sync_mode(registry: ModeRegistry) -> None:
    mode = registry.select("sync")
    assert mode.name == "threading"
    assert mode.source == "rank"
    assert (mode.distribution, mode.version) == ("engineio-core", core_version())
    assert mode.info == threading_mode.eio_mode_info()
    assert mode.sleep is threading_mode.eio_sleep
    assert mode.report == (
        Candidate(
            name="threading",
            family="sync",
            rank=0,
            distribution="engineio-core",
            version=core_version(),
            available=True,
            reason=None,
            chosen=True,
        ),
    )


def test_highest_ranked_available_mode_wins(install: Installer, registry: ModeRegistry) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    install("eio-faster", {"faster": plugin_source("faster", rank=400, reason="no engine here")})
    install("eio-async", {"quick": plugin_source("quick", family="asyncio", rank=500)})
    mode = registry.select("sync")
    assert (mode.name, mode.distribution, mode.version) == ("fast", "eio-fast", "0.1")
    report = by_name(mode.report)
    assert report["fast"].chosen
    assert not report["threading"].chosen
    assert report["faster"] == Candidate(
        "faster", "sync", 400, "eio-faster", "0.1", False, "no engine here", False
    )
    assert report["quick"].family == "asyncio"
    assert [c.name for c in mode.report] == ["faster", "fast", "threading", "quick"]
    assert registry.select("asyncio").name == "quick"


def test_equal_ranks_choose_by_name(install: Installer, registry: ModeRegistry) -> None:
    install("eio-b", {"bmode": plugin_source("bmode", rank=50)})
    install("eio-a", {"amode": plugin_source("amode", rank=50)})
    assert registry.select("sync").name == "amode"


def test_no_asyncio_mode_installed(registry: ModeRegistry) -> None:
    with pytest.raises(AsyncModeUnavailable) as error:
        registry.select("asyncio")
    assert str(error.value) == (
        "no asyncio async mode is installed for AsyncServer: pip install one of "
        "eio-aiohttp, eio-sanic, eio-tornado, eio-asgi; installed: threading"
    )


def test_no_mode_available_lists_why_each_was_skipped(
    install: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_PLUGINS_ENV, "threading")
    install("eio-slow", {"slow": plugin_source("slow", reason="slow is not installed")})
    install("eio-broken", {"broken": "raise ImportError('no engine')\n"})
    install("eio-other", {"other": plugin_source("other", family="asyncio")})
    with pytest.raises(AsyncModeUnavailable) as error:
        ModeRegistry(group=GROUP).select("sync")
    assert str(error.value) == (
        "no sync async mode can run here for Server: "
        "slow: slow is not installed; "
        "broken: failed to import: ImportError: no engine; "
        "threading: disabled by ENGINEIO_DISABLED_PLUGINS"
    )


def test_bad_family() -> None:
    with pytest.raises(ValueError, match="family must be"):
        ModeRegistry(group=GROUP).select("trio")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="family must be"):
        select_async_mode("trio")  # type: ignore[arg-type]


# -- asked for by name ---------------------------------------------------------------


def test_argument_beats_environment_beats_rank(
    install: Installer, registry: ModeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    install("eio-mid", {"mid": plugin_source("mid", rank=200)})
    assert registry.select("sync").name == "fast"
    monkeypatch.setenv(ASYNC_MODE_ENV, "mid")
    mode = registry.select("sync")
    assert (mode.name, mode.source) == ("mid", "environment")
    mode = registry.select("sync", "threading")
    assert (mode.name, mode.source) == ("threading", "argument")


def test_not_installed_names_the_distribution(install: Installer, registry: ModeRegistry) -> None:
    with pytest.raises(AsyncModeNotInstalled) as error:
        registry.select("sync", "gevent")
    assert str(error.value) == (
        "async mode 'gevent' is not installed: pip install eio-gevent; installed: threading"
    )
    with pytest.raises(AsyncModeNotInstalled, match="pip install eio-gevent;"):
        registry.select("sync", "gevent_uwsgi")
    with pytest.raises(AsyncModeNotInstalled, match="pip install eio-eventlet;"):
        registry.select("sync", "eventlet")
    install("eio-asgi", {"asgi": plugin_source("asgi", family="asyncio", rank=0)})
    with pytest.raises(AsyncModeNotInstalled) as error:
        ModeRegistry(group=GROUP).select("asyncio", "tornado")
    assert str(error.value) == (
        "async mode 'tornado' is not installed: pip install eio-tornado; installed: threading, asgi"
    )


def test_unknown_mode_suggests_a_close_name(registry: ModeRegistry) -> None:
    with pytest.raises(AsyncModeNotInstalled) as error:
        registry.select("sync", "threadding")
    assert str(error.value) == (
        "async mode 'threadding' is not installed (did you mean 'threading'?); installed: threading"
    )
    with pytest.raises(AsyncModeNotInstalled, match=r"'zzz' is not installed; installed"):
        registry.select("sync", "zzz")


def test_unknown_mode_from_environment(
    registry: ModeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ASYNC_MODE_ENV, "gevent")
    with pytest.raises(AsyncModeNotInstalled) as error:
        registry.select("sync")
    assert str(error.value) == (
        "async mode 'gevent' (from ENGINEIO_ASYNC_MODE) is not installed: "
        "pip install eio-gevent; installed: threading"
    )


def test_unavailable_mode_asked_by_name_does_not_fall_back(
    install: Installer, registry: ModeRegistry
) -> None:
    install("eio-slow", {"slow": plugin_source("slow", reason="slow is not installed: pip it")})
    with pytest.raises(AsyncModeUnavailable) as error:
        registry.select("sync", "slow")
    assert str(error.value) == ("async mode 'slow' cannot run here: slow is not installed: pip it")


def test_wrong_family_by_argument(install: Installer, registry: ModeRegistry) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio")})
    with pytest.raises(AsyncModeWrongFamily) as error:
        registry.select("sync", "quick")
    assert str(error.value) == "quick is an asyncio mode: use AsyncServer"
    with pytest.raises(AsyncModeWrongFamily) as error:
        registry.select("asyncio", "threading")
    assert str(error.value) == "threading is a sync mode: use Server"
    # Known shipped modes need not be installed to be recognised.
    with pytest.raises(AsyncModeWrongFamily, match=r"^eventlet is a sync mode: use Server$"):
        registry.select("asyncio", "eventlet")
    with pytest.raises(AsyncModeWrongFamily, match=r"^asgi is an asyncio mode: use AsyncServer$"):
        registry.select("sync", "asgi")


def test_errors_are_value_errors(registry: ModeRegistry) -> None:
    # python-engineio raised ValueError for a bad async_mode.
    with pytest.raises(ValueError):
        registry.select("sync", "gevent")
    assert issubclass(AsyncModeWrongFamily, AsyncModeError)


def test_environment_of_the_other_family_is_ignored(
    install: Installer, registry: ModeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio")})
    monkeypatch.setenv(ASYNC_MODE_ENV, "quick")
    assert registry.select("asyncio").name == "quick"
    mode = registry.select("sync")
    assert (mode.name, mode.source) == ("threading", "rank")
    assert mode.notes == (
        "ENGINEIO_ASYNC_MODE=quick ignored: quick is an asyncio mode and Server runs sync modes",
    )
    monkeypatch.setenv(ASYNC_MODE_ENV, "aiohttp")  # known, not installed
    assert registry.select("sync").notes == (
        "ENGINEIO_ASYNC_MODE=aiohttp ignored: aiohttp is an asyncio mode and Server runs "
        "sync modes",
    )
    monkeypatch.setenv(ASYNC_MODE_ENV, "threading")
    mode = registry.select("asyncio")
    assert (mode.name, mode.source) == ("quick", "rank")
    assert mode.notes == (
        "ENGINEIO_ASYNC_MODE=threading ignored: threading is a sync mode and AsyncServer runs "
        "asyncio modes",
    )
    monkeypatch.setenv(ASYNC_MODE_ENV, "gevent")  # known, not installed
    assert registry.select("asyncio").notes == (
        "ENGINEIO_ASYNC_MODE=gevent ignored: gevent is a sync mode and AsyncServer runs "
        "asyncio modes",
    )


# -- broken and disabled plugins ----------------------------------------------------------


def test_disabled_plugins_are_not_imported(
    install: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_PLUGINS_ENV, " fast , other")
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    registry = ModeRegistry(group=GROUP)  # reads the variable
    assert registry.disabled == {"fast", "other"}
    mode = registry.select("sync")
    assert mode.name == "threading"
    assert "eio_fast_fast" not in sys.modules
    fast = by_name(mode.report)["fast"]
    assert fast == Candidate(
        "fast", None, None, "eio-fast", "0.1", False, "disabled by ENGINEIO_DISABLED_PLUGINS", False
    )
    with pytest.raises(AsyncModeUnavailable) as error:
        registry.select("sync", "fast")
    assert str(error.value) == (
        "async mode 'fast' is disabled by ENGINEIO_DISABLED_PLUGINS= fast , other"
    )


def test_plugin_that_fails_to_import(install: Installer, registry: ModeRegistry) -> None:
    install(
        "eio-broken", {"broken": plugin_source("broken", rank=900) + "\nimport no_such_thing\n"}
    )
    mode = registry.select("sync")
    assert mode.name == "threading"
    broken = by_name(mode.report)["broken"]
    assert not broken.available
    assert broken.reason == "failed to import: ModuleNotFoundError: No module named 'no_such_thing'"
    with pytest.raises(PluginError) as error:
        registry.select("sync", "broken")
    assert str(error.value) == (
        "async mode plugin 'broken' (eio-broken 0.1) failed to import: "
        "ModuleNotFoundError: No module named 'no_such_thing'"
    )


def test_missing_required_hook(install: Installer, registry: ModeRegistry) -> None:
    install("eio-lazy", {"lazy": plugin_source("lazy", rank=900, omit=("eio_create_event",))})
    assert registry.select("sync").name == "threading"
    with pytest.raises(PluginError) as error:
        registry.select("sync", "lazy")
    assert str(error.value) == (
        "async mode plugin 'lazy' (eio-lazy 0.1) does not implement the required hook "
        "eio_create_event"
    )


def test_asyncio_sleep_must_be_a_coroutine_function(
    install: Installer, registry: ModeRegistry
) -> None:
    install(
        "eio-quick",
        {"quick": plugin_source("quick", family="asyncio", coroutine_sleep=False)},
    )
    with pytest.raises(PluginError) as error:
        registry.select("asyncio", "quick")
    assert str(error.value) == (
        "async mode plugin 'quick' (eio-quick 0.1): hook eio_sleep must be a coroutine "
        "function (async def) in asyncio"
    )
    with pytest.raises(AsyncModeUnavailable, match=r"quick: broken plugin: .*eio_sleep"):
        registry.select("asyncio")


def test_sync_sleep_must_not_be_a_coroutine_function(
    install: Installer, registry: ModeRegistry
) -> None:
    install("eio-odd", {"odd": plugin_source("odd", coroutine_sleep=True)})
    with pytest.raises(PluginError, match="hook eio_sleep must not be a coroutine function"):
        registry.select("sync", "odd")


def test_name_must_match_the_entry_point(install: Installer, registry: ModeRegistry) -> None:
    install("eio-fast", {"fast": plugin_source("fast", info_name="speedy", rank=900)})
    assert registry.select("sync").name == "threading"
    with pytest.raises(PluginError) as error:
        registry.select("sync", "fast")
    assert str(error.value) == (
        "async mode plugin 'fast' (eio-fast 0.1): hook eio_mode_info says the mode is named "
        "'speedy' but it is registered as 'fast'; the entry-point name and ModeInfo.name "
        "must match"
    )


def test_misspelt_hook(install: Installer, registry: ModeRegistry) -> None:
    extra = """
        @hookimpl
        def eio_wrap_websockets(request):
            return None
        """
    install("eio-typo", {"typo": plugin_source("typo", extra=extra)})
    with pytest.raises(PluginError, match="implements eio_wrap_websockets, which is not an"):
        registry.select("sync", "typo")


def test_hook_with_arguments_the_spec_lacks(install: Installer, registry: ModeRegistry) -> None:
    extra = """
        @hookimpl
        def eio_can_upgrade(request, colour):
            return True
        """
    install("eio-extra", {"extra": plugin_source("extra", extra=extra)})
    with pytest.raises(PluginError, match=r"'extra' \(eio-extra 0.1\) cannot be registered"):
        registry.select("sync", "extra")


def test_two_distributions_providing_one_mode(install: Installer, registry: ModeRegistry) -> None:
    install("eio-one", {"twin": plugin_source("twin")})
    install("eio-two", {"twin": plugin_source("twin")})
    with pytest.raises(PluginError, match=r"provided by two distributions, eio-(one|two) and"):
        registry.select("sync", "twin")
    assert registry.select("sync").name == "threading"


# -- the selected mode ----------------------------------------------------------------


def test_selected_mode_binds_the_plugin_functions(
    install: Installer, registry: ModeRegistry
) -> None:
    install("eio-fast", {"fast": plugin_source("fast")})
    mode = registry.select("sync", "fast")
    module = sys.modules["eio_fast_fast"]
    assert mode.sleep is module.eio_sleep
    assert mode.create_queue() == "a queue"
    assert mode.create_event() == "an event"
    assert mode.spawn(lambda a, b: a + b, 1, b=2) == ("spawned", 3)
    mode.sleep(0.5)
    assert module.SLEPT == [0.5]
    translated: Any = mode.translate_request(("environ", "start"))
    assert translated == ("request", ("environ", "start"))
    assert mode.make_response("r", "q") == ("response", "r", "q")  # type: ignore[arg-type]
    # No WebSocket hooks: no upgrade offered.
    assert mode.wrap_websocket is None
    assert mode.attach is None
    assert mode.can_upgrade(None) is False  # type: ignore[arg-type]


def test_optional_hooks_and_argument_subsets(install: Installer, registry: ModeRegistry) -> None:
    extra = """
        @hookimpl
        def eio_wrap_websocket(request):
            # pluggy lets a hook take a subset of the spec's arguments
            return ("ws", request)

        @hookimpl
        def eio_attach(path, app):
            return ("attached", app, path)
        """
    install("eio-fast", {"fast": plugin_source("fast", extra=extra)})
    mode = registry.select("sync", "fast")
    assert mode.wrap_websocket is not None
    assert mode.wrap_websocket("req", 1000) == ("ws", "req")  # type: ignore[arg-type]
    assert mode.can_upgrade(None) is True  # type: ignore[arg-type]
    assert mode.attach is not None
    assert mode.attach("app", "server", "engine.io") == ("attached", "app", "engine.io")


def test_notify_selected_calls_every_observer(install: Installer, registry: ModeRegistry) -> None:
    extra = """
        SEEN = []

        @hookimpl
        def eio_mode_selected(server, mode):
            SEEN.append((server, mode))
        """
    install("eio-fast", {"fast": plugin_source("fast", extra=extra)})
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", extra=extra)})
    install("eio-bad", {"bad": plugin_source("bad", omit=("eio_spawn",), extra=extra)})
    mode = registry.select("sync", "threading")
    mode.notify_selected("the server")
    for module in ("eio_fast_fast", "eio_quick_quick"):
        assert sys.modules[module].SEEN == [("the server", "threading")]
    assert sys.modules["eio_bad_bad"].SEEN == []  # broken plugins are not called


# -- registering by hand ----------------------------------------------------------------


def _module_plugin(name: str, **kwargs: Any) -> types.ModuleType:
    module = types.ModuleType(f"handmade_{name}")
    exec(plugin_source(name, **kwargs), module.__dict__)
    return module


def test_register_for_frozen_apps(registry: ModeRegistry) -> None:
    plugin = _module_plugin("frozen", rank=999)
    assert registry.register(plugin) == "frozen"
    mode = registry.select("sync")
    assert mode.name == "frozen"
    assert mode.distribution is None
    registry.register(plugin)  # registering the same object again changes nothing
    assert registry.select("sync", "frozen").name == "frozen"


def test_register_after_loading_replaces_the_mode(
    install: Installer, registry: ModeRegistry
) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    assert registry.select("sync").name == "fast"
    replacement = _module_plugin("fast", rank=10)
    registry.register(replacement)
    mode = registry.select("sync")
    assert mode.name == "fast"
    assert mode.info.rank == 10
    mode.sleep(1)
    assert replacement.SLEPT == [1]


def test_register_before_loading_wins_over_the_entry_point(
    install: Installer, registry: ModeRegistry
) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    replacement = _module_plugin("fast", rank=10)
    registry.register(replacement)
    assert registry.select("sync").info.rank == 10
    assert "eio_fast_fast" not in sys.modules  # the entry point was never imported


def test_register_checks_like_an_entry_point(registry: ModeRegistry) -> None:
    registry.register(_module_plugin("wrong", info_name="right"), name="wrong")
    with pytest.raises(PluginError, match="registered as 'wrong'"):
        registry.select("sync", "wrong")
    with pytest.raises(PluginError, match="has no eio_mode_info hook"):
        registry.register(object())
    with pytest.raises(PluginError, match="has no eio_mode_info hook"):
        register_mode(object())  # the process-wide registry checks too


def test_register_object_instance(registry: ModeRegistry) -> None:
    class Plugin:
        def __init__(self) -> None:
            self.slept: list[float] = []

    module = _module_plugin("inst")
    instance = Plugin()
    for name in dir(module):
        if name.startswith("eio_"):
            setattr(instance, name, getattr(module, name))
    registry.register(instance)
    assert registry.select("sync", "inst").create_queue() == "a queue"


def test_builtin_mode_without_entry_points() -> None:
    # A frozen app sees no entry points, not even the core's own.
    registry = ModeRegistry(group="engineio_core.no_such_group", disabled=())
    mode = registry.select("sync")
    assert (mode.name, mode.distribution) == ("threading", "engineio-core")
    assert mode.sleep is threading_mode.eio_sleep
    disabled = ModeRegistry(group="engineio_core.no_such_group", disabled=["threading"])
    with pytest.raises(AsyncModeUnavailable, match="threading: disabled"):
        disabled.select("sync")


# -- listing --------------------------------------------------------------------------


def test_describe(install: Installer, registry: ModeRegistry) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    install("eio-slow", {"slow": plugin_source("slow", rank=500, reason="no")})
    candidates = by_name(registry.describe())
    assert set(candidates) == {"threading", "quick", "slow"}
    assert candidates["threading"].chosen
    assert candidates["quick"].chosen
    assert not candidates["slow"].chosen


def test_format_table(install: Installer, monkeypatch: pytest.MonkeyPatch) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    install("eio-slow", {"slow": plugin_source("slow", rank=500, reason="slow needs a engine")})
    install("eio-broken", {"broken": "raise RuntimeError('kaput')\n"}, version="2.0")
    install("eio-off", {"off": plugin_source("off")})
    monkeypatch.setenv(DISABLED_PLUGINS_ENV, "off")
    core = dist_cell(f"engineio-core {core_version()}")
    assert ModeRegistry(group=GROUP).format_table().splitlines() == [
        f"engineio-core async modes (entry-point group {GROUP})",
        "",
        f"mode       family   rank  {dist_cell('distribution')}  available",
        f"slow       sync      500  {dist_cell('eio-slow 0.1')}  no: slow needs a engine",
        f"threading  sync        0  {core}  yes  <- Server default",
        f"quick      asyncio    10  {dist_cell('eio-quick 0.1')}  yes  <- AsyncServer default",
        "",
        "Plugins that failed to load:",
        "  broken (eio-broken 2.0): failed to import: RuntimeError: kaput",
        "",
        "Disabled by ENGINEIO_DISABLED_PLUGINS: off",
        "",
        "Not installed: eventlet (eio-eventlet), gevent_uwsgi (eio-gevent), gevent (eio-gevent), "
        "aiohttp (eio-aiohttp), sanic (eio-sanic), tornado (eio-tornado), asgi (eio-asgi)",
        "",
        "ENGINEIO_ASYNC_MODE is not set",
        "Server (sync) selects: threading (by rank)",
        "AsyncServer (asyncio) selects: quick (by rank)",
    ]


def test_format_table_with_the_environment_variable(
    install: Installer, registry: ModeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    monkeypatch.setenv(ASYNC_MODE_ENV, "gevent")
    table = registry.format_table()
    assert table.splitlines()[-4:] == [
        "ENGINEIO_ASYNC_MODE=gevent",
        "Server (sync) selects nothing: AsyncModeNotInstalled: async mode 'gevent' "
        "(from ENGINEIO_ASYNC_MODE) is not installed: pip install eio-gevent; "
        "installed: threading, quick",
        "AsyncServer (asyncio) selects: quick (by rank)",
        "  note: ENGINEIO_ASYNC_MODE=gevent ignored: gevent is a sync mode and AsyncServer "
        "runs asyncio modes",
    ]
    assert "  <- Server default" not in table
    quick = f"quick      asyncio    10  {dist_cell('eio-quick 0.1')}  yes  <- AsyncServer default"
    assert quick in table.splitlines()
    registry = ModeRegistry(group=GROUP, disabled=["quick"])
    assert registry.format_table().splitlines()[-1] == (
        "AsyncServer (asyncio) selects nothing: AsyncModeUnavailable: no asyncio async mode "
        "can run here for AsyncServer: quick: disabled by ENGINEIO_DISABLED_PLUGINS"
    )


def test_info_object_is_a_mode_info(install: Installer, registry: ModeRegistry) -> None:
    install(
        "eio-weird", {"weird": plugin_source("weird").replace("return ModeInfo(", "return dict(")}
    )
    with pytest.raises(PluginError, match=r"returned .*, not a ModeInfo"):
        registry.select("sync", "weird")
    assert isinstance(registry.select("sync").info, ModeInfo)


# -- the real entry-point group and the process-wide registry ---------------------------


def real_modes() -> dict[str, str]:
    """The modes really installed here, by entry point: mode name -> distribution."""
    return {
        ep.name: ep.dist.metadata["Name"] if ep.dist is not None else "?"
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }


@pytest.fixture
def others() -> list[str]:
    """The modes of the real plugins installed here, but for the core's threading."""
    return sorted(set(real_modes()) - {"threading"})


@pytest.fixture
def real(others: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Installs fakes in the real group, with ``others`` disabled: the process-wide
    registry sees only the fakes and the core's own threading mode."""
    yield from _installer(tmp_path, monkeypatch, ENTRY_POINT_GROUP, disabled=",".join(others))


def test_the_core_provides_threading_by_its_entry_point() -> None:
    assert ModeRegistry().group == ENTRY_POINT_GROUP == "engineio_core.async_modes"
    assert real_modes()["threading"] == "engineio-core"
    (entry_point,) = (
        ep
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.name == "threading"
    )
    assert entry_point.load() is threading_mode


def test_process_wide_selection(real: Installer, others: list[str]) -> None:
    mode = select_async_mode("sync")
    assert (mode.name, mode.source) == ("threading", "rank")
    assert (mode.distribution, mode.version) == ("engineio-core", core_version())
    assert mode.sleep is threading_mode.eio_sleep
    report = by_name(mode.report)
    assert set(report) == {"threading", *others}
    for name in others:
        assert report[name].reason == "disabled by ENGINEIO_DISABLED_PLUGINS"


def test_register_mode_for_frozen_apps(real: Installer) -> None:
    plugin = _module_plugin("frozen", rank=999)
    assert register_mode(plugin) == "frozen"
    mode = select_async_mode("sync")
    assert mode.name == "frozen"
    assert mode.distribution is None
    register_mode(plugin)  # registering the same object again changes nothing
    assert select_async_mode("sync", "frozen").name == "frozen"
    assert manager.get_registry().select("sync").name == "frozen"


def test_describe_modes(real: Installer, others: list[str]) -> None:
    real("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    real("eio-slow", {"slow": plugin_source("slow", rank=500, reason="no")})
    candidates = by_name(describe_modes())
    assert set(candidates) == {"threading", "quick", "slow", *others}
    assert candidates["threading"].chosen
    assert candidates["quick"].chosen
    assert not candidates["slow"].chosen
    assert not any(candidates[name].chosen for name in others)


def test_registry_is_cached_and_reset(real: Installer) -> None:
    assert manager.get_registry() is manager.get_registry()
    assert select_async_mode("sync").name == "threading"
    real("eio-late", {"late": plugin_source("late", rank=900)})
    # Installed after the registry loaded: unseen until it is reset.
    assert select_async_mode("sync").name == "threading"
    before = manager.get_registry()
    manager.reset_registry()
    assert manager.get_registry() is not before
    assert select_async_mode("sync").name == "late"


def _run_main(tmp_path: Path, env: dict[str, str]) -> str:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in (ASYNC_MODE_ENV, DISABLED_PLUGINS_ENV)
    }
    path = [str(tmp_path), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    environ["PYTHONPATH"] = os.pathsep.join(path)
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-m", "engineio_core"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_python_m_engineio_core(real: Installer, others: list[str], tmp_path: Path) -> None:
    real("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    real("eio-slow", {"slow": plugin_source("slow", rank=500, reason="slow needs a engine")})
    real("eio-broken", {"broken": "raise RuntimeError('kaput')\n"}, version="2.0")
    real("eio-off", {"off": plugin_source("off")})
    output = _run_main(tmp_path, {DISABLED_PLUGINS_ENV: ",".join([*others, "off"])})
    lines = output.splitlines()
    core = dist_cell(f"engineio-core {core_version()}")
    # The disabled real plugins are not in the table, only in the "Disabled" line.
    assert lines[:6] == [
        "engineio-core async modes (entry-point group engineio_core.async_modes)",
        "",
        f"mode       family   rank  {dist_cell('distribution')}  available",
        f"slow       sync      500  {dist_cell('eio-slow 0.1')}  no: slow needs a engine",
        f"threading  sync        0  {core}  yes  <- Server default",
        f"quick      asyncio    10  {dist_cell('eio-quick 0.1')}  yes  <- AsyncServer default",
    ]
    assert lines[6:9] == [
        "",
        "Plugins that failed to load:",
        "  broken (eio-broken 2.0): failed to import: RuntimeError: kaput",
    ]
    assert f"Disabled by ENGINEIO_DISABLED_PLUGINS: {', '.join(sorted([*others, 'off']))}" in lines
    installed = {*real_modes(), "quick", "slow", "broken", "off"}
    missing = [
        f"{name} ({dist})" for name, (dist, _) in KNOWN_MODES.items() if name not in installed
    ]
    if missing:
        assert f"Not installed: {', '.join(missing)}" in lines
    else:
        assert not any(line.startswith("Not installed") for line in lines)
    assert lines[-3:] == [
        "ENGINEIO_ASYNC_MODE is not set",
        "Server (sync) selects: threading (by rank)",
        "AsyncServer (asyncio) selects: quick (by rank)",
    ]


def test_python_m_engineio_core_with_the_environment_variable(
    real: Installer, others: list[str], tmp_path: Path
) -> None:
    real("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    output = _run_main(
        tmp_path, {ASYNC_MODE_ENV: "threadding", DISABLED_PLUGINS_ENV: ",".join(others)}
    )
    installed = ", ".join(["threading", "quick", *others])
    error = (
        "AsyncModeNotInstalled: async mode 'threadding' (from ENGINEIO_ASYNC_MODE) is not "
        f"installed (did you mean 'threading'?); installed: {installed}"
    )
    assert output.splitlines()[-3:] == [
        "ENGINEIO_ASYNC_MODE=threadding",
        f"Server (sync) selects nothing: {error}",
        f"AsyncServer (asyncio) selects nothing: {error}",
    ]
    assert "  <- Server default" not in output
    assert "  <- AsyncServer default" not in output
