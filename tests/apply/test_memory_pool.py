"""Apply allocates Arrow buffers from malloc, whose freed pages it can give back."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest

from reconciler.apply.memory import (
    APPLY_MALLOC_ARENAS,
    limit_malloc_arenas,
    release_freed_memory,
    use_system_arrow_pool,
)


def test_apply_switches_arrow_to_the_system_pool_and_old_buffers_stay_valid() -> None:
    before = pa.default_memory_pool()
    old = pa.array(list(range(1000)), pa.int64())
    try:
        use_system_arrow_pool()
        assert pa.default_memory_pool().backend_name == "system"
        new = pa.array(list(range(1000)), pa.int64())
        use_system_arrow_pool()  # idempotent
        release_freed_memory()
        assert old.equals(new) and new.sum().as_py() == 499500
    finally:
        pa.set_memory_pool(before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_malloc_arena_cap_is_taken_by_glibc() -> None:
    # mallopt returns 1 when it accepts a parameter and 0 when it does not: a wrong constant or
    # signature would make this False (the memory it saves is measured by `make bench`, item 5).
    assert limit_malloc_arenas(APPLY_MALLOC_ARENAS) is True
