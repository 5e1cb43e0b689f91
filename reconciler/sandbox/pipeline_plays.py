"""cbbd_etl's plays rules, column-wise: per-batch bronze and silver tables of ``/plays/*`` responses.

:func:`reconciler.sandbox.pipeline_rules.normalize` over millions of play records would take
hours, so this module applies the same rules to Arrow columns. A :class:`PlaySource` holds the
lake's view of a frame's plays (missing games dropped, partial games cut after period 1); a batch
is a contiguous run of its events (one game for ``/plays/game``, one day for ``/plays/date``):

* :func:`bronze_batch` is ``normalize_records("plays_game" | "plays_date", records)``: the 33 wire
  keys sorted, the common hints (``id``, ``gameId``, ``teamId`` int64, ``season`` int32), every
  other type from the batch's first non-null value (``teamSeed`` int64 in a batch with a seeded
  team, string otherwise; ``homeWinProbability`` int64 when the first one was whole), and the
  nested ``participants``, ``onFloor``, ``shotInfo`` as Python-repr text (``str(list)``).
* :func:`silver_batch` is ``orchestrate.py:_apply_key_aliases("fct_plays")`` then
  ``normalize_records("fct_plays")``: the nested columns become JSON text (``json.dumps``, default
  separators), ``onfloor_player1..10`` and ``participant_id`` are added to every record (the API
  always sends lists), the nine ``shot_*`` columns only to records with a ``shotInfo`` object, so a
  batch without a shot has none of them; the ``fct_plays`` hints type the derived columns.

``tests/sandbox/test_pipeline_writer.py`` checks both against the record-wise rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from reconciler.sandbox.pipeline_rules import cast_value, type_hints
from reconciler.synth.jsontext import PYTHON
from reconciler.synth.playrender import (
    RANGES,
    SCORING,
    SHOOTING,
    PlayPieces,
    on_floor_json,
    participants_json,
    shot_info_json,
)
from reconciler.synth.playsim import POINTS, PlayFrame
from reconciler.synth.playwire import raw_lines

__all__ = [
    "BRONZE_HINTS",
    "BRONZE_NAMES",
    "KIND",
    "NESTED",
    "SILVER_HINTS",
    "SILVER_NAMES",
    "SILVER_SHOT_NAMES",
    "PlaySource",
    "bronze_batch",
    "json_to_repr",
    "play_source",
    "silver_batch",
]

#: The ``PlayInfo`` wire keys and how their values look: ``int``, ``bool``, ``str``, ``float``
#: (whole values arrive as ints) or ``nested`` (lists/dicts).
WIRE_KINDS: tuple[tuple[str, str], ...] = (
    ("id", "int"),
    ("sourceId", "str"),
    ("gameId", "int"),
    ("gameSourceId", "str"),
    ("gameStartDate", "str"),
    ("season", "int"),
    ("seasonType", "str"),
    ("gameType", "str"),
    ("tournament", "str"),
    ("playType", "str"),
    ("isHomeTeam", "bool"),
    ("teamId", "int"),
    ("team", "str"),
    ("conference", "str"),
    ("teamSeed", "int"),
    ("opponentId", "int"),
    ("opponent", "str"),
    ("opponentConference", "str"),
    ("opponentSeed", "int"),
    ("period", "int"),
    ("clock", "str"),
    ("secondsRemaining", "int"),
    ("homeScore", "int"),
    ("awayScore", "int"),
    ("homeWinProbability", "float"),
    ("scoringPlay", "bool"),
    ("shootingPlay", "bool"),
    ("scoreValue", "int"),
    ("wallclock", "str"),
    ("playText", "str"),
    ("participants", "nested"),
    ("onFloor", "nested"),
    ("shotInfo", "nested"),
)
KIND = dict(WIRE_KINDS)
NESTED = ("participants", "onFloor", "shotInfo")
_FLOOR = tuple(f"onfloor_player{k}" for k in range(1, 11))
_SHOT = (
    "shot_shooter_id",
    "shot_shooter_name",
    "shot_made",
    "shot_range",
    "shot_assisted",
    "shot_assisted_by_id",
    "shot_assisted_by_name",
    "shot_loc_x",
    "shot_loc_y",
)
BRONZE_NAMES = tuple(sorted(KIND))
SILVER_NAMES = tuple(sorted((*KIND, *_FLOOR, "participant_id")))
SILVER_SHOT_NAMES = tuple(sorted((*SILVER_NAMES, *_SHOT)))
BRONZE_HINTS = type_hints("plays_game")
SILVER_HINTS = type_hints("fct_plays")
_STR = pa.string()


@dataclass(frozen=True, slots=True)
class PlaySource:
    """The lake's view of a frame's plays, column-wise (events of one game are contiguous).

    Attributes:
        values: Wire scalar fields and silver derived fields, typed as the API's values are.
        json: ``participants``, ``onFloor``, ``shotInfo`` as ``json.dumps`` text (null: no shot).
        repr: The same as Python-repr text.
        is_shot: Per event: it has a ``shotInfo`` object.
        lines: Raw JSON Lines text per event (``json.dumps(record)``), or None.
        gid: Game id per event.
        period: Period per event.
        starts: Offsets of each game's events (``len(game_ids) + 1``).
        game_ids: The games, in frame order.
    """

    values: dict[str, pa.Array]
    json: dict[str, pa.Array]
    repr: dict[str, pa.Array]
    is_shot: NDArray[np.bool_]
    lines: pa.Array | None
    gid: NDArray[np.int64]
    period: NDArray[np.int64]
    starts: NDArray[np.int64]
    game_ids: NDArray[np.int64]


def json_to_repr(text: pa.Array) -> pa.Array:
    """Turn JSON text (default separators, plain ASCII strings) into Python-repr text.

    A string without an apostrophe gets single quotes, one with an apostrophe keeps its double
    quotes (as ``repr`` does: ``"O'Brien"``); ``null``/``true``/``false`` values become
    ``None``/``True``/``False``. Exact for the universe's nested values, whose strings hold no
    quotes, backslashes or ``": "``.

    Args:
        text: JSON text (nullable).

    Returns:
        The repr text (null where the input is null).
    """
    out = pc.replace_substring(text, pattern='"', replacement="'")
    apostrophe = pc.fill_null(pc.match_substring(text, "'"), False)
    if pc.any(apostrophe).as_py():
        # Rare: a regex keeps such tokens. Every token matches one alternative, so the scan stays
        # aligned on token starts; the second is kept as it is, after an empty '' marker dropped next.
        odd = pc.filter(text, apostrophe)
        odd = pc.replace_substring_regex(odd, pattern='"([^"\']*)"|("[^"]*")', replacement="'\\1'\\2")
        out = pc.replace_with_mask(out, apostrophe, pc.replace_substring(odd, pattern="''\"", replacement='"'))
    for word, py in ((": null", ": None"), (": true", ": True"), (": false", ": False")):
        out = pc.replace_substring(out, pattern=word, replacement=py)
    return out


def _repr_of(text: pa.Array) -> pa.Array:
    """:func:`json_to_repr` over the distinct values only (``onFloor`` repeats per floor segment)."""
    enc = pc.dictionary_encode(text)
    return pc.take(json_to_repr(enc.dictionary), enc.indices)


def _masked(values: NDArray[np.generic], null: NDArray[np.bool_], typ: pa.DataType) -> pa.Array:
    return pa.array(values, type=typ, mask=null)


def play_source(pieces: PlayPieces, keep: NDArray[np.bool_], *, raw: bool) -> PlaySource:
    """The kept events of a frame, column-wise, in every form the pipeline writes them.

    Args:
        pieces: The frame's pieces.
        keep: Events in the lake (missing games dropped, partial games cut after period 1).
        raw: Also render the raw JSON Lines.

    Returns:
        The source.
    """
    f: PlayFrame = pieces.frame
    t, tn, shot = pieces.text, pieces.team_null, pieces.is_shot
    i64, f64, b = pa.int64(), pa.float64(), pa.bool_()
    n = len(f)
    floor_ids = f.rotation.seg_aid[f.seg] if n else np.zeros((0, 10), dtype=np.int64)
    vals: dict[str, pa.Array] = {
        "id": pa.array(pieces.play_id, type=i64),
        "gameId": pa.array(pieces.gid, type=i64),
        "season": pa.array(np.full(n, f.season, dtype=np.int64), type=i64),
        "isHomeTeam": _masked(f.side == 0, tn, b),
        "teamId": _masked(pieces.team_id, tn, i64),
        "teamSeed": _masked(pieces.team_seed, pieces.team_seed < 0, i64),
        "opponentId": _masked(pieces.opp_id, tn, i64),
        "opponentSeed": _masked(pieces.opp_seed, pieces.opp_seed < 0, i64),
        "period": pa.array(f.period, type=i64),
        "secondsRemaining": pa.array(f.sr, type=i64),
        "homeScore": pa.array(f.home_score, type=i64),
        "awayScore": pa.array(f.away_score, type=i64),
        "homeWinProbability": _masked(f.hwp / 1000.0, f.hwp < 0, f64),
        "scoringPlay": pa.array(SCORING[f.etype], type=b),
        "shootingPlay": pa.array(SHOOTING[f.etype], type=b),
        "scoreValue": pa.array(POINTS[f.etype], type=i64),
        **{k: t[k] for k in ("sourceId", "gameSourceId", "gameStartDate", "seasonType", "gameType")},
        **{k: t[k] for k in ("tournament", "playType", "team", "conference", "opponent")},
        **{k: t[k] for k in ("opponentConference", "clock", "wallclock", "playText")},
        "participant_id": _masked(f.actor, f.actor < 0, i64),
        "shot_shooter_id": _masked(f.actor, (f.actor < 0) | ~shot, i64),
        "shot_shooter_name": pc.if_else(pa.array(shot), pieces.actor_name, pa.scalar(None, _STR)),
        "shot_made": _masked(SCORING[f.etype], ~shot, b),
        "shot_range": pc.if_else(pa.array(shot), pc.take(RANGES, pa.array(f.etype)), pa.scalar(None, _STR)),
        "shot_assisted": _masked(f.assist >= 0, ~shot, b),
        "shot_assisted_by_id": _masked(f.assist, (f.assist < 0) | ~shot, i64),
        "shot_assisted_by_name": pc.if_else(pa.array(shot), pieces.assist_name, pa.scalar(None, _STR)),
        "shot_loc_x": _masked(f.loc_x10 / 10.0, (f.loc_x10 < 0) | ~shot, f64),
        "shot_loc_y": _masked(f.loc_y10 / 10.0, (f.loc_y10 < 0) | ~shot, f64),
    }
    for k, name in enumerate(_FLOOR):
        vals[name] = _masked(floor_ids[:, k], ~pieces.floor_on, i64)
    js = {
        "participants": participants_json(pieces, PYTHON),
        "onFloor": on_floor_json(pieces, PYTHON),
        "shotInfo": shot_info_json(pieces, PYTHON, js_numbers=True),
    }
    every = bool(keep.all())
    mask = pa.array(keep)
    if not every:  # filtering copies every column; a twin frame holds only games in the lake
        vals = {k: v.filter(mask) for k, v in vals.items()}
        js = {k: v.filter(mask) for k, v in js.items()}
    gid = pieces.gid[keep]
    bounds = np.flatnonzero(np.diff(gid)) + 1 if len(gid) else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], bounds, [len(gid)]]).astype(np.int64)
    return PlaySource(
        values=vals,
        json=js,
        repr={k: _repr_of(v) for k, v in js.items()},
        is_shot=shot[keep],
        lines=(raw_lines(pieces, js_numbers=True) if every else raw_lines(pieces, js_numbers=True).filter(mask))
        if raw
        else None,
        gid=gid,
        period=f.period[keep],
        starts=starts,
        game_ids=gid[starts[:-1]] if len(gid) else np.zeros(0, dtype=np.int64),
    )


def _typed(name: str, kind: str, values: pa.Array, hints: dict[str, pa.DataType]) -> tuple[pa.Field, pa.Array]:
    """One column of a batch, typed and cast as ``normalize_records`` does."""
    n = len(values)
    all_null = values.null_count == n
    dtype = hints.get(name)
    if dtype is None:
        if kind in ("str", "nested") or all_null:
            dtype = _STR
        elif kind == "float":
            first = values.drop_null()[0].as_py()
            dtype = pa.int64() if float(first).is_integer() else pa.float64()
        else:
            dtype = pa.int64() if kind == "int" else pa.bool_()
    if all_null:
        return pa.field(name, dtype), pa.nulls(n, type=dtype)
    if values.type == dtype:
        return pa.field(name, dtype), values
    if pa.types.is_floating(values.type) and pa.types.is_integer(dtype):
        return pa.field(name, dtype), pc.cast(pc.trunc(values), dtype)
    if pa.types.is_integer(values.type) and (pa.types.is_integer(dtype) or pa.types.is_floating(dtype)):
        return pa.field(name, dtype), pc.cast(values, dtype)
    cast = [cast_value(v, dtype) for v in values.to_pylist()]  # not reached by the universe's plays
    return pa.field(name, dtype), pa.array(cast, type=dtype)


def bronze_batch(src: PlaySource, lo: int, hi: int) -> pa.Table:
    """The bronze table of the events ``[lo, hi)`` (one API response), typed by that batch.

    Args:
        src: The source.
        lo: First event.
        hi: End event.

    Returns:
        The table cbbd_etl writes to ``bronze/plays_game`` or ``bronze/plays_date``.
    """
    fields, arrays = [], []
    for name in BRONZE_NAMES:
        col = src.repr[name] if name in NESTED else src.values[name]
        fld, arr = _typed(name, KIND[name], col.slice(lo, hi - lo), BRONZE_HINTS)
        fields.append(fld)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def silver_batch(src: PlaySource, lo: int, hi: int) -> pa.Table:
    """The ``fct_plays`` table of the events ``[lo, hi)``, after the alias step, typed by that batch.

    Args:
        src: The source.
        lo: First event.
        hi: End event.

    Returns:
        The table cbbd_etl writes to ``silver/fct_plays``.
    """
    names = SILVER_SHOT_NAMES if bool(src.is_shot[lo:hi].any()) else SILVER_NAMES
    fields, arrays = [], []
    for name in names:
        col = src.json[name] if name in NESTED else src.values[name]
        fld, arr = _typed(name, KIND.get(name, "derived"), col.slice(lo, hi - lo), SILVER_HINTS)
        fields.append(fld)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
