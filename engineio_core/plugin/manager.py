"""Finding, checking and choosing async-mode plugins.

Mode plugins are named by entry points in the group ``engineio_core.async_modes``
(the entry-point name is the mode name) or registered by hand with
:func:`register_mode` where entry points are invisible (PyInstaller and other
frozen apps). They are imported lazily, the first time a server needs a mode
or the modes are listed, and once per process.

A plugin that cannot be used never breaks a process that does not ask for it:
an import failure, a missing hook or a name that disagrees with its entry
point is recorded, skipped by the automatic choice, reported by
``python -m engineio_core``, and raised only when that mode is asked for by
name.

The rest of engineio-core sees one :class:`SelectedMode`: the chosen plugin's
primitive hook implementations bound as plain attributes, so calling them costs
a function call, and nothing outside this module touches ``pm.hook``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from engineio_core.exceptions import (
    AsyncModeError,
    AsyncModeNotInstalled,
    AsyncModeUnavailable,
    AsyncModeWrongFamily,
    PluginError,
)
from engineio_core.plugin import hookspecs
from engineio_core.plugin.types import Family, ModeInfo
from engineio_core.protocol.http import Request, Response

__all__ = [
    "ASYNC_MODE_ENV",
    "DISABLED_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "KNOWN_MODES",
    "Candidate",
    "ModeRegistry",
    "SelectedMode",
    "describe_modes",
    "format_modes_table",
    "get_registry",
    "register_mode",
    "reset_registry",
    "select_async_mode",
]

logger = logging.getLogger("engineio_core")

ENTRY_POINT_GROUP = "engineio_core.async_modes"
#: Names the mode a server uses when its ``async_mode`` argument is not given.
ASYNC_MODE_ENV = "ENGINEIO_ASYNC_MODE"
#: A comma-separated list of mode names whose plugins are never imported.
DISABLED_PLUGINS_ENV = "ENGINEIO_DISABLED_PLUGINS"

FAMILIES: tuple[Family, ...] = ("sync", "asyncio")
SERVER_CLASS: dict[str, str] = {"sync": "Server", "asyncio": "AsyncServer"}

#: The modes this project ships: which distribution to install and which
#: server drives each, so an error can say what to do without the plugin.
KNOWN_MODES: dict[str, tuple[str, Family]] = {
    "threading": ("engineio-core", "sync"),
    "eventlet": ("eio-eventlet", "sync"),
    "gevent_uwsgi": ("eio-gevent", "sync"),
    "gevent": ("eio-gevent", "sync"),
    "aiohttp": ("eio-aiohttp", "asyncio"),
    "sanic": ("eio-sanic", "asyncio"),
    "tornado": ("eio-tornado", "asyncio"),
    "asgi": ("eio-asgi", "asyncio"),
}

# The core's own mode. Registered through the core's entry point like any
# other; registered directly when that entry point is invisible (frozen apps).
_BUILTIN_MODE = "threading"
_BUILTIN_MODULE = "engineio_core.plugin.threading_mode"
_CORE_DISTRIBUTION = "engineio-core"
_DISABLED_REASON = f"disabled by {DISABLED_PLUGINS_ENV}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One installed mode, as a selection saw it.

    ``family`` and ``rank`` are None for a plugin that was never asked
    (disabled, failed to import, or broken before ``eio_mode_info``
    answered). ``available`` says the mode could run here; otherwise
    ``reason`` says why not. ``chosen`` marks the selected mode.
    """

    name: str
    family: Family | None
    rank: int | None
    distribution: str | None
    version: str | None
    available: bool
    reason: str | None
    chosen: bool = False


@dataclass(slots=True)
class _Plugin:
    """What the registry knows about one mode plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    obj: object | None = None
    info: ModeInfo | None = None
    disabled: bool = False
    import_error: str | None = None
    #: Why the plugin is broken (a PluginError message), if it is.
    problem: str | None = None
    #: The plugin's hook functions, by hook name.
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: The same, callable with the spec's arguments in the spec's order.
    impls: dict[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``'gevent' (eio-gevent 1.0)``: the mode and where it comes from."""
        if self.distribution is None:
            return repr(self.name)
        version = f" {self.version}" if self.version else ""
        return f"{self.name!r} ({self.distribution}{version})"


