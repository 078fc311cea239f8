"""The mode registry: discovery, checks, selection, errors and the report.

Fake plugins are real installed distributions: each test writes a
``<name>-<version>.dist-info`` (METADATA and entry_points.txt) and the plugin
module into its own directory on ``sys.path``, where importlib.metadata finds
them like any installed package.
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
    Candidate,
    ModeRegistry,
    describe_modes,
    select_async_mode,
)
from engineio_core.plugin.types import ModeInfo

ROOT = Path(__file__).parent.parent


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

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def __call__(
        self, dist: str, modes: dict[str, str], version: str = "0.1", group: str | None = None
    ) -> None:
        """Install ``dist`` providing ``modes``: mode name -> module source."""
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        entry_points = [f"[{group or manager.ENTRY_POINT_GROUP}]"]
        for mode, source in modes.items():
            module = f"{dist.replace('-', '_')}_{mode}"
            (self.root / f"{module}.py").write_text(source)
            entry_points.append(f"{mode} = {module}")
            self.modules.append(module)
        (info / "entry_points.txt").write_text("\n".join(entry_points) + "\n")
        importlib.invalidate_caches()


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    monkeypatch.delenv(ASYNC_MODE_ENV, raising=False)
    monkeypatch.delenv(DISABLED_PLUGINS_ENV, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    manager.reset_registry()
    installer = Installer(tmp_path)
    yield installer
    manager.reset_registry()
    for module in installer.modules:
        sys.modules.pop(module, None)


def by_name(report: tuple[Candidate, ...] | list[Candidate]) -> dict[str, Candidate]:
    return {candidate.name: candidate for candidate in report}


# -- automatic choice --------------------------------------------------------------


def test_threading_is_the_builtin_sync_mode(install: Installer) -> None:
    mode = select_async_mode("sync")
    assert mode.name == "threading"
    assert mode.source == "rank"
    assert mode.distribution == "engineio-core"
    assert mode.info == threading_mode.eio_mode_info()
    assert by_name(mode.report)["threading"] == Candidate(
        name="threading",
        family="sync",
        rank=0,
        distribution="engineio-core",
        version=mode.version,
        available=True,
        reason=None,
        chosen=True,
    )


def test_highest_ranked_available_mode_wins(install: Installer) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    install("eio-faster", {"faster": plugin_source("faster", rank=400, reason="no engine here")})
    install("eio-async", {"quick": plugin_source("quick", family="asyncio", rank=500)})
    mode = select_async_mode("sync")
    assert (mode.name, mode.distribution, mode.version) == ("fast", "eio-fast", "0.1")
    report = by_name(mode.report)
    assert report["fast"].chosen
    assert not report["threading"].chosen
    assert report["faster"] == Candidate(
        "faster", "sync", 400, "eio-faster", "0.1", False, "no engine here", False
    )
    assert report["quick"].family == "asyncio"
    assert [c.name for c in mode.report] == ["faster", "fast", "threading", "quick"]
    assert select_async_mode("asyncio").name == "quick"


def test_equal_ranks_choose_by_name(install: Installer) -> None:
    install("eio-b", {"bmode": plugin_source("bmode", rank=50)})
    install("eio-a", {"amode": plugin_source("amode", rank=50)})
    assert select_async_mode("sync").name == "amode"


def test_no_asyncio_mode_installed(install: Installer) -> None:
    with pytest.raises(AsyncModeUnavailable) as error:
        select_async_mode("asyncio")
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
        select_async_mode("sync")
    assert str(error.value) == (
        "no sync async mode can run here for Server: "
        "slow: slow is not installed; "
        "broken: failed to import: ImportError: no engine; "
        "threading: disabled by ENGINEIO_DISABLED_PLUGINS"
    )


def test_bad_family() -> None:
    with pytest.raises(ValueError, match="family must be"):
        select_async_mode("trio")  # type: ignore[arg-type]


# -- asked for by name ---------------------------------------------------------------


def test_argument_beats_environment_beats_rank(
    install: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    install("eio-mid", {"mid": plugin_source("mid", rank=200)})
    assert select_async_mode("sync").name == "fast"
    monkeypatch.setenv(ASYNC_MODE_ENV, "mid")
    mode = select_async_mode("sync")
    assert (mode.name, mode.source) == ("mid", "environment")
    mode = select_async_mode("sync", "threading")
    assert (mode.name, mode.source) == ("threading", "argument")


def test_not_installed_names_the_distribution(install: Installer) -> None:
    with pytest.raises(AsyncModeNotInstalled) as error:
        select_async_mode("sync", "gevent")
    assert str(error.value) == (
        "async mode 'gevent' is not installed: pip install eio-gevent; installed: threading"
    )
    with pytest.raises(AsyncModeNotInstalled, match="pip install eio-gevent;"):
        select_async_mode("sync", "gevent_uwsgi")
    with pytest.raises(AsyncModeNotInstalled, match="pip install eio-eventlet;"):
        select_async_mode("sync", "eventlet")
    install("eio-asgi", {"asgi": plugin_source("asgi", family="asyncio", rank=0)})
    manager.reset_registry()
    with pytest.raises(AsyncModeNotInstalled) as error:
        select_async_mode("asyncio", "tornado")
    assert str(error.value) == (
        "async mode 'tornado' is not installed: pip install eio-tornado; installed: threading, asgi"
    )


def test_unknown_mode_suggests_a_close_name(install: Installer) -> None:
    with pytest.raises(AsyncModeNotInstalled) as error:
        select_async_mode("sync", "threadding")
    assert str(error.value) == (
        "async mode 'threadding' is not installed (did you mean 'threading'?); installed: threading"
    )
    with pytest.raises(AsyncModeNotInstalled, match=r"'zzz' is not installed; installed"):
        select_async_mode("sync", "zzz")


def test_unknown_mode_from_environment(install: Installer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ASYNC_MODE_ENV, "gevent")
    with pytest.raises(AsyncModeNotInstalled) as error:
        select_async_mode("sync")
    assert str(error.value) == (
        "async mode 'gevent' (from ENGINEIO_ASYNC_MODE) is not installed: "
        "pip install eio-gevent; installed: threading"
    )


def test_unavailable_mode_asked_by_name_does_not_fall_back(install: Installer) -> None:
    install("eio-slow", {"slow": plugin_source("slow", reason="slow is not installed: pip it")})
    with pytest.raises(AsyncModeUnavailable) as error:
        select_async_mode("sync", "slow")
    assert str(error.value) == ("async mode 'slow' cannot run here: slow is not installed: pip it")


def test_wrong_family_by_argument(install: Installer) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio")})
    with pytest.raises(AsyncModeWrongFamily) as error:
        select_async_mode("sync", "quick")
    assert str(error.value) == "quick is an asyncio mode: use AsyncServer"
    with pytest.raises(AsyncModeWrongFamily) as error:
        select_async_mode("asyncio", "threading")
    assert str(error.value) == "threading is a sync mode: use Server"
    # Known shipped modes need not be installed to be recognised.
    with pytest.raises(AsyncModeWrongFamily, match=r"^eventlet is a sync mode: use Server$"):
        select_async_mode("asyncio", "eventlet")
    with pytest.raises(AsyncModeWrongFamily, match=r"^asgi is an asyncio mode: use AsyncServer$"):
        select_async_mode("sync", "asgi")


def test_errors_are_value_errors(install: Installer) -> None:
    # python-engineio raised ValueError for a bad async_mode.
    with pytest.raises(ValueError):
        select_async_mode("sync", "gevent")
    assert issubclass(AsyncModeWrongFamily, AsyncModeError)


def test_environment_of_the_other_family_is_ignored(
    install: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio")})
    monkeypatch.setenv(ASYNC_MODE_ENV, "quick")
    assert select_async_mode("asyncio").name == "quick"
    mode = select_async_mode("sync")
    assert (mode.name, mode.source) == ("threading", "rank")
    assert mode.notes == (
        "ENGINEIO_ASYNC_MODE=quick ignored: quick is an asyncio mode and Server runs sync modes",
    )
    monkeypatch.setenv(ASYNC_MODE_ENV, "aiohttp")  # known, not installed
    assert select_async_mode("sync").notes[0].startswith("ENGINEIO_ASYNC_MODE=aiohttp ignored")
    monkeypatch.setenv(ASYNC_MODE_ENV, "threading")
    mode = select_async_mode("asyncio")
    assert mode.name == "quick"
    assert "Server" in mode.notes[0]


# -- broken and disabled plugins ----------------------------------------------------------


def test_disabled_plugins_are_not_imported(
    install: Installer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_PLUGINS_ENV, " fast , other")
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    mode = select_async_mode("sync")
    assert mode.name == "threading"
    assert "eio_fast_fast" not in sys.modules
    fast = by_name(mode.report)["fast"]
    assert fast == Candidate(
        "fast", None, None, "eio-fast", "0.1", False, "disabled by ENGINEIO_DISABLED_PLUGINS", False
    )
    with pytest.raises(AsyncModeUnavailable) as error:
        select_async_mode("sync", "fast")
    assert str(error.value) == (
        "async mode 'fast' is disabled by ENGINEIO_DISABLED_PLUGINS= fast , other"
    )


def test_plugin_that_fails_to_import(install: Installer) -> None:
    install(
        "eio-broken", {"broken": plugin_source("broken", rank=900) + "\nimport no_such_thing\n"}
    )
    mode = select_async_mode("sync")
    assert mode.name == "threading"
    broken = by_name(mode.report)["broken"]
    assert not broken.available
    assert broken.reason == "failed to import: ModuleNotFoundError: No module named 'no_such_thing'"
    with pytest.raises(PluginError) as error:
        select_async_mode("sync", "broken")
    assert str(error.value) == (
        "async mode plugin 'broken' (eio-broken 0.1) failed to import: "
        "ModuleNotFoundError: No module named 'no_such_thing'"
    )


def test_missing_required_hook(install: Installer) -> None:
    install("eio-lazy", {"lazy": plugin_source("lazy", rank=900, omit=("eio_create_event",))})
    assert select_async_mode("sync").name == "threading"
    with pytest.raises(PluginError) as error:
        select_async_mode("sync", "lazy")
    assert str(error.value) == (
        "async mode plugin 'lazy' (eio-lazy 0.1) does not implement the required hook "
        "eio_create_event"
    )


def test_asyncio_sleep_must_be_a_coroutine_function(install: Installer) -> None:
    install(
        "eio-quick",
        {"quick": plugin_source("quick", family="asyncio", coroutine_sleep=False)},
    )
    with pytest.raises(PluginError) as error:
        select_async_mode("asyncio", "quick")
    assert str(error.value) == (
        "async mode plugin 'quick' (eio-quick 0.1): hook eio_sleep must be a coroutine "
        "function (async def) in asyncio"
    )
    with pytest.raises(AsyncModeUnavailable, match=r"quick: broken plugin: .*eio_sleep"):
        select_async_mode("asyncio")


def test_sync_sleep_must_not_be_a_coroutine_function(install: Installer) -> None:
    install("eio-odd", {"odd": plugin_source("odd", coroutine_sleep=True)})
    with pytest.raises(PluginError, match="hook eio_sleep must not be a coroutine function"):
        select_async_mode("sync", "odd")


def test_name_must_match_the_entry_point(install: Installer) -> None:
    install("eio-fast", {"fast": plugin_source("fast", info_name="speedy", rank=900)})
    assert select_async_mode("sync").name == "threading"
    with pytest.raises(PluginError) as error:
        select_async_mode("sync", "fast")
    assert str(error.value) == (
        "async mode plugin 'fast' (eio-fast 0.1): hook eio_mode_info says the mode is named "
        "'speedy' but it is registered as 'fast'; the entry-point name and ModeInfo.name "
        "must match"
    )


def test_misspelt_hook(install: Installer) -> None:
    extra = """
        @hookimpl
        def eio_wrap_websockets(request):
            return None
        """
    install("eio-typo", {"typo": plugin_source("typo", extra=extra)})
    with pytest.raises(PluginError, match="implements eio_wrap_websockets, which is not an"):
        select_async_mode("sync", "typo")


def test_hook_with_arguments_the_spec_lacks(install: Installer) -> None:
    extra = """
        @hookimpl
        def eio_can_upgrade(request, colour):
            return True
        """
    install("eio-extra", {"extra": plugin_source("extra", extra=extra)})
    with pytest.raises(PluginError, match=r"'extra' \(eio-extra 0.1\) cannot be registered"):
        select_async_mode("sync", "extra")


def test_two_distributions_providing_one_mode(install: Installer) -> None:
    install("eio-one", {"twin": plugin_source("twin")})
    install("eio-two", {"twin": plugin_source("twin")})
    with pytest.raises(PluginError, match=r"provided by two distributions, eio-(one|two) and"):
        select_async_mode("sync", "twin")
    assert select_async_mode("sync").name == "threading"


# -- the selected mode ----------------------------------------------------------------


def test_selected_mode_binds_the_plugin_functions(install: Installer) -> None:
    install("eio-fast", {"fast": plugin_source("fast")})
    mode = select_async_mode("sync", "fast")
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


def test_optional_hooks_and_argument_subsets(install: Installer) -> None:
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
    mode = select_async_mode("sync", "fast")
    assert mode.wrap_websocket is not None
    assert mode.wrap_websocket("req", 1000) == ("ws", "req")  # type: ignore[arg-type]
    assert mode.can_upgrade(None) is True  # type: ignore[arg-type]
    assert mode.attach is not None
    assert mode.attach("app", "server", "engine.io") == ("attached", "app", "engine.io")


def test_notify_selected_calls_every_observer(install: Installer) -> None:
    extra = """
        SEEN = []

        @hookimpl
        def eio_mode_selected(server, mode):
            SEEN.append((server, mode))
        """
    install("eio-fast", {"fast": plugin_source("fast", extra=extra)})
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", extra=extra)})
    install("eio-bad", {"bad": plugin_source("bad", omit=("eio_spawn",), extra=extra)})
    mode = select_async_mode("sync", "threading")
    mode.notify_selected("the server")
    for module in ("eio_fast_fast", "eio_quick_quick"):
        assert sys.modules[module].SEEN == [("the server", "threading")]
    assert sys.modules["eio_bad_bad"].SEEN == []  # broken plugins are not called


# -- register_mode ---------------------------------------------------------------------


def _module_plugin(name: str, **kwargs: Any) -> types.ModuleType:
    module = types.ModuleType(f"handmade_{name}")
    exec(plugin_source(name, **kwargs), module.__dict__)
    return module


def test_register_mode_for_frozen_apps(install: Installer) -> None:
    plugin = _module_plugin("frozen", rank=999)
    assert register_mode(plugin) == "frozen"
    mode = select_async_mode("sync")
    assert mode.name == "frozen"
    assert mode.distribution is None
    register_mode(plugin)  # registering the same object again changes nothing
    assert select_async_mode("sync", "frozen").name == "frozen"


def test_register_mode_after_loading_replaces_the_mode(install: Installer) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    assert select_async_mode("sync").name == "fast"
    replacement = _module_plugin("fast", rank=10)
    register_mode(replacement)
    mode = select_async_mode("sync")
    assert mode.name == "fast"
    assert mode.info.rank == 10
    mode.sleep(1)
    assert replacement.SLEPT == [1]


def test_register_mode_before_loading_wins_over_the_entry_point(install: Installer) -> None:
    install("eio-fast", {"fast": plugin_source("fast", rank=300)})
    replacement = _module_plugin("fast", rank=10)
    register_mode(replacement)
    assert select_async_mode("sync").info.rank == 10
    assert "eio_fast_fast" not in sys.modules  # the entry point was never imported


def test_register_mode_checks_like_an_entry_point(install: Installer) -> None:
    register_mode(_module_plugin("wrong", info_name="right"), name="wrong")
    with pytest.raises(PluginError, match="registered as 'wrong'"):
        select_async_mode("sync", "wrong")
    with pytest.raises(PluginError, match="has no eio_mode_info hook"):
        register_mode(object())


def test_register_mode_object_instance(install: Installer) -> None:
    class Plugin:
        def __init__(self) -> None:
            self.slept: list[float] = []

    module = _module_plugin("inst")
    instance = Plugin()
    for name in dir(module):
        if name.startswith("eio_"):
            setattr(instance, name, getattr(module, name))
    register_mode(instance)
    assert select_async_mode("sync", "inst").create_queue() == "a queue"


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


def test_describe_modes(install: Installer, monkeypatch: pytest.MonkeyPatch) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    install("eio-slow", {"slow": plugin_source("slow", rank=500, reason="no")})
    candidates = by_name(describe_modes())
    assert set(candidates) == {"threading", "quick", "slow"}
    assert candidates["threading"].chosen
    assert candidates["quick"].chosen
    assert not candidates["slow"].chosen


def _run_main(tmp_path: Path, **env: str) -> str:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in (ASYNC_MODE_ENV, DISABLED_PLUGINS_ENV)
    }
    environ["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
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


def test_python_m_engineio_core(install: Installer, tmp_path: Path) -> None:
    install("eio-quick", {"quick": plugin_source("quick", family="asyncio", rank=10)})
    install("eio-slow", {"slow": plugin_source("slow", rank=500, reason="slow needs a engine")})
    install("eio-broken", {"broken": "raise RuntimeError('kaput')\n"}, version="2.0")
    install("eio-off", {"off": plugin_source("off")})
    output = _run_main(tmp_path, **{DISABLED_PLUGINS_ENV: "off"})
    version = importlib.metadata.version("engineio-core")
    assert output.splitlines()[2:6] == [
        "mode       family   rank  distribution         available",
        "slow       sync      500  eio-slow 0.1         no: slow needs a engine",
        f"threading  sync        0  engineio-core {version}  yes  <- Server default",
        "quick      asyncio    10  eio-quick 0.1        yes  <- AsyncServer default",
    ]
    assert "Plugins that failed to load:\n  broken (eio-broken 2.0): failed to import: " in output
    assert "RuntimeError: kaput" in output
    assert "Disabled by ENGINEIO_DISABLED_PLUGINS: off" in output
    assert "Not installed: eventlet (eio-eventlet), gevent_uwsgi (eio-gevent)," in output
    assert "Server (sync) selects: threading (by rank)" in output
    assert "AsyncServer (asyncio) selects: quick (by rank)" in output


def test_python_m_engineio_core_with_the_environment_variable(
    install: Installer, tmp_path: Path
) -> None:
    output = _run_main(tmp_path, **{ASYNC_MODE_ENV: "gevent"})
    assert "ENGINEIO_ASYNC_MODE=gevent" in output
    assert (
        "Server (sync) selects nothing: AsyncModeNotInstalled: async mode 'gevent' "
        "(from ENGINEIO_ASYNC_MODE) is not installed: pip install eio-gevent" in output
    )
    assert "AsyncServer (asyncio) selects nothing: AsyncModeUnavailable" in output
    assert "  <- Server default" not in output


def test_registry_is_cached_and_reset(install: Installer) -> None:
    assert manager.get_registry() is manager.get_registry()
    assert select_async_mode("sync").name == "threading"
    install("eio-late", {"late": plugin_source("late", rank=900)})
    # Installed after the registry loaded: unseen until it is reset.
    assert select_async_mode("sync").name == "threading"
    manager.reset_registry()
    assert select_async_mode("sync").name == "late"


def test_info_object_is_a_mode_info(install: Installer) -> None:
    install(
        "eio-weird", {"weird": plugin_source("weird").replace("return ModeInfo(", "return dict(")}
    )
    with pytest.raises(PluginError, match=r"returned .*, not a ModeInfo"):
        select_async_mode("sync", "weird")
    assert isinstance(select_async_mode("sync").info, ModeInfo)
