from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api.pacing import StrictPacer, busiest_window


def worst_closed_window(starts: list[float], window: float = 1.0) -> int:
    """Most starts in any closed window [t, t + window]."""
    ts = sorted(starts)
    worst = 0
    for i, t in enumerate(ts):
        worst = max(worst, sum(1 for u in ts[i:] if u <= t + window))
    return worst


async def run_schedule(
    pacer: StrictPacer, clock: Any, schedule: list[tuple[float, float, float]]
) -> tuple[list[float], int]:
    """Each (arrival, send_delay, hold) task waits, takes a slot, is sent, holds it, releases.

    Returns the send times (the starts the server would see) and the peak in flight.
    """
    starts: list[float] = []
    peak = 0

    async def one(arrival: float, send_delay: float, hold: float) -> None:
        nonlocal peak
        await clock.sleep(arrival)
        async with pacer.slot() as ticket:
            peak = max(peak, pacer.in_flight)
            if send_delay >= 0:  # a negative delay: never marked sent, stamped at release
                await clock.sleep(send_delay)
                pacer.mark_sent(ticket)
            await clock.sleep(hold)
        starts.append(ticket.at)

    async with anyio.create_task_group() as tg:
        for arrival, send_delay, hold in schedule:
            tg.start_soon(one, arrival, send_delay, hold)
    return starts, peak


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rate=st.integers(1, 6),
    in_flight=st.integers(1, 6),
    margin=st.sampled_from([0.0, 0.02]),
    schedule=st.lists(
        st.tuples(st.floats(0, 3), st.one_of(st.just(0.0), st.just(-1.0), st.floats(0, 1.5)), st.floats(0, 2)),
        min_size=1,
        max_size=40,
    ),
)
def test_no_window_ever_exceeds_rate(
    make_clock: Any, rate: int, in_flight: int, margin: float, schedule: list[tuple[float, float, float]]
) -> None:
    clock = make_clock()
    pacer = StrictPacer(rate, in_flight, margin=margin, clock=clock, sleep=clock.sleep)
    starts, peak = anyio.run(run_schedule, pacer, clock, schedule, backend="asyncio")
    assert len(starts) == len(schedule) == pacer.started
    assert busiest_window(starts) <= rate
    if margin > 0:
        assert worst_closed_window(starts) <= rate
    assert peak <= in_flight
    assert pacer.in_flight == 0


@pytest.mark.anyio
async def test_a_burst_is_spread_one_window_at_a_time(fake_clock: Any) -> None:
    pacer = StrictPacer(3, 10, clock=fake_clock, sleep=fake_clock.sleep)
    starts, _ = await run_schedule(pacer, fake_clock, [(0.0, 0.0, 0.0)] * 10)
    offsets = sorted(round(s - 1000.0, 6) for s in starts)
    # Not 5-6 in the first second as a bucket would allow: exactly 3 per second.
    assert offsets == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]


@pytest.mark.anyio
async def test_concurrency_cap_holds_back_starts(fake_clock: Any) -> None:
    pacer = StrictPacer(100, 2, clock=fake_clock, sleep=fake_clock.sleep)
    _, peak = await run_schedule(pacer, fake_clock, [(0.0, 0.0, 0.5)] * 6)
    assert peak == 2


@pytest.mark.anyio
async def test_real_clock_short_run() -> None:
    pacer = StrictPacer(4, 4, window=0.2)
    starts: list[float] = []
    for _ in range(9):
        async with pacer.slot() as ticket:
            pacer.mark_sent(ticket)
            starts.append(ticket.at)
    assert busiest_window(starts, 0.2) <= 4


@pytest.mark.anyio
async def test_cancelled_waiter_gives_back_its_slot(fake_clock: Any) -> None:
    pacer = StrictPacer(1, 1, clock=fake_clock, sleep=fake_clock.sleep)
    ticket = await pacer.acquire()
    with anyio.move_on_after(0.05):
        await pacer.acquire()  # blocked on the concurrency slot forever
    assert pacer.in_flight == 1
    pacer.release(ticket)
    assert pacer.in_flight == 0


def test_rejects_bad_limits() -> None:
    with pytest.raises(ValueError):
        StrictPacer(0, 1)
    with pytest.raises(ValueError):
        StrictPacer(1, 1, margin=-1)


@pytest.mark.anyio
async def test_a_late_send_pushes_the_window(fake_clock: Any) -> None:
    """A request let go at t0 but written at t0+0.5 (a busy event loop) occupies the window until
    t0+1.5; a log of release times would let a 4th start into (t0+0.5, t0+1.5]."""
    pacer = StrictPacer(3, 10, clock=fake_clock, sleep=fake_clock.sleep)
    t0 = fake_clock.now
    first = [await pacer.acquire() for _ in range(3)]
    pacer.mark_sent(first[0])
    pacer.mark_sent(first[1])
    fake_clock.now = t0 + 0.5
    pacer.mark_sent(first[2])
    later = []
    for _ in range(3):
        later.append(ticket := await pacer.acquire())
        pacer.mark_sent(ticket)
    # At t0+1 the two sent at t0 leave the window; the one written at t0+0.5 still counts.
    assert [t.at - t0 for t in later] == pytest.approx([1.0, 1.0, 1.5])
    assert busiest_window([t.at for t in [*first, *later]]) <= 3


@pytest.mark.anyio
async def test_an_unsent_ticket_blocks_until_released(fake_clock: Any) -> None:
    pacer = StrictPacer(1, 5, clock=fake_clock, sleep=fake_clock.sleep)
    ticket = await pacer.acquire()
    fake_clock.now += 3.0  # never marked sent: it still counts as starting "now"
    pacer.release(ticket)
    assert ticket.at == fake_clock.now
    nxt = await pacer.acquire()
    assert nxt.at >= ticket.at + 1.0


@given(st.lists(st.floats(0, 10), max_size=30), st.floats(0.1, 3))
def test_busiest_window_matches_brute_force(starts: list[float], window: float) -> None:
    brute = max((sum(1 for u in starts if t - window < u <= t) for t in starts), default=0)
    assert busiest_window(starts, window) == brute
