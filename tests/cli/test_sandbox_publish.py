"""`sandbox init --into-config`: publishing into another profile, here a local one (the AWS one is in tests/aws)."""

from __future__ import annotations

import yaml

from reconciler.adapters.factory import catalog_path
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.config import load_profile
from tests.e2e_helpers import cli, plan_json


def test_publish_into_a_local_profile_plans_the_same(tmp_path):
    target = tmp_path / "elsewhere"
    (target / "lake").mkdir(parents=True)
    into = tmp_path / "other.yaml"
    into.write_text(
        yaml.safe_dump(
            {
                "default_profile": "shared",
                "profiles": {
                    "shared": {
                        "store": {"kind": "local", "path": "elsewhere/lake"},
                        "state": {"kind": "sqlite", "path": "elsewhere/state.sqlite"},
                    }
                },
            }
        )
    )
    sb = tmp_path / "sb"
    r = cli(
        ["sandbox", "init", str(sb), "--seasons", "2016", "--scale", "0.005", "--into-config", str(into), "--stats"]
    )
    assert r.exit_code == 0, r.output
    assert "Published to " in r.output and "AWS calls: none" in r.output
    published = load_profile(sb / "config.yaml")
    assert published.name == "shared" and published.store.path == str((target / "lake").resolve())
    copied = sorted(p.relative_to(target / "lake") for p in (target / "lake").rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(sb / "lake") for p in (sb / "lake").rglob("*") if p.is_file())
    catalog = LocalCatalog(catalog_path(published))
    try:
        assert catalog.list_partitions("cbbd_silver", "fct_games")[0].values == ("2016",)
    finally:
        catalog.close()

    a = plan_json(sb / "config.yaml", "2016")
    b = plan_json(sb / "config.yaml", "2016", "--profile", "local")
    assert a["profile"] == "shared" and b["profile"] == "local"
    assert [t["coverage"] for t in a["targets"]] == [t["coverage"] for t in b["targets"]]
    assert [[x["address"] for x in t["actions"]] for t in a["targets"]] == [
        [x["address"] for x in t["actions"]] for t in b["targets"]
    ]
