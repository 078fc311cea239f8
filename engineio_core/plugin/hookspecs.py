# Specs are documentation only: their bodies are empty on purpose.
# mypy: disable-error-code="empty-body"
"""The hooks an async-mode plugin implements (pluggy project ``"engineio"``).

A mode plugin is a module (or object) named by an entry point in the group
``engineio_core.async_modes``; the entry-point name is the mode name. Mark
each implementation with :data:`hookimpl`.

Two kinds of hook:

* **Discovery** hooks are called on every installed mode to list and rank
  them. They must be cheap and must not import the mode's framework.
* **Primitive** hooks are called only on the mode a server selected: the
  registry binds that plugin's implementations directly, so a mode never
  sees calls meant for another. Sync-family modes implement them as plain
  functions; asyncio-family modes implement ``eio_sleep`` as a coroutine
  function and return asyncio-shaped objects.

``REQUIRED_HOOKS`` lists the primitive hooks every mode must implement;
``OPTIONAL_HOOKS`` those it may leave out (the server then does without:
no WebSocket, no ``attach``, callbacks run at once instead of soon).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from engineio_core.plugin.types import ModeInfo
from engineio_core.protocol.http import Request, Response

PROJECT_NAME = "engineio"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

REQUIRED_HOOKS = (
    "eio_mode_info",
    "eio_unavailable_reason",
    "eio_spawn",
    "eio_sleep",
    "eio_create_queue",
    "eio_create_event",
    "eio_translate_request",
    "eio_make_response",
)
OPTIONAL_HOOKS = (
    "eio_wrap_websocket",
    "eio_can_upgrade",
    "eio_attach",
    "eio_call_soon",
    "eio_spawn_detached",
)
#: Hooks that must be coroutine functions in an asyncio-family mode.
ASYNC_HOOKS = ("eio_sleep",)


# -- discovery ---------------------------------------------------------------


@hookspec(firstresult=True)
def eio_mode_info() -> ModeInfo:
    """Describe this mode: its name, family, rank and WebSocket support.

    Implemented by every mode plugin. Called once per plugin when modes are
    listed or selected; it must not import the mode's framework.

    :return: a :class:`~engineio_core.plugin.types.ModeInfo`. Its ``name``
        must equal the plugin's entry-point name.
    """


@hookspec(firstresult=True)
def eio_unavailable_reason() -> str | None:
    """Say whether this mode can run in this process, and if not, why.

    Implemented by every mode plugin. Called when modes are listed or
    selected. Check cheaply, for example with
    ``importlib.util.find_spec("gevent")`` or by looking for the server's
    module in ``sys.modules``: do not import or monkey-patch the framework.

    :return: None when the mode can run; otherwise one sentence a user can
        act on, e.g. ``"gevent is not installed: pip install gevent"``.
    """


# -- primitives --------------------------------------------------------------


@hookspec(firstresult=True)
def eio_spawn(target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Start ``target(*args, **kwargs)`` as a concurrent task, now.

    Implemented by every mode; called only on the selected one, for
    background tasks (``start_background_task``), the heartbeat loop and
    message handlers when ``async_handlers`` is on.

    :param target: a function (sync family) or coroutine function (asyncio).
    :param args: positional arguments for ``target``.
    :param kwargs: keyword arguments for ``target``.
    :return: a handle on the running task: an object with ``join(timeout)``
        in sync modes (like ``threading.Thread``), an ``asyncio.Task`` in
        asyncio modes.
    """


