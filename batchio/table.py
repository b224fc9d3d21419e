"""The joined rows as a table: Arrow record batches, and Parquet, CSV or JSONL files.

Owns the Arrow schema of the joined table (the columns of :data:`batchio.results.COLUMNS`,
flat and typed, ``request`` and ``response`` as JSON text so that heterogeneous bodies
never need an inferred schema), :func:`record_batches` (bounded batches: memory does not
grow with the job) and :func:`write_joined`, which writes a Parquet, CSV or JSONL file
atomically. pyarrow is the optional extra ``[arrow]``; JSONL needs nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import orjson

from .errors import BatchioError, UsageError, import_extra
from .jsonl import AtomicFile, ClosesOnExit, JsonlWriter, write_error
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
#: arenas among the parsed lines freed around them): on 500,000 requests, 269 MB peak at
#: 1,024 rows against 284 MB at 2,048, in the same 25.3 s; on 200,000, 243 MB at 4,096
#: and 377 MB at 16,384 (2026-11-23).
WRITE_BATCH_ROWS = 1_024
#: A batch ends early once its rows' request and result lines reach this size, so that
#: long answers do not make memory grow with the row count.
MAX_BATCH_BYTES = 16 << 20
_REPEATING = ("status", "error_code", "model", "endpoint", "finish_reason",
              "finish_reason_raw", "output_check", "result_file")


def require_pyarrow() -> Any:
    """The pyarrow module, or a :class:`UsageError` naming the extra that installs it."""
    return import_extra("pyarrow", "tables (Arrow, Parquet, CSV) need the optional extra",
                        "'batchio[arrow]'")


def arrow_schema() -> pyarrow.Schema:
    """The joined table's Arrow schema."""
    pa = require_pyarrow()
    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_(),
             "float64": pa.float64(), "list<float64>": pa.list_(pa.float64())}
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
    """A record batch from rows of :func:`joined_values`: the rows read as one struct array
    (Arrow turns rows into columns itself: 5.6 against 10.3 us a row for a transpose in
    Python, 2026-11-23), the JSON columns made from the lines' bytes (Arrow checks their
    UTF-8 itself, faster than decoding each in Python)."""
    pa = require_pyarrow()
    rows = pa.RecordBatch.from_struct_array(pa.array(values, _row_type(schema)))
    columns = [column.cast(pa.string()) if field.name in _RAW_JSON else column
               for field, column in zip(schema, rows.columns, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _row_type(schema: pyarrow.Schema) -> pyarrow.DataType:
    """One row of :func:`joined_values` as an Arrow struct (the JSON columns as bytes)."""
    pa = require_pyarrow()
    return pa.struct([pa.field(field.name, pa.binary()) if field.name in _RAW_JSON else field
                      for field in schema])


_RAW_JSON = frozenset({"request", "response"})


def selected(columns: Iterable[str] | None, available: Sequence[str]) -> list[str] | None:
    """The columns asked for (``columns=``), each one the table has; None for all."""
    if columns is None:
        return None
    chosen = [columns] if isinstance(columns, str) else list(columns)
    unknown = [name for name in chosen if name not in available]
    if unknown or not chosen:
        raise UsageError(f"no column {unknown[0]!r}; the columns are: {', '.join(available)}"
                         if unknown else "columns= names no column",
                         code="invalid_argument")
    twice = next((name for number, name in enumerate(chosen) if name in chosen[:number]),
                 None)
    if twice is not None:
        # A table cannot hold two columns of one name (Parquet would, unreadably).
        raise UsageError(f"column {twice!r} is named twice", code="invalid_argument")
    return chosen


def tabled(batches: Iterable[pyarrow.RecordBatch], schema: pyarrow.Schema, *,
           columns: Iterable[str] | None = None, expand_output: bool = False
           ) -> pyarrow.Table:
    """Record batches as one table: ``columns`` only (each batch cut as it comes, so the
    columns left out never pile up), and with ``expand_output`` the answers' fields as
    typed columns (:func:`expanded`)."""
    pa = require_pyarrow()
    chosen = selected(columns, schema.names)
    if not expand_output:
        if chosen is None:
            return pa.Table.from_batches(list(batches), schema=schema)
        return pa.Table.from_batches([batch.select(chosen) for batch in batches],
                                     schema=pa.schema([schema.field(n) for n in chosen]))
    table = expanded(pa.Table.from_batches(list(batches), schema=schema))
    if chosen is None:
        return table
    extra = [name for name in table.schema.names if name.startswith("output.")]
    return table.select([*chosen, *extra])


#: Arrow types of the JSON Schema types an answer's field can take (others: JSON text).
_JSON_TYPES = {"string": "string", "integer": "int64", "number": "float64",
               "boolean": "bool"}


def expanded(table: pyarrow.Table) -> pyarrow.Table:
    """``table`` with the top-level fields of each structured answer (``output_json``) as
    columns ``output.<field>``, typed from the request's schema: strings, integers,
    numbers and booleans as such, anything else as JSON text; null where an answer lacks
    the field or does not keep its type. One schema per table: answers to several schemas
    are a :class:`UsageError` (expand each job's table apart)."""
    from .outputs import SchemaCache, requested_output
    from .results import request_body

    pa = require_pyarrow()
    answers = table.column("output_json").to_pylist()
    requests = table.column("request").to_pylist()
    schema: Any = None
    keys: set[bytes] = set()
    for answer, request in zip(answers, requests, strict=True):
        if answer is None or request is None:
            continue
        wanted = requested_output(request_body(orjson.loads(request)))
        if wanted is None or not isinstance(wanted.schema, dict):
            continue
        key = SchemaCache.key(wanted.schema)
        if key not in keys:
            keys.add(key)
            schema = wanted.schema
        if len(keys) > 1:
            raise UsageError("the answers keep several schemas: expand_output makes one set "
                             "of columns from one schema (expand each job's rows apart)",
                             code="invalid_argument")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return table
    values = [None if answer is None else orjson.loads(answer) for answer in answers]
    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_()}
    for name, field_schema in properties.items():
        kinds = field_schema.get("type") if isinstance(field_schema, dict) else None
        kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
        simple = [kind for kind in kinds if kind != "null"]
        kind = _JSON_TYPES.get(simple[0]) if len(simple) == 1 else None
        column = [_typed(value.get(name) if isinstance(value, dict) else None, kind)
                  for value in values]
        table = table.append_column(pa.field(f"output.{name}", types[kind or "string"]),
                                    pa.array(column, types[kind or "string"]))
    return table


def _typed(value: Any, kind: str | None) -> Any:
    """A field's value as its column holds it (None where it does not keep the type)."""
    if value is None:
        return None
    if kind is None:
        return orjson.dumps(value).decode()
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if kind == "int64":
        return value if isinstance(value, int) and -(1 << 63) <= value < 1 << 63 else None
    return float(value)


def to_pandas(table: pyarrow.Table) -> Any:
    """An Arrow table as a pandas DataFrame whose integer and boolean columns stay what
    they are where they hold nulls (pandas' nullable ``Int64`` and ``boolean``, not
    float64 and object)."""
    pandas = import_extra("pandas", "to_pandas() needs pandas", "pandas")
    pa = require_pyarrow()
    mapping = {pa.int64(): pandas.Int64Dtype(), pa.bool_(): pandas.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get)


#: The columns holding whole JSON lines: out of a CSV unless asked for.
RAW_JSON_COLUMNS = ("request", "response")


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


def joined_line(row: JoinedRow, columns: Sequence[str] | None = None) -> bytes:
    """One joined row as a JSONL line: the table's columns (or only ``columns``, in that
    order), with ``request`` and ``response`` as the exact JSON of the input and result
    lines (not strings)."""
    values = list(joined_values(row, raw_json=True))
    values[-2] = msgspec.Raw(values[-2])
    values[-1] = None if values[-1] is None else msgspec.Raw(values[-1])
    if columns is None:
        return _encode_line(_JoinedLine(*values)) + b"\n"
    named = dict(zip(COLUMN_NAMES, values, strict=True))
    return _encode_line({name: named[name] for name in columns}) + b"\n"


def only_columns(line: bytes, columns: Sequence[str]) -> bytes:
    """A joined line with only ``columns``, in that order, each value's JSON exactly as it
    was (``request`` and ``response`` are the lines' own bytes: a 30-digit integer or a
    ``1.00`` in them stays as written)."""
    value = _decode_fields(line)
    return _encode_line({name: value[name] for name in columns}) + b"\n"


_decode_fields = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode


def write_joined(rows: Iterable[JoinedRow], target: str | os.PathLike[str],
                 to: TableFormat | None = None, *, on_row: Any = None) -> int:
    """Write the rows to ``target`` as Parquet, CSV or JSONL (by ``to`` or the extension),
    atomically; returns the rows written. ``on_row`` is called with each row (for a retry
    file written alongside)."""
    name = os.fspath(target)
    with JoinedSink(name, table_format(name, to)) as sink:
        sink.add_rows(rows, on_row)
    return sink.rows


class JoinedSink(ClosesOnExit):
    """A Parquet, CSV or JSONL file of joined rows that appears whole or not at all (a
    context manager: leaving the block by an exception leaves the target as it was).

    It takes rows, or what a process that joined part of the inputs made of its rows:
    record batches (Parquet, CSV) or joined lines (JSONL). ``schema`` is the joined table's
    unless given (a table with more columns, written by batches or lines); ``columns``
    keeps only those, in that order. CSV leaves ``request`` and ``response`` (the lines'
    whole JSON) out unless ``columns`` names them.
    """

    def __init__(self, target: str, kind: TableFormat,
                 schema: pyarrow.Schema | None = None,
                 columns: Sequence[str] | None = None) -> None:
        self.name = target
        self.kind = kind
        #: Rows written so far.
        self.rows = 0
        self._lines: JsonlWriter | None = None
        self._output: AtomicFile | None = None
        self._writer: Any = None
        #: The columns written, in order (None: all of the schema's).
        self.columns = None if columns is None else list(columns)
        if kind == "jsonl":
            self._lines = JsonlWriter(target)
            return
        require_pyarrow()
        import pyarrow.csv
        import pyarrow.parquet

        schema = arrow_schema() if schema is None else schema
        if kind == "csv" and self.columns is None:
            # A spreadsheet of whole request and response JSON is one nobody reads: CSV
            # holds them only where the columns name them.
            self.columns = [name for name in schema.names if name not in RAW_JSON_COLUMNS]
        if self.columns is not None:
            schema = pyarrow.schema([schema.field(name) for name in self.columns])
        self._output = AtomicFile(target)
        try:
            with self._writing():
                if kind == "parquet":
                    # Dictionary pages only for the columns that repeat: dictionary-encoding
                    # the JSON and text columns, nearly all distinct, costs time and memory
                    # for nothing.
                    self._writer = pyarrow.parquet.ParquetWriter(
                        self._output.file, schema, use_dictionary=list(_REPEATING),
                        compression="zstd")
                else:
                    self._writer = pyarrow.csv.CSVWriter(self._output.file,
                                                         _csv_schema(schema))
        except BaseException:
            self._output.discard()
            raise

    def add_rows(self, rows: Iterable[JoinedRow], on_row: Any = None) -> None:
        """Write the rows in order; ``on_row`` is called with each."""
        if self._lines is not None:
            write, columns = self._lines.write_raw, self.columns
            for row in watched(rows, on_row):
                write(joined_line(row, columns))
                self.rows += 1
            return
        for batch in record_batches(watched(rows, on_row), WRITE_BATCH_ROWS):
            self.add_batch(batch)

    def add_batch(self, batch: pyarrow.RecordBatch) -> None:
        """Write one record batch of the joined table (Parquet, CSV). (In this thread: a
        writing thread of its own was slower, 15.0 to 16.9 s against 13.6 to 14.0 s for a
        200,000-request join, the two threads taking turns at the interpreter's lock.)"""
        if self.columns is not None:
            batch = batch.select(self.columns)
        with self._writing():
            self._writer.write_batch(batch if self.kind == "parquet" else _for_csv(batch))
        self.rows += batch.num_rows

    def add_lines(self, lines: bytes, count: int) -> None:
        """Write ``count`` joined lines, as :func:`joined_line` makes them (JSONL)."""
        assert self._lines is not None
        if lines:
            self._lines.write_raw(lines if self.columns is None else b"".join(
                only_columns(line, self.columns) for line in lines.splitlines()))
        self.rows += count

    def copy_lines(self, source: int, start: int, length: int) -> int:
        """Write ``length`` bytes of joined lines held in the open file ``source`` from
        ``start``, made with this sink's columns (:func:`joined_line`), as they are (JSONL);
        the bytes copied. The rows are counted by :meth:`add_lines` ``(b"", count)``."""
        assert self._lines is not None
        return self._lines.copy_from(source, start, length)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()
            return
        assert self._output is not None
        try:
            with self._writing():
                self._writer.close()
                self._output.commit()
        except BaseException:
            self._output.discard()
            raise

    def abort(self) -> None:
        if self._lines is not None:
            self._lines.abort()
            return
        assert self._output is not None
        with contextlib.suppress(Exception):
            self._writer.close()
        self._output.discard()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """An OSError of the writer is the target's ``unwritable_file`` (a SourceError of a
        read, an input's, passes as it is)."""
        try:
            yield
        except OSError as exc:
            if isinstance(exc, BatchioError):
                raise
            raise write_error(self.name, exc) from exc


def watched(rows: Iterable[JoinedRow], on_row: Callable[[JoinedRow], Any] | None
            ) -> Iterable[JoinedRow]:
    """The rows, ``on_row`` called with each as it passes (a retry file written alongside);
    the rows themselves where there is none to call."""
    return rows if on_row is None else _calling(rows, on_row)


def _calling(rows: Iterable[JoinedRow], on_row: Callable[[JoinedRow], Any]
             ) -> Iterator[JoinedRow]:
    for row in rows:
        on_row(row)
        yield row


def _csv_schema(schema: pyarrow.Schema) -> pyarrow.Schema:
    """CSV holds no lists: the embedding goes as JSON text."""
    pa = require_pyarrow()
    return pa.schema([pa.field(field.name, pa.string()) if field.name == "embedding"
                      else field for field in schema])


def _for_csv(batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
    pa = require_pyarrow()
    index = batch.schema.get_field_index("embedding")
    if index < 0:
        return batch
    texts = [None if vector is None else orjson.dumps(vector).decode()
             for vector in batch.column(index).to_pylist()]
    return batch.set_column(index, "embedding", pa.array(texts, pa.string()))


__all__ = ["DEFAULT_BATCH_ROWS", "RAW_JSON_COLUMNS", "TABLE_FORMATS", "JoinedSink",
           "TableFormat", "arrow_schema", "joined_line", "record_batches", "require_pyarrow",
           "table_format", "write_joined"]
