"""The shared cache tier on S3 (moto), end to end: a second machine's plan reads no Parquet object.

Two profiles over one S3 lake, each with a local cache of its own (two CI runners), share the tier
under ``meta/cbbd-reconciler/cache/``. Every request the moto server serves is counted, pyarrow's
own footer reads included.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.aws.moto_counting import BUCKET
from tests.aws.test_e2e_aws import SEASONS, _publish, _shape
from tests.e2e_helpers import plan_json

pytestmark = pytest.mark.aws

SHARED = "meta/cbbd-reconciler/cache/"


def _machine(cfg: Path, name: str) -> Path:
    doc = yaml.safe_load(cfg.read_text())
    prof = doc["profiles"]["aws"]
    prof["cache"] = {"path": str(cfg.parent / f"cache-{name}"), "shared": SHARED}
    out = cfg.with_name(f"{name}.yaml")
    out.write_text(yaml.safe_dump(doc))
    return out


def _tier(s3) -> set[str]:  # type: ignore[no-untyped-def]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=SHARED)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_a_second_machine_plans_from_the_tier(tmp_path, moto, boto_session):
    s3 = boto_session.client("s3", endpoint_url=moto.url)
    cfg, _, _ = _publish(tmp_path, moto.url)
    moto.reset_counts()
    first = plan_json(_machine(cfg, "a"), SEASONS, "--profile", "aws")
    read_first = moto.counts().get("s3.GetObject", 0)
    tier = _tier(s3)
    assert tier and all(k.endswith(".arrow") for k in tier)
    assert read_first > len(tier), "the first machine reads the lake's objects"
    moto.reset_counts()
    second = plan_json(_machine(cfg, "b"), SEASONS, "--profile", "aws")
    counts = moto.counts()
    assert _shape(second) == _shape(first)
    # Only the tier's entries are read (each at most once), and nothing is written but them.
    assert counts.get("s3.GetObject", 0) <= len(tier)
    assert counts.get("s3.PutObject", 0) == 0 and _tier(s3) == tier