@hookspec(firstresult=True)
def eio_spawn_detached(target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Start ``target(*args)`` as a concurrent task that nobody will wait for.

    Optional: a cheaper :func:`eio_spawn` for work the server never joins,
    namely a message handler per message with ``async_handlers`` (gevent's
    ``spawn_raw``, eventlet's ``spawn_n``: no handle, no exit event). A
    mode without it has :func:`eio_spawn` called and the handle dropped.
    ``target`` handles its own errors.

    :param target: the function to run; it must not raise.
    :param args: its positional arguments.
    """


@hookspec(firstresult=True)
def eio_call_soon(callback: Callable[..., None], args: tuple[Any, ...]) -> None:
    """Run ``callback(*args)`` soon, after the tasks that are ready to run now.

    Optional, and only for sync-family modes with a scheduler of their own
    (greenlets): gevent's ``loop.run_callback``, eventlet's
    ``hub.schedule_call_global(0, ...)``. The callback never blocks, so it
    may run in the scheduler's own loop; it handles its errors itself. A
    mode without this hook (threads) has the callback run at once, in the
    caller.

    The server uses it to start a WebSocket write: the message handlers
    woken by the same incoming data queue their replies first, and the
    replies go out together in one write.

    :param callback: a function that must not block or raise.
    :param args: its positional arguments.
    """


@hookspec(firstresult=True)
def eio_sleep(seconds: float) -> Any:
    """Suspend the calling task for ``seconds``, letting others run.

    Implemented by every mode; called only on the selected one. Sync modes
    block the calling thread or greenlet; asyncio modes implement this as a
    coroutine function.

    :param seconds: how long to sleep; 0 just yields to other tasks.
    """


@hookspec(firstresult=True)
def eio_create_queue() -> Any:
    """Make a FIFO queue safe between this mode's tasks.

    Implemented by every mode; called only on the selected one.

    :return: sync modes: an object with ``put(item)`` and
        ``get(block=True, timeout=None)`` that raises ``queue.Empty`` on
        timeout (see :class:`~engineio_core.plugin.types.Queue`);
        asyncio modes: an ``asyncio.Queue`` or one of the same shape.
    """


@hookspec(firstresult=True)
def eio_create_event() -> Any:
    """Make an event flag that this mode's tasks can wait on.

    Implemented by every mode; called only on the selected one. The server
    uses one per long-polling session to wake the waiting GET request.

    :return: sync modes: an object shaped like ``threading.Event`` whose
        ``wait(timeout)`` returns whether the flag is set; asyncio modes: an
        ``asyncio.Event`` or one of the same shape.
    """


@hookspec(firstresult=True)
def eio_translate_request(args: tuple[Any, ...]) -> Request:
    """Turn the framework's call arguments into a core :class:`Request`.

    Implemented by every mode; called only on the selected one, once per
    HTTP request the server handles.

    :param args: exactly what the framework passed to ``handle_request``:
        ``(environ, start_response)`` for WSGI, ``(scope, receive, send)``
        for ASGI, ``(request,)`` for aiohttp and Sanic.
    :return: the request. Its ``read_body(limit)`` reads at most ``limit``
        bytes of the body (a coroutine function in asyncio modes); its
        ``native`` keeps ``args`` for the hooks below.
    """


@hookspec(firstresult=True)
def eio_make_response(response: Response, request: Request) -> Any:
    """Turn a core :class:`Response` into what the framework must return.

    Implemented by every mode; called only on the selected one.

    :param response: status, headers and the complete body.
    :param request: the request it answers (``request.native`` holds the
        framework's arguments, e.g. WSGI's ``start_response``).
    :return: the value ``handle_request`` returns to the framework: the
        body iterable in WSGI, an ``aiohttp.web.Response`` in aiohttp, None
        in ASGI (after the mode has sent the response). In an asyncio-family
        mode the hook may be a coroutine function, or return an awaitable
        (a coroutine of its own, with no wrapper): the server awaits it.
    """


@hookspec(firstresult=True)
def eio_wrap_websocket(request: Request, max_message_size: int) -> Any:
    """Accept the WebSocket this request asks for, or decline.

    Optional: a mode without WebSocket support leaves it out and the server
    then never offers the ``websocket`` upgrade. Called only on the selected
    mode, after the server has decided to accept the upgrade (origin, sid
    and transport already checked), so a mode does not validate those.

    :param request: a request with an ``Upgrade: websocket`` header.
    :param max_message_size: the largest message, in bytes, the socket may
        accept. On a larger one its ``receive`` closes the connection with
        code 1009 and raises
        :class:`~engineio_core.plugin.types.MessageTooLarge`.
    :return: None when this particular request cannot be upgraded (for
        example a WSGI server that exposes no raw socket); the server then
        answers 400 "Transport unknown" and advertises no upgrade to
        polling clients of that server. Otherwise an accepted socket shaped
        like :class:`~engineio_core.plugin.types.WebSocket` (sync) or
        :class:`~engineio_core.plugin.types.AsyncWebSocket` (asyncio).
    """


@hookspec(firstresult=True)
def eio_can_upgrade(request: Request) -> bool:
    """Say whether a WebSocket upgrade could be accepted on this request.

    Optional (default: True when the mode implements ``eio_wrap_websocket``).
    Called on the selected mode at each polling handshake, to decide whether
    the open packet offers ``"websocket"`` in ``upgrades``. Answer from the
    request alone, e.g. whether the WSGI server put a raw socket in the
    environ; do not touch the connection.

    :param request: the handshake request.
    :return: True if a WebSocket request to this server would be accepted.
    """


@hookspec(firstresult=True)
def eio_attach(app: Any, server: Any, path: str) -> Any:
    """Route ``path`` of a framework application to ``server``.

    Optional: implemented by modes whose framework has its own routing
    (aiohttp, Sanic); ``Server.attach``/``AsyncServer.attach`` calls it on
    the selected mode only.

    :param app: the framework application, e.g. ``aiohttp.web.Application``.
    :param server: the Engine.IO server; route requests to its
        ``handle_request``.
    :param path: the URL path without surrounding slashes, e.g. ``engine.io``.
    """


# -- observers -----------------------------------------------------------------


@hookspec
def eio_mode_selected(server: Any, mode: str) -> None:
    """Observe a server choosing its async mode.

    Any plugin may implement it; every implementation is called once, when
    a server is constructed, after selection succeeded.

    :param server: the ``Server`` or ``AsyncServer`` being built.
    :param mode: the selected mode's name.
    """
