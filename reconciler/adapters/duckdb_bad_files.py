"""Objects the embedded engine cannot read as the table declares them: left out, or read with casts.

One corrupt, zero-byte or wrong-typed Parquet object used to fail every query over its table, so
plan, apply and audit failed for every target (and DuckDB's own words, "Binder Error: Cannot
compare values of type VARCHAR and type INTEGER_LITERAL", reached the user). When a query fails
for a reason a file can cause, the engine reads the footers of the tables the query names, then:

* an object that is not readable Parquet (no magic bytes, zero bytes, a broken footer) is left
  out of every query, so the other objects are still read;
* an object whose column has a type no reader can compare with the declared one (text where the
  table declares a number, as a hand-written or foreign file may have) is read with that column
  cast to the declared type (``TRY_CAST``: a value that is no number is NULL), so its rows still
  count and its units are not fetched again;

and the query runs again. Each such object is named once, with its table, in one line; the
layout plan holds the remedy of an unreadable object (its quarantine, with ``--allow-delete``),
and rewrites a wrong-typed one where its type breaks a reader by the layout rules (a unit, key or
completeness column Athena cannot read as declared). Findings are keyed by (key, size, mtime):
a rewritten object is judged afresh.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from reconciler.adapters.arrow_errors import store_read_error
from reconciler.adapters.duckdb_sources import LakeFile
from reconciler.lake.footers import read_footer
from reconciler.ports import ObjectStore
from reconciler.sql import TableRef

__all__ = ["BadFiles", "is_file_error", "is_type_error"]

log = logging.getLogger(__name__)

_READERS = 16
_QUOTED_PATH = re.compile(r"""['"]([^'"]+\.parquet)['"]""")
_FILE_ERRORS = (
    "magic bytes",
    "too small to be a parquet file",
    "not readable parquet",
    "parquet file",
    "footer",
    "corrupt",
)
_TYPE_ERRORS = ("cannot compare", "could not convert", "conversion error", "no function matches")
_DUCK_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
}
_TEXT = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary)


def is_file_error(text: str) -> bool:
    """Whether a DuckDB error says a file could not be read.

    Args:
        text: The error's text.

    Returns:
        True for unreadable-file errors.
    """
    low = text.lower()
    return any(m in low for m in _FILE_ERRORS)


def is_type_error(text: str) -> bool:
    """Whether a DuckDB error is about types that do not go together.

    Args:
        text: The error's text.

    Returns:
        True for binder and conversion errors.
    """
    low = text.lower()
    return any(m in low for m in _TYPE_ERRORS)


def _breaks(file_type: pa.DataType, declared: pa.DataType) -> bool:
    """Whether a column stored as ``file_type`` makes the table's column unreadable as ``declared``."""
    numeric = pa.types.is_integer(declared) or pa.types.is_floating(declared) or pa.types.is_boolean(declared)
    return numeric and any(test(file_type) for test in _TEXT)


@dataclass
class BadFiles:
    """What the engine leaves out or casts, and the lines that name them.

    Attributes:
        unreadable: Object key → (size, mtime, why) of objects left out.
        casts: Object key → (size, mtime, column → DuckDB type) of objects read with casts.
        notices: One line per object, naming it and its table (in the order found).
    """

    unreadable: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    casts: dict[str, tuple[int, float, dict[str, str]]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    _schemas: dict[tuple[str, int, float], pa.Schema | str] = field(default_factory=dict)

    def keep(self, files: Sequence[LakeFile]) -> list[LakeFile]:
        """The files a query may read (unreadable ones left out).

        Args:
            files: A table's files.

        Returns:
            The readable ones.
        """
        out = []
        for f in files:
            bad = self.unreadable.get(f.key)
            if bad is not None and bad[:2] == (f.size, f.mtime):
                continue
            out.append(f)
        return out

    def casts_for(self, files: Sequence[LakeFile]) -> dict[str, dict[str, str]]:
        """The casts to read some of these files with.

        Args:
            files: A table's files.

        Returns:
            Object key → column → DuckDB type.
        """
        out = {}
        for f in files:
            c = self.casts.get(f.key)
            if c is not None and c[:2] == (f.size, f.mtime):
                out[f.key] = c[2]
        return out

    def _schema(self, store: ObjectStore, f: LakeFile) -> pa.Schema | str:
        ident = (f.key, f.size, f.mtime)
        got = self._schemas.get(ident)
        if got is None:
            fs, root = store.arrow()
            try:
                got = read_footer(fs, f"{root.rstrip('/')}/{f.key}", f.size).schema.to_arrow_schema()
            except (OSError, pa.ArrowException) as exc:
                failed = store_read_error(exc, store.uri(f.key))
                if failed is not None:  # the store refused or failed the read: an error, never a left-out file
                    raise failed from exc
                got = (str(exc).splitlines() or [type(exc).__name__])[0]
            self._schemas[ident] = got
        return got

    def diagnose(
        self,
        store: ObjectStore,
        error: str,
        tables: Mapping[TableRef, Sequence[LakeFile]],
        declared: Mapping[TableRef, pa.Schema],
    ) -> bool:
        """Find the objects behind a failed query; True when something new is left out or cast.

        Args:
            store: The lake.
            error: The query's error text.
            tables: The files of each table the query read.
            declared: The declared schema of each table (tables without one are not cast).

        Returns:
            Whether running the query again may now succeed.
        """
        if not (is_file_error(error) or is_type_error(error)):
            return False
        root = store.uri("").rstrip("/") + "/"
        named = {m[len(root) :] for m in _QUOTED_PATH.findall(error) if m.startswith(root)}
        found = False
        for ref, files in tables.items():
            todo = [f for f in files if f.key in named] if named and not is_type_error(error) else list(files)
            todo = [f for f in todo if f.key not in self.unreadable and f.key not in self.casts]
            with ThreadPoolExecutor(max_workers=min(_READERS, max(1, len(todo)))) as pool:
                schemas = list(pool.map(lambda f: self._schema(store, f), todo))
            want = declared.get(ref)
            for f, schema in zip(todo, schemas, strict=True):
                if isinstance(schema, str):
                    self.unreadable[f.key] = (f.size, f.mtime, schema)
                    self.notices.append(
                        f"{ref}: {f.key} is not readable Parquet ({schema}); left out of every query "
                        "(the layout plan quarantines it)"
                    )
                    found = True
                    continue
                casts = self._casts(schema, want) if want is not None and is_type_error(error) else {}
                if casts and want is not None:
                    self.casts[f.key] = (f.size, f.mtime, casts)
                    cols = ", ".join(f"{c} {schema.field(c).type}" for c in casts)
                    self.notices.append(
                        f"{ref}: {f.key} stores {cols}, where the table declares "
                        f"{', '.join(f'{c} {want.field(c).type}' for c in casts)}; read as declared "
                        "(a cast; a value that is no number reads as NULL)"
                    )
                    found = True
        if found:
            log.info("%s", "; ".join(self.notices[-3:]))
        return found

    @staticmethod
    def _casts(schema: pa.Schema, declared: pa.Schema) -> dict[str, str]:
        out = {}
        for fld in schema:
            idx = declared.get_field_index(fld.name)
            if idx < 0:
                continue
            want = declared.field(idx).type
            duck = _DUCK_TYPES.get(str(want))
            if duck is not None and _breaks(fld.type, want):
                out[fld.name] = duck
        return out
