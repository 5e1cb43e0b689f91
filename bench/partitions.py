"""Bench item 6: Glue calls to register 10,000 missing partitions (moto, in process)."""

from __future__ import annotations

import math
import os
import time
from typing import Any


def measure(n: int = 10_000) -> dict[str, Any]:
    """Register N partitions on a moto Glue table; count BatchCreatePartition calls on the wire."""
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        os.environ.setdefault(k, v)
    import boto3
    from moto import mock_aws

    from reconciler.adapters.glue_catalog import GlueCatalog
    from reconciler.ports import CatalogTable, PartitionSpec

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("glue").create_database(DatabaseInput={"Name": "cbbd_silver"})
        cat = GlueCatalog("bench-lake", session=session)
        cat.put_table(
            CatalogTable(
                database="cbbd_silver",
                name="fct_plays",
                location="silver/fct_plays/",
                columns=(("id", "bigint"), ("gameId", "bigint")),
                partition_keys=(("season", "string"), ("date", "string")),
            )
        )
        counts: dict[str, int] = {}
        cat.client.meta.events.register(
            "before-call.glue.*", lambda model, **_: counts.__setitem__(model.name, counts.get(model.name, 0) + 1)
        )
        parts = [
            PartitionSpec(
                (str(2010 + i // 400), f"d{i:05d}"), f"silver/fct_plays/season={2010 + i // 400}/date=d{i:05d}/"
            )
            for i in range(n)
        ]
        t = time.perf_counter()
        calls = cat.create_partitions("cbbd_silver", "fct_plays", parts)
        seconds = time.perf_counter() - t
        wire = dict(counts)
        registered = len(cat.list_partitions("cbbd_silver", "fct_plays"))
    return {
        "returned_calls": calls,
        "wire": wire,
        "goal": math.ceil(n / 100),
        "seconds": seconds,
        "registered": registered,
        "n": n,
    }
