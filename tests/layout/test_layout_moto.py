"""The layout apply against S3 and Glue (moto): nothing is deleted without --allow-delete.

Every S3 and Glue call the apply makes is counted through botocore's ``before-call`` event hooks
on the clients the CLI itself opens.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.adapters import factory
from reconciler.adapters.aws_metrics import is_lock_request
from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.adapters.s3_store import S3Store
from reconciler.apply.layout_catalog import catalog_lake
from reconciler.observe.layout_tables import declared_tables
from reconciler.sandbox.catalog import inject_catalog_drift
from reconciler.spec.loader import load_specs
from tests.e2e_helpers import cli, make_sandbox, plan_json

pytestmark = pytest.mark.aws

SEASONS = "2024-2025"
BUCKET = "hoops-edge"
DELETES = ("DeleteObject", "DeleteObjects", "BatchDeletePartition")


def _moto_lake(tmp_path: Path, moto_url: str, session: Any) -> Path:
    """A drifted sandbox lake copied into moto S3, catalogued in moto Glue; returns its config."""
    cfg, _, manifest = make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, drift=True)
    lake = cfg.parent / "lake"
    store = S3Store(BUCKET, endpoint_url=moto_url, session=session)
    for path in sorted(p for p in lake.rglob("*") if p.is_file()):
        store.put(path.relative_to(lake).as_posix(), path.read_bytes())
    glue = GlueCatalog(BUCKET, endpoint_url=moto_url, session=session)
    tables = declared_tables(load_specs(cfg.parent / "specs"), "cbbd_silver", "cbbd_bronze")
    catalog_lake(store, glue, tables)
    object_drift = {k: v for k, v in manifest.drift.items() if not k.startswith("catalog_")}
    inject_catalog_drift(glue, tables, [2024, 2025], object_drift)
    config = {
        "default_profile": "moto",
        "profiles": {
            "moto": {
                "specs_dir": str(cfg.parent / "specs"),
                "store": {"kind": "s3", "bucket": BUCKET, "endpoint_url": moto_url},
                "engine": {"kind": "duckdb"},
                "catalog": {"kind": "glue", "endpoint_url": moto_url},
                "state": {"kind": "sqlite", "path": str(tmp_path / "state" / "state.sqlite")},
            }
        },
    }
    out = tmp_path / "moto.yaml"
    out.write_text(yaml.safe_dump(config))
    return out


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts S3 and Glue operations of every backend the CLI opens."""
    seen: Counter[str] = Counter()
    real = factory.open_backends

    def _count(model: Any, params: Any = None, **_: Any) -> None:
        # The apply lock's own objects in the lake are not data: counted apart.
        seen.update([model.name + (".lock" if is_lock_request(params) else "")])

    def counted(profile: Any) -> Any:
        b = real(profile)
        for client in (b.store.client, b.catalog.client):  # type: ignore[attr-defined]
            client.meta.events.register("before-call.*.*", _count)
        return b

    monkeypatch.setattr(factory, "open_backends", counted)
    return seen


def _layout_types(cfg: Path) -> set[str]:
    plan = plan_json(cfg, SEASONS, "--target", "layout")
    return {a["type"] for t in plan["targets"] for a in t["actions"]}


def _rekey_batches(cfg: Path) -> int:
    """BatchDeletePartition calls a partition-key change makes: its old-shape partitions, 25 a call."""
    plan = plan_json(cfg, SEASONS, "--target", "layout")
    rekeys = [a for t in plan["targets"] for a in t["actions"] if a["address"].endswith("[partition-keys]")]
    return sum(-(-(a["details"]["partitions"]["move"] + a["details"]["partitions"]["drop"]) // 25) for a in rekeys)


@pytest.mark.slow  # ~11 s; nightly
def test_no_delete_call_without_allow_delete(tmp_path, moto_url, boto_session, calls):
    cfg = _moto_lake(tmp_path, moto_url, boto_session)
    rekey = _rekey_batches(cfg)
    assert rekey >= 1  # the drift re-keys fct_lineups
    r = cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout", "--auto-approve"])
    assert r.exit_code == 0, r.output
    for kind in ("to relayout (needs --allow-delete)", "to dedupe (needs --allow-delete)", "partitions to register"):
        assert kind in " ".join(r.output.split())
    # No object is deleted; no catalog partition either, but those of the old key shape, which the
    # (confirmed) key change moves or drops in its own step so that the table stays readable.
    assert {op: calls[op] for op in DELETES} == {**dict.fromkeys(DELETES, 0), "BatchDeletePartition": rekey}
    # No rewrite starts without --allow-delete (a new copy and its original are never both visible).
    assert calls["PutObject"] == 0 and calls["BatchCreatePartition"] >= 1 and calls["UpdateTable"] == 1
    assert _layout_types(cfg) <= {"relayout", "dedupe", "delete"}
    assert {op: calls[op] for op in DELETES} == {**dict.fromkeys(DELETES, 0), "BatchDeletePartition": rekey}

    r = cli(
        ["apply", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout", "--auto-approve", "--allow-delete"]
    )
    assert r.exit_code == 0, r.output
    assert calls["PutObject"] >= 1 and calls["DeleteObjects"] >= 1 and calls["BatchDeletePartition"] >= 1
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout"])
    assert r.exit_code == 0 and "No changes" in r.output, r.output
