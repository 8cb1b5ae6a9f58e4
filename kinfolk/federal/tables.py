"""The four federal-shaped tables: one schema, one reader, one validator.

Everything analytic in Kinfolk reads ``children``, ``episodes``, ``placements`` and ``reports``
through this module (see FEDERAL_TABLES.md). A table directory holds ``<name>.csv`` or
``<name>.parquet`` per table. Reading casts every table to the canonical Arrow schema below,
drops unknown columns, fills optional missing columns, and refuses bad data with a
:class:`TableError` that names the file, the line (CSV, header = line 1) or row (Parquet and
in-memory tables, first data row = row 1) and the column. Nothing partial is returned.

Files are checked inside DuckDB, straight from ``read_parquet`` / ``read_csv`` (see "Reading
files inside DuckDB" below): :func:`open_tables` hands the checked files on as Ibis tables for the
outcomes engine, :func:`read_tables` fetches them as Arrow. In-memory tables
(:func:`validate_tables`, :func:`conform_tables`) are checked with PyArrow compute, and the same
PyArrow checks word every error, so a file's error reads the same whichever path found it.

Structural problems are errors here; suspicious-but-possible values (a discharge before its
removal, a date of birth after a removal, ...) are left for the outcomes engine's data-quality
checks, because the federal indicators report them rather than refuse the whole file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TABLE_NAMES = ("children", "episodes", "placements", "reports")

STRING = pa.string()
DATE = pa.date32()
CODE = pa.int16()


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool = False
    # Allowed values of a code column; None means any value of the type.
    codes: frozenset[int] | None = None
    # May the value be missing (null / empty CSV field)?
    nullable: bool = True
    # Value that stands in for a missing column or an empty field.
    default: int | None = None


def _codes(*values: int) -> frozenset[int]:
    return frozenset(values)


_FLAG = _codes(0, 1)
RACE_COLUMNS = (
    "race_amiakn",
    "race_asian",
    "race_blkafram",
    "race_hawaiipi",
    "race_white",
    "race_unknown",
)
_WHERE = (Column("county", STRING), Column("office", STRING), Column("circuit", STRING))

COLUMNS: dict[str, tuple[Column, ...]] = {
    "children": (
        Column("child_id", STRING, required=True, nullable=False),
        Column("date_of_birth", DATE),
        Column("sex", CODE, codes=_codes(1, 2, 9)),
        *(Column(name, CODE, codes=_FLAG) for name in RACE_COLUMNS),
        Column("hispanic", CODE, codes=_codes(1, 2, 3)),
    ),
    "episodes": (
        Column("child_id", STRING, required=True, nullable=False),
        Column("removal_date", DATE, required=True, nullable=False),
        Column("discharge_date", DATE, required=True),
        Column("discharge_reason", CODE, required=True, codes=_codes(*range(1, 9))),
        *_WHERE,
    ),
    "placements": (
        Column("child_id", STRING, required=True, nullable=False),
        Column("removal_date", DATE, required=True, nullable=False),
        Column("start_date", DATE, required=True, nullable=False),
        Column("end_date", DATE),
        Column("setting", CODE, required=True, nullable=False, codes=_codes(*range(1, 9))),
        Column("temporary", CODE, codes=_FLAG, nullable=False, default=0),
        Column("provider_id", STRING),
    ),
    "reports": (
        Column("report_id", STRING, required=True, nullable=False),
        Column("child_id", STRING, required=True, nullable=False),
        Column("report_date", DATE, required=True, nullable=False),
        Column("incident_date", DATE),
        Column(
            "maltreatment_type", CODE, required=True, nullable=False, codes=_codes(*range(1, 10))
        ),
        Column(
            "maltreatment_level",
            CODE,
            required=True,
            nullable=False,
            codes=_codes(*range(1, 10), 99),
        ),
        *_WHERE,
    ),
}

ARROW_SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema([pa.field(c.name, c.type) for c in cols]) for name, cols in COLUMNS.items()
}


class TableError(ValueError):
    """Bad table data, located as precisely as the source allows."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [part for part in (self.file,) if part]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class _Source:
    """Where a table came from, so an error can point at the right line or row."""

    file: str
    csv: bool

    def error(
        self, message: str, index: int | None = None, column: str | None = None
    ) -> TableError:
        if index is None:
            return TableError(message, file=self.file, column=column)
        if self.csv:
            # Header is line 1, first data row line 2. Quoted fields with embedded newlines
            # would shift this; the federal-shaped tables have none.
            return TableError(message, file=self.file, line=index + 2, column=column)
        return TableError(message, file=self.file, row=index + 1, column=column)


def _first_true(mask: pa.Array | pa.ChunkedArray) -> int | None:
    values = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    hits = np.flatnonzero(values)
    return int(hits[0]) if hits.size else None


def _value_at(array: pa.ChunkedArray | pa.Array, index: int) -> object:
    return array[index].as_py()


