"""The session state machine, driven with explicit times: no sockets, no sleeps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_core.protocol.errors import DisconnectReason, ProtocolError
from engineio_core.protocol.packets import CLOSE, NOOP, PING, Packet, PacketType
from engineio_core.protocol.session import (
    Closed,
    MessageReceived,
    Session,
    SessionConfig,
    SessionState,
    Transport,
    Wake,
)

CONFIG = SessionConfig(ping_interval=0.3, ping_timeout=0.2, upgrade_timeout=1.0, close_grace=2.0)


def polling(protocol: int = 4) -> Session:
    return Session("sid", protocol, Transport.POLLING, CONFIG, now=100.0)


def test_v4_server_pings_at_interval_and_pong_resets() -> None:
    s = polling()
    assert s.next_deadline() == pytest.approx(100.3)
    assert s.tick(100.29) == []
    assert s.tick(100.3) == [Wake()]
    assert s.take_for_poll() == [PING]
    assert s.alive_until == pytest.approx(100.5)
    s.receive(Packet(PacketType.PONG), 100.35)
    assert s.next_deadline() == pytest.approx(100.65)
    assert not s.expired(100.8)


def test_v4_missing_pong_times_out_by_the_clock() -> None:
    s = polling()
    # Even if no tick ever sent the ping, the session dies at interval + timeout.
    assert not s.expired(100.49)
    assert s.expired(100.5)
    assert s.tick(100.5) == [Closed(DisconnectReason.PING_TIMEOUT), Wake()]
    assert s.state is SessionState.CLOSED
    assert s.take_for_poll() == [CLOSE]


def test_v3_client_pings_and_server_pongs() -> None:
    s = polling(3)
    assert s.tick(100.4) == []  # the server never pings in v3
    assert s.receive(Packet(PacketType.PING, "x"), 100.45) == [Wake()]
    assert s.take_for_poll() == [Packet(PacketType.PONG, "x")]
    assert s.alive_until == pytest.approx(100.95)
    assert s.expired(100.95)


@pytest.mark.parametrize(("protocol", "ptype"), [(4, PacketType.PING), (3, PacketType.PONG)])
def test_wrong_heartbeat_direction_is_a_transport_error(protocol: int, ptype: PacketType) -> None:
    s = polling(protocol)
    assert s.receive(Packet(ptype), 100.1)[0] == Closed(DisconnectReason.TRANSPORT_ERROR)


def test_messages_are_reported() -> None:
    s = polling()
    assert s.receive(Packet(PacketType.MESSAGE, "hi"), 100.0) == [MessageReceived("hi")]
    assert s.receive(Packet(PacketType.MESSAGE, b"\x00"), 100.0) == [MessageReceived(b"\x00")]
    assert s.receive(Packet(PacketType.NOOP), 100.0) == []


def test_client_close_releases_pending_poll_with_noop() -> None:
    s = polling()
    s.begin_poll()
    events = s.receive(Packet(PacketType.CLOSE), 100.1)
    assert events == [Closed(DisconnectReason.CLIENT_DISCONNECT), Wake()]
    assert s.take_for_poll() == [NOOP]


def test_server_close_delivers_queue_then_close_packet() -> None:
    s = polling()
    s.queue(Packet(PacketType.MESSAGE, "bye"))
    assert s.close(DisconnectReason.SERVER_DISCONNECT, 100.1) == [
        Closed(DisconnectReason.SERVER_DISCONNECT),
        Wake(),
    ]
    assert s.state is SessionState.CLOSING
    assert s.close(DisconnectReason.PING_TIMEOUT, 100.2) == []  # only one Closed, ever
    assert s.queue(Packet(PacketType.MESSAGE, "late")) == []
    assert s.take_for_poll() == [Packet(PacketType.MESSAGE, "bye"), CLOSE]
    assert s.state is SessionState.CLOSED


def test_closing_session_gives_up_after_grace() -> None:
    s = polling()
    s.close(DisconnectReason.SERVER_DISCONNECT, 100.0)
    assert s.next_deadline() == pytest.approx(102.0)
    assert s.tick(101.0) == []
    assert s.tick(102.0) == [Wake()]
    assert s.state is SessionState.CLOSED


def test_overlapping_polls_are_refused() -> None:
    s = polling()
    s.begin_poll()
    with pytest.raises(ProtocolError):
        s.begin_poll()
    s.end_poll()
    s.begin_poll()


def test_upgrade_releases_pending_poll_once_and_holds_later_sends() -> None:
    s = polling()
    s.begin_poll()
    assert s.take_for_poll() == []
    assert s.start_upgrade(100.1) == [Wake()]
    assert s.take_for_poll() == [NOOP]
    s.end_poll()
    s.queue(Packet(PacketType.MESSAGE, "during"))
    assert s.complete_upgrade() == [Wake()]
    assert s.transport is Transport.WEBSOCKET
    assert s.take_for_websocket() == [Packet(PacketType.MESSAGE, "during")]
    assert s.take_for_websocket() == []


def test_upgrade_times_out_back_to_polling() -> None:
    s = Session("sid", 4, Transport.POLLING, SessionConfig(10, 10, upgrade_timeout=1.0), 100.0)
    s.start_upgrade(100.0)
    assert s.next_deadline() == pytest.approx(101.0)
    assert s.tick(100.9) == []
    assert s.tick(101.0) == [Wake()]
    assert s.state is SessionState.OPEN
    with pytest.raises(ProtocolError):
        s.complete_upgrade()


def test_upgrade_needs_an_open_polling_session() -> None:
    s = Session("sid", 4, Transport.WEBSOCKET, CONFIG, 100.0)
    with pytest.raises(ProtocolError):
        s.start_upgrade(100.0)


# -- every sequence of inputs keeps the invariants -------------------------------------

_INPUTS = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(list(PacketType))),
    st.tuples(st.just("queue"), st.just(None)),
    st.tuples(st.just("tick"), st.floats(min_value=0.0, max_value=3.0)),
    st.tuples(st.just("close"), st.sampled_from(list(DisconnectReason))),
    st.tuples(st.just("take"), st.sampled_from(["poll", "websocket"])),
    st.tuples(st.just("upgrade"), st.sampled_from(["start", "complete", "cancel"])),
)


@settings(max_examples=300, deadline=None)
@given(protocol=st.sampled_from([3, 4]), inputs=st.lists(_INPUTS, max_size=40))
def test_any_sequence_keeps_the_invariants(protocol: int, inputs: list[tuple[str, object]]) -> None:
    """``closed`` matches the state, ``Closed`` comes once, a closed session queues nothing."""
    session = polling(protocol)
    now = 100.0
    closed_events = 0
    for kind, arg in inputs:
        events: list[object] = []
        try:
            if kind == "receive":
                events = session.receive(Packet(arg, "x"), now)  # type: ignore[arg-type]
            elif kind == "queue":
                events = session.queue(Packet(PacketType.MESSAGE, "m"))
            elif kind == "tick":
                now += arg  # type: ignore[operator]
                events = session.tick(now)
            elif kind == "close":
                events = session.close(arg, now)  # type: ignore[arg-type]
            elif kind == "take":
                if arg == "poll":
                    session.take_for_poll()
                else:
                    session.take_for_websocket()
            elif arg == "start":
                events = session.start_upgrade(now)
            elif arg == "complete":
                events = session.complete_upgrade()
            else:
                session.cancel_upgrade()
        except ProtocolError:
            pass  # an upgrade step out of order: refused, nothing changes
        closed_events += sum(isinstance(event, Closed) for event in events)
        assert session.closed == (session.state in (SessionState.CLOSING, SessionState.CLOSED))
        assert closed_events == (1 if session.closed else 0)
        if session.state is SessionState.CLOSED:
            assert session.outbox == []
            assert session.queue(Packet(PacketType.MESSAGE, "late")) == []
