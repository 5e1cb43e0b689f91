from __future__ import annotations

import reconciler.api as api
import reconciler.sim as sim


def test_public_surfaces_are_explicit() -> None:
    assert sorted(api.__all__) == [
        "ApiResponse",
        "CbbdClient",
        "StrictPacer",
        "backoff_delay",
        "busiest_window",
        "parse_retry_after",
    ]
    for module in (api, sim):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert {"SimServer", "ApiData", "InMemoryApiData", "fixture_data"} <= set(sim.__all__)