def _yes(request: Request) -> bool:
    return True


def _no(request: Request) -> bool:
    return False


class SelectedMode:
    """The mode a server runs on: its description and bound primitives.

    The primitives are the selected plugin's own hook functions, taken out of
    pluggy once, so each call is a plain function call and only the selected
    plugin is ever called. ``wrap_websocket``, ``attach`` and ``call_soon`` are
    None when the plugin does not implement them; ``spawn_detached`` falls back
    to ``eio_spawn``. ``report`` lists every installed mode and
    why it was or was not chosen; ``source`` says how the mode was picked
    (``"argument"``, ``"environment"`` or ``"rank"``) and ``notes`` records
    anything the selection ignored (e.g. :data:`ASYNC_MODE_ENV` naming a mode
    of the other family).
    """

    __slots__ = (
        "_pm",
        "_spawn",
        "attach",
        "call_soon",
        "can_upgrade",
        "create_event",
        "create_queue",
        "distribution",
        "info",
        "make_response",
        "name",
        "notes",
        "report",
        "sleep",
        "source",
        "spawn_detached",
        "translate_request",
        "version",
        "wrap_websocket",
    )

    name: str
    info: ModeInfo
    distribution: str | None
    version: str | None
    report: tuple[Candidate, ...]
    source: str
    notes: tuple[str, ...]
    sleep: Callable[[float], Any]
    create_queue: Callable[[], Any]
    create_event: Callable[[], Any]
    translate_request: Callable[[tuple[Any, ...]], Request]
    make_response: Callable[[Response, Request], Any]
    wrap_websocket: Callable[[Request, int], Any] | None
    can_upgrade: Callable[[Request], bool]
    attach: Callable[[Any, Any, str], Any] | None
    call_soon: Callable[[Callable[..., None], tuple[Any, ...]], None] | None
    spawn_detached: Callable[[Callable[..., Any], tuple[Any, ...]], None]

    def __init__(
        self,
        *,
        info: ModeInfo,
        distribution: str | None,
        version: str | None,
        report: tuple[Candidate, ...],
        source: str,
        notes: tuple[str, ...],
        impls: Mapping[str, Callable[..., Any]],
        plugin_manager: pluggy.PluginManager,
    ) -> None:
        self.name = info.name
        self.info = info
        self.distribution = distribution
        self.version = version
        self.report = report
        self.source = source
        self.notes = notes
        self._pm = plugin_manager
        self._spawn = impls["eio_spawn"]
        self.sleep = impls["eio_sleep"]
        self.create_queue = impls["eio_create_queue"]
        self.create_event = impls["eio_create_event"]
        self.translate_request = impls["eio_translate_request"]
        self.make_response = impls["eio_make_response"]
        self.wrap_websocket = impls.get("eio_wrap_websocket")
        self.attach = impls.get("eio_attach")
        self.call_soon = impls.get("eio_call_soon")
        spawn = self._spawn

        def spawn_and_drop(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
            spawn(target, args, {})

        self.spawn_detached = impls.get("eio_spawn_detached") or spawn_and_drop
        can_upgrade = impls.get("eio_can_upgrade")
        if can_upgrade is None:
            can_upgrade = _no if self.wrap_websocket is None else _yes
        self.can_upgrade = can_upgrade

    def spawn(self, target: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Start ``target(*args, **kwargs)`` as a task of this mode; return its handle."""
        return self._spawn(target, args, kwargs)

    def notify_selected(self, server: Any) -> None:
        """Tell every plugin's ``eio_mode_selected`` observer that ``server`` uses this mode."""
        self._pm.hook.eio_mode_selected(server=server, mode=self.name)

    def __repr__(self) -> str:
        return f"<SelectedMode {self.name!r} from {self.distribution or 'unknown distribution'}>"


class ModeRegistry:
    """The installed mode plugins of one process.

    Entry points of ``group`` are read and their modules imported on first use
    (then cached); :data:`DISABLED_PLUGINS_ENV` is read when the registry is
    built. The process-wide instance is :func:`get_registry`.
    """

    def __init__(
        self, group: str = ENTRY_POINT_GROUP, disabled: Iterable[str] | None = None
    ) -> None:
        self.group = group
        self.disabled = frozenset(
            _disabled_from_env() if disabled is None else (n.strip() for n in disabled)
        )
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._plugins: dict[str, _Plugin] | None = None
        # register_mode() calls made before loading; they take precedence over
        # entry points of the same name.
        self._explicit: dict[str, object] = {}
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------

    def _load(self) -> dict[str, _Plugin]:
        with self._lock:
            if self._plugins is None:
                self._plugins = self._discover()
            return self._plugins

    def _discover(self) -> dict[str, _Plugin]:
        from importlib import metadata  # not at import time: it costs more than the rest

        plugins: dict[str, _Plugin] = {}
        for ep in metadata.entry_points(group=self.group):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            existing = plugins.get(ep.name)
            if existing is not None:
                if existing.distribution != dist_name:
                    existing.problem = (
                        f"async mode {ep.name!r} is provided by two distributions, "
                        f"{existing.distribution} and {dist_name}: uninstall one"
                    )
                    self._drop(existing)
                continue
            plugin = _Plugin(ep.name, dist_name, version)
            plugins[ep.name] = plugin
            explicit = self._explicit.get(ep.name)
            if explicit is not None:
                if getattr(explicit, "__name__", None) != ep.module:
                    plugin.distribution = plugin.version = None
                self._add(plugin, explicit)
            elif ep.name in self.disabled:
                plugin.disabled = True
            else:
                try:
                    obj = ep.load()
                except Exception as exc:
                    plugin.import_error = f"{type(exc).__name__}: {exc}"
                    logger.warning(
                        "async mode plugin %s failed to import: %s",
                        plugin.label,
                        plugin.import_error,
                    )
                    continue
                self._add(plugin, obj)
        for name, obj in self._explicit.items():
            if name not in plugins:
                plugins[name] = plugin = _Plugin(name)
                self._add(plugin, obj)
        if _BUILTIN_MODE not in plugins:
            plugins[_BUILTIN_MODE] = self._builtin()
        return plugins

    def _builtin(self) -> _Plugin:
        from importlib import metadata

        try:
            version: str | None = metadata.version(_CORE_DISTRIBUTION)
        except metadata.PackageNotFoundError:
            version = None
        plugin = _Plugin(_BUILTIN_MODE, _CORE_DISTRIBUTION, version)
        if _BUILTIN_MODE in self.disabled:
            plugin.disabled = True
            return plugin
        from engineio_core.plugin import threading_mode

        self._add(plugin, threading_mode)
        return plugin

    def _add(self, plugin: _Plugin, obj: object) -> None:
        """Register ``obj`` with pluggy as ``plugin`` and check it."""
        if plugin.name in self.disabled:
            plugin.disabled = True
            return
        try:
            self._pm.register(obj, name=plugin.name)
        except Exception as exc:  # pluggy's PluginValidationError, or ValueError
            plugin.problem = f"async mode plugin {plugin.label} cannot be registered: {exc}"
            logger.warning("%s", plugin.problem)
            return
        plugin.obj = obj
        unknown: list[str] = []
        for caller in self._pm.get_hookcallers(obj) or ():
            if caller.spec is None:
                unknown.append(caller.name)
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is obj:
                    plugin.functions[caller.name] = impl.function
                    plugin.impls[caller.name] = _bind(
                        impl.function, tuple(impl.argnames), tuple(caller.spec.argnames)
                    )
        plugin.problem = _check(plugin, unknown)
        if plugin.problem is not None:
            logger.warning("%s; the mode is skipped", plugin.problem)
            self._drop(plugin)

    def _drop(self, plugin: _Plugin) -> None:
        """Take a broken plugin out of pluggy so observers are not called on it."""
        if plugin.obj is not None and self._pm.is_registered(plugin.obj):
            self._pm.unregister(plugin.obj)

    def register(self, obj: object, name: str | None = None) -> str:
        """Register a mode plugin object as if an entry point named it.

        ``name`` defaults to the name the plugin's ``eio_mode_info()`` gives.
        Registering the object that already provides that mode does nothing;
        another object replaces it. Returns the mode name.
        """
        if name is None:
            describe = getattr(obj, "eio_mode_info", None)
            if not callable(describe):
                raise PluginError(
                    f"cannot register {obj!r} as an async mode: it has no eio_mode_info hook"
                )
            info = describe()
            if not isinstance(info, ModeInfo):
                raise PluginError(
                    f"cannot register {obj!r} as an async mode: eio_mode_info returned "
                    f"{info!r}, not a ModeInfo"
                )
            name = info.name
        with self._lock:
            if self._plugins is None:
                self._explicit[name] = obj
                return name
            existing = self._plugins.get(name)
            if existing is not None and existing.obj is obj:
                return name
            if existing is not None:
                self._drop(existing)
            plugin = _Plugin(name)
            if existing is not None and getattr(obj, "__name__", None) == getattr(
                existing.obj, "__name__", ""
            ):
                plugin.distribution, plugin.version = existing.distribution, existing.version
            self._plugins[name] = plugin
            self._add(plugin, obj)
            return name

    # -- selection -----------------------------------------------------------

    def _why_not(self, plugin: _Plugin) -> str | None:
        """None when ``plugin``'s mode can run here; otherwise why it cannot."""
        if plugin.disabled:
            return _DISABLED_REASON
        if plugin.import_error is not None:
            return f"failed to import: {plugin.import_error}"
        if plugin.problem is not None:
            return f"broken plugin: {plugin.problem}"
        try:
            reason: str | None = plugin.impls["eio_unavailable_reason"]()
        except Exception as exc:
            return f"eio_unavailable_reason raised {type(exc).__name__}: {exc}"
        return reason

    def select(self, family: Family, requested: str | None = None) -> SelectedMode:
        """Choose the mode for a server of ``family``; see :func:`select_async_mode`."""
        if family not in FAMILIES:
            raise ValueError(f"family must be 'sync' or 'asyncio', not {family!r}")
        plugins = self._load()
        reasons = {name: self._why_not(plugin) for name, plugin in plugins.items()}
        notes: list[str] = []
        name, source = requested, "argument"
        if name is None:
            env = os.environ.get(ASYNC_MODE_ENV, "").strip()
            other = _family_of(env, plugins) if env else None
            if env and other is not None and other != family:
                notes.append(
                    f"{ASYNC_MODE_ENV}={env} ignored: {env} is "
                    f"{'an' if other == 'asyncio' else 'a'} {other} mode and "
                    f"{SERVER_CLASS[family]} runs {family} modes"
                )
            elif env:
                name, source = env, "environment"
        if name is not None:
            plugin = self._by_name(name, family, plugins, reasons, source)
        else:
            plugin, source = self._best(family, plugins, reasons), "rank"
        assert plugin.info is not None  # a selected plugin passed _check
        return SelectedMode(
            info=plugin.info,
            distribution=plugin.distribution,
            version=plugin.version,
            report=self._report(plugins, reasons, plugin.name),
            source=source,
            notes=tuple(notes),
            impls=plugin.impls,
            plugin_manager=self._pm,
        )

    def _by_name(
        self,
        name: str,
        family: Family,
        plugins: dict[str, _Plugin],
        reasons: dict[str, str | None],
        source: str,
    ) -> _Plugin:
        origin = f" (from {ASYNC_MODE_ENV})" if source == "environment" else ""
        plugin = plugins.get(name)
        if plugin is None:
            known = KNOWN_MODES.get(name)
            if known is not None and known[1] != family:
                raise AsyncModeWrongFamily(_wrong_family(name, known[1]))
            raise AsyncModeNotInstalled(_not_installed(name, origin, plugins))
        if plugin.disabled:
            raise AsyncModeUnavailable(
                f"async mode {name!r}{origin} is disabled by {DISABLED_PLUGINS_ENV}="
                f"{os.environ.get(DISABLED_PLUGINS_ENV, ','.join(sorted(self.disabled)))}"
            )
        if plugin.import_error is not None:
            raise PluginError(
                f"async mode plugin {plugin.label}{origin} failed to import: {plugin.import_error}"
            )
        if plugin.problem is not None:
            raise PluginError(plugin.problem)
        assert plugin.info is not None
        if plugin.info.family != family:
            raise AsyncModeWrongFamily(_wrong_family(name, plugin.info.family))
        reason = reasons[name]
        if reason is not None:
            raise AsyncModeUnavailable(f"async mode {name!r}{origin} cannot run here: {reason}")
        return plugin

    def _best(
        self, family: Family, plugins: dict[str, _Plugin], reasons: dict[str, str | None]
    ) -> _Plugin:
        ready = [
            p
            for p in plugins.values()
            if p.info is not None and p.info.family == family and reasons[p.name] is None
        ]
        if ready:
            return min(ready, key=lambda p: (-p.info.rank if p.info else 0, p.name))
        skipped = [
            f"{p.name}: {reasons[p.name]}"
            for p in _ordered(plugins.values())
            if p.info is None or p.info.family == family
        ]
        server = SERVER_CLASS[family]
        if skipped:
            raise AsyncModeUnavailable(
                f"no {family} async mode can run here for {server}: " + "; ".join(skipped)
            )
        shipped = dict.fromkeys(
            dist
            for dist, fam in KNOWN_MODES.values()
            if fam == family and dist != _CORE_DISTRIBUTION
        )
        raise AsyncModeUnavailable(
            f"no {family} async mode is installed for {server}: pip install one of "
            f"{', '.join(shipped)}; installed: {_installed(plugins)}"
        )

    def _report(
        self,
        plugins: dict[str, _Plugin],
        reasons: dict[str, str | None],
        *chosen: str,
    ) -> tuple[Candidate, ...]:
        return tuple(
            Candidate(
                name=p.name,
                family=p.info.family if p.info is not None else None,
                rank=p.info.rank if p.info is not None else None,
                distribution=p.distribution,
                version=p.version,
                available=reasons[p.name] is None,
                reason=reasons[p.name],
                chosen=p.name in chosen,
            )
            for p in _ordered(plugins.values())
        )

    # -- listing -------------------------------------------------------------

    def describe(self) -> list[Candidate]:
        """Every installed mode; ``chosen`` marks what each family's server would select."""
        plugins = self._load()
        reasons = {name: self._why_not(plugin) for name, plugin in plugins.items()}
        chosen = [
            selection.name
            for selection in (self._try_select(family) for family in FAMILIES)
            if isinstance(selection, SelectedMode)
        ]
        return list(self._report(plugins, reasons, *chosen))

    def _try_select(self, family: Family) -> SelectedMode | str:
        try:
            return self.select(family)
        except (AsyncModeError, PluginError) as exc:
            return f"{type(exc).__name__}: {exc}"

    def format_table(self) -> str:
        """The text ``python -m engineio_core`` prints."""
        candidates = self.describe()
        lines = [f"engineio-core async modes (entry-point group {self.group})", ""]
        rows = [("mode", "family", "rank", "distribution", "available")]
        for c in candidates:
            if c.family is None:
                continue
            available = "yes" if c.available else f"no: {c.reason}"
            if c.chosen:
                available += f"  <- {SERVER_CLASS[c.family]} default"
            dist = " ".join(filter(None, (c.distribution, c.version))) or "?"
            rows.append((c.name, c.family, str(c.rank), dist, available))
        if len(rows) > 1:
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                cells = [
                    row[0].ljust(widths[0]),
                    row[1].ljust(widths[1]),
                    row[2].rjust(widths[2]),
                    row[3].ljust(widths[3]),
                    row[4],
                ]
                lines.append("  ".join(cells).rstrip())
        else:
            lines.append("no working async mode plugins are installed")
        broken = [c for c in candidates if c.family is None and not _is_disabled(c)]
        if broken:
            lines += ["", "Plugins that failed to load:"]
            for c in broken:
                dist = " ".join(filter(None, (c.distribution, c.version)))
                lines.append(f"  {c.name}{f' ({dist})' if dist else ''}: {c.reason}")
        disabled = [c.name for c in candidates if _is_disabled(c)]
        if disabled:
            lines += ["", f"Disabled by {DISABLED_PLUGINS_ENV}: {', '.join(disabled)}"]
        installed = {c.name for c in candidates}
        missing = [
            f"{name} ({dist})" for name, (dist, _) in KNOWN_MODES.items() if name not in installed
        ]
        if missing:
            lines += ["", "Not installed: " + ", ".join(missing)]
        env = os.environ.get(ASYNC_MODE_ENV, "").strip()
        lines += ["", f"{ASYNC_MODE_ENV}={env}" if env else f"{ASYNC_MODE_ENV} is not set"]
        for family in FAMILIES:
            selection = self._try_select(family)
            server = f"{SERVER_CLASS[family]} ({family})"
            if isinstance(selection, SelectedMode):
                lines.append(f"{server} selects: {selection.name} (by {selection.source})")
                lines += [f"  note: {note}" for note in selection.notes]
            else:
                lines.append(f"{server} selects nothing: {selection}")
        return "\n".join(lines)


def _check(plugin: _Plugin, unknown_hooks: list[str]) -> str | None:
    """Why a registered plugin cannot serve as a mode, or None if it can."""
    label = f"async mode plugin {plugin.label}"
    if unknown_hooks:
        return (
            f"{label} implements {', '.join(sorted(unknown_hooks))}, which is not an "
            f"engineio hook (misspelt?)"
        )
    for hook in hookspecs.REQUIRED_HOOKS:
        if hook not in plugin.impls:
            return f"{label} does not implement the required hook {hook}"
    try:
        info = plugin.impls["eio_mode_info"]()
    except Exception as exc:
        return f"{label}: hook eio_mode_info raised {type(exc).__name__}: {exc}"
    if not isinstance(info, ModeInfo):
        return f"{label}: hook eio_mode_info returned {info!r}, not a ModeInfo"
    if info.name != plugin.name:
        return (
            f"{label}: hook eio_mode_info says the mode is named {info.name!r} but it is "
            f"registered as {plugin.name!r}; the entry-point name and ModeInfo.name must match"
        )
    if info.family not in FAMILIES:
        return f"{label}: hook eio_mode_info gives family {info.family!r}, not 'sync' or 'asyncio'"
    for hook in hookspecs.ASYNC_HOOKS:
        function = plugin.functions[hook]
        is_coroutine = inspect.iscoroutinefunction(function)
        if info.family == "asyncio" and not is_coroutine:
            return f"{label}: hook {hook} must be a coroutine function (async def) in asyncio"
        if info.family == "sync" and is_coroutine:
            return f"{label}: hook {hook} must not be a coroutine function in a sync mode"
    plugin.info = info
    return None


def _bind(
    function: Callable[..., Any], impl_args: tuple[str, ...], spec_args: tuple[str, ...]
) -> Callable[..., Any]:
    """``function``, callable positionally with the hook spec's arguments.

    pluggy lets an implementation take any subset of the spec's arguments, in
    any order; the registry calls implementations directly, so one that does
    not take exactly the spec's arguments gets a small adapter.
    """
    if impl_args == spec_args:
        return function
    positions = [spec_args.index(name) for name in impl_args]

    def call(*args: Any) -> Any:
        return function(*[args[i] for i in positions])

    return functools.update_wrapper(call, function)


def _ordered(plugins: Iterable[_Plugin]) -> list[_Plugin]:
    """Sync modes, then asyncio modes, each by rank (highest first); then the unknown."""

    def key(p: _Plugin) -> tuple[int, int, str]:
        if p.info is None:
            return (len(FAMILIES), 0, p.name)
        return (FAMILIES.index(p.info.family), -p.info.rank, p.name)

    return sorted(plugins, key=key)


def _is_disabled(candidate: Candidate) -> bool:
    return candidate.reason == _DISABLED_REASON


def _family_of(name: str, plugins: Mapping[str, _Plugin]) -> Family | None:
    plugin = plugins.get(name)
    if plugin is not None and plugin.info is not None:
        return plugin.info.family
    known = KNOWN_MODES.get(name)
    return known[1] if known is not None else None


def _wrong_family(name: str, family: Family) -> str:
    if family == "sync":
        return f"{name} is a sync mode: use Server"
    return f"{name} is an asyncio mode: use AsyncServer"


def _installed(plugins: Mapping[str, _Plugin]) -> str:
    names = [p.name for p in _ordered(plugins.values())]
    return ", ".join(names) or "none"


def _not_installed(name: str, origin: str, plugins: Mapping[str, _Plugin]) -> str:
    known = KNOWN_MODES.get(name)
    if known is not None:
        advice = f": pip install {known[0]}"
    else:
        guesses = difflib.get_close_matches(name, [*plugins, *KNOWN_MODES], n=1)
        advice = f" (did you mean {guesses[0]!r}?)" if guesses else ""
    return f"async mode {name!r}{origin} is not installed{advice}; installed: {_installed(plugins)}"


def _disabled_from_env() -> set[str]:
    value = os.environ.get(DISABLED_PLUGINS_ENV, "")
    return {name.strip() for name in value.split(",") if name.strip()}


# -- the process-wide registry -------------------------------------------------

_registry: ModeRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> ModeRegistry:
    """The registry of this process, built on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = ModeRegistry()
        return _registry


def reset_registry() -> None:
    """Forget every loaded and registered plugin (for tests).

    The next use reads entry points and :data:`DISABLED_PLUGINS_ENV` again.
    """
    global _registry
    with _registry_lock:
        _registry = None


def register_mode(plugin: object, name: str | None = None) -> str:
    """Register a mode plugin by hand, as if an entry point named it.

    For frozen applications (PyInstaller and the like) that do not ship the
    ``.dist-info`` metadata entry points live in::

        import eio_gevent
        import engineio_core

        engineio_core.register_mode(eio_gevent)

    ``name`` defaults to the plugin's ``eio_mode_info().name``. The plugin is
    checked like an installed one when a server selects it. Returns the mode
    name.
    """
    return get_registry().register(plugin, name)


def select_async_mode(family: Family, requested: str | None = None) -> SelectedMode:
    """Choose the async mode for a server of ``family`` (``"sync"`` or ``"asyncio"``).

    The mode is ``requested`` if given, else :data:`ASYNC_MODE_ENV` if set,
    else the highest-ranked available mode of ``family``. A mode named by the
    argument or the environment is used or the call fails; it never falls back:

    * :class:`~engineio_core.exceptions.AsyncModeNotInstalled`: no installed
      plugin provides it (the message says what to install);
    * :class:`~engineio_core.exceptions.AsyncModeUnavailable`: installed but
      cannot run here (the plugin's reason), or disabled;
    * :class:`~engineio_core.exceptions.AsyncModeWrongFamily`: a mode of the
      other family was asked for by argument. From the environment it is
      ignored instead (and noted in ``SelectedMode.notes``), so one variable
      serves a process that runs both a ``Server`` and an ``AsyncServer``;
    * :class:`~engineio_core.exceptions.PluginError`: its plugin failed to
      import or is broken.

    With nothing named and no mode available, raises ``AsyncModeUnavailable``
    saying why each was skipped.
    """
    return get_registry().select(family, requested)


def describe_modes() -> list[Candidate]:
    """Every installed mode, with ``chosen`` set on what each server family would select."""
    return get_registry().describe()


def format_modes_table() -> str:
    """The report ``python -m engineio_core`` prints."""
    return get_registry().format_table()
