"""The joined rows as a table: Arrow record batches, and Parquet, CSV or JSONL files.

Owns the Arrow schema of the joined table (the columns of :data:`batchio.results.COLUMNS`,
flat and typed, ``request`` and ``response`` as JSON text so that heterogeneous bodies
never need an inferred schema), :func:`record_batches` (bounded batches: memory does not
grow with the job) and :func:`write_joined`, which writes a Parquet, CSV or JSONL file
atomically. pyarrow is the optional extra ``[arrow]``; JSONL needs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import orjson

from .errors import BatchioError, UsageError
from .jsonl import AtomicFile, JsonlWriter, write_error
from .reconcile import JoinedRow, joined_values
from .results import COLUMN_NAMES, COLUMNS

if TYPE_CHECKING:
    import pyarrow

TableFormat = Literal["parquet", "csv", "jsonl"]
TABLE_FORMATS: tuple[TableFormat, ...] = ("parquet", "csv", "jsonl")

#: Rows per record batch handed out: a few tens of MB of typical chat rows.
DEFAULT_BATCH_ROWS = 65_536
#: Rows per batch (and Parquet row group) written to a file. Memory grows with it, by
#: about 11 KB a row of chat results (the values kept scatter Python's small-object
#: arenas among the parsed lines freed around them): 228 MB peak at 2,048 rows, 243 MB at
#: 4,096, 377 MB at 16,384, for the same speed (2026-11-23, 200,000 rows).
WRITE_BATCH_ROWS = 2_048
#: A batch ends early once its rows' request and result lines reach this size, so that
#: long answers do not make memory grow with the row count.
MAX_BATCH_BYTES = 16 << 20
_REPEATING = ("status", "error_code", "model", "endpoint", "finish_reason",
              "finish_reason_raw", "output_check", "result_file")


def require_pyarrow() -> Any:
    """The pyarrow module, or a :class:`UsageError` naming the extra that installs it."""
    try:
        import pyarrow
    except ImportError:
        raise UsageError("tables (Arrow, Parquet, CSV) need the optional extra: pip install "
                         "'batchio[arrow]'", code="missing_extra") from None
    return pyarrow


def arrow_schema() -> pyarrow.Schema:
    """The joined table's Arrow schema."""
    pa = require_pyarrow()
    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_(),
             "list<float64>": pa.list_(pa.float64())}
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


def record_batches(rows: Iterable[JoinedRow], rows_per_batch: int = DEFAULT_BATCH_ROWS
                   ) -> Iterator[pyarrow.RecordBatch]:
    """The rows as Arrow record batches of at most ``rows_per_batch`` rows, in order."""
    if type(rows_per_batch) is not int or rows_per_batch < 1:
        raise UsageError(f"rows per batch must be a whole number of at least 1, not "
                         f"{rows_per_batch!r}")
    require_pyarrow()
    schema = arrow_schema()
    iterator = iter(rows)
    while True:
        pending, ended = _assemble(iterator, rows_per_batch)
        if pending:
            yield _batch(pending, schema)
        if ended:
            return


def _assemble(rows: Iterator[JoinedRow], rows_per_batch: int
              ) -> tuple[list[tuple[Any, ...]], bool]:
    """Up to ``rows_per_batch`` rows' values, fewer once they hold
    :data:`MAX_BATCH_BYTES` of JSON and text; and whether the rows ran out."""
    pending: list[tuple[Any, ...]] = []
    size = 0
    for row in rows:
        values = joined_values(row, raw_json=True)
        pending.append(values)
        size += len(row.request_raw) + len(row.result_raw or b"")
        if len(pending) >= rows_per_batch or size >= MAX_BATCH_BYTES:
            return pending, False
    return pending, True


