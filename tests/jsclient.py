"""Drive a real engine.io-client (node) against a server, for the end-to-end tests.

Protocol 4 uses engine.io-client 6.x, protocol 3 uses engine.io-client 3.5.x; both live in
tests/js/node_modules (install with ``npm ci --prefix tests/js``). See tests/js/client.mjs for
the event formats; every event is a dict with an ``"event"`` key (and ``"ts"``: ms since the
node process started).

    with JSClient(url, transports=("polling",)) as c:
        c.wait_for("open")
        c.send_text("hi")
        assert c.recv() == "hi"
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"
CLIENT_SCRIPT = JS_DIR / "client.mjs"

Event = dict[str, Any]


def js_harness_problem() -> str | None:
    """Why the JS harness cannot run here (None when it can): for skip/xfail decisions."""
    if shutil.which("node") is None:
        return "node is not installed (the JS client harness needs Node.js >= 18)"
    if (
        not (JS_DIR / "node_modules" / "engine.io-client").is_dir()
        or not (JS_DIR / "node_modules" / "eio3").is_dir()
    ):
        return f"{JS_DIR / 'node_modules'} is missing: run `npm ci --prefix tests/js`"
    return None


class JSClient:
    """One node engine.io-client process; a context manager that always reaps the process."""

    def __init__(
        self,
        url: str,
        protocol: int = 4,
        transports: Iterable[str] = ("polling", "websocket"),
        upgrade: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        *,
        path: str = "/engine.io/",
        force_base64: bool = False,
        packets: bool = False,
        lifetime: float = 120.0,
    ) -> None:
        self.timeout = timeout
        self.options: dict[str, Any] = {
            "url": url,
            "protocol": protocol,
            "transports": list(transports),
            "upgrade": upgrade,
            "path": path,
            "query": dict(query or {}),
            "forceBase64": force_base64,
            "packets": packets,
            "lifetimeMs": int(lifetime * 1000),  # node exits by itself after this
        }
        if extra_headers:
            self.options["extraHeaders"] = dict(extra_headers)
        self._events: list[Event] = []
        self._returned: set[int] = set()  # indices already handed out by wait_for
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        self._proc: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> JSClient:
        if self._proc is not None:
            return self
        problem = js_harness_problem()
        if problem is not None:
            raise RuntimeError(problem)
        self._proc = subprocess.Popen(
            ["node", str(CLIENT_SCRIPT), json.dumps(self.options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        for target in (self._read_stdout, self._read_stderr):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __enter__(self) -> JSClient:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def shutdown(self, grace: float = 5.0) -> None:
        """Ask the client to close and exit; kill it if it is still alive after ``grace`` s."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._command({"cmd": "exit"})
            try:
                assert proc.stdin is not None
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=2)

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    # -- commands --------------------------------------------------------------------------
    def _command(self, command: Mapping[str, Any]) -> None:
        proc = self._proc
        if proc is None:
            raise RuntimeError("JSClient not started (use it as a context manager)")
        if proc.stdin is None or proc.stdin.closed or proc.poll() is not None:
            return
        try:
            proc.stdin.write(json.dumps(command) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the process is gone; wait_for reports it

    def send_text(self, text: str) -> None:
        self._command({"cmd": "send", "text": text})

    def send_binary(self, data: bytes) -> None:
        self._command({"cmd": "send", "binary": base64.b64encode(data).decode("ascii")})

    def close(self) -> None:
        """Close the engine.io socket (the process stays up; a "close" event follows)."""
        self._command({"cmd": "close"})

    # -- events ----------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            if not line:
                continue
            try:
                event: Event = json.loads(line)
                if not isinstance(event, dict) or "event" not in event:
                    raise ValueError
            except ValueError:
                event = {"event": "stdout", "line": line}
            with self._cond:
                self._events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            with self._cond:
                self._stderr.append(line.rstrip("\n"))

    @property
    def events(self) -> list[Event]:
        """All events received so far (a copy)."""
        with self._cond:
            return list(self._events)

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self._stderr)

    def log(self) -> str:
        """The event log and node's stderr, for assertion messages."""
        with self._cond:
            lines = [json.dumps(e) for e in self._events]
            stderr = "\n".join(self._stderr)
        rc = self.returncode
        return (
            f"options: {json.dumps(self.options)}\nexit code: {rc}\nevents:\n  "
            + "\n  ".join(lines)
            + (f"\nstderr:\n{stderr}" if stderr else "")
        )

    def wait_for(
        self,
        event_name: str,
        timeout: float | None = None,
        predicate: Callable[[Event], bool] | None = None,
    ) -> Event:
        """Return the first ``event_name`` event (matching ``predicate``) not returned before.

        Already-received events count, so ``wait_for("open")`` after a fast open still works,
        and successive ``wait_for("message")`` calls walk through the messages in order.
        Raises AssertionError (with the event log) on timeout or if the process has ended.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._cond:
            while True:
                for i, event in enumerate(self._events):
                    if i in self._returned or event.get("event") != event_name:
                        continue
                    if predicate is None or predicate(event):
                        self._returned.add(i)
                        return event
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    why = "client process ended" if self._eof else "timed out"
                    break
                self._cond.wait(remaining)
        raise AssertionError(f"{why} waiting for {event_name!r} event\n{self.log()}")

    def messages(self) -> list[str | bytes]:
        """Payloads of all messages received so far (text as str, binary as bytes)."""
        return [decode_message(e) for e in self.events if e.get("event") == "message"]

    def recv(self, timeout: float | None = None) -> str | bytes:
        """Payload of the next message not yet returned by wait_for/recv."""
        return decode_message(self.wait_for("message", timeout))


def decode_message(event: Event) -> str | bytes:
    if "binary" in event:
        return base64.b64decode(event["binary"])
    return str(event.get("text", ""))
