"""Strict request pacing: at most ``rate`` request starts in any sliding window, and a cap in flight.

DESIGN.md §6 says the limit is strict: never more than N requests start in any one-second window.
A token bucket does not give that (a full bucket plus its refill lets ``rate + 1`` or more through
within one second), so :class:`StrictPacer` keeps a log of recent start times and lets a new
request start only when fewer than ``rate`` of them lie in the window. Separately, a semaphore caps
how many requests are in flight at once.

"Start" means the moment the request goes on the wire, which can be later than the moment the
pacer lets it go (a new connection, or an event loop busy parsing a large response). So a slot
is a :class:`Ticket`: it counts as starting "now" until the caller reports the real send time with
:meth:`StrictPacer.mark_sent` (or releases it, which stamps the release time). Times are only
ever stamped late, never early, so the guarantee holds for the real send times.

The clock and the sleep are injectable so that tests run on virtual time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import anyio

__all__ = ["Clock", "Sleep", "StrictPacer", "Ticket", "busiest_window"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
"""A monotonic clock in seconds."""

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep taking seconds."""


class Ticket:
    """One request's start slot.

    Attributes:
        at: The start time: when the pacer let it go until marked sent, then the send time.
        sent: Whether the send time (or release time) has been stamped.
    """

    __slots__ = ("at", "sent")

    def __init__(self, at: float) -> None:
        self.at = at
        self.sent = False

    def __repr__(self) -> str:
        return f"Ticket(at={self.at:.3f}, sent={self.sent})"


class StrictPacer:
    """A sliding-window-log rate limiter with a concurrency cap, for anyio (asyncio backend).

    A request may start at time ``t`` only if fewer than ``rate`` other tickets are live: a ticket
    is live while unsent, and then until ``at + window + margin``. So no window of length
    ``window`` (open or closed, as long as ``margin > 0``) ever holds more than ``rate`` send
    times, and ``margin`` also absorbs jitter between sending and the server's clock.

    Use it as ``async with pacer.slot() as ticket: ...`` around one request attempt, calling
    :meth:`mark_sent` when the request is written; each attempt, retries included, is a new start.
    """

    def __init__(
        self,
        rate: int,
        max_in_flight: int,
        *,
        window: float = 1.0,
        margin: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
        poll: float = 0.005,
    ) -> None:
        """Create a pacer.

        Args:
            rate: Most request starts allowed in any window.
            max_in_flight: Most requests between :meth:`acquire` and :meth:`release` at once.
            window: The window length in seconds.
            margin: Extra seconds added to the window, a safety gap against clock jitter.
            clock: Monotonic clock in seconds (injectable for tests).
            sleep: Async sleep in seconds (injectable for tests).
            poll: How often to look again while a full window waits on unsent tickets.

        Raises:
            ValueError: If a limit is not positive or the margin is negative.
        """
        if rate < 1 or max_in_flight < 1:
            raise ValueError("rate and max_in_flight must be at least 1")
        if window <= 0 or margin < 0 or poll <= 0:
            raise ValueError("window and poll must be positive and margin non-negative")
        self._rate = rate
        self._span = window + margin
        self._clock = clock
        self._sleep = sleep
        self._poll = poll
        self._live: list[Ticket] = []
        self._lock = anyio.Lock()
        self._slots = anyio.Semaphore(max_in_flight)
        self._in_flight = 0
        self._started = 0

    @property
    def rate(self) -> int:
        """Most request starts allowed in any window."""
        return self._rate

    @property
    def in_flight(self) -> int:
        """Requests currently holding a slot."""
        return self._in_flight

    @property
    def started(self) -> int:
        """Requests started through this pacer so far."""
        return self._started

    async def acquire(self) -> Ticket:
        """Wait for a concurrency slot and then for a start slot in the window.

        Returns:
            The ticket; pass it to :meth:`mark_sent` and :meth:`release`.
        """
        await self._slots.acquire()
        try:
            ticket = await self._wait_for_window()
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1
        return ticket

    def mark_sent(self, ticket: Ticket) -> None:
        """Stamp the ticket with the current time as its real start (only the first call counts)."""
        if not ticket.sent:
            ticket.at = max(ticket.at, self._clock())
            ticket.sent = True

    def release(self, ticket: Ticket) -> None:
        """Give back the concurrency slot; an unsent ticket is stamped with the release time."""
        self.mark_sent(ticket)
        self._in_flight -= 1
        self._slots.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Ticket]:
        """Hold one paced slot for the duration of the block.

        Yields:
            The ticket.
        """
        ticket = await self.acquire()
        try:
            yield ticket
        finally:
            self.release(ticket)

    async def _wait_for_window(self) -> Ticket:
        # The lock serialises waiters, so they start in the order they queued and each one sees
        # the tickets of those ahead of it.
        async with self._lock:
            while True:
                now = self._clock()
                horizon = now - self._span
                self._live = [t for t in self._live if not (t.sent and t.at <= horizon)]
                if len(self._live) < self._rate:
                    ticket = Ticket(now)
                    self._live.append(ticket)
                    self._started += 1
                    return ticket
                expiries = [t.at - horizon for t in self._live if t.sent]
                if len(expiries) < len(self._live):
                    expiries.append(self._poll)  # an unsent ticket may be stamped any moment
                delay = min(expiries)
                logger.debug("pacing: %d starts in the window, waiting %.3f s", len(self._live), delay)
                # A floor on the delay keeps a virtual clock from stalling on float rounding.
                await self._sleep(max(delay, 1e-6))


def busiest_window(starts: Iterable[float], window: float = 1.0) -> int:
    """The most starts within any half-open window ``(t - window, t]``.

    This is how ``tools/pacing_report.py`` reads a simulator request log's ``ts`` values.

    Args:
        starts: Start times in seconds, in any order.
        window: The window length in seconds.

    Returns:
        The largest count (0 for no starts).
    """
    ts = sorted(starts)
    first = worst = 0
    for i, t in enumerate(ts):
        while ts[first] <= t - window:
            first += 1
        worst = max(worst, i - first + 1)
    return worst
