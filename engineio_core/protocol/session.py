"""The Engine.IO session as a state machine: no I/O, no clock of its own.

States and transitions::

    OPEN ──probe──▶ UPGRADING ──upgrade packet──▶ UPGRADED
     │  ◀─cancel──────┘  │                           │
     ├──────────────────┴───────────────────────────┴──▶ CLOSING ──▶ CLOSED
     └─────────────────────────────────────────────────────────────────▶ CLOSED

Invariants:

* ``outbox`` holds packets for the session's current transport, in order.
  It is only drained by :meth:`Session.take_for_poll` (polling) or
  :meth:`Session.take_for_websocket` (WebSocket).
* A session is CLOSING only after the server closed it while it had a close
  packet still to deliver; it is CLOSED once that packet went out (or the
  grace deadline passed). Every path into CLOSING or CLOSED emits exactly
  one :class:`Closed` event, so the ``disconnect`` handler runs once.
* ``now`` is always passed in (seconds, monotonic); the driver owns the clock.
* Heartbeat: in v4 the server pings at ``next_ping_at`` and the client must
  pong within ``ping_timeout``; in v3 the client pings and any packet keeps
  the session alive for ``ping_interval + ping_timeout``. Either way
  :attr:`Session.alive_until` says when the session is dead, so a request
  arriving late is refused by the clock even if the heartbeat loop lags.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from math import inf

from engineio_core.protocol.errors import DisconnectReason, ProtocolError
from engineio_core.protocol.packets import CLOSE, NOOP, PING, Packet, PacketType

__all__ = [
    "Closed",
    "Event",
    "MessageReceived",
    "Session",
    "SessionConfig",
    "SessionState",
    "Transport",
    "Wake",
]


class SessionState(enum.Enum):
    OPEN = "open"
    UPGRADING = "upgrading"
    UPGRADED = "upgraded"
    CLOSING = "closing"
    CLOSED = "closed"


class Transport(str, enum.Enum):
    POLLING = "polling"
    WEBSOCKET = "websocket"

    def __str__(self) -> str:
        return self.value


# Enum members the session's methods read on every message and request, as
# module globals: on Python 3.11 a member read from its class costs three times
# as much (EnumType's __getattr__ hook slows every attribute read on the class).
_OPEN = SessionState.OPEN
_UPGRADING = SessionState.UPGRADING
_UPGRADED = SessionState.UPGRADED
_CLOSING = SessionState.CLOSING
_CLOSED = SessionState.CLOSED
_POLLING = Transport.POLLING
_WEBSOCKET = Transport.WEBSOCKET
_MESSAGE = PacketType.MESSAGE
_PING = PacketType.PING
_PONG = PacketType.PONG
_CLOSE_TYPE = PacketType.CLOSE
_SERVER_DISCONNECT = DisconnectReason.SERVER_DISCONNECT
_SERVER_SHUTDOWN = DisconnectReason.SERVER_SHUTDOWN
_CLIENT_DISCONNECT = DisconnectReason.CLIENT_DISCONNECT


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Timings in seconds."""

    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    upgrade_timeout: float = 10.0
    # How long a server-closed session waits for a poll to take its close packet.
    close_grace: float = 5.0
    # False: a dead session is only noticed when its client next makes a request.
    monitor_clients: bool = True
    # Packets that may wait for the transport; one more closes the session
    # (``SEND_QUEUE_FULL``). 0: no limit.
    max_queue: int = 0


# -- events the session emits ------------------------------------------------------


