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

from .errors import UsageError
from .jsonl import AtomicFile, JsonlWriter, write_error
from .reconcile import JoinedRow, joined_columns
from .results import COLUMN_NAMES, COLUMNS

if TYPE_CHECKING:
    import pyarrow

TableFormat = Literal["parquet", "csv", "jsonl"]
TABLE_FORMATS: tuple[TableFormat, ...] = ("parquet", "csv", "jsonl")

#: Rows per record batch: a few tens of MB of typical chat rows.
DEFAULT_BATCH_ROWS = 65_536


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
    pa = require_pyarrow()
    schema = arrow_schema()
    columns: dict[str, list[Any]] = {name: [] for name in COLUMN_NAMES}
    appends = [(name, columns[name].append) for name in COLUMN_NAMES]
    count = 0
    for row in rows:
        values = joined_columns(row)
        for name, append in appends:
            append(values[name])
        count += 1
        if count == rows_per_batch:
            yield pa.RecordBatch.from_pydict(columns, schema=schema)
            for column in columns.values():
                column.clear()
            count = 0
    if count:
        yield pa.RecordBatch.from_pydict(columns, schema=schema)


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


def joined_line(row: JoinedRow) -> bytes:
    """One joined row as a JSONL line: the table's columns, with ``request`` and
    ``response`` as the exact JSON of the input and result lines (not strings)."""
    values = joined_columns(row)
    values["request"] = msgspec.Raw(row.request_raw.rstrip(b"\r\n"))
    values["response"] = (None if row.result_raw is None
                          else msgspec.Raw(row.result_raw.rstrip(b"\r\n")))
    return msgspec.json.encode(values) + b"\n"


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
            writer: Any = pyarrow.parquet.ParquetWriter(output.file, schema)
        else:
            writer = pyarrow.csv.CSVWriter(output.file, _csv_schema(schema))
        try:
            for batch in record_batches(watched()):
                writer.write_batch(batch if kind == "parquet" else _for_csv(batch))
                count += batch.num_rows
        finally:
            writer.close()
        output.commit()
    except OSError as exc:
        output.discard()
        raise write_error(name, exc) from exc
    except BaseException:
        output.discard()
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
