"""A client that answers heartbeats until the test makes it vanish (test_vanished.py).

    python -m tests.load.vanishing_client URL VARIANT

VARIANT is ``websocket`` (a WebSocket-only session), ``polling`` (long-polling; it
reports ``ready`` with a GET waiting for the next ping) or ``polling-pong-owed``
(long-polling; after the second ping it sends its next GET first and reports
``ready`` before it answers the ping: a client that vanished between its poll and
its pong, so the server holds a poll while it waits for the pong).

It prints, one per line (flushed): ``sid <sid>``, ``pong <n>`` for each ping it
answered, ``ready`` at the point where the test makes it vanish (after its first pong),
and after that whatever it still gets: ``poll <status> <body>``, ``post <status>``,
``closed <code>``. SIGUSR1 resets its connection (SO_LINGER 0, then close: the
kernel sends a TCP RST) and leaves it idle; SIGKILL and SIGSTOP are the others.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import struct
import sys
import time
from urllib.parse import urlencode, urlsplit

from engineio_core.testing.client import RawEngineIOClient

READY_AFTER = 1
#: Nothing here waits longer than this (the test kills the process anyway).
TIMEOUT = 60.0
_socket: list[socket.socket] = []  # the connection SIGUSR1 resets


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def reset(signum: int, frame: object) -> None:
    for sock in _socket:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The descriptor itself: a pending response's file object would keep
        # sock.close() from closing it.
        os.close(sock.fileno())
    say("reset")
    while True:  # vanished: stay idle until the test kills the process
        time.sleep(3600)


def websocket(client: RawEngineIOClient) -> None:
    ws = client.websocket()
    _socket.append(ws.sock)
    opening = ws.receive(TIMEOUT)
    assert isinstance(opening, str) and opening.startswith("0"), opening
    say(f"sid {json.loads(opening[1:])['sid']}")
    pongs = 0
    while True:
        message = ws.receive(TIMEOUT)
        if message is None:
            say(f"closed {ws.close_code}")
            return
        if message == "2":
            try:
                ws.send("3")
            except Exception:  # the close frame came with the ping: read on to the end
                say("ping unanswered: the WebSocket is closed")
                continue
            pongs += 1
            say(f"pong {pongs}")
            if pongs == READY_AFTER:
                say("ready")


def polling(client: RawEngineIOClient, owe_pong: bool) -> None:
    sid, _ = client.handshake()
    say(f"sid {sid}")
    conn = http.client.HTTPConnection(client.host, client.port, timeout=TIMEOUT)
    target = client.path + "?" + urlencode(client.query(sid))
    pongs = 0
    ready = False
    while True:
        # The GET goes out before "ready" is printed: the test then knows it is pending.
        conn.request("GET", target)
        if conn.sock is not None and not _socket:
            _socket.append(conn.sock)
        if ready:
            say("ready")
        reply = conn.getresponse()
        body = reply.read().decode()
        if ready or reply.status != 200:
            say(f"poll {reply.status} {body}")
        if reply.status != 200 or body == "1":
            return
        if body == "2":
            if owe_pong and pongs == READY_AFTER:
                ready = True  # the next GET goes first; the pong never does
                continue
            answer = client.post(sid, b"3")
            if ready:
                say(f"post {answer.status}")
                return
            pongs += 1
            say(f"pong {pongs}")
            ready = pongs == READY_AFTER and not owe_pong


def main(url: str, variant: str) -> None:
    signal.signal(signal.SIGUSR1, reset)
    parts = urlsplit(url)
    client = RawEngineIOClient(parts.hostname or "127.0.0.1", parts.port or 80)
    if variant == "websocket":
        websocket(client)
    elif variant in ("polling", "polling-pong-owed"):
        polling(client, owe_pong=variant == "polling-pong-owed")
    else:
        raise SystemExit(f"unknown variant {variant!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
