"""``WSGIApp``: route Engine.IO traffic, static files and everything else."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engineio_core.plugin.wsgi_mode import serve_plain_polling
from engineio_core.static_files import resolve_static

__all__ = ["Middleware", "WSGIApp"]

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGIApp:
    """A WSGI application that serves an Engine.IO server at ``/<engineio_path>/``.

    :param engineio_app: the :class:`~engineio_core.Server`.
    :param wsgi_app: a WSGI app (Flask's ``app.wsgi_app``, say) for all other
        paths; without it they get 404.
    :param static_files: URL path -> file, dict or directory; see
        :mod:`engineio_core.static_files`.
    :param engineio_path: where Engine.IO lives; ``'engine.io'`` by default.
    """

    def __init__(
        self,
        engineio_app: Any,
        wsgi_app: WSGIApplication | None = None,
        static_files: Mapping[str, Any] | None = None,
        engineio_path: str = "engine.io",
    ) -> None:
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        self.static_files = dict(static_files or {})
        self.engineio_path = "/" + engineio_path.strip("/")
        # A long-polling client's polls and POSTs take handle_polling_request,
        # unless handle_request was replaced: then everything goes through it.
        takes = getattr(engineio_app, "takes_plain_polling", None)
        self._plain_polling = takes is not None and takes()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO") or "/"
        if path == self.engineio_path or path.startswith(self.engineio_path + "/"):
            if self._plain_polling:
                served = serve_plain_polling(self.engineio_app, environ, start_response)
                if served is not None:
                    return served
            return self.engineio_app.handle_request(environ, start_response)
        static = resolve_static(path, self.static_files)
        if static is not None and environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
            with open(static.filename, "rb") as f:
                body = f.read()
            start_response(
                "200 OK",
                [("Content-Type", static.content_type), ("Content-Length", str(len(body)))],
            )
            return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]


class Middleware(WSGIApp):
    """Deprecated alias of :class:`WSGIApp`, kept for code written for python-engineio."""

    def __init__(
        self,
        engineio_app: Any,
        wsgi_app: WSGIApplication | None = None,
        engineio_path: str = "engine.io",
    ) -> None:
        warnings.warn("Middleware is deprecated: use WSGIApp", DeprecationWarning, stacklevel=2)
        super().__init__(engineio_app, wsgi_app, engineio_path=engineio_path)
