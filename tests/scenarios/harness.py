"""Drive ``Server`` and ``AsyncServer`` in-process through one interface.

The scenario tests are written once against :class:`Harness`; the sync
harness calls ``WSGIApp`` (plain polls and POSTs then take
``Server.handle_polling_request``) or ``Server.handle_request`` directly, on the
threading mode,
the async one calls ``ASGIApp`` (plain polls and POSTs then take
``AsyncServer.handle_polling_request``) or ``AsyncServer.handle_request``
directly, on the asgi mode, on an event loop in a background thread. No sockets: the mode's
translation code runs, the network does not.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import engineio_core

TIMEOUT = 5.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def packets(self) -> list[str]:
        return self.body.decode().split("\x1e")


class Harness:
    server: Any

    def request(
        self,
        method: str,
        query: dict[str, str],
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        raise NotImplementedError

    def call(self, name: str, *args: Any) -> Any:
        """Call a server method, awaiting it on the async server."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- conveniences ---------------------------------------------------------------

    def handshake(self, eio: int = 4, **extra: str) -> tuple[str, dict[str, Any]]:
        reply = self.request("GET", {"EIO": str(eio), "transport": "polling", **extra})
        assert reply.status == 200, (reply.status, reply.body)
        first = reply.body.decode().split("\x1e")[0]
        if eio == 3:
            first = first.split(":", 1)[1]
        info: dict[str, Any] = json.loads(first[1:])
        return info["sid"], info

    def poll(self, sid: str, **extra: str) -> Reply:
        return self.request("GET", {"EIO": "4", "transport": "polling", "sid": sid, **extra})

    def post(self, sid: str, body: bytes, **headers: str) -> Reply:
        return self.request("POST", {"EIO": "4", "transport": "polling", "sid": sid}, body, headers)

    @staticmethod
    def wait_until(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.005)


def _header_items(headers: dict[str, str] | None, body: bytes) -> dict[str, str]:
    items = {"host": "testserver", **{k.lower(): v for k, v in (headers or {}).items()}}
    if body:
        items.setdefault("content-length", str(len(body)))
    return items


class Harness_:
    plain: bool
    plain_served: int
    plain_handshakes: int

    def _count_plain(self, server: Any, is_async: bool) -> None:
        """Count the requests ``handle_polling_request`` served (not declined):
        handshakes in ``plain_handshakes``, a session's polls and POSTs in
        ``plain_served``."""
        self.plain_served = self.plain_handshakes = 0
        offer = server.handle_polling_request

        def count(args: tuple[Any, ...], response: Any) -> None:
            if response is not None:
                if "sid=" in args[2]:  # the query string
                    self.plain_served += 1
                else:
                    self.plain_handshakes += 1

        def counted(*args: Any) -> Any:
            response = offer(*args)
            count(args, response)
            return response

        async def counted_async(*args: Any) -> Any:
            response = await offer(*args)
            count(args, response)
            return response

        server.handle_polling_request = counted_async if is_async else counted


class SyncHarness(Harness, Harness_):
    """``plain=True``: requests go through ``WSGIApp``, whose plain polls and POSTs
    take ``handle_polling_request``; ``plain=False``: all take ``handle_request``."""

    def __init__(self, plain: bool = True, **options: Any) -> None:
        self.plain = plain
        self.server = engineio_core.Server(async_mode="threading", **options)
        self.app = engineio_core.WSGIApp(self.server)
        self._count_plain(self.server, is_async=False)

    def request(
        self,
        method: str,
        query: dict[str, str],
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/engine.io/",
            "QUERY_STRING": urlencode(query),
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in _header_items(headers, body).items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ["HTTP_" + key] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = {k.lower(): v for k, v in response_headers}

        if self.plain:
            chunks = self.app(environ, start_response)
        else:
            chunks = self.server.handle_request(environ, start_response)
        return Reply(captured["status"], captured["headers"], b"".join(chunks))

    def call(self, name: str, *args: Any) -> Any:
        return getattr(self.server, name)(*args)

    def close(self) -> None:
        self.server.shutdown(timeout=1)


class AsyncHarness(Harness, Harness_):
    """``plain=True``: requests go through ``ASGIApp``, whose plain polls and POSTs
    take ``handle_polling_request``; ``plain=False``: all take ``handle_request``."""

    def __init__(self, plain: bool = True, **options: Any) -> None:
        self.plain = plain
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def make() -> Any:
            return engineio_core.AsyncServer(async_mode="asgi", **options)

        self.server = self._run(make())
        self.app = engineio_core.ASGIApp(self.server)
        self._count_plain(self.server, is_async=True)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT * 2)

    def request(
        self,
        method: str,
        query: dict[str, str],
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        items = _header_items(headers, body)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/engine.io/",
            "raw_path": b"/engine.io/",
            "query_string": urlencode(query).encode(),
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in items.items()],
            "client": ("127.0.0.1", 12345),
            "server": ("testserver", 80),
        }
        sent: list[dict[str, Any]] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # like a server: nothing more until disconnect
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        if self.plain:
            self._run(self.app(scope, receive, send))
        else:
            self._run(self.server.handle_request(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return Reply(start["status"], hdrs, body_out)

    def call(self, name: str, *args: Any) -> Any:
        result = getattr(self.server, name)(*args)
        if asyncio.iscoroutine(result):
            return self._run(result)
        return result

    def close(self) -> None:
        self._run(self.server.shutdown(timeout=1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()
