"""The bounds an apply's fetches run under, and the GIL handoff that keeps request starts on time.

:class:`Slots` says how many actions may request, hold undurable responses, write, or wait in the
spool at once; :func:`prompt_handoff` shortens the interpreter's switch interval while fetches
run, so the event loop that paces requests never waits long for a converting thread.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import anyio

__all__ = ["DEFAULT_BACKLOG", "FETCH_SWITCH_INTERVAL", "Slots", "prompt_handoff"]

#: Spooled responses that may wait for the writer at once (packed, ~0.2-3 MB each on disk).
DEFAULT_BACKLOG = 64

#: How long a thread may keep the GIL while another waits for it, during fetches (seconds).
FETCH_SWITCH_INTERVAL = 0.0005


@contextmanager
def prompt_handoff() -> Iterator[None]:
    """Let the event loop take the GIL back within half a millisecond while a writer converts.

    Converting a response is pure Python in a worker thread. When the event loop wakes to start
    a request (or to stamp one sent), it waits for that thread to give up the GIL, by default up
    to 5 ms (``sys.getswitchinterval``), twice per request; every such wait delays the start and
    so every later start in its window. A short interval keeps those waits far below the pacing
    margin; the writer loses a little throughput to the extra switches.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, FETCH_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@dataclass(frozen=True)
class Slots:
    """The bounds of the fetch actions of one run.

    Attributes:
        held: Actions requesting, or holding responses that are not yet durable anywhere (neither
            in the spool nor in the lake): what a kill -9 can lose, so the resume guarantee.
        fetch: Actions requesting (the client's pacer bounds the requests themselves).
        write: Actions writing their responses.
        backlog: Actions past the queue, spooled responses waiting for the writer included:
            bounds the spool (and the work a stop leaves there) when writing is slower than
            fetching.
    """

    held: anyio.CapacityLimiter
    fetch: anyio.CapacityLimiter
    write: anyio.CapacityLimiter
    backlog: anyio.CapacityLimiter

    @classmethod
    def make(cls, concurrency: int, writers: int, backlog: int) -> Slots:
        """Bounds for a run.

        At most ``concurrency`` actions request or hold responses that are not durable yet:
        a kill -9 then loses at most ``concurrency`` fetched responses (the resume guarantee),
        and memory holds at most that many. Without a spool a response is durable once written
        to the lake, so while one action writes and the others hold responses waiting to be
        written, nothing more is fetched. With a spool a response is durable once spooled (a few
        milliseconds): requests go on at the paced rate while up to ``backlog`` spooled
        responses wait for the writer. (With ``held`` the size of ``fetch``, ``fetch`` never
        binds; it is kept so that the two bounds can differ.)

        Args:
            concurrency: Actions requesting or holding responses at once.
            writers: Actions writing at once.
            backlog: Actions past the queue at once, spooled ones included.

        Returns:
            The bounds.
        """
        fetch, write = max(1, concurrency), max(1, writers)
        return cls(
            anyio.CapacityLimiter(fetch),
            anyio.CapacityLimiter(fetch),
            anyio.CapacityLimiter(write),
            anyio.CapacityLimiter(max(fetch, backlog)),
        )