def _parse_dates(values: pa.ChunkedArray, source: _Source, column: str) -> pa.ChunkedArray:
    text = pc.utf8_trim_whitespace(values)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, STRING), text)
    well_formed = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$")
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2021-02-30 over to March; formatting back catches impossible dates.
    round_trip = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)
    bad = pc.and_(
        pc.is_valid(text),
        pc.or_kleene(
            pc.invert(well_formed), pc.or_kleene(pc.is_null(parsed), pc.invert(round_trip))
        ),
    )
    index = _first_true(bad)
    if index is not None:
        value = _value_at(values, index)
        raise source.error(f"{value!r} is not a date (expected YYYY-MM-DD)", index, column)
    return pc.cast(parsed, DATE)


def _parse_ints(values: pa.ChunkedArray, source: _Source, column: str) -> pa.ChunkedArray:
    text = pc.utf8_trim_whitespace(values)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, STRING), text)
    # "2.0" from a spreadsheet round trip is still the code 2; "2.5" is not a code.
    text = pc.replace_substring_regex(text, r"^(-?\d+)\.0*$", r"\1")
    bad = pc.and_(pc.is_valid(text), pc.invert(pc.match_substring_regex(text, r"^-?\d{1,5}$")))
    index = _first_true(bad)
    if index is not None:
        value = _value_at(values, index)
        raise source.error(f"{value!r} is not a whole number", index, column)
    return pc.cast(text, pa.int32())


def _conform_column(column: Column, values: pa.ChunkedArray, source: _Source) -> pa.ChunkedArray:
    """Cast one column to its canonical type and check its values."""
    if column.type == STRING:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            out = pc.cast(values, STRING)
        elif pa.types.is_integer(values.type):
            out = pc.cast(values, STRING)
        else:
            raise source.error(f"expected text, found {values.type}", column=column.name)
        # An empty id is as missing as a null one (checked first: rewriting a large string
        # column costs more than scanning it).
        if pc.any(pc.equal(out, "")).as_py():
            out = pc.if_else(pc.equal(out, ""), pa.scalar(None, STRING), out)
    elif column.type == DATE:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            out = _parse_dates(values, source, column.name)
        elif pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
            out = pc.cast(values, DATE)
        elif pa.types.is_null(values.type):
            out = pc.cast(values, DATE)
        else:
            raise source.error(f"expected dates, found {values.type}", column=column.name)
    else:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            wide = _parse_ints(values, source, column.name)
        elif pa.types.is_integer(values.type) or pa.types.is_null(values.type):
            wide = pc.cast(values, pa.int32())
        elif pa.types.is_floating(values.type):
            fractional = pc.not_equal(values, pc.floor(values))
            index = _first_true(fractional)
            if index is not None:
                value = _value_at(values, index)
                raise source.error(f"{value!r} is not a whole number", index, column.name)
            wide = pc.cast(values, pa.int32(), safe=False)
        elif pa.types.is_boolean(values.type):
            wide = pc.cast(values, pa.int32())
        else:
            raise source.error(f"expected codes, found {values.type}", column=column.name)
        if column.default is not None:
            wide = pc.fill_null(wide, column.default)
        if column.codes is not None:
            allowed = pa.array(sorted(column.codes), pa.int32())
            outside = pc.and_(pc.is_valid(wide), pc.invert(pc.is_in(wide, value_set=allowed)))
            index = _first_true(outside)
            if index is not None:
                listed = ", ".join(str(code) for code in sorted(column.codes))
                raise source.error(
                    f"{_value_at(wide, index)!r} is not a valid code (allowed: {listed})",
                    index,
                    column.name,
                )
        out = pc.cast(wide, CODE)
    if not column.nullable:
        index = _first_true(pc.is_null(out))
        if index is not None:
            raise source.error("a value is required", index, column.name)
    return out


def _conform(name: str, table: pa.Table, source: _Source) -> pa.Table:
    present = set(table.column_names)
    arrays: list[pa.ChunkedArray] = []
    for column in COLUMNS[name]:
        if column.name in present:
            arrays.append(_conform_column(column, table.column(column.name), source))
        elif column.required:
            raise source.error("required column is missing", column=column.name)
        elif column.default is not None:
            arrays.append(pa.chunked_array([pa.array([column.default] * table.num_rows, CODE)]))
        else:
            arrays.append(pa.chunked_array([pa.nulls(table.num_rows, column.type)]))
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMAS[name])


