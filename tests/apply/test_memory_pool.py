"""Apply allocates Arrow buffers from malloc, whose freed pages it can give back."""

from __future__ import annotations

import pyarrow as pa

from reconciler.apply.memory import release_freed_memory, use_system_arrow_pool


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