def _batch(values: list[tuple[Any, ...]], schema: pyarrow.Schema) -> pyarrow.RecordBatch:
    """A record batch from rows of :func:`joined_values`: transposed in one step, the JSON
    columns made from the lines' bytes (Arrow checks their UTF-8 itself, faster than
    decoding each in Python)."""
    pa = require_pyarrow()
    columns = list(zip(*values, strict=True))
    arrays = []
    for field, column in zip(schema, columns, strict=True):
        if field.name in _RAW_JSON:
            arrays.append(pa.array(column, pa.binary()).cast(pa.string()))
        else:
            arrays.append(pa.array(column, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


_RAW_JSON = frozenset({"request", "response"})


def to_arrow(rows: Iterable[JoinedRow], rows_per_batch: int = DEFAULT_BATCH_ROWS
             ) -> pyarrow.Table:
    """The rows as one Arrow table (built from bounded record batches)."""
    pa = require_pyarrow()
    return pa.Table.from_batches(list(record_batches(rows, rows_per_batch)),
                                 schema=arrow_schema())


def table_format(path: str, to: str | None = None) -> TableFormat:
    """The format a joined-rows target is written in: ``to`` if given, else its extension
    (``.parquet``, ``.csv``, anything else JSONL)."""
    if to is not None:
        if to not in TABLE_FORMATS:
            raise UsageError(f"--to must be one of {', '.join(TABLE_FORMATS)}, not {to!r}")
        return to
    lowered = path.lower()
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    if lowered.endswith(".csv"):
        return "csv"
    return "jsonl"


# A joined line's fields in column order: encoding a struct made from the row's values
# costs 11.4 us a row against 15.3 us for the same line from a dict (2026-11-23).
_JoinedLine = msgspec.defstruct("_JoinedLine", [(name, Any) for name in COLUMN_NAMES])
_encode_line = msgspec.json.Encoder().encode


def joined_line(row: JoinedRow) -> bytes:
    """One joined row as a JSONL line: the table's columns, with ``request`` and
    ``response`` as the exact JSON of the input and result lines (not strings)."""
    values = list(joined_values(row, raw_json=True))
    values[-2] = msgspec.Raw(values[-2])
    values[-1] = None if values[-1] is None else msgspec.Raw(values[-1])
    return _encode_line(_JoinedLine(*values)) + b"\n"


def write_joined(rows: Iterable[JoinedRow], target: str | os.PathLike[str],
                 to: TableFormat | None = None, *, on_row: Any = None) -> int:
    """Write the rows to ``target`` as Parquet, CSV or JSONL (by ``to`` or the extension),
    atomically; returns the rows written. ``on_row`` is called with each row (for a retry
    file written alongside)."""
    name = os.fspath(target)
    kind = table_format(name, to)
    if kind == "jsonl":
        count = 0
        with JsonlWriter(name) as writer:
            for row in rows:
                writer.write_raw(joined_line(row))
                if on_row is not None:
                    on_row(row)
                count += 1
        return count
    require_pyarrow()
    return _write_arrow(rows, name, kind, on_row)


def _write_arrow(rows: Iterable[JoinedRow], name: str, kind: TableFormat, on_row: Any
                 ) -> int:
    import pyarrow.csv
    import pyarrow.parquet

    def watched() -> Iterator[JoinedRow]:
        for row in rows:
            if on_row is not None:
                on_row(row)
            yield row

    schema = arrow_schema()
    output = AtomicFile(name)
    count = 0
    try:
        if kind == "parquet":
            # Dictionary pages only for the columns that repeat: dictionary-encoding the
            # JSON and text columns, nearly all distinct, costs time and memory for nothing.
            writer: Any = pyarrow.parquet.ParquetWriter(
                output.file, schema, use_dictionary=list(_REPEATING), compression="zstd")
        else:
            writer = pyarrow.csv.CSVWriter(output.file, _csv_schema(schema))
        try:
            for batch in record_batches(watched(), WRITE_BATCH_ROWS):
                writer.write_batch(batch if kind == "parquet" else _for_csv(batch))
                count += batch.num_rows
        finally:
            writer.close()
        output.commit()
    except BaseException as exc:
        output.discard()
        # A failure to read an input (a SourceError) is the input's, not the target's.
        if isinstance(exc, OSError) and not isinstance(exc, BatchioError):
            raise write_error(name, exc) from exc
        raise
    return count


def _csv_schema(schema: pyarrow.Schema) -> pyarrow.Schema:
    """CSV holds no lists: the embedding goes as JSON text."""
    pa = require_pyarrow()
    return pa.schema([pa.field(field.name, pa.string()) if field.name == "embedding"
                      else field for field in schema])


def _for_csv(batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
    pa = require_pyarrow()
    index = batch.schema.get_field_index("embedding")
    texts = [None if vector is None else orjson.dumps(vector).decode()
             for vector in batch.column(index).to_pylist()]
    return batch.set_column(index, "embedding", pa.array(texts, pa.string()))


__all__ = ["DEFAULT_BATCH_ROWS", "TABLE_FORMATS", "TableFormat", "arrow_schema",
           "joined_line", "record_batches", "require_pyarrow", "table_format", "to_arrow",
           "write_joined"]
