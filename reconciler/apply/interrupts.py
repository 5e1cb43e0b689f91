"""How apply stops: signals, a lost lock, and errors raised inside task groups.

Two phases. Until work starts (locking, observing, planning, the confirmation prompt) nothing
has been started, so SIGINT and SIGTERM interrupt at once (:func:`interruptible` raises
:class:`Interrupted`; the lock is released on the way out). Once the executor runs, the first
signal drains (no new work; in-flight requests finish and are checkpointed) and a second one
abandons the in-flight requests (:meth:`Stopper.watching`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

import anyio

from reconciler.errors import ReconcilerError

__all__ = ["Interrupted", "Stoppable", "Stopper", "deliberate_error", "interruptible"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived before any work was started.

    Attributes:
        signum: The signal number.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextmanager
def interruptible() -> Iterator[None]:
    """Make SIGINT and SIGTERM raise :class:`Interrupted` at once inside the block.

    A no-op outside the main thread (only it can set signal handlers).

    Yields:
        Nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, interrupt) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Stoppable(Protocol):
    """What can be asked to stop (the executor)."""

    def request_stop(self, reason: str, kind: str = "signal", *, abandon: bool = False) -> None:
        """Stop taking new work."""
        ...


@dataclass
class Stopper:
    """Collects stop requests (signals, a lost lock) and forwards them to the running executor.

    Attributes:
        target: The executor running now, if any.
        reason: The first stop reason.
        kind: Its kind (``signal``, ``lock``).
        signal: The first signal received, or 0.
    """

    target: Stoppable | None = None
    reason: str = ""
    kind: str = ""
    signal: int = 0

    def stop(self, reason: str, kind: str, *, abandon: bool = False) -> None:
        """Record a stop request and pass it on.

        Args:
            reason: Why (shown in the summary).
            kind: The kind of stop.
            abandon: Also abandon in-flight requests.
        """
        if not self.reason:
            self.reason, self.kind = reason, kind
        if self.target is not None:
            self.target.request_stop(reason, kind, abandon=abandon)

    def on_signal(self, signum: int) -> None:
        """The first signal drains, a second one abandons in-flight requests.

        Args:
            signum: The signal received.
        """
        name = signal.Signals(signum).name
        if not self.signal:
            self.signal = signum
            self.stop(f"interrupted by {name}; in-flight requests drained", "signal")
        else:
            self.stop(f"interrupted by {name} again; in-flight requests abandoned", "signal", abandon=True)

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Receive SIGINT and SIGTERM for the duration of the block (while work runs).

        Yields:
            Nothing.

        Raises:
            ReconcilerError: A deliberate error raised in the block, unwrapped from the task group.
        """

        async def watch() -> None:
            with anyio.open_signal_receiver(*_SIGNALS) as signals:
                async for signum in signals:
                    self.on_signal(signum)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            error = deliberate_error(group)
            if error is None:
                raise
            raise error from None


def deliberate_error(group: BaseExceptionGroup[BaseException]) -> ReconcilerError | None:
    """The first :class:`ReconcilerError` in an exception group (task groups wrap what they raise).

    Args:
        group: The group.

    Returns:
        The error, or None when the group holds none (a bug: let it propagate).
    """
    for exc in group.exceptions:
        found = deliberate_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, ReconcilerError):
            return found
    return None
