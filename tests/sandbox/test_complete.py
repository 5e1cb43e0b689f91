"""`sandbox init --complete`: a lake with no injected gap, the steady state a nightly plan sees."""

from __future__ import annotations

import pytest

from reconciler.errors import InputError
from reconciler.sandbox import init_sandbox
from tests.e2e_helpers import fast_config, plan_json


def test_a_complete_lake_lacks_only_what_the_api_lacks(tmp_path):
    manifest = init_sandbox(tmp_path / "sb", seasons=(2015, 2016), scale=0.005, seed=7, complete=True)
    assert manifest.wholly_missing == {"plays": [], "substitutions": [], "lineups": []}
    cfg = tmp_path / "sb" / "config.yaml"
    fast_config(cfg, 20)
    plan = plan_json(cfg, "2015-2016")
    for t in plan["targets"]:
        if t["target"] not in ("plays", "substitutions", "lineups"):
            continue
        for season, c in t["coverage"].items():
            target = manifest.targets[t["target"]].seasons[season]
            # Every unit the API has is complete in silver; only the API's empty ones are lacking.
            assert c["present"] == target.complete == c["expected"] - len(target.api_empty), (t["target"], season)
            assert c["incomplete"] == 0


def test_complete_is_the_default_writer_without_drift(tmp_path):
    with pytest.raises(InputError, match="--complete"):
        init_sandbox(tmp_path / "a", seasons=(2015,), scale=0.005, drift=True, complete=True)
    with pytest.raises(InputError, match="--complete"):
        init_sandbox(tmp_path / "b", seasons=(2015,), scale=0.005, writer="pipeline", complete=True)
