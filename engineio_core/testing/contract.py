"""The contract suite a mode plugin runs against itself.

A plugin author writes one function that serves an Engine.IO server the way
their framework deploys it, ``serve(server, host, port)`` (blocking), and
one test::

    from engineio_core.testing import check_mode

    def test_contract():
        report = check_mode("mymode", serve="my_plugin.testing:serve")
        assert report.ok, report.text

:func:`check_mode` starts ``python -m engineio_core.testing`` in a subprocess
(so greenlet libraries and monkey-patching stay out of the test process),
which checks the mode's primitives from inside the mode, then serves the
contract server; this side then checks request translation, response making,
WebSocket wrapping and Engine.IO exchanges over 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engineio_core.testing.client import RawEngineIOClient
from engineio_core.testing.contract_server import CONTRACT_OPTIONS, PROBE_PARAM

__all__ = ["CheckResult", "ContractReport", "check_mode"]

HOST = "127.0.0.1"
NetworkCheck = Callable[[RawEngineIOClient], str | None]


@dataclass(frozen=True)
class CheckResult:
    name: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class ContractReport:
    mode: str
    results: list[CheckResult] = field(default_factory=list)
    server_output: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def text(self) -> str:
        lines = [f"contract of async mode {self.mode!r}:"]
        for r in self.results:
            lines.append(
                f"  {'ok  ' if r.ok else 'FAIL'} {r.name}" + (f": {r.problem}" if r.problem else "")
            )
        passed = sum(r.ok for r in self.results)
        lines.append(f"{passed} passed, {len(self.results) - passed} failed")
        if not self.ok and self.server_output:
            lines.append("--- contract server output ---")
            lines.append(self.server_output[-4000:])
        return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the contract server exited with code {proc.returncode}"
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return None
        except OSError:
            time.sleep(0.05)
    return f"nothing listened on port {port} within {timeout}s"


def check_mode(
    mode: str,
    serve: str | None = None,
    *,
    command: Sequence[str] | None = None,
    pythonpath: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> ContractReport:
    """Run the whole contract against ``mode`` served by ``serve`` (``"module:function"``).

    ``pythonpath`` adds directories where ``serve``'s module lives (e.g. your
    tests folder); ``env`` adds environment variables for the server process.
    For a mode that only exists inside its server's process, pass ``command``
    instead of ``serve``: the argv that starts that server (``{port}`` is
    substituted) on the WSGI app ``engineio_core.testing.embedded:app``.
    """
    if (serve is None) == (command is None):
        raise ValueError("check_mode needs serve= or command=, not both")
    report = ContractReport(mode)
    port = _free_port()
    full_env = {
        **os.environ,
        **(env or {}),
        "PYTHONUNBUFFERED": "1",
        "ENGINEIO_CONTRACT_MODE": mode,
    }
    paths = [*pythonpath, *filter(None, [full_env.get("PYTHONPATH")])]
    if paths:
        full_env["PYTHONPATH"] = os.pathsep.join(paths)
    if command is not None:
        argv = [part.replace("{port}", str(port)) for part in command]
    else:
        argv = [
            sys.executable,
            "-m",
            "engineio_core.testing",
            "--mode",
            mode,
            "--serve",
            str(serve),
        ]
        argv += ["--port", str(port)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=err, env=full_env,
            start_new_session=True,
        )  # fmt: skip
        try:
            problem = _wait_for_port(port, proc, timeout)
            info = _report_line(out, err)
            if problem is not None or info is None or "error" in info:
                why = problem or (info or {}).get("error") or "no report from the contract server"
                report.results.append(CheckResult("contract server started", why))
            else:
                for name, issue in info["primitives"]:
                    report.results.append(CheckResult(f"primitive: {name}", issue))
                client = RawEngineIOClient(HOST, port)
                for name, check in _network_checks(bool(info["can_websocket"])):
                    report.results.append(CheckResult(name, _guard(check, client)))
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            out.seek(0)
            err.seek(0)
            report.server_output = (out.read() + err.read()).decode("utf-8", "replace")
    return report


def _report_line(*streams: Any) -> dict[str, Any] | None:
    """The contract server's JSON report line, from whichever stream it went to.

    A server that embeds Python (uWSGI) may print its own lines first, or send
    the app's stdout to its log.
    """
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for stream in streams:
            stream.seek(0)
            for line in stream.read().splitlines():
                if line.startswith(b"{"):
                    try:
                        result: dict[str, Any] = json.loads(line)
                    except ValueError:
                        continue
                    if "primitives" in result or "error" in result:
                        return result
        time.sleep(0.05)
    return None


def _guard(check: NetworkCheck, client: RawEngineIOClient) -> str | None:
    try:
        return check(client)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


# -- network checks: each returns None or what went wrong ----------------------------------


def _state(client: RawEngineIOClient) -> dict[str, Any]:
    sid, _ = client.handshake()
    client.post(sid, b"4contract:state")
    reply = client.poll(sid)
    client.post(sid, b"1")
    text = next(p for p in reply.packets if p.startswith("4"))
    result: dict[str, Any] = json.loads(text[1:])
    return result


def _polling_echo(client: RawEngineIOClient) -> str | None:
    sid, info = client.handshake()
    if info.get("maxPayload") != CONTRACT_OPTIONS["max_http_buffer_size"]:
        return f"open packet says {info}"
    post = client.post(sid, b"4hello\x1ebAQI=")
    if (post.status, post.body) != (200, b"ok"):
        return f"POST answered {post.status} {post.body!r}, expected 200 'ok'"
    got: list[str] = []
    deadline = time.monotonic() + 5
    while len(got) < 2 and time.monotonic() < deadline:
        got += [p for p in client.poll(sid).packets if p.startswith(("4", "b"))]
    client.post(sid, b"1")
    return None if sorted(got) == ["4hello", "bAQI="] else f"echo was {got}"


def _translate_request(client: RawEngineIOClient) -> str | None:
    query = {**client.query(), PROBE_PARAM: "1", "rep": "a"}
    target_query = "&".join(f"{k}={v}" for k, v in query.items()) + "&rep=b&blank="
    reply = _raw_get(client, target_query, {"X-Contract": "yes", "X-Multi": "v"})
    if reply.status != 200:
        return f"probe handshake answered {reply.status}"
    sid = json.loads(reply.packets[0][1:])["sid"]
    body = b"4probe body \xc3\xa9"
    post_query = {**client.query(sid), PROBE_PARAM: "2"}
    client.request("POST", post_query, body, {"Content-Type": "text/plain;charset=UTF-8"})
    client.post(sid, b"1")
    probes = {p["query"][PROBE_PARAM][0]: p for p in _state(client)["requests"]}
    get, post = probes.get("1"), probes.get("2")
    if get is None or post is None:
        return f"probe requests not seen by the mode's translation: {sorted(probes)}"
    expected = {
        "method": "GET",
        "remote_addr": HOST,
        "scheme": "http",
    }
    for key, value in expected.items():
        if get[key] != value:
            return f"{key} translated as {get[key]!r}, expected {value!r}"
    if not get["path"].rstrip("/").endswith("/engine.io"):
        return f"path translated as {get['path']!r}"
    if get["query"].get("rep") != ["a", "b"] or get["query"].get("blank") != [""]:
        return f"query translated as {get['query']} (repeated and blank keys must be kept)"
    headers = get["headers"]
    if headers.get("x-contract") != "yes" or any(k != k.lower() for k in headers):
        return f"headers translated as {headers} (names must be lower case)"
    if post["method"] != "POST" or post["content_length"] != len(body):
        return f"POST translated as {post['method']} with content_length {post['content_length']}"
    if post["body"] != body.decode("latin-1"):
        return f"read_body returned {post['body']!r}, expected {body!r}"
    return None


def _raw_get(client: RawEngineIOClient, query_string: str, headers: dict[str, str]) -> Any:
    import http.client

    from engineio_core.testing.client import HTTPReply

    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    try:
        conn.request("GET", f"{client.path}?{query_string}", headers=headers)
        resp = conn.getresponse()
        return HTTPReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def _make_response(client: RawEngineIOClient) -> str | None:
    reply = client.request("GET", client.query())
    if reply.status != 200 or not reply.headers.get("content-type", "").startswith("text/plain"):
        return f"handshake answered {reply.status} {reply.headers.get('content-type')}"
    if "set-cookie" not in reply.headers:
        return "the handshake's Set-Cookie header was lost"
    error = client.request("GET", {"EIO": "4"})
    if error.status != 400 or error.json() != {"code": 0, "message": "Transport unknown"}:
        return f"error response was {error.status} {error.body!r}"
    if error.headers.get("content-type") != "application/json":
        return f"error content type {error.headers.get('content-type')}"
    put = client.request("PUT", client.query())
    if put.status != 400 or put.json().get("code") != 2:
        return (
            f"a PUT handshake answered {put.status} {put.body!r}: "
            "every method must reach the server"
        )
    big = client.handshake()[0]
    too_large = client.post(big, b"4" + b"x" * 20_000)
    if too_large.status != 413:
        return f"an oversize POST answered {too_large.status}, expected 413"
    return None


def _websocket_echo(client: RawEngineIOClient) -> str | None:
    ws = client.websocket()
    try:
        if ws.status != 101:
            return f"WebSocket handshake answered {ws.status}"
        opened = ws.receive()
        if not isinstance(opened, str) or not opened.startswith("0"):
            return f"first WebSocket message was {opened!r}, expected the open packet"
        sid = json.loads(opened[1:])["sid"]
        ws.send("4text")
        if ws.receive() != "4text":
            return "text message not echoed"
        ws.send(b"\x00\xff")
        if ws.receive() != b"\x00\xff":
            return "binary message not echoed"
    finally:
        ws.close()
    return _expect_reason(client, sid, "transport close")


def _upgrade(client: RawEngineIOClient) -> str | None:
    sid, info = client.handshake()
    if info["upgrades"] != ["websocket"]:
        return f"handshake offers upgrades {info['upgrades']}"
    ws = client.websocket(sid)
    try:
        if ws.status != 101:
            return f"upgrade WebSocket answered {ws.status}"
        ws.send("2probe")
        if ws.receive() != "3probe":
            return "probe not answered"
        if client.poll(sid).body != b"6":
            return "a poll during the upgrade was not answered with a noop"
        ws.send("5")
        ws.send("4after upgrade")
        if ws.receive() != "4after upgrade":
            return "no echo over the upgraded WebSocket"
    finally:
        ws.close()
    return None


def _websocket_too_large(client: RawEngineIOClient) -> str | None:
    ws = client.websocket()
    try:
        opened = ws.receive()
        sid = json.loads(str(opened)[1:])["sid"]
        ws.send("4" + "x" * 20_000)
        while ws.receive() is not None:
            pass
    finally:
        ws.close()
    return _expect_reason(client, sid, "payload too large")


def _expect_reason(client: RawEngineIOClient, sid: str, reason: str) -> str | None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reasons = {s: r for s, r in _state(client)["disconnects"]}
        if sid in reasons:
            return (
                None
                if reasons[sid] == reason
                else f"disconnect reason {reasons[sid]!r}, expected {reason!r}"
            )
        time.sleep(0.05)
    return f"the disconnect handler never ran for {sid}"


def _network_checks(can_websocket: bool) -> list[tuple[str, NetworkCheck]]:
    checks: list[tuple[str, NetworkCheck]] = [
        ("engine.io exchange over polling", _polling_echo),
        ("request translation", _translate_request),
        ("response making", _make_response),
    ]
    if can_websocket:
        checks += [
            ("websocket: text and binary round trip, close reported", _websocket_echo),
            ("websocket: upgrade from polling", _upgrade),
            ("websocket: oversize message closes the session", _websocket_too_large),
        ]
    return checks
