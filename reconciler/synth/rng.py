"""Counter-based random numbers for the synthetic universe.

Every value is a pure function of ``(seed, stream, *keys)`` (a SplitMix64-style hash), so a game's
data is the same whichever batch it is generated in, and whichever other seasons are selected.
All arithmetic is on ``uint64`` arrays (never numpy scalars, whose overflow would warn).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["categorical", "hash_u64", "normal", "randint", "uniform"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_MASK = (1 << 64) - 1


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def hash_u64(seed: int, stream: int, *keys: ArrayLike) -> NDArray[np.uint64]:
    """Hash a seed, a stream id and integer keys (broadcast together) into uint64 values.

    Args:
        seed: The universe seed.
        stream: A constant naming what the numbers are for (keeps uses independent).
        *keys: Non-negative integer scalars or arrays, broadcast against each other.

    Returns:
        An array of the broadcast shape (at least one element).
    """
    start = (int(seed) * 0x2545F4914F6CDD1D + int(stream) * 0x632BE59BD9B4E019 + 1) & _MASK
    h = _mix(np.array([start], dtype=np.uint64))
    for key in keys:
        k = np.asarray(key, dtype=np.int64).astype(np.uint64)
        h = _mix(h ^ (k * _GOLDEN))
    return h


def uniform(seed: int, stream: int, *keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform floats in ``[0, 1)``.

    Args:
        seed: The universe seed.
        stream: The stream id.
        *keys: Integer keys (see :func:`hash_u64`).

    Returns:
        Floats with 53 random bits each.
    """
    h = hash_u64(seed, stream, *keys)
    return (h >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def randint(seed: int, stream: int, low: ArrayLike, high: ArrayLike, *keys: ArrayLike) -> NDArray[np.int64]:
    """Integers uniform in ``[low, high)`` (``high > low``; bounds may be arrays).

    Args:
        seed: The universe seed.
        stream: The stream id.
        low: Inclusive lower bound(s).
        high: Exclusive upper bound(s).
        *keys: Integer keys.

    Returns:
        int64 values.
    """
    lo = np.asarray(low, dtype=np.int64)
    hi = np.asarray(high, dtype=np.int64)
    u = uniform(seed, stream, *keys)
    out = lo + np.floor(u * (hi - lo)).astype(np.int64)
    return np.minimum(out, hi - 1)


def normal(seed: int, stream: int, *keys: ArrayLike) -> NDArray[np.float64]:
    """Standard normal values (Box-Muller on two derived streams).

    Args:
        seed: The universe seed.
        stream: The stream id.
        *keys: Integer keys.

    Returns:
        float64 values.
    """
    u1 = uniform(seed, stream * 2 + 1_000_001, *keys)
    u2 = uniform(seed, stream * 2 + 1_000_002, *keys)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def categorical(weights: Sequence[float], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """Map uniforms to category indices with the given (unnormalised) weights.

    Args:
        weights: One weight per category.
        u: Uniforms in ``[0, 1)``.

    Returns:
        Category indices, int64.
    """
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum / cum[-1], u, side="right")
    return np.minimum(idx, len(cum) - 1).astype(np.int64)
