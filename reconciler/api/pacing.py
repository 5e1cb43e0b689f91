"""Strict request pacing: at most ``rate`` request starts in any sliding window, and a cap in flight.

DESIGN.md §6 says the limit is strict: never more than N requests start in any one-second window.
A token bucket does not give that (a full bucket plus its refill lets ``rate + 1`` or more through
within one second), so :class:`StrictPacer` keeps a log of the last ``rate`` start times and lets a
new request start only when the oldest of them has left the window. Separately, a semaphore caps
how many requests are in flight at once.

The clock and the sleep are injectable so that tests run on virtual time.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

__all__ = ["Clock", "Sleep", "StrictPacer"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
"""A monotonic clock in seconds."""

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep taking seconds."""


class StrictPacer:
    """A sliding-window-log rate limiter with a concurrency cap, for anyio (asyncio backend).

    A start at time ``t`` is allowed only if fewer than ``rate`` earlier starts lie in
    ``(t - window - margin, t]``. So no half-open window of length ``window`` ever holds more than
    ``rate`` starts, and with ``margin > 0`` neither does any closed one, even after a little
    jitter between the moment a request starts here and the moment the server sees it.

    Use it as ``async with pacer.slot(): ...`` around one request attempt; each attempt, retries
    included, is a new start.
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
    ) -> None:
        """Create a pacer.

        Args:
            rate: Most request starts allowed in any window.
            max_in_flight: Most requests between :meth:`acquire` and :meth:`release` at once.
            window: The window length in seconds.
            margin: Extra seconds added to the window, a safety gap against clock jitter.
            clock: Monotonic clock in seconds (injectable for tests).
            sleep: Async sleep in seconds (injectable for tests).

        Raises:
            ValueError: If a limit is not positive or the margin is negative.
        """
        if rate < 1 or max_in_flight < 1:
            raise ValueError("rate and max_in_flight must be at least 1")
        if window <= 0 or margin < 0:
            raise ValueError("window must be positive and margin non-negative")
        self._rate = rate
        self._span = window + margin
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = anyio.Lock()
        self._slots = anyio.Semaphore(max_in_flight)
        self._max_in_flight = max_in_flight
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

    async def acquire(self) -> float:
        """Wait for a concurrency slot and then for a start slot in the window.

        Returns:
            The clock reading recorded as this request's start.
        """
        await self._slots.acquire()
        try:
            start = await self._wait_for_window()
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1
        return start

    def release(self) -> None:
        """Give back the concurrency slot taken by :meth:`acquire`."""
        self._in_flight -= 1
        self._slots.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold one paced slot for the duration of the block.

        Yields:
            The clock reading recorded as the start.
        """
        start = await self.acquire()
        try:
            yield start
        finally:
            self.release()

    async def _wait_for_window(self) -> float:
        # The lock serialises waiters, so they start in the order they queued and each one sees
        # the starts recorded by those ahead of it.
        async with self._lock:
            while True:
                now = self._clock()
                horizon = now - self._span
                while self._starts and self._starts[0] <= horizon:
                    self._starts.popleft()
                if len(self._starts) < self._rate:
                    self._starts.append(now)
                    self._started += 1
                    return now
                delay = self._starts[0] - horizon
                logger.debug("pacing: %d starts in the window, waiting %.3f s", len(self._starts), delay)
                # A floor on the delay keeps a virtual clock from stalling on float rounding.
                await self._sleep(max(delay, 1e-6))
