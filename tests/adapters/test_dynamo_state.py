"""DynamoState specifics: our namespace in the pipeline's table, batching, retries."""

from __future__ import annotations

import json

import boto3
import pytest

from reconciler.adapters.dynamo_state import DynamoState
from reconciler.errors import BackendError
from reconciler.lake.layout import param_hash
from reconciler.ports import LockInfo, UnitRecord

pytestmark = pytest.mark.aws

TABLE = "cbbd_checkpoints"

PIPELINE_ITEMS = [
    {
        "endpoint": {"S": "games"},
        "parameter_hash": {"S": param_hash({"season_param": "season"})},
        "payload": {"S": json.dumps({"last_completed_season": 2026, "last_ingested_date": "2026-02-23"})},
    },
    {
        "endpoint": {"S": "plays_date"},
        "parameter_hash": {"S": param_hash({"date": "2026-02-21"})},
        "payload": {"S": json.dumps({"last_ingested_date": "2026-02-21"})},
    },
    {
        "endpoint": {"S": "gap_fill:plays_game"},
        "parameter_hash": {"S": param_hash({"gameId": 1234})},
        "payload": {"S": json.dumps({"game_id": 1234, "season": 2025, "ingested_at": "2026-02-23"})},
    },
]


@pytest.fixture
def ddb(moto_url):
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_url)


@pytest.fixture
def state(moto_url, boto_session):
    return DynamoState(TABLE, endpoint_url=moto_url, session=boto_session, sleep=lambda s: None)


def _scan(ddb):
    items = ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["endpoint"]["S"], i["parameter_hash"]["S"]))


def test_pipeline_items_are_left_untouched(ddb, state):
    for item in PIPELINE_ITEMS:
        ddb.put_item(TableName=TABLE, Item=item)
    before = {(i["endpoint"]["S"], i["parameter_hash"]["S"]): i for i in _scan(ddb)}

    state.record_units([UnitRecord("plays", str(i), "done", rows=i) for i in range(40)])
    state.record_units([UnitRecord("games", "1", "done")])  # a target named like a pipeline endpoint
    state.set_meta("games", "x")
    lock = LockInfo("games", "me", "h", 1, "c", 0.0, 100.0)
    state.acquire_lock(lock, now=0.0)
    state.renew_lock("games", "me", 200.0)
    state.release_lock("games", None)
    assert set(state.load_units("games")) == {"1"}

    after = {(i["endpoint"]["S"], i["parameter_hash"]["S"]): i for i in _scan(ddb)}
    for key, item in before.items():
        assert after[key] == item
    ours = {k[0] for k in after if k not in before}
    assert ours == {"reconcile:plays", "reconcile:games", "reconcile:meta"}


def test_unit_item_layout(ddb, state):
    state.record_units([UnitRecord("plays", "1234", "done", rows=320, season=2025)])
    (item,) = _scan(ddb)
    assert item["endpoint"] == {"S": "reconcile:plays"}
    assert item["parameter_hash"] == {"S": param_hash({"unit": "1234"})}
    assert item["unit"] == {"S": "1234"}
    payload = json.loads(item["payload"]["S"])  # a JSON string, as the pipeline's payloads are
    assert payload["unit"] == "1234"
    assert payload["status"] == "done"
    assert payload["rows"] == 320


def test_record_units_batches_25_a_call(state, counter):
    calls = counter(state.client)
    state.record_units([UnitRecord("plays", str(i), "done") for i in range(60)])
    assert calls["BatchWriteItem"] == 3
    assert len(state.load_units("plays")) == 60


class _Flaky:
    """Wraps the client: BatchWriteItem leaves the last item unprocessed ``fails`` times."""

    def __init__(self, client, fails):
        self._client = client
        self.fails = fails
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems):  # boto3's spelling
        self.calls += 1
        ((table, reqs),) = RequestItems.items()
        if self.fails > 0:
            self.fails -= 1
            if len(reqs) > 1:
                self._client.batch_write_item(RequestItems={table: reqs[:-1]})
            return {"UnprocessedItems": {table: reqs[-1:]}}
        return self._client.batch_write_item(RequestItems=RequestItems)


def test_unprocessed_items_are_retried(state):
    flaky = _Flaky(state.client, fails=2)
    state.client = flaky
    state.record_units([UnitRecord("plays", str(i), "done") for i in range(10)])
    assert flaky.calls == 3
    assert len(state.load_units("plays")) == 10


def test_items_still_unprocessed_after_retries_are_an_error(state):
    state.client = _Flaky(state.client, fails=100)
    state.max_batch_attempts = 3
    with pytest.raises(BackendError, match="1 checkpoint\\(s\\) still unprocessed after 3"):
        state.record_units([UnitRecord("plays", str(i), "done") for i in range(5)])


@pytest.mark.parametrize("target", ["meta", "lock", ""])
def test_reserved_target_names_are_refused(state, target):
    with pytest.raises(BackendError, match="reserved"):
        state.record_units([UnitRecord(target, "1", "done")])
    with pytest.raises(BackendError, match="reserved"):
        state.load_units(target)


def test_malformed_item_in_our_namespace_is_named(ddb, state):
    ddb.put_item(
        TableName=TABLE,
        Item={"endpoint": {"S": "reconcile:plays"}, "parameter_hash": {"S": "abc"}, "payload": {"S": "{"}},
    )
    with pytest.raises(BackendError, match="reconcile:plays/abc is malformed"):
        state.load_units("plays")


def test_missing_table_says_what_to_fix(moto_url, boto_session):
    state = DynamoState("no_such_table", endpoint_url=moto_url, session=boto_session)
    with pytest.raises(BackendError, match="DynamoDB table no_such_table not found"):
        state.load_units("plays")
