"""Fault injection for the simulator: which requests fail, and how (DESIGN.md §3).

Kinds: ``5xx`` (500 or 503 with the API's JSON bodies), ``504`` (an HTML gateway page),
``timeout`` (the request hangs past the client timeout), ``reset`` (the socket is closed with
an RST), ``malformed`` (a 200 whose JSON is truncated), ``nonarray`` (a 200 whose body is an
object) and ``empty`` (a 200 ``[]``). Draws come from one RNG seeded from the server seed, two
per eligible request, so a sequential client sees the same faults on every run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

__all__ = ["FAULT_KINDS", "FaultInjector", "parse_fault_rates"]

FAULT_KINDS: tuple[str, ...] = ("5xx", "504", "timeout", "reset", "malformed", "nonarray", "empty")


def parse_fault_rates(specs: list[str]) -> dict[str, float]:
    """Parse ``KIND=P`` strings (the CLI's ``--fault-rate``) into a rate map.

    Args:
        specs: e.g. ``["5xx=0.1", "timeout=0.02"]``.

    Returns:
        Kind → probability.

    Raises:
        ValueError: On a malformed spec, unknown kind or bad probability.
    """
    rates: dict[str, float] = {}
    for spec in specs:
        kind, sep, value = spec.partition("=")
        if not sep:
            raise ValueError(f"--fault-rate {spec!r}: expected KIND=P, e.g. 5xx=0.1")
        try:
            rates[kind.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--fault-rate {spec!r}: {value!r} is not a number") from None
    FaultInjector(rates)  # validates
    return rates


class FaultInjector:
    """Decides, request by request and reproducibly, whether and how to fail."""

    def __init__(self, rates: Mapping[str, float] | None = None, *, seed: int = 0) -> None:
        """Check the rates and seed the RNG.

        Args:
            rates: Kind → probability in [0, 1]; the probabilities may sum to at most 1.
            seed: RNG seed.

        Raises:
            ValueError: On an unknown kind, a probability outside [0, 1], or a sum above 1.
        """
        rates = dict(rates or {})
        unknown = sorted(set(rates) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; known: {', '.join(FAULT_KINDS)}")
        for kind, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {kind}={rate} is not a probability in [0, 1]")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"fault rates sum to {sum(rates.values()):g}, more than 1")
        self._rates = rates
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def rates(self) -> dict[str, float]:
        """The configured rates (a copy)."""
        return dict(self._rates)

    def draw(self) -> tuple[str | None, float]:
        """Decide the fate of one request.

        Returns:
            The fault kind (or None for a normal response) and a second uniform draw the caller
            uses to pick a variant (500 vs 503; where to truncate).
        """
        with self._lock:
            roll, variant = self._rng.random(), self._rng.random()
        if not self._rates:
            return None, variant
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self._rates.get(kind, 0.0)
            if roll < edge:
                return kind, variant
        return None, variant
