"""A rich progress bar for apply: units, API calls, rate and ETA."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["RichProgress"]


class RichProgress:
    """Shows apply progress; implements the executor's ProgressSink."""

    def __init__(self, console: Console) -> None:
        """Create the bar.

        Args:
            console: Where to draw.
        """
        self._p = Progress(
            TextColumn("[bold]applying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("units"),
            TextColumn("[dim]{task.fields[calls]} calls · {task.fields[failed]} failed"),
            TextColumn("[dim]{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._calls = 0
        self._failed = 0

    def __enter__(self) -> RichProgress:
        """Start drawing."""
        self._p.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        """Stop drawing."""
        self._p.stop()

    def start(self, total_units: int, total_calls: int) -> None:
        """Work is about to start.

        Args:
            total_units: Units to fill.
            total_calls: Planned API calls.
        """
        self._task = self._p.add_task("apply", total=total_units, calls=0, failed=0, rate="")

    def advance(self, units: int, calls: int, status: str) -> None:
        """An action finished.

        Args:
            units: Units it covered.
            calls: API calls it made.
            status: ``done`` or ``failed``.
        """
        if self._task is None:
            return
        self._calls += calls
        self._failed += units if status == "failed" else 0
        task = self._p.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = f"{self._calls / elapsed:.2f} req/s" if elapsed > 1 and self._calls else ""
        self._p.update(self._task, advance=units, calls=self._calls, failed=self._failed, rate=rate)
