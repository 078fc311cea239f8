"""gevent_uwsgi inside a real uWSGI process: the plugin contract suite, and
refused requests whose bodies the app never read.

The mode exists only inside uWSGI, so the contract server runs as uWSGI's
app (engineio_core.testing.embedded) rather than from its own process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from engineio_core.testing import check_mode
from engineio_core.testing.contract import _free_port, _wait_for_port

UWSGI = Path(sys.executable).parent / "uwsgi"
HOST = "127.0.0.1"


def uwsgi_command(port: int | str) -> list[str]:
    assert UWSGI.exists(), "uWSGI is not installed in this venv (./scripts/setup installs it)"
    return [
        str(UWSGI), "--http", f"{HOST}:{port}", "--gevent", "100", "--http-websockets",
        "--module", "engineio_core.testing.embedded:app", "--die-on-term",
        "--virtualenv", sys.prefix, "--disable-logging",
    ]  # fmt: skip


def test_gevent_uwsgi_mode_passes_the_contract() -> None:
    report = check_mode("gevent_uwsgi", command=uwsgi_command("{port}"))
    assert report.ok, report.text


class Uwsgi:
    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.proc = proc
        self.log = log

    def connect(self) -> socket.socket:
        return socket.create_connection((HOST, self.port), timeout=10)

    def handshake(self) -> str:
        with self.connect() as s:
            s.sendall(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
            head, body = read_response(s)
        assert head.startswith(b"HTTP/1.1 200"), head
        sid: str = json.loads(body[1:])["sid"]
        return sid

    def post_head(self, sid: str, length: int) -> bytes:
        return (
            f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {length}\r\n\r\n"
        ).encode()


def read_response(s: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            while len(body) < int(line.split(b":")[1]):
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
    return head, body


@pytest.fixture(scope="module")
def uwsgi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uwsgi]:
    port = _free_port()
    log = tmp_path_factory.mktemp("uwsgi") / "uwsgi.log"
    env = {**os.environ, "ENGINEIO_CONTRACT_MODE": "gevent_uwsgi"}
    with log.open("wb") as out:
        proc = subprocess.Popen(uwsgi_command(port), stdout=out, stderr=out, env=env)
    try:
        problem = _wait_for_port(port, proc, 30)
        assert problem is None, f"{problem}\n{log.read_text(errors='replace')}"
        yield Uwsgi(port, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_oversize_posts_are_answered_and_their_bodies_drained(uwsgi: Uwsgi) -> None:
    """uWSGI wants every request body consumed: a 413 answered from the
    Content-Length alone used to make its router drop the connection, now and
    then before the client read the answer ("hr_instance_write(): Connection
    reset by peer" in its log, ConnectionResetError in the client)."""
    body = b"4" + b"x" * 999_999  # the contract server's limit is 10,000 bytes
    outcomes: Counter[str] = Counter()
    for _ in range(40):
        sid = uwsgi.handshake()
        with uwsgi.connect() as s:
            try:
                s.sendall(uwsgi.post_head(sid, len(body)) + body)
                head, _ = read_response(s)
                outcomes[head.split(b"\r\n")[0].decode()] += 1
            except OSError as exc:
                outcomes[type(exc).__name__] += 1
    assert outcomes == {"HTTP/1.1 413 Payload Too Large": 40}
    resets = [line for line in uwsgi.log.read_text(errors="replace").splitlines() if "hr_" in line]
    assert not resets, resets[:3]


def test_a_body_never_sent_is_answered_at_once_and_waited_for_briefly(uwsgi: Uwsgi) -> None:
    from eio_gevent.uwsgi_mode import DRAIN_SECONDS

    sid = uwsgi.handshake()
    with uwsgi.connect() as s:
        start = time.monotonic()
        s.sendall(uwsgi.post_head(sid, 5_000_000) + b"4" + b"a" * 100)
        head, _ = read_response(s)
        answered = time.monotonic() - start
        assert head.startswith(b"HTTP/1.1 413"), head
        assert answered < 1.0
        s.settimeout(DRAIN_SECONDS + 5)
        assert s.recv(1) == b""  # the drain gave up, and uWSGI closed the connection
        closed = time.monotonic() - start
    assert DRAIN_SECONDS - 0.5 < closed < DRAIN_SECONDS + 2, closed
    assert uwsgi.handshake()  # and the server goes on
