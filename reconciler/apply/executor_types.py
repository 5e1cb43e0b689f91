"""What the executor hands back (its result), and progress that goes nowhere (its ports are in reconciler.ports)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ApplyResult", "NullProgress"]


class NullProgress:
    """Progress that goes nowhere."""

    def start(self, total_units: int, total_calls: int) -> None:
        """Nothing to show."""

    def advance(self, units: int, calls: int, status: str) -> None:
        """Nothing to show."""


@dataclass
class ApplyResult:
    """What an apply did.

    Attributes:
        done: Units filled.
        empty: Units verified empty.
        failed: Units that failed.
        remaining: Units not attempted (stopped early).
        actions_done: Actions completed.
        api_calls: Requests started.
        stopped: Why the apply stopped early, if it did.
        skipped_deletes: Actions that remove data (relayout, dedupe, delete) left for --allow-delete.
        errors: Sample error messages.
        rows: Rows written.
        signal: The signal that interrupted the apply, if any.
        maintenance: Non-data actions done, by type.
        stop_kind: What stopped it: ``budget`` (--max-requests, --max-duration, the quota
            reserve), ``quota`` (429), ``auth``, ``unreachable``, ``signal`` or ``lock``.
        outcomes: Each unit's last outcome, by (target, unit): ``done``, ``empty`` or ``failed``.
        failures: Each failure message with the units it concerns (none for a maintenance action).
        replayed: Responses taken from the spool (fetched by an apply that stopped before
            writing them) instead of the API.
    """

    done: int = 0
    empty: int = 0
    failed: int = 0
    remaining: int = 0
    actions_done: int = 0
    api_calls: int = 0
    stopped: str = ""
    skipped_deletes: int = 0
    errors: list[str] = field(default_factory=list)
    rows: int = 0
    signal: int = 0
    maintenance: dict[str, int] = field(default_factory=dict)
    stop_kind: str = ""
    outcomes: dict[tuple[str, str], str] = field(default_factory=dict)
    failures: list[tuple[tuple[tuple[str, str], ...], str]] = field(default_factory=list)
    replayed: int = 0

    def fail(self, message: str, units: tuple[tuple[str, str], ...] = ()) -> None:
        """Note a failure (a unit-less one, such as a maintenance action, counts one).

        Args:
            message: One line naming the action.
            units: The (target, unit) pairs it failed.
        """
        self.errors.append(message)
        self.failures.append((units, message))
        if not units:
            self.failed += 1

    def merge(self, other: ApplyResult) -> None:
        """Fold a later run of the same apply (after a replan) into this one.

        A unit's last outcome wins: a unit that failed and then succeeded in the replan counts
        as done, and its earlier failure is no longer reported.

        Args:
            other: The later run's result.
        """
        self.outcomes.update(other.outcomes)
        self.failures.extend(other.failures)
        self.actions_done += other.actions_done
        self.rows += other.rows
        self.skipped_deletes += other.skipped_deletes
        for kind, n in other.maintenance.items():
            self.maintenance[kind] = self.maintenance.get(kind, 0) + n
        self.remaining = other.remaining
        self.api_calls = other.api_calls
        self.replayed += other.replayed
        self.stopped, self.stop_kind = other.stopped, other.stop_kind

    def settle(self) -> None:
        """Recount units and messages from the last outcome of each unit (after :meth:`merge`)."""
        unit_failures = sum(1 for v in self.outcomes.values() if v == "failed")
        other = sum(1 for units, _ in self.failures if not units)
        self.done = sum(1 for v in self.outcomes.values() if v == "done")
        self.empty = sum(1 for v in self.outcomes.values() if v == "empty")
        self.failed = unit_failures + other
        # A unit that failed in several passes (before and after a replan) is reported once, with
        # its last failure.
        errors: list[str] = []
        reported: set[tuple[str, str]] = set()
        for units, msg in reversed(self.failures):
            failed = {u for u in units if self.outcomes.get(u) == "failed"}
            if not units or failed - reported:
                errors.append(msg)
                reported |= failed
        self.errors = errors[::-1]
