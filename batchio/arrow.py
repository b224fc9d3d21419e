"""Arrow kernels: batch files as Arrow record batches, and batchio's per-line work on them.

Owns :data:`LINES_SCHEMA`, one row a line of a request or result file (``path``, ``line``,
``offset``, ``raw``: the line's bytes as the file holds them), :func:`read_batches`, which
reads a file into it with batchio's own reader, and functions of record batches with no
I/O of their own, the building blocks an engine runs on many machines (:mod:`batchio.ray`
for Ray Data; Spark's ``mapInArrow`` or Daft take the same functions): :func:`with_ids`.

Batch bodies are heterogeneous (``content`` a string in one line, a list in the next), so
a line travels as its bytes and only the typed top-level fields become columns; an
engine's own text reader would lose what batchio's keeps: exact line numbers and offsets,
gzip and zstd, a line over the cap never read into memory (``raw`` null).
Needs the ``[arrow]`` extra.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from .errors import UsageError
from .jsonl import DEFAULT_MAX_LINE_BYTES, iter_raw_blocks, open_source, source_name
from .providers import Profile, profile_for
from .reconcile import id_reader
from .table import require_pyarrow

if TYPE_CHECKING:
    import pyarrow

#: Rows per record batch :func:`read_batches` gives by default.
DEFAULT_ROWS = 65_536


def lines_schema() -> pyarrow.Schema:
    """The lines schema: ``path`` (string), ``line`` (1-based), ``offset`` (of the line's
    first byte, in the decompressed stream), ``raw`` (binary, with its line ending; null
    for a line over the size cap)."""
    pa = require_pyarrow()
    return pa.schema([pa.field("path", pa.string(), nullable=False),
                      pa.field("line", pa.int64(), nullable=False),
                      pa.field("offset", pa.int64(), nullable=False),
                      pa.field("raw", pa.binary())])


def read_batches(source: str | os.PathLike[str] | BinaryIO, *, rows: int = DEFAULT_ROWS,
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, name: str | None = None
                 ) -> Iterator[pyarrow.RecordBatch]:
    """Every line of a file (plain, gzip or zstd; a path, or a binary file object), blank
    lines too, as record batches of the lines schema of at most ``rows`` rows; ``path`` is
    ``name``, or the path read. A line longer than ``max_line_bytes`` is skipped unread:
    its row has a null ``raw``. Raises :class:`batchio.SourceError` when the file cannot be
    read."""
    if type(rows) is not int or rows < 1:
        raise UsageError(f"rows must be a whole number of at least 1, not {rows!r}")
    pa = require_pyarrow()
    schema = lines_schema()
    name = name if name is not None else source_name(source)
    numbers: list[int] = []
    offsets: list[int] = []
    raws: list[bytes | None] = []

    def batch() -> pyarrow.RecordBatch:
        made = pa.RecordBatch.from_arrays(
            [pa.array([name] * len(numbers), pa.string()), pa.array(numbers, pa.int64()),
             pa.array(offsets, pa.int64()), pa.array(raws, pa.binary())], schema=schema)
        numbers.clear()
        offsets.clear()
        raws.clear()
        return made

    number = offset = 0
    with open_source(source) as stream:
        for block in iter_raw_blocks(stream, max_line_bytes):
            # An oversize line comes as its size: a row with no bytes.
            lines: Any = ([(None, block)] if isinstance(block, int) else
                          ((raw, len(raw)) for raw in block.splitlines(keepends=True)))
            for raw, size in lines:
                number += 1
                numbers.append(number)
                offsets.append(offset)
                raws.append(None if size > max_line_bytes else raw)
                offset += size
                if len(numbers) >= rows:
                    yield batch()
    if numbers or number == 0:
        yield batch()


def with_ids(batch: pyarrow.RecordBatch, *, provider: str | Profile | None = None,
             results: bool = False) -> pyarrow.RecordBatch:
    """``batch`` (the lines schema) with a ``custom_id`` column: each line's id (Gemini's
    ``key``), read as the join reads it, or null where the line is not a JSON object with
    a string id. ``results``: the lines are result lines (their id field)."""
    pa = require_pyarrow()
    profile = profile_for(provider, None)
    read_id = id_reader(profile.result_id_field if results else profile.id_field)
    ids = [None if raw is None else read_id(raw) for raw in batch.column("raw").to_pylist()]
    return batch.append_column(pa.field("custom_id", pa.string()), pa.array(ids, pa.string()))


__all__ = ["DEFAULT_ROWS", "lines_schema", "read_batches", "with_ids"]