def _with_index(table: pa.Table) -> pa.Table:
    return table.append_column("__index", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _check_unique(table: pa.Table, keys: list[str], source: _Source, what: str) -> None:
    if table.num_rows < 2:
        return
    # Hash-count first (cheap); sort to locate the duplicate only when there is one.
    groups = table.select(keys).group_by(keys).aggregate([])
    if groups.num_rows == table.num_rows:
        return
    ordered = _with_index(table.select(keys)).sort_by([(k, "ascending") for k in keys])
    same = np.ones(ordered.num_rows - 1, dtype=bool)
    for key in keys:
        col = ordered.column(key)
        same &= np.asarray(
            pc.fill_null(pc.equal(col[1:], col[:-1]), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    hits = np.flatnonzero(same)
    if hits.size:
        rows = ordered.column("__index").to_numpy()
        # Point at the later of the two rows: the earlier one is the original.
        later = max(int(rows[hits[0]]), int(rows[hits[0] + 1]))
        values = ", ".join(f"{k}={ordered.column(k)[int(hits[0])].as_py()}" for k in keys)
        raise source.error(f"duplicate {what} ({values})", later)


def _check_no_overlap(episodes: pa.Table, source: _Source) -> None:
    """A child's episodes follow one another: the next removal is on or after the discharge."""
    if episodes.num_rows < 2:
        return
    ordered = _with_index(episodes.select(["child_id", "removal_date", "discharge_date"])).sort_by(
        [("child_id", "ascending"), ("removal_date", "ascending")]
    )
    child = ordered.column("child_id")
    same_child = pc.equal(child[1:], child[:-1])
    previous_end = ordered.column("discharge_date")[:-1]
    next_start = ordered.column("removal_date")[1:]
    # An open previous episode overlaps anything after it; otherwise the next removal must not
    # come before the previous discharge (a same-day return is a new episode, not an overlap).
    overlap = pc.and_(
        same_child,
        pc.or_kleene(pc.is_null(previous_end), pc.less(next_start, previous_end)),
    )
    index = _first_true(overlap)
    if index is not None:
        row = int(ordered.column("__index")[index + 1].as_py())
        child_id = child[index].as_py()
        raise source.error(
            f"episodes of child {child_id!r} overlap: this removal comes before the previous "
            "episode's discharge",
            row,
            "removal_date",
        )


def _check_references(
    table: pa.Table, keys: list[str], target: pa.Table, source: _Source, what: str
) -> None:
    """Every key of ``table`` exists in ``target`` (whose keys are already known unique)."""
    if table.num_rows == 0:
        return
    if len(keys) == 1:
        # A hash lookup is much cheaper than a join for the common single-key case.
        found = pc.is_in(table.column(keys[0]), value_set=target.column(keys[0]).combine_chunks())
        index = _first_true(pc.invert(found))
    else:
        probe = _with_index(table.select(keys))
        missing = probe.join(target.select(keys), keys=keys, join_type="left anti")
        index = int(pc.min(missing.column("__index")).as_py()) if missing.num_rows else None
    if index is not None:
        values = ", ".join(f"{k}={table.column(k)[index].as_py()}" for k in keys)
        raise source.error(f"refers to no {what} ({values})", index, keys[-1])


def _check_tables(tables: Mapping[str, pa.Table], sources: Mapping[str, _Source]) -> None:
    _check_unique(tables["children"], ["child_id"], sources["children"], "child_id")
    _check_unique(tables["episodes"], ["child_id", "removal_date"], sources["episodes"], "episode")
    _check_no_overlap(tables["episodes"], sources["episodes"])
    _check_references(
        tables["episodes"], ["child_id"], tables["children"], sources["episodes"], "child"
    )
    _check_references(
        tables["placements"],
        ["child_id", "removal_date"],
        tables["episodes"],
        sources["placements"],
        "episode",
    )
    _check_unique(
        tables["placements"],
        ["child_id", "removal_date", "start_date"],
        sources["placements"],
        "placement start",
    )


def validate_tables(tables: Mapping[str, pa.Table]) -> None:
    """Check in-memory tables exactly as :func:`read_tables` checks files.

    Column types need not be canonical already (int64 codes, string dates are cast), but every
    value must fit. Raises :class:`TableError` with ``row`` counted from 1.
    """
    conform_tables(tables)


def conform_tables(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Validate in-memory tables and return them cast to :data:`ARROW_SCHEMAS`."""
    sources = {name: _Source(file=name, csv=False) for name in TABLE_NAMES}
    out: dict[str, pa.Table] = {}
    for name in TABLE_NAMES:
        if name not in tables:
            raise TableError("table is missing", file=name)
        out[name] = _conform(name, tables[name], sources[name])
    _check_tables(out, sources)
    return out


def _csv_header(path: Path, name: str) -> tuple[list[str], set[str]]:
    """A CSV table's header (trimmed) and the table's known column names; refuses a file that
    is not UTF-8, has no header, or names a known column twice."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise TableError(f"not UTF-8 text ({exc.reason})", file=path.name) from exc
    if not header:
        raise TableError("empty file: a header row is required", file=path.name, line=1)
    header = [h.strip() for h in header]
    known = {c.name for c in COLUMNS[name]}
    wanted = [h for h in header if h in known]
    duplicated = {h for h in wanted if wanted.count(h) > 1}
    if duplicated:
        raise TableError("column appears twice", file=path.name, line=1, column=min(duplicated))
    return header, known


def _read_csv(path: Path, name: str) -> pa.Table:
    source = _Source(file=path.name, csv=True)
    header, known = _csv_header(path, name)
    wanted = [h for h in header if h in known]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, encoding="utf8"),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={h: STRING for h in wanted},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise TableError(f"cannot parse CSV: {exc}", file=path.name) from exc
    return _conform(name, table, source)


def _read_parquet(path: Path, name: str) -> pa.Table:
    try:
        schema = pq.read_schema(path)
        known = {c.name for c in COLUMNS[name]}
        table = pq.read_table(path, columns=[n for n in schema.names if n in known])
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"cannot read Parquet: {exc}", file=path.name) from exc
    return _conform(name, table, _Source(file=path.name, csv=False))


def read_tables(directory: str | Path) -> dict[str, pa.Table]:
    """Read, cast and validate the four tables of a table directory.

    The checks run inside DuckDB (see :func:`open_tables`); the result is fetched as Arrow.
    """
    import ibis

    backend = ibis.duckdb.connect()
    files = _open_files(directory, backend)
    _cross_check(backend.con, files, Path(directory), defer=False)
    return {
        name: backend.con.sql(files[name].select).to_arrow_table().cast(ARROW_SCHEMAS[name])
        for name in TABLE_NAMES
    }


def write_tables(
    tables: Mapping[str, pa.Table], directory: str | Path, fmt: str = "parquet"
) -> None:
    """Write the four tables (cast to the canonical schema) as Parquet or CSV files."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use 'parquet' or 'csv'")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    canonical = conform_tables(tables)
    for name in TABLE_NAMES:
        table = canonical[name]
        other = root / f"{name}.{'csv' if fmt == 'parquet' else 'parquet'}"
        # A stale file of the other format would make the directory ambiguous to read_tables.
        other.unlink(missing_ok=True)
        if fmt == "parquet":
            pq.write_table(table, root / f"{name}.parquet")
        else:
            pacsv.write_csv(
                table,
                root / f"{name}.csv",
                write_options=pacsv.WriteOptions(quoting_style="needed"),
            )


def empty_tables() -> dict[str, pa.Table]:
    """Four empty tables of the canonical schema (a convenient starting point in tests)."""
    return {name: ARROW_SCHEMAS[name].empty_table() for name in TABLE_NAMES}


# --- Reading files inside DuckDB --------------------------------------------------------------
#
# The fast path: every file is checked by aggregate SQL queries over ``read_parquet`` /
# ``read_csv`` (one pass per table for the column checks, one query per cross-row check), and the
# tables are handed on as Ibis expressions over the same files, so nothing is materialised in
# Python. Only when a query finds a problem is the offending file (or, for a cross-row check,
# the key columns) read into Arrow and checked by the functions above, which locate the first
# offending line/row and word the error exactly as they always have.

T = TypeVar("T")
_VIEW_NUMBERS = itertools.count(1)
_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "HUGEINT",
    }
)
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL"})
_ISO_DATE = "'\\d{4}-\\d{2}-\\d{2}'"
_SQL_TYPES = {STRING: "VARCHAR", DATE: "DATE", CODE: "SMALLINT"}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _trimmed(ref: str) -> str:
    # utf8_trim_whitespace + "empty is missing", as the Arrow path does for text columns.
    return f"NULLIF(regexp_replace({ref}, '^\\s+|\\s+$', '', 'g'), '')"


def _column_sql(column: Column, sql_type: str | None) -> tuple[str, list[str]] | None:
    """The canonical value of one column as SQL, and SQL flags that are true on a bad row.

    ``sql_type`` is the file's DuckDB type of the column (None: the column is absent). Returns
    None for a type the fast path does not handle (the Arrow path then reads the file).
    """
    target = _SQL_TYPES[column.type]
    if sql_type is None:
        if column.default is not None:
            return f"CAST({column.default} AS {target})", []
        return f"CAST(NULL AS {target})", []
    ref = _quote(column.name)
    flags: list[str] = []
    if column.type == STRING:
        if sql_type != "VARCHAR" and sql_type not in _INTEGER_TYPES:
            return None
        value = f"NULLIF(CAST({ref} AS VARCHAR), '')"
        if not column.nullable:
            # An empty value is an error here (the check below), so a file that passes has none
            # to turn into missing values: the view reads the plain column (cheaper to scan,
            # join and filter on).
            flags.append(f"({value} IS NULL)")
            return (ref if sql_type == "VARCHAR" else f"CAST({ref} AS VARCHAR)"), flags
    elif column.type == DATE:
        if sql_type == "VARCHAR":
            text = _trimmed(ref)
            flags.append(
                f"({text} IS NOT NULL AND (NOT regexp_full_match({text}, {_ISO_DATE})"
                f" OR TRY_CAST({text} AS DATE) IS NULL))"
            )
            value = f"TRY_CAST({text} AS DATE)"
        elif sql_type == "DATE":
            value = ref
        elif sql_type.startswith("TIMESTAMP") or sql_type == '"NULL"':
            value = f"CAST({ref} AS DATE)"
        else:
            return None
    else:
        if sql_type == "VARCHAR":
            text = f"regexp_replace({_trimmed(ref)}, '^(-?\\d+)\\.0*$', '\\1')"
            flags.append(f"({text} IS NOT NULL AND NOT regexp_full_match({text}, '-?\\d{{1,5}}'))")
            wide = f"TRY_CAST({text} AS INTEGER)"
        elif sql_type in _INTEGER_TYPES or sql_type == "BOOLEAN":
            wide = f"TRY_CAST({ref} AS BIGINT)"
        elif sql_type in _FLOAT_TYPES:
            flags.append(f"({ref} <> floor({ref}))")
            wide = f"TRY_CAST({ref} AS BIGINT)"
        else:
            return None
        if column.default is not None:
            wide = f"COALESCE({wide}, {column.default})"
        if column.codes is not None:
            listed = ", ".join(str(code) for code in sorted(column.codes))
            flags.append(f"({wide} IS NOT NULL AND {wide} NOT IN ({listed}))")
        value = f"CAST({wide} AS SMALLINT)"
        if sql_type == "SMALLINT" and column.default is None:
            value = ref
    if not column.nullable:
        flags.append(f"({value} IS NULL)")
    if value == ref and sql_type == target:
        return value, flags
    return f"CAST({value} AS {target})", flags


@dataclass(frozen=True)
class _FileTable:
    """One table file as DuckDB sees it: the scan expression and the canonical SELECT."""

    name: str
    path: Path
    source: _Source
    scan: str
    select: str
    # Read by Arrow and registered on the opening connection, so visible on no other cursor.
    registered: bool = False
    # The largest value of date columns whose Parquet statistics tell it (see _Stats).
    latest: Mapping[str, dt.date | None] = dataclasses.field(default_factory=dict)


def _csv_scan(path: Path, name: str) -> str:
    header, known = _csv_header(path, name)
    names = [h if h in known else f"__ignored_{i}" for i, h in enumerate(header)]
    columns = ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names)
    return (
        f"read_csv({_literal(str(path))}, header = false, skip = 1, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"', columns = {{{columns}}}, "
        "null_padding = false, strict_mode = true, parallel = false)"
    )


def _describe(raw: Any, scan: str) -> dict[str, str] | None:
    """Column name → DuckDB type of a file; None when DuckDB cannot read it (the Arrow reader
    then reports the problem, worded as it always has been)."""
    import duckdb

    try:
        rows = raw.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()  # noqa: S608
    except duckdb.Error:
        return None
    return {str(row[0]): str(row[1]) for row in rows}


@dataclass(frozen=True)
class _Stats:
    """What a Parquet column's statistics say over all its row groups; None (False) where some
    row group lacks them or they are not numbers or dates."""

    nulls: int | None
    # Every row group has a minimum and none is the empty string (which sorts first).
    no_empty_string: bool
    low: int | None
    high: int | None
    # The largest date, when every row group has an exact maximum or holds nulls only (then
    # ``dated`` is True and ``latest`` None when there is no date at all).
    dated: bool
    latest: dt.date | None


# Per column, each summary only when every row group has what it needs (else NULL / FALSE): null
# count, no empty-string minimum, smallest and largest integer, whether every group has an exact
# latest date (or only nulls), and that date.
_STATS_SUMMARY = """
SELECT path_in_schema,
    CASE WHEN count(*) = count(stats_null_count) THEN sum(stats_null_count) END,
    count(*) = count(stats_min_value) AND bool_and(stats_min_value <> ''),
    CASE WHEN count(*) = count(TRY_CAST(stats_min_value AS BIGINT))
        THEN min(TRY_CAST(stats_min_value AS BIGINT)) END,
    CASE WHEN count(*) = count(TRY_CAST(stats_max_value AS BIGINT))
        THEN max(TRY_CAST(stats_max_value AS BIGINT)) END,
    bool_and(
        (TRY_CAST(stats_max_value AS DATE) IS NOT NULL AND max_is_exact IS NOT FALSE)
        OR stats_null_count = num_values
    ),
    max(TRY_CAST(stats_max_value AS DATE))
        FILTER (TRY_CAST(stats_max_value AS DATE) IS NOT NULL AND max_is_exact IS NOT FALSE)
FROM parquet_metadata(?) GROUP BY path_in_schema
"""


def _parquet_stats(raw: Any, path: Path) -> dict[str, _Stats]:
    """Column name → its statistics, summarised inside DuckDB (a large file has thousands of
    row groups; one Python row each costs a tenth of a second)."""
    import duckdb

    try:
        rows = raw.execute(_STATS_SUMMARY, [str(path)]).fetchall()
    except duckdb.Error:
        return {}  # no statistics: every check is a scan
    return {
        str(column): _Stats(
            nulls=None if nulls is None else int(nulls),
            no_empty_string=bool(no_empty),
            low=None if smallest is None else int(smallest),
            high=None if largest is None else int(largest),
            dated=bool(dated),
            latest=latest,
        )
        for column, nulls, no_empty, smallest, largest, dated, latest in rows
    }


def _proven_by_stats(column: Column, sql_type: str, stats: _Stats | None) -> bool:
    """True when the Parquet statistics alone show that the column's checks all pass.

    Only typed columns qualify (text that must be parsed is always scanned). Statistics are
    exact or conservative bounds, so anything they cannot settle is left to the scan.
    """
    if stats is None:
        return False
    if column.type == STRING:
        if column.nullable:
            return True
        return sql_type == "VARCHAR" and stats.nulls == 0 and stats.no_empty_string
    if column.type == DATE:
        return sql_type == "DATE" and (column.nullable or stats.nulls == 0)
    if sql_type not in _INTEGER_TYPES:
        return False
    if not column.nullable and column.default is None and stats.nulls != 0:
        return False
    if column.codes is None:
        return True
    if stats.low is None or stats.high is None or stats.nulls is None:
        return False
    # Every whole number between the smallest and the largest value must be a valid code.
    low, high = stats.low, stats.high
    return high - low < 1000 and all(v in column.codes for v in range(low, high + 1))


def _file_table(raw: Any, root: Path, name: str) -> _FileTable | None:
    """Locate, describe and check one table file in DuckDB; None when the Arrow path must run."""
    import duckdb

    parquet, text = root / f"{name}.parquet", root / f"{name}.csv"
    if parquet.exists() and text.exists():
        raise TableError(
            f"both {parquet.name} and {text.name} exist; keep one", file=str(root / name)
        )
    if parquet.exists():
        path, csv_file = parquet, False
        scan = f"read_parquet({_literal(str(parquet))})"
        described = _describe(raw, scan)
        if described is None:
            return None
        types = described
    elif text.exists():
        path, csv_file = text, True
        scan = _csv_scan(text, name)
        types = {c.name: "VARCHAR" for c in COLUMNS[name]}
        header = _describe(raw, scan)
        if header is None:
            return None
        types = {k: v for k, v in types.items() if k in header}
    else:
        raise TableError(
            f"missing table: expected {name}.csv or {name}.parquet in {root}",
            file=f"{name}.csv",
        )
    source = _Source(file=path.name, csv=csv_file)
    stats = {} if csv_file else _parquet_stats(raw, path)
    values: list[str] = []
    flags: list[str] = []
    for column in COLUMNS[name]:
        sql_type = types.get(column.name)
        if sql_type is None and column.required:
            raise source.error("required column is missing", column=column.name)
        built = _column_sql(column, sql_type)
        if built is None:
            return None
        values.append(f"{built[0]} AS {_quote(column.name)}")
        if sql_type is not None and _proven_by_stats(column, sql_type, stats.get(column.name)):
            continue
        flags.extend(built[1])
    if flags:
        checks = ", ".join(f"bool_or({flag})" for flag in flags)
        try:
            found = raw.execute(f"SELECT {checks} FROM {scan}").fetchall()[0]  # noqa: S608
        except duckdb.Error:
            # A file DuckDB cannot parse (a ragged CSV row, a damaged Parquet page): the Arrow
            # reader reports it, as it always has.
            return None
        if any(found):
            return None
    select = f"SELECT {', '.join(values)} FROM {scan}"  # noqa: S608
    latest = {
        column.name: stats[column.name].latest if column.name in types else None
        for column in COLUMNS[name]
        if column.type == DATE
        and (
            column.name not in types  # absent: the view's value is NULL
            or (types[column.name] == "DATE" and column.name in stats and stats[column.name].dated)
        )
    }
    return _FileTable(name, path, source, scan, select, latest=latest)


def _arrow_read(path: Path, name: str) -> pa.Table:
    return _read_parquet(path, name) if path.suffix == ".parquet" else _read_csv(path, name)


_KEY_CHECKS = (
    # (table, keys, what): rows of ``table`` must be unique on ``keys``
    ("children", ("child_id",), "child_id"),
    ("episodes", ("child_id", "removal_date"), "episode"),
    ("placements", ("child_id", "removal_date", "start_date"), "placement start"),
)


def _strictly_after(keys: tuple[str, ...], index: int = 0) -> str:
    """SQL: the row's keys come strictly after the previous row's (``prev_<i>``) in key order."""
    key, previous = keys[index], f"prev_{index}"
    if index == len(keys) - 1:
        return f"({key} > {previous})"
    return f"({key} > {previous} OR ({key} = {previous} AND {_strictly_after(keys, index + 1)}))"


def _scalar(raw: Any, query: str) -> Any:
    return raw.execute(query).fetchall()[0][0]


def _on_own_cursor(cursor: Any, work: Callable[[Any], T]) -> T:
    """``work(cursor)``, the cursor closed after."""
    try:
        return work(cursor)
    finally:
        cursor.close()


def _side_by_side(raw: Any, works: list[Callable[[Any], T]]) -> list[T]:
    """Each ``work(cursor)`` at once, on a cursor of its own of the same database; the results in
    order (the first error in that order is raised, as it would be one after another).

    Some checks are single-threaded inside DuckDB (a window over the whole file in file order,
    reading a file's footer); run one after another, they leave a core idle. The cursors are
    made here, by the thread that owns ``raw``; each worker uses only its own.
    """
    cursors = [raw.cursor() for _ in works]
    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return list(pool.map(_on_own_cursor, cursors, works))


def _first_row(query: str) -> Callable[[Any], tuple[Any, ...]]:
    return lambda cursor: tuple(cursor.execute(query).fetchall()[0])


def _cross_checks_fail(
    raw: Any, views: Mapping[str, str], *, references: bool = True, side_by_side: bool = True
) -> bool:
    """True when a cross-row check (uniqueness, overlap, references) finds a problem.

    ``references=False`` leaves out the two reference checks (see :class:`DeferredChecks`);
    ``side_by_side=False`` runs the queries one after another on ``raw`` (for views only that
    connection sees).

    Files written in key order (as Kinfolk's own writers and the simulator write them) are
    checked in one streaming pass each: rows strictly increasing on the key are unique, and a
    child's episodes are then adjacent, so an overlap is a comparison with the previous row.
    Those passes and the two reference checks run side by side. A table out of key order gets
    one more query: a hash aggregate for uniqueness, or for episodes one window per child that
    finds duplicates and overlaps together.
    """
    queries = []
    for table, keys, _ in _KEY_CHECKS:
        lags = ", ".join(f"lag({k}) OVER () AS prev_{i}" for i, k in enumerate(keys))
        extra = ", discharge_date, lag(discharge_date) OVER () AS prev_end"
        overlap = "count_if(child_id = prev_0 AND (prev_end IS NULL OR removal_date < prev_end))"
        is_episodes = table == "episodes"
        # Keys are required values, so every comparison below is TRUE or FALSE.
        queries.append(
            f"SELECT count_if(NOT {_strictly_after(keys)}), "  # noqa: S608
            f"{overlap if is_episodes else '0'} FROM (SELECT "
            f"{', '.join(keys)}{extra if is_episodes else ''}, {lags} FROM {views[table]}) "
            "WHERE prev_0 IS NOT NULL"
        )
    if references:
        queries.append(
            f"SELECT count(*) FROM {views['episodes']} e ANTI JOIN "  # noqa: S608
            f"{views['children']} c ON e.child_id = c.child_id"
        )
        queries.append(
            f"SELECT count(*) FROM {views['placements']} p ANTI JOIN "  # noqa: S608
            f"{views['episodes']} e ON p.child_id = e.child_id AND p.removal_date = e.removal_date"
        )
    if side_by_side:
        rows = _side_by_side(raw, [_first_row(query) for query in queries])
    else:
        rows = [_first_row(query)(raw) for query in queries]
    # Counts (an aggregate over no rows, an empty or one-row table, counts nothing: NULL).
    if any(row[0] for row in rows[len(_KEY_CHECKS) :]):
        return True  # an orphan
    passes = {table: row for (table, _, _), row in zip(_KEY_CHECKS, rows, strict=False)}
    unordered = {table for table, (out_of_order, _) in passes.items() if out_of_order}
    # The streaming overlap count compares neighbouring rows, which only means something when
    # the episodes are in key order (out of order, the window below decides).
    if passes["episodes"][1] and "episodes" not in unordered:
        return True
    for table, keys, _ in _KEY_CHECKS:
        if table not in unordered:
            continue
        key = ", ".join(keys)
        if table == "episodes":
            # Per child in removal order: the same removal date again is a duplicate episode;
            # a removal before the previous discharge (or after an open episode) an overlap.
            failed = _scalar(
                raw,
                "SELECT count(*) > 0 FROM (SELECT removal_date, "  # noqa: S608
                "lag(removal_date) OVER w AS prev_removal, lag(discharge_date) OVER w AS prev_end, "
                f"row_number() OVER w AS k FROM {views['episodes']} "
                "WINDOW w AS (PARTITION BY child_id ORDER BY removal_date)) WHERE k > 1 AND "
                "(removal_date = prev_removal OR prev_end IS NULL OR removal_date < prev_end)",
            )
        else:
            failed = _scalar(
                raw,
                f"SELECT count(*) <> (SELECT count(*) FROM (SELECT DISTINCT {key} FROM "  # noqa: S608
                f"{views[table]})) FROM {views[table]}",
            )
        if failed:
            return True
    return False


class DeferredChecks:
    """The cross-row checks of an opened directory that finish with the caller's first query.

    - **Uniqueness and overlaps** (the key-order passes) start in the background when the
      tables are opened, so they run while the caller builds and compiles its query.
      :meth:`wait` must be called before any query that joins the tables (a duplicated key
      would multiply rows); it raises what :func:`open_tables` would have raised.
    - **References**: every episode's child must be in ``children`` and every placement's
      episode in ``episodes``. Each check is a join of two whole tables; a query that makes
      those joins anyway (the outcomes engine joins the episodes to their children, and the
      episodes to their placements for a data-quality check) counts the orphans as it goes and
      hands the counts to :meth:`verify`, instead of the tables being joined twice.

    Every error names file, row and column, as :func:`open_tables` would.
    """

    def __init__(
        self, raw: Any, files: Mapping[str, _FileTable], root: Path, pending: Future[bool] | None
    ) -> None:
        self._raw = raw
        self._files = dict(files)
        self._root = root
        self._pending = pending
        self.verified = False

    def wait(self) -> None:
        """Wait for the uniqueness and overlap checks; raise :class:`TableError` if one failed."""
        if self._pending is None:
            return
        failed = self._pending.result()  # re-raises what the background checks raised
        self._pending = None
        if failed:
            _fail_exactly(self._raw, self._files, self._root)

    def verify(self, episode_orphans: int, placement_orphans: int) -> None:
        """Raise :class:`TableError` when either count is not zero (after :meth:`wait`)."""
        self.wait()
        if episode_orphans or placement_orphans:
            _fail_exactly(self._raw, self._files, self._root)
        self.verified = True


class OpenedTables(dict[str, Any]):
    """The four tables from :func:`open_tables`, with the checks still to finish
    (``deferred_checks``) when they were deferred, else None.

    ``latest`` holds, per table, the largest value of each date column the Parquet statistics
    tell exactly (None: the column has no date); a column they cannot tell is left out.
    """

    deferred_checks: DeferredChecks | None = None
    latest: Mapping[str, Mapping[str, dt.date | None]] = MappingProxyType({})


def open_tables(
    directory: str | Path, con: Any = None, *, defer_checks: bool = False
) -> OpenedTables:
    """Check a table directory inside DuckDB and return the four tables as Ibis expressions.

    ``con`` is an Ibis DuckDB backend (a new in-memory one by default). The expressions read the
    files each time they are executed, cast to :data:`ARROW_SCHEMAS`; nothing is loaded into
    Python. Errors are those of :func:`read_tables`.

    With ``defer_checks`` the column checks run here and the cross-row checks finish with the
    caller's first query (see :class:`DeferredChecks`): the tables are not known to be valid
    until ``tables.deferred_checks.verify(...)`` has passed, and no query joining them may run
    before ``tables.deferred_checks.wait()``.
    """
    import ibis

    backend = con if con is not None else ibis.duckdb.connect()
    # Each file's footer (its schema and the statistics of thousands of row groups) is read by
    # the checks, the views and every scan of every later query: decoded once, it is kept.
    backend.con.execute("SET parquet_metadata_cache = true")
    files = _open_files(directory, backend)
    out = OpenedTables()
    for name in TABLE_NAMES:
        # A view per table (Ibis then reads its schema from the catalog); the name is unique to
        # this call, so several directories can be open on one connection. Made before the
        # cross-row checks start, which would otherwise slow their binding down.
        view = f"kinfolk_{name}_{next(_VIEW_NUMBERS)}"
        backend.con.execute(f"CREATE VIEW {view} AS {files[name].select}")  # noqa: S608
        out[name] = backend.table(view)
    out.latest = {name: files[name].latest for name in TABLE_NAMES}
    pending = _cross_check(backend.con, files, Path(directory), defer=defer_checks)
    if defer_checks:
        out.deferred_checks = DeferredChecks(backend.con, files, Path(directory), pending)
    return out


def _open_files(directory: str | Path, backend: Any) -> dict[str, _FileTable]:
    """The files of a directory, each checked column by column (see :func:`_cross_check` for
    the checks across rows and tables)."""
    raw = backend.con
    root = Path(directory)
    if not root.is_dir():
        raise TableError(f"{root} is not a directory")
    files: dict[str, _FileTable] = {}
    # Each file's checks on their own cursor, side by side; the first error in table order is
    # raised, as it would be one file after another.
    checked = _side_by_side(
        raw, [functools.partial(_file_table, root=root, name=name) for name in TABLE_NAMES]
    )
    for name, found in zip(TABLE_NAMES, checked, strict=True):
        if found is None:
            # A column check failed (or the file uses a type the SQL path does not handle):
            # the Arrow reader locates and words the error, or reads the file if it is fine.
            table = _arrow_read(_table_path(root, name), name)
            files[name] = _arrow_file_table(backend, name, _table_path(root, name), table)
        else:
            files[name] = found
    return files


def _cross_check(
    raw: Any, files: Mapping[str, _FileTable], root: Path, *, defer: bool
) -> Future[bool] | None:
    """Run the cross-row checks of :func:`_cross_checks_fail` and raise the located error.

    With ``defer``, the key-order checks are left running in the background and their future
    returned (its result says whether they failed; the reference checks are then left out).
    """
    views = {name: f"({files[name].select})" for name in TABLE_NAMES}
    if any(f.registered for f in files.values()):
        # A view registered on this connection only: the checks run here, one after another.
        if _cross_checks_fail(raw, views, references=not defer, side_by_side=False):
            _fail_exactly(raw, files, root)
        return None
    if defer:
        background = ThreadPoolExecutor(max_workers=1)
        key_order = functools.partial(_cross_checks_fail, views=views, references=False)
        pending = background.submit(_on_own_cursor, raw.cursor(), key_order)
        background.shutdown(wait=False)
        return pending
    if _cross_checks_fail(raw, views):
        _fail_exactly(raw, files, root)
    return None


def _fail_exactly(raw: Any, files: Mapping[str, _FileTable], root: Path) -> None:
    """A cross-row check failed: fetch the canonical tables and let the Arrow checks name file,
    line/row and column. Always raises."""
    arrow = {name: raw.sql(files[name].select).to_arrow_table() for name in TABLE_NAMES}
    _check_tables(
        {n: t.cast(ARROW_SCHEMAS[n]) for n, t in arrow.items()},
        {n: files[n].source for n in TABLE_NAMES},
    )
    raise TableError("the tables fail a uniqueness, overlap or reference check", file=str(root))


def _table_path(root: Path, name: str) -> Path:
    parquet = root / f"{name}.parquet"
    return parquet if parquet.exists() else root / f"{name}.csv"


def _arrow_file_table(backend: Any, name: str, path: Path, table: pa.Table) -> _FileTable:
    """A file the SQL path could not take, already read and checked by Arrow, as a DuckDB view."""
    view = f"kinfolk_arrow_{name}_{id(table)}"
    backend.con.register(view, table)
    source = _Source(file=path.name, csv=path.suffix == ".csv")
    return _FileTable(name, path, source, view, f"SELECT * FROM {view}", registered=True)  # noqa: S608
