"""Bodies decoded element by element read exactly as when decoded whole, errors included.

The apply path never builds a list of a response's records (``iter_json_array``,
``TableBuilder``, ``RawEncoder``); these properties hold it to the whole-body path it replaced.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api.payload import iter_json_array, json_array
from reconciler.errors import TerminalApiError
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, TableBuilder
from reconciler.lake.writer import RawEncoder, encode_raw

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_RECORDS = st.lists(st.dictionaries(st.text(max_size=8), _VALUES, max_size=6), max_size=8)
_WS = st.text(alphabet=" \t\n\r", max_size=3)


def _render(records: list[dict[str, Any]], ws: list[str], ascii_only: bool, compact: bool) -> bytes:
    seps = (",", ":") if compact else (", ", ": ")
    items = [json.dumps(r, ensure_ascii=ascii_only, separators=seps) for r in records]
    pad = (ws * (2 * len(items) + 3))[: 2 * len(items) + 3] if ws else [""] * (2 * len(items) + 3)
    body = pad[0] + "[" + pad[1]
    for i, item in enumerate(items):
        body += ("," + pad[2 * i + 2] if i else "") + item + pad[2 * i + 3]
    return (body + "]" + pad[-1]).encode("utf-8")


def _outcome(fn: Any, body: bytes, **kw: Any) -> tuple[str, Any]:
    try:
        return "ok", list(fn(body, "/plays/date?date=2025-01-01", **kw))
    except TerminalApiError as exc:
        return "error", str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=_RECORDS,
    ws=st.lists(_WS, max_size=4),
    ascii_only=st.booleans(),
    compact=st.booleans(),
    chunk=st.one_of(st.integers(1, 64), st.just(1 << 20)),
)
def test_any_array_of_objects_reads_as_when_decoded_whole(
    records: list[dict[str, Any]], ws: list[str], ascii_only: bool, compact: bool, chunk: int
) -> None:
    body = _render(records, ws, ascii_only, compact)
    assert list(iter_json_array(body, "/x", chunk)) == json_array(body, "/x") == records


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_RECORDS, data=st.data())
def test_a_damaged_body_fails_as_when_decoded_whole(records: list[dict[str, Any]], data: st.DataObject) -> None:
    body = bytearray(_render(records, [" "], True, True))
    cut = data.draw(st.integers(0, len(body)))
    how = data.draw(st.sampled_from(["truncate", "insert", "replace", "append"]))
    junk = data.draw(st.sampled_from([b"1", b",", b"]", b"[", b"}", b'"', b"x", b"\xff", b"null", b" ", b"{}"]))
    if how == "truncate":
        del body[cut:]
    elif how == "insert":
        body[cut:cut] = junk
    elif how == "replace":
        body[cut : cut + 1] = junk
    else:
        body += junk
    whole = _outcome(json_array, bytes(body))
    chunk = data.draw(st.one_of(st.integers(1, 16), st.just(1 << 20)))
    assert _outcome(iter_json_array, bytes(body), chunk=chunk) == whole


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": 1}', "returned a JSON dict; expected a JSON array"),
        (b"[1, 2]", "element 0 is a int; expected a JSON array of objects"),
        (b'[{"a": 1}, []]', "element 1 is a list"),
        (b'[{"a": 1}', "malformed JSON"),
        (b'[{"a": 1}] x', "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xef\xbb\xbf[]", None),
        ('[{"a": "\u00e9\u2603"}]'.encode("utf-16"), None),
        (b'\xef\xbb\xbf\xef\xbb\xbf[{"a": 1}]', "malformed JSON"),
        (b'[{"a": "\xff"}]', "malformed JSON"),
        (b'[{"a": 12', "malformed JSON"),
        (b"[12", "malformed JSON"),
    ],
)
@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_contract_errors_name_the_fault(body: bytes, message: str | None, chunk: int) -> None:
    kind, got = _outcome(iter_json_array, body, chunk=chunk)
    assert (kind, got) == _outcome(json_array, body)
    if message is None:
        assert kind == "ok"
    else:
        assert kind == "error" and message in got


def test_records_yielded_before_a_fault_are_the_ones_before_it() -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(TerminalApiError, match="element 2 is a str"):
        for rec in iter_json_array(b'[{"a": 1}, {"b": 2}, "c"]', "/x"):
            seen.append(rec)
    assert seen == [{"a": 1}, {"b": 2}]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_RECORDS)
def test_raw_encoder_gives_the_bytes_of_one_gzip_call(records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
    assert encode_raw(records) == gzip.compress(text, mtime=0)
    enc = RawEncoder()
    for r in records:
        enc.add(r)
    assert gzip.decompress(enc.finish()) == text


def _play(i: int, shot: bool) -> dict[str, Any]:
    return {
        "id": 10_000 + i,
        "gameId": 7 + i // 5,
        "season": 2025,
        "playText": f"play {i} \u00e9",
        "period": 1 + i % 2,
        "homeScore": i,
        "scoringPlay": i % 3 == 0,
        "homeWinProbability": i / 100,
        "participants": [{"id": 90 + i, "name": "A"}] if i % 4 else None,
        "onFloor": [{"id": 100 + j, "name": f"P{j}", "team": "T"} for j in range(10)],
        "shotInfo": {"shooter": {"id": 5, "name": "S"}, "made": True, "location": {"x": 1.5, "y": 2}} if shot else None,
    }


@pytest.mark.parametrize("batch_rows", [1, 3, 2048])
def test_table_builder_batches_change_nothing(batch_rows: int) -> None:
    records = [_play(i, i % 2 == 0) for i in range(23)]
    for schema in (SILVER_TABLES["fct_plays"], BRONZE_TABLES["plays_date"]):
        whole = pa.table(
            {
                f.name: pa.array([schema.flatten(r, {"season": 2025}).get(f.name) for r in records], f.type)
                for f in schema.schema
            },
            schema=schema.schema,
        )
        builder = TableBuilder(schema, {"season": 2025}, batch_rows=batch_rows)
        for r in records:
            builder.add(r)
        got = builder.finish()
        assert got.equals(whole)
        assert all(c.num_chunks <= 1 for c in got.columns)


@pytest.mark.parametrize("bad", [0, 3, 4])
def test_table_builder_reports_a_bad_value_of_any_batch(bad: int) -> None:
    builder = TableBuilder(SILVER_TABLES["fct_plays"], {}, batch_rows=2)
    with pytest.raises(pa.ArrowInvalid, match="'two'"):
        for i in range(5):
            builder.add({**_play(i, False), "period": "two" if i == bad else 1})
        builder.finish()