@dataclass(slots=True)
class MessageReceived:
    data: str | bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The session ended; run the ``disconnect`` handler with ``reason``."""

    reason: DisconnectReason


@dataclass(frozen=True, slots=True)
class Wake:
    """The outbox has something for the transport: wake the poller or writer."""


WAKE = Wake()
Event = MessageReceived | Closed | Wake


class Session:
    """One client's session. Not thread-safe: the driver serialises calls."""

    __slots__ = (
        "_final_packet",
        "_grace_until",
        "_next_ping_at",
        "_pong_due",
        "alive_until",
        "closed",
        "config",
        "outbox",
        "poll_pending",
        "post_pending",
        "protocol",
        "reason",
        "sid",
        "state",
        "transport",
        "upgrade_deadline",
    )

    def __init__(
        self, sid: str, protocol: int, transport: Transport, config: SessionConfig, now: float
    ) -> None:
        self.sid = sid
        self.protocol = protocol
        self.transport = transport
        self.config = config
        self.state = _OPEN
        #: Whether the state is CLOSING or CLOSED: set by :meth:`close`, the one way
        #: into either. An attribute, not a property: it is read for every packet.
        self.closed = False
        self.outbox: list[Packet] = []
        self.poll_pending = False
        self.post_pending = False
        self.reason: DisconnectReason | None = None
        self.upgrade_deadline = inf
        self._final_packet = CLOSE
        self._grace_until = inf
        interval, timeout = config.ping_interval, config.ping_timeout
        self._next_ping_at = now + interval if protocol >= 4 else inf
        self._pong_due = inf
        #: When the session counts as dead by the heartbeat rules: an attribute, kept
        #: current by the packets that move it, since every request checks it.
        #: v4: the deadline for the pong to the next ping (a ping sent does not move
        #: it); v3: the last packet's time plus interval and timeout.
        self.alive_until = now + interval + timeout

    def __repr__(self) -> str:
        return f"<Session {self.sid} {self.state.value} {self.transport.value} v{self.protocol}>"

    # -- queries -----------------------------------------------------------------

    @property
    def upgraded(self) -> bool:
        return self.state is _UPGRADED

    def expired(self, now: float) -> bool:
        return not self.closed and now >= self.alive_until

    def next_deadline(self) -> float:
        """When :meth:`tick` next has something to do (``inf``: never)."""
        if self.state is _CLOSED:
            return inf
        if self.state is _CLOSING:
            return self._grace_until
        deadline = min(self.alive_until, self.upgrade_deadline)
        if self._pong_due == inf:
            deadline = min(deadline, self._next_ping_at)
        return deadline

    # -- inputs ------------------------------------------------------------------

    def receive(self, packet: Packet, now: float) -> list[Event]:
        """A packet arrived from the client on the session's transport."""
        if self.closed:
            return []
        if self.protocol < 4:
            self.alive_until = now + self.config.ping_interval + self.config.ping_timeout
        ptype = packet.type
        if ptype is _MESSAGE:
            data = packet.data
            return [MessageReceived("" if data is None else data)]
        if ptype is _PONG:
            if self.protocol < 4:
                return self.close(DisconnectReason.TRANSPORT_ERROR, now)
            self._pong_due = inf
            self._next_ping_at = now + self.config.ping_interval
            self.alive_until = self._next_ping_at + self.config.ping_timeout
            return []
        if ptype is _PING:
            if self.protocol >= 4:
                return self.close(DisconnectReason.TRANSPORT_ERROR, now)
            return self.queue(Packet(_PONG, packet.data))
        if ptype is _CLOSE_TYPE:
            return self.close(_CLIENT_DISCONNECT, now)
        # noop, and open/upgrade out of place: Node ignores these too.
        return []

    def queue(self, packet: Packet) -> list[Event]:
        """Queue a packet for the client; returns ``[Wake]`` if the writer must wake."""
        if self.closed:
            return []
        limit = self.config.max_queue
        if limit and len(self.outbox) >= limit:
            # The client stopped taking packets: end the session (and free the
            # queue) instead of letting it grow without bound. This close is
            # immediate (no grace timer), so the time it is given is not used.
            return self.close(DisconnectReason.SEND_QUEUE_FULL, 0.0)
        self.outbox.append(packet)
        return [WAKE]

    def tick(self, now: float) -> list[Event]:
        """Advance timers to ``now``: send due pings, close dead sessions."""
        state = self.state
        if state is _CLOSED:
            return []
        if state is _CLOSING:
            if now >= self._grace_until:
                self.state = _CLOSED
                self.outbox.clear()
                return [WAKE]
            return []
        if self.config.monitor_clients and now >= self.alive_until:
            return self.close(DisconnectReason.PING_TIMEOUT, now)
        events: list[Event] = []
        if state is _UPGRADING and now >= self.upgrade_deadline:
            self.cancel_upgrade()
            events.append(WAKE)
        if self._pong_due == inf and now >= self._next_ping_at:
            # Measured from when the ping was due, not from when the loop got to it,
            # so a lagging loop never stretches the deadline clients rely on.
            self._pong_due = self._next_ping_at + self.config.ping_timeout
            self._next_ping_at = inf
            events += self.queue(PING)
        return events

    def close(self, reason: DisconnectReason, now: float) -> list[Event]:
        """End the session.

        A close the server starts (disconnect, shutdown) first delivers what
        is queued and then a close packet; any other ends it at once, and a
        pending poll gets a noop (client close) or a close packet.
        """
        if self.closed:
            return []
        self.closed = True
        self.reason = reason
        self.upgrade_deadline = inf
        if reason in (_SERVER_DISCONNECT, _SERVER_SHUTDOWN):
            self.outbox.append(CLOSE)
            self.state = _CLOSING
            self._grace_until = now + self.config.close_grace
        else:
            self.outbox.clear()
            self.state = _CLOSED
            if reason is _CLIENT_DISCONNECT:
                self._final_packet = NOOP
        return [Closed(reason), WAKE]

    # -- polling -----------------------------------------------------------------

    def begin_poll(self) -> list[Packet]:
        """A GET arrived: returns what it answers now. If that is nothing, the GET
        is pending until :meth:`end_poll`; a second one meanwhile is a client error.

        One call for the commonest poll, the one that finds packets waiting."""
        if self.poll_pending:
            raise ProtocolError("overlapping GET requests for one session")
        packets = self.take_for_poll()
        if not packets:
            self.poll_pending = True
        return packets

    def end_poll(self) -> None:
        self.poll_pending = False

    def begin_post(self) -> None:
        if self.post_pending:
            raise ProtocolError("overlapping POST requests for one session")
        self.post_pending = True

    def end_post(self) -> None:
        self.post_pending = False

    def take_for_poll(self) -> list[Packet]:
        """What a waiting GET should answer now; empty means keep waiting."""
        if self.outbox:
            packets, self.outbox = self.outbox, []
            if self.state is _CLOSING and packets[-1] is CLOSE:
                self.state = _CLOSED
            return packets
        if self.state is _CLOSED:
            return [self._final_packet]
        if self.state is _UPGRADING:
            # Release the poll so the client can finish the upgrade.
            return [NOOP]
        return []

    # -- WebSocket ---------------------------------------------------------------

    def take_for_websocket(self) -> list[Packet]:
        """Drain the outbox for the WebSocket writer."""
        if not self.outbox:
            if self.state is _CLOSING:
                self.state = _CLOSED
            return []
        packets, self.outbox = self.outbox, []
        if self.state is _CLOSING and packets[-1] is CLOSE:
            self.state = _CLOSED
        return packets

    def start_upgrade(self, now: float) -> list[Event]:
        """The probe arrived on a new WebSocket: hold polling, release a pending poll."""
        if self.state is not _OPEN or self.transport is not _POLLING:
            raise ProtocolError("session cannot be upgraded now")
        self.state = _UPGRADING
        self.upgrade_deadline = now + self.config.upgrade_timeout
        return [WAKE] if self.poll_pending else []

    def complete_upgrade(self) -> list[Event]:
        """The upgrade packet arrived: the WebSocket is now the transport."""
        if self.state is not _UPGRADING:
            raise ProtocolError("upgrade packet without a probe")
        self.state = _UPGRADED
        self.transport = _WEBSOCKET
        self.upgrade_deadline = inf
        return [WAKE] if self.outbox else []

    def cancel_upgrade(self) -> None:
        """The upgrade failed or timed out: stay on polling."""
        if self.state is _UPGRADING:
            self.state = _OPEN
            self.upgrade_deadline = inf
