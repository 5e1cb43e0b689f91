"""Give memory freed after writing a big response back to the operating system.

A day of plays decodes into hundreds of MB of short-lived Python objects and Arrow buffers.
Once they are freed, glibc's malloc (one arena per thread that allocated) and Arrow's pool keep
the pages for reuse, so the process's RSS stays near its high-water mark. Trimming both after
each write keeps the peak RSS of a long apply close to what one write needs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

import pyarrow as pa

__all__ = ["release_freed_memory"]

log = logging.getLogger(__name__)


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    trim: Callable[[int], int] = fn
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def release_freed_memory() -> None:
    """Return freed heap pages (glibc ``malloc_trim``) and Arrow's unused pool memory to the OS.

    Safe to call from any thread; a no-op where neither applies.
    """
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
