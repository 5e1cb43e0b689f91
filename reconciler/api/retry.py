"""Retry timing for transient API failures: capped exponential backoff with jitter, and Retry-After."""

from __future__ import annotations

import math
import random
from typing import Literal

__all__ = ["Jitter", "backoff_delay", "parse_retry_after"]

Jitter = Literal["full", "equal", "none"]

# A server asking for a longer pause than this is treated as asking for this long: the client
# should not hang for an hour on one header.
MAX_RETRY_AFTER_SECONDS = 120.0


def backoff_delay(
    attempt: int, *, base: float, cap: float, jitter: Jitter = "full", rng: random.Random | None = None
) -> float:
    """The pause before retry number ``attempt`` (1 = the pause after the first failure).

    The ceiling is ``min(cap, base * 2 ** (attempt - 1))``. ``full`` jitter draws uniformly from
    ``[0, ceiling]``, ``equal`` from ``[ceiling / 2, ceiling]``, ``none`` returns the ceiling.

    Args:
        attempt: The 1-based number of the attempt that just failed.
        base: The first ceiling, in seconds.
        cap: The largest ceiling, in seconds.
        jitter: The jitter scheme.
        rng: Random source (seedable for tests); the module's generator when None.

    Returns:
        Seconds to wait.

    Raises:
        ValueError: If ``attempt`` is below 1.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
    draw = (rng or random).random()
    if jitter == "full":
        return ceiling * draw
    if jitter == "equal":
        return ceiling / 2 + ceiling / 2 * draw
    return ceiling


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in delta-seconds form.

    Args:
        value: The header value, or None when absent.

    Returns:
        The seconds to wait (clamped to ``[0, 120]``), or None when absent or not a number (the
        HTTP-date form is not used by this API and is ignored).
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
