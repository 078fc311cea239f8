"""AsyncServer's session wake event: asyncio.Event's behaviour, a wait with a timeout."""

from __future__ import annotations

import asyncio

from engineio_core.async_server import _Wake


def test_set_wakes_every_waiter_and_stays_set_until_cleared() -> None:
    async def test() -> None:
        wake = _Wake()
        assert not wake.is_set()
        waiters = [asyncio.ensure_future(wake.wait(5)) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        wake.set()
        # A clear right after the set does not take the wake back from them.
        wake.clear()
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True] * 3
        wake.set()
        assert wake.is_set() and await wake.wait(0) is True
        wake.clear()
        assert not wake.is_set()

    asyncio.run(test())


def test_wait_times_out_and_forgets_the_waiter() -> None:
    async def test() -> None:
        wake = _Wake()
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await wake.wait(0.05) is False
        assert 0.04 <= loop.time() - start < 1
        assert wake._waiters == []
        # The timer went with the wait: nothing fires after a set.
        waiter = asyncio.ensure_future(wake.wait(0.05))
        await asyncio.sleep(0)
        wake.set()
        assert await waiter is True
        await asyncio.sleep(0.1)

    asyncio.run(test())


def test_cancelled_wait_leaves_nothing_behind() -> None:
    async def test() -> None:
        wake = _Wake()
        waiter = asyncio.ensure_future(wake.wait(5))
        other = asyncio.ensure_future(wake.wait())
        await asyncio.sleep(0)
        assert len(wake._waiters) == 2
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert waiter.cancelled() and len(wake._waiters) == 1
        wake.set()
        assert await asyncio.wait_for(other, 1) is True
        assert wake._waiters == []

    asyncio.run(test())
