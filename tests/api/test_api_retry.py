from __future__ import annotations

import random

import pytest

from reconciler.api.retry import backoff_delay, parse_retry_after


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (9, 8.0), (500, 8.0)])
def test_backoff_ceiling_and_jitter(attempt: int, ceiling: float) -> None:
    rng = random.Random(1)
    assert backoff_delay(attempt, base=0.5, cap=8.0, jitter="none") == ceiling
    for _ in range(50):
        assert 0 <= backoff_delay(attempt, base=0.5, cap=8.0, jitter="full", rng=rng) <= ceiling
        assert ceiling / 2 <= backoff_delay(attempt, base=0.5, cap=8.0, jitter="equal", rng=rng) <= ceiling
    with pytest.raises(ValueError):
        backoff_delay(0, base=0.5, cap=8.0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("3", 3.0), (" 1.5 ", 1.5), ("-4", 0.0), ("99999", 120.0), ("soon", None), ("nan", None),
     ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)  # fmt: skip
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
