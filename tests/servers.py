"""Run a server under test as a subprocess on a free 127.0.0.1 port.

with run_server([sys.executable, "-m", "myapp", "--port", "{port}"]) as (url, proc):
    ...  # url == "http://127.0.0.1:<port>"; proc.output() for assertion messages
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any

HOST = "127.0.0.1"


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class ServerProcess(subprocess.Popen[bytes]):
    """A Popen whose stdout/stderr go to temporary files readable with ``output()``."""

    port: int
    url: str
    _out: IO[bytes]
    _err: IO[bytes]
    _final: tuple[str, str] | None = None  # captured output once the files are closed

    def __init__(self, argv: Sequence[str], port: int, **kwargs: Any) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by release())
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            super().__init__(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=self._err,
                start_new_session=True,  # own process group: workers die with it
                **kwargs,
            )
        except BaseException:
            self._out.close()
            self._err.close()
            raise

    def stdout_text(self) -> str:
        return self._final[0] if self._final else _read_all(self._out)

    def stderr_text(self) -> str:
        return self._final[1] if self._final else _read_all(self._err)

    def release(self) -> None:
        """Keep the captured output in memory and close the temporary files."""
        if self._final is None:
            self._final = (self.stdout_text(), self.stderr_text())
            self._out.close()
            self._err.close()

    def output(self) -> str:
        """Both captured streams, labelled, for assertion messages."""
        return (
            f"server {self.args!r} (pid {self.pid}, exit code {self.poll()})\n"
            f"--- stdout ---\n{self.stdout_text()}\n--- stderr ---\n{self.stderr_text()}"
        )

    def stop(self, grace: float = 5.0) -> int:
        """SIGTERM the process group, SIGKILL it after ``grace`` s; returns the exit code."""
        if self.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.wait(timeout=5)
        else:
            self._signal(signal.SIGKILL)  # reap leftovers of the group, if any
        return self.returncode

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            if self.poll() is None:
                self.send_signal(sig)


def _read_all(f: IO[bytes]) -> str:
    f.flush()
    pos = f.tell()
    try:
        f.seek(0)
        return f.read().decode("utf-8", "replace")
    finally:
        f.seek(pos)


def wait_for_port(proc: ServerProcess, timeout: float) -> None:
    """Return once a TCP connect to ``proc.port`` succeeds; RuntimeError if it dies/times out."""
    deadline = time.monotonic() + timeout
    while True:
        if port_open(proc.port):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"server exited before listening\n{proc.output()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server not listening after {timeout}s\n{proc.output()}")
        time.sleep(0.05)


@contextmanager
def run_server(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 15.0,
    *,
    cwd: str | os.PathLike[str] | None = None,
    stop_grace: float = 5.0,
    preexec_fn: Callable[[], Any] | None = None,
) -> Iterator[tuple[str, ServerProcess]]:
    """Start ``argv`` ("{port}" substituted) with PORT in its environment; yield (url, proc).

    The environment is os.environ + ``env`` + PORT (+ PYTHONUNBUFFERED=1 unless given).
    ``preexec_fn`` runs in the child before the server starts (e.g. to raise a limit).
    On exit the server is SIGTERMed, then SIGKILLed after ``stop_grace`` seconds.
    """
    port = free_port()
    full_env = {"PYTHONUNBUFFERED": "1", **os.environ, **(env or {}), "PORT": str(port)}
    args = [a.replace("{port}", str(port)) for a in argv]
    proc = ServerProcess(args, port, env=full_env, cwd=cwd, preexec_fn=preexec_fn)
    try:
        wait_for_port(proc, ready_timeout)
        yield proc.url, proc
    finally:
        proc.stop(stop_grace)
        proc.release()
