"""The sanic mode on a real Sanic server (tests/sanic_app.py in a subprocess).

The cross-mode scenarios with the real engine.io-client live in the
repository's tests/e2e; these cover what is particular to Sanic: one route
for HTTP and WebSocket, Sanic cancelling handlers when a client leaves, its
body and message size limits, shutdown, and Sanic run as an ASGI app.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from engineio_core.testing.client import RawEngineIOClient, RawWebSocket

HERE = Path(__file__).resolve().parent
LIMIT = 1000  # the app's max_http_buffer_size


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Any) -> None:
        self.proc = proc
        self.port = port
        self.log = log
        self.client = RawEngineIOClient("127.0.0.1", port)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return str(self.log.read().decode(errors="replace"))

    def state(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/_state"
        with urllib.request.urlopen(url, timeout=5) as reply:
            result: dict[str, Any] = json.load(reply)
            return result

    def wait_state(self, check: Callable[[dict[str, Any]], bool], timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not check(state := self.state()):
            if time.monotonic() > deadline:
                raise AssertionError(f"state never matched: {state}\n{self.output()}")
            time.sleep(0.05)

    def reason_for(self, sid: str, timeout: float = 5) -> str:
        self.wait_state(lambda s: sid in s["disconnects"], timeout)
        reason: str = self.state()["disconnects"][sid]
        return reason

    def raw(self, data: bytes) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(data)
        return sock


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(
    argv: list[str],
    *,
    sanic_config: dict[str, Any] | None = None,
    tls: Path | None = None,
    **options: Any,
) -> Iterator[Served]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "EIO_SANIC_TEST_OPTIONS": json.dumps(options),
        "EIO_SANIC_TEST_CONFIG": json.dumps(sanic_config or {}),
    }
    if tls is not None:
        env["EIO_SANIC_TEST_TLS"] = str(tls)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [a.replace("{port}", str(port)) for a in argv],
            cwd=HERE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        served = Served(proc, port, log)
        try:
            deadline = time.monotonic() + 20
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start\n{served.output()}")
                time.sleep(0.05)
            yield served
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    # A ping timeout after 3 s: quick to observe, long enough for a busy machine.
    with serve(
        [sys.executable, "sanic_app.py", "{port}"], ping_interval=1, ping_timeout=2
    ) as served:
        yield served
        # Normal client behaviour, however rude, never logs an error.
        output = served.output()
        for sign in ("Traceback", "ERROR", "Task was destroyed", "never retrieved"):
            assert sign not in output, output


def _next(ws: Any) -> str | bytes | None:
    """The next message that is not a ping (pings are answered)."""
    while (message := ws.receive()) == "2":
        ws.send("3")
    result: str | bytes | None = message
    return result


def _open_ws(served: Served, sid: str | None = None) -> tuple[Any, str]:
    ws = served.client.websocket(sid)
    assert ws.status == 101
    if sid is None:
        opened = ws.receive()
        assert isinstance(opened, str) and opened.startswith("0")
        sid = json.loads(opened[1:])["sid"]
    assert sid is not None
    return ws, sid


def test_polling_echo_and_handshake_details(server: Served) -> None:
    client = server.client
    reply = client.request("GET", client.query())
    assert reply.status == 200
    assert reply.headers["set-cookie"].startswith("io=")
    info = json.loads(reply.body.decode()[1:])
    assert info["upgrades"] == ["websocket"] and info["maxPayload"] == LIMIT
    sid = info["sid"]
    assert client.post(sid, b"4hello\x1e4world").body == b"ok"
    assert client.poll(sid).packets == ["4hello", "4world"]
    environ = server.state()["environs"][sid]
    assert environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/engine.io/"
    assert environ["has_sanic_request"] == "True"


def test_every_method_reaches_the_server(server: Served) -> None:
    client = server.client
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        reply = client.request(method, client.query())
        assert (reply.status, reply.json()["code"]) == (400, 2), method
        assert reply.headers["content-type"] == "application/json"
    assert client.request("OPTIONS", client.query()).status == 200
    no_slash = RawEngineIOClient("127.0.0.1", server.port, path="/engine.io")
    assert no_slash.request("GET", no_slash.query()).status == 200


def test_translate_request(server: Served) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/_translate?limit=5&a=1&a=2&b=",
        data=b"hello world",
        headers={"X-Test": "yes", "Content-Type": "text/plain"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        core = json.load(reply)
    assert core["method"] == "POST" and core["path"] == "/_translate"
    assert core["query"] == {"limit": ["5"], "a": ["1", "2"], "b": [""]}
    assert core["headers"]["x-test"] == "yes" and core["content_length"] == 11
    assert (core["remote_addr"], core["scheme"], core["body"]) == ("127.0.0.1", "http", "hello")
    environ = core["environ"]
    assert environ["QUERY_STRING"] == "limit=5&a=1&a=2&b="
    assert environ["CONTENT_TYPE"] == "text/plain" and environ["HTTP_X_TEST"] == "yes"
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["wsgi.url_scheme"] == "http"
    assert environ["SERVER_PORT"] == str(server.port)


def _sanics_view_matches(core: dict[str, Any]) -> bool:
    environ = core["environ"]
    return all(environ[key] == value for key, value in core["sanic"].items())


@pytest.mark.parametrize(
    "host", ["127.0.0.1:5000", "Example.COM", "example.com:8443", "[::1]:81", "bad host!", None]
)
def test_environ_names_the_server_as_sanic_does(server: Served, host: str | None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.putrequest("POST", "/_translate", skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.putheader("Content-Length", "1")
        connection.endheaders(b"x")
        reply = connection.getresponse()
        core = json.loads(reply.read())
    finally:
        connection.close()
    assert _sanics_view_matches(core), core


def _translated(url: str, headers: dict[str, str], context: ssl.SSLContext | None = None) -> Any:
    request = urllib.request.Request(url, data=b"x", headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5, context=context) as reply:
        return json.load(reply)


def test_translate_request_behind_a_trusted_proxy() -> None:
    # With Sanic's proxy settings on, the client and scheme are the ones its
    # forwarding headers name, as Sanic's own client_ip and scheme say.
    config = {"REAL_IP_HEADER": "x-real-ip", "FORWARDED_SECRET": "s3cret"}
    with serve([sys.executable, "sanic_app.py", "{port}"], sanic_config=config) as served:
        url = f"http://127.0.0.1:{served.port}/_translate"
        core = _translated(url, {"X-Real-IP": "10.1.2.3"})
        assert (core["remote_addr"], core["scheme"]) == ("10.1.2.3", "http")
        forwarded = {"Forwarded": "for=10.9.9.9;proto=https;secret=s3cret"}
        core = _translated(url, forwarded)
        assert (core["remote_addr"], core["scheme"]) == ("10.9.9.9", "https")
        environ = core["environ"]
        assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("10.9.9.9", "https")
        assert _sanics_view_matches(core), core
        # The server as Sanic names it: from the Forwarded header's host, or SERVER_NAME.
        forwarded = {"Forwarded": 'for=10.9.9.9;host="proxied.example:8080";secret=s3cret'}
        core = _translated(url, forwarded)
        assert (core["environ"]["SERVER_NAME"], core["environ"]["SERVER_PORT"]) == (
            "proxied.example",
            "8080",
        )
        assert _sanics_view_matches(core), core
        # A header from an untrusted source (no secret) changes nothing.
        core = _translated(url, {"Forwarded": "for=10.6.6.6;proto=https"})
        assert (core["remote_addr"], core["scheme"]) == ("127.0.0.1", "http")


def test_translate_request_over_tls(tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
    context.check_hostname = False
    with serve([sys.executable, "sanic_app.py", "{port}"], tls=tmp_path) as served:
        core = _translated(f"https://127.0.0.1:{served.port}/_translate", {}, context)
    assert (core["remote_addr"], core["scheme"]) == ("127.0.0.1", "https")
    assert core["environ"]["wsgi.url_scheme"] == "https"
    assert core["environ"]["SERVER_PORT"] == str(served.port)
    assert _sanics_view_matches(core), core


def test_oversize_post_gets_413(server: Served) -> None:
    client = server.client
    sid, _ = client.handshake()
    assert client.post(sid, b"4" + b"x" * LIMIT).status == 413
    assert server.reason_for(sid) == "payload too large"


def test_oversize_chunked_post_gets_413(server: Served) -> None:
    # No Content-Length: the server learns the size by reading max + 1 bytes.
    sid, _ = server.client.handshake()
    body = b"4" + b"x" * (2 * LIMIT)
    head = (
        f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    with server.raw(head.encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)) as sock:
        assert sock.recv(100).startswith(b"HTTP/1.1 413 ")
    assert server.reason_for(sid) == "payload too large"


def test_body_bigger_than_sanics_request_max_size_gets_our_413(server: Served) -> None:
    # Sanic's REQUEST_MAX_SIZE is 100 MB; the route streams, so it never applies.
    sid, _ = server.client.handshake()
    head = (
        f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: text/plain\r\nContent-Length: 500000000\r\n\r\n"
    )
    with server.raw(head.encode()) as sock:
        reply = sock.recv(1000)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"application/json" in reply
    assert server.reason_for(sid) == "payload too large"


def test_websocket_echo_and_upgrade(server: Served) -> None:
    ws, sid = _open_ws(server)
    try:
        ws.send("4hi")
        assert _next(ws) == "4hi"
        ws.send(b"\x00\x01")
        assert _next(ws) == b"\x00\x01"
    finally:
        ws.close()
    assert server.reason_for(sid) == "transport close"

    sid, _ = server.client.handshake()
    ws, _ = _open_ws(server, sid)
    try:
        ws.send("2probe")
        assert ws.receive() == "3probe"
        ws.send("5")
        ws.send("4upgraded")
        assert _next(ws) == "4upgraded"
    finally:
        ws.close()


def test_oversize_websocket_message_closes_with_1009(server: Served) -> None:
    ws, sid = _open_ws(server)
    try:
        ws.send("4" + "x" * LIMIT)
        while ws.receive() is not None:
            pass
        assert ws.close_code == 1009
        assert server.reason_for(sid) == "payload too large"
    finally:
        ws.close()


def test_message_at_the_limit_is_accepted(server: Served) -> None:
    ws, _ = _open_ws(server)
    try:
        ws.send("4" + "é" * ((LIMIT - 1) // 2))  # the limit counts UTF-8 bytes
        assert _next(ws) == "4" + "é" * ((LIMIT - 1) // 2)
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({"Origin": "http://evil.example"}, {}, 403),
        ({}, {"sid": "nope"}, 400),
        ({}, {"reject": "1"}, 401),
    ],
)
def test_refused_upgrade_gets_the_servers_status(
    server: Served, headers: dict[str, str], query: dict[str, str], status: int
) -> None:
    client = server.client
    target = "/engine.io/?" + urlencode({**client.query(transport="websocket"), **query})
    ws = RawWebSocket("127.0.0.1", server.port, target, headers)
    try:
        assert ws.status == status
    finally:
        ws.close()


def test_upgrade_header_without_a_websocket_key_is_a_400(server: Served) -> None:
    head = (
        b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    with server.raw(head) as sock:
        reply = sock.recv(1000)
    assert reply.startswith(b"HTTP/1.1 400 ") and reply.endswith(b'"Bad request"}')


def test_websocket_client_that_vanishes_is_a_transport_close(server: Served) -> None:
    ws, sid = _open_ws(server)
    # RST, no close frame: Sanic cancels the handler, the session still ends properly.
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.sock.close()
    # Seen at once: a ping timeout (after 3 s) would give another reason.
    assert server.reason_for(sid) == "transport close"


def test_client_leaving_in_the_middle_of_a_post_body(server: Served) -> None:
    sid, _ = server.client.handshake()
    head = (
        f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: text/plain\r\nContent-Length: 900\r\n\r\n4abc"
    )
    sock = server.raw(head.encode())
    time.sleep(0.2)
    sock.close()
    # Nothing was received: the session lives on until its heartbeat fails.
    assert server.reason_for(sid, timeout=10) == "ping timeout"
    # The read was cancelled with Sanic's handler, not left waiting for bytes.
    assert server.state()["carrying_on"] == 0


def test_poll_whose_client_left_stays_pending_until_answered(server: Served) -> None:
    sid, _ = server.client.handshake()
    head = f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = server.raw(head.encode())
    time.sleep(0.2)  # the poll is waiting (the first ping comes after 1 s)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    time.sleep(0.3)  # Sanic has cancelled its handler by now
    # The server's poll lives on, shielded: a second one overlaps it, as in Node.
    reply = server.client.poll(sid)
    assert reply.status == 400
    assert server.reason_for(sid) == "transport error"
    server.wait_state(lambda state: state["carrying_on"] == 0)  # and then it ended


def test_shutdown_closes_every_session() -> None:
    # No ping timeout while the server shuts down, however slow the machine.
    with serve([sys.executable, "sanic_app.py", "{port}"], ping_interval=30) as served:
        ws, _ = _open_ws(served)
        # Just after it starts serving, Sanic ignores SIGTERM until its own handler is
        # in place (seen as a lost signal in about one run in five): resend until the
        # shutdown begins, which the server shows by sending something or closing.
        messages: list[str | bytes] = []
        for _ in range(10):
            served.proc.send_signal(signal.SIGTERM)
            try:
                first = ws.receive(timeout=1)
            except TimeoutError:
                continue
            if first is not None:
                messages.append(first)
                while (message := ws.receive()) is not None:
                    messages.append(message)
            break
        ws.close()
        assert messages[-1:] == ["1"]  # the close packet
        assert served.proc.wait(10) == 0
        assert "Traceback" not in served.output()


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")
def test_sanic_as_an_asgi_app_under_uvicorn() -> None:
    argv = [sys.executable, "-m", "uvicorn", "--port", "{port}", "sanic_app:app"]
    with serve(argv, ping_interval=1, ping_timeout=2) as served:
        client = served.client
        sid, info = client.handshake()
        assert info["upgrades"] == ["websocket"]
        assert client.post(sid, b"4polled").body == b"ok"
        assert client.poll(sid).packets == ["4polled"]
        assert client.post(sid, b"4" + b"x" * LIMIT).status == 413
        ws, sid = _open_ws(served)
        try:
            ws.send("4hi")
            assert _next(ws) == "4hi"
            ws.send("4" + "x" * LIMIT)
            while ws.receive() is not None:
                pass
            assert ws.close_code == 1009
            assert served.reason_for(sid) == "payload too large"
        finally:
            ws.close()
        evil = client.websocket(headers={"Origin": "http://evil.example"})
        assert evil.status == 403
        evil.close()
        output = served.output()
        assert "Traceback" not in output, output
