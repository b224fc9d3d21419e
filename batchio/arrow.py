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

import dataclasses
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec

from .bodies import TokenCounter, embedding_inputs
from .errors import Problem, UsageError
from .jsonl import (
    DECODE_FAILURES,
    DEFAULT_MAX_LINE_BYTES,
    iter_raw_blocks,
    open_source,
    source_name,
)
from .providers import Outcome, Profile, profile_for
from .reconcile import JoinedRow, id_reader, joined_values
from .results import COLUMN_NAMES
from .table import arrow_schema, require_pyarrow
from .validation import Report, file_limits, validate

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


def _columns(batch: pyarrow.RecordBatch, *names: str) -> list[list[Any]]:
    """The named columns of a lines-schema batch as lists; a :class:`batchio.UsageError`
    where ``batch`` is not a record batch or lacks one of them, or holds it as another
    type (a ``raw`` of text, say)."""
    pa = require_pyarrow()
    kinds = {"path": (pa.types.is_string, pa.types.is_large_string),
             "line": (pa.types.is_integer,), "offset": (pa.types.is_integer,),
             "raw": (pa.types.is_binary, pa.types.is_large_binary)}
    if not isinstance(batch, (pa.RecordBatch, pa.Table)):
        raise UsageError(f"a record batch of the lines schema is needed, not "
                         f"{type(batch).__name__}")
    columns = []
    for name in names:
        index = batch.schema.get_field_index(name)
        if index < 0:
            raise UsageError(f"the batch has no {name!r} column (it has "
                             f"{', '.join(batch.schema.names) or 'none'}): a batch of the "
                             "lines schema is needed (batchio.arrow.read_batches)")
        kind = batch.schema.field(index).type
        if not any(test(kind) for test in kinds[name]):
            raise UsageError(f"the batch's {name!r} column is {kind}, not the lines "
                             f"schema's {lines_schema().field(name).type}")
        columns.append(batch.column(index).to_pylist())
    return columns


def _set_column(batch: pyarrow.RecordBatch, field: pyarrow.Field, values: pyarrow.Array
                ) -> pyarrow.RecordBatch:
    """``batch`` with the column ``field`` holding ``values``: replaced where the batch has
    one of that name (a kernel run twice gives one column, not two of one name), else
    added."""
    index = batch.schema.get_field_index(field.name)
    if index >= 0:
        return batch.set_column(index, field, values)
    return batch.append_column(field, values)


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
    [raws] = _columns(batch, "raw")
    ids = [None if raw is None else read_id(raw) for raw in raws]
    return _set_column(batch, pa.field("custom_id", pa.string()), pa.array(ids, pa.string()))


#: Findings that need more than one line (a second use of an id, a second url or model,
#: the file's totals, a CRLF reported once a file): :func:`check` leaves them to
#: :class:`FileStats` (and an id to a group-by), which see the whole file.
WHOLE_FILE_CODES = frozenset({"duplicate_custom_id", "url_mismatch", "model_mismatch",
                              "too_many_tasks", "file_too_large", "too_many_embedding_inputs",
                              "empty_file", "crlf_line_ending"})


def problems_type() -> pyarrow.DataType:
    """The ``problems`` column's type: a list of (severity, code, message, param)."""
    pa = require_pyarrow()
    return pa.list_(pa.struct([("severity", pa.string()), ("code", pa.string()),
                               ("message", pa.string()), ("param", pa.string())]))


def check(batch: pyarrow.RecordBatch, *, provider: str | Profile | None = None,
          endpoint: str | None = None, schema: Any = None) -> pyarrow.RecordBatch:
    """``batch`` (the lines schema, request lines) with typed columns and each line's
    problems: ``request`` (the line is a JSON object), ``custom_id``, ``url`` (the
    endpoint, where the provider has it), ``model``, ``n_bytes``, ``embedding_inputs``
    (counted where the provider limits them), ``input_tokens_estimate`` (by the provider's
    :class:`batchio.TokenCounter`), and ``problems`` (list of severity, code, message,
    param).

    A line's problems are those :func:`batchio.validate` finds in it, by the validator
    itself run over the batch's lines; what needs the whole file
    (:data:`WHOLE_FILE_CODES`) is :class:`FileStats`'s. ``endpoint`` fixes the file's
    endpoint, as in :func:`batchio.validate`.
    """
    pa = require_pyarrow()
    profile = profile_for(provider, None)
    [raws] = _columns(batch, "raw")
    found: list[list[dict[str, Any]]] = [[] for _ in raws]
    report = validate([b"\n" if raw is None else raw for raw in raws], provider=profile,
                      endpoint=endpoint, schema=schema, max_errors=None, workers=1)
    for problem in report.errors + report.warnings:
        if problem.code in WHOLE_FILE_CODES or problem.line is None:
            continue
        found[problem.line - 1].append({"severity": problem.severity, "code": problem.code,
                                        "message": problem.message, "param": problem.param})
    columns: dict[str, list[Any]] = {name: [] for name in (
        "request", "custom_id", "url", "model", "n_bytes", "embedding_inputs",
        "input_tokens_estimate")}
    counter = TokenCounter(profile.chars_per_token)
    decode = msgspec.json.Decoder().decode
    for row, raw in enumerate(raws):
        value: Any = None
        if raw is None:
            found[row] = [{"severity": "error", "code": "line_too_large", "param": None,
                           "message": "the line is over the reader's size cap"}]
        else:
            try:
                value = decode(raw)
            except DECODE_FAILURES:  # what the reader itself refuses (problems above)
                value = None
        facts = _line_facts(value, profile, counter)
        for name, fact in zip(columns, (type(value) is dict, *facts[:3],
                                        0 if raw is None else len(raw), *facts[3:]),
                              strict=True):
            columns[name].append(fact)
    types = {"request": pa.bool_(), "custom_id": pa.string(), "url": pa.string(),
             "model": pa.string(),
             "n_bytes": pa.int64(), "embedding_inputs": pa.int64(),
             "input_tokens_estimate": pa.int64()}
    for name, values in columns.items():
        batch = _set_column(batch, pa.field(name, types[name]), pa.array(values, types[name]))
    return _set_column(batch, pa.field("problems", problems_type()),
                               pa.array(found, problems_type()))


def _line_facts(value: Any, profile: Profile, counter: TokenCounter
                ) -> tuple[str | None, str | None, str | None, int, int]:
    """A request line's id, endpoint, model, embedding inputs and input tokens (None and
    0 where it has none)."""
    if type(value) is not dict:
        return None, None, None, 0, 0
    custom_id = value.get(profile.id_field)
    body, _ = profile.body_of(value)
    body = body if isinstance(body, dict) else {}
    url = profile.endpoint_of_line(value)
    # An endpoint only where the provider has it; inputs counted only where the provider
    # limits them (its embeddings endpoint), as the validator counts them.
    url = url if url is not None and profile.schema_for(url) is not None else None
    counts_inputs = (url is not None and url.endswith("/embeddings")
                     and profile.limits.max_embedding_inputs is not None)
    model = body.get("model")
    return (custom_id if type(custom_id) is str else None, url,
            model if type(model) is str else None,
            embedding_inputs(body) if counts_inputs else 0, counter(body))


@dataclasses.dataclass
class FileStats:
    """One file's totals, from :func:`check`'s columns, mergeable: ``a.merge(b)`` is the
    stats of a's lines followed by b's (associative, so batches merge in any grouping,
    in file order), and :meth:`problems` gives the file-level findings."""

    path: str = ""
    lines: int = 0
    requests: int = 0
    bytes: int = 0
    embedding_inputs: int = 0
    input_tokens: int = 0
    #: Each model and url, with how many requests named it, in order of first use.
    models: dict[str, int] = dataclasses.field(default_factory=dict)
    urls: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, checked: pyarrow.RecordBatch) -> FileStats:
        """The stats of a batch :func:`check` made (its lines from one file)."""
        stats = cls(path=(checked.column("path")[0].as_py() if checked.num_rows else ""),
                    lines=checked.num_rows)
        for request, size, url, model, inputs, tokens in zip(
                checked.column("request").to_pylist(), checked.column("n_bytes").to_pylist(),
                checked.column("url").to_pylist(), checked.column("model").to_pylist(),
                checked.column("embedding_inputs").to_pylist(),
                checked.column("input_tokens_estimate").to_pylist(), strict=True):
            stats.bytes += size
            if not request:
                continue
            stats.requests += 1
            stats.embedding_inputs += inputs
            stats.input_tokens += tokens
            if model is not None:
                stats.models[model] = stats.models.get(model, 0) + 1
            if url is not None:
                stats.urls[url] = stats.urls.get(url, 0) + 1
        return stats

    def merge(self, later: FileStats) -> FileStats:
        """The stats of this file part followed by ``later`` (a new object)."""
        merged = FileStats(self.path or later.path, self.lines + later.lines,
                           self.requests + later.requests, self.bytes + later.bytes,
                           self.embedding_inputs + later.embedding_inputs,
                           self.input_tokens + later.input_tokens, dict(self.models),
                           dict(self.urls))
        for model, count in later.models.items():
            merged.models[model] = merged.models.get(model, 0) + count
        for url, count in later.urls.items():
            merged.urls[url] = merged.urls.get(url, 0) + count
        return merged

    def problems(self, provider: str | Profile | None = None) -> list[Problem]:
        """The file's own findings: its totals against the provider's per-file limits (by
        the validator's own test), an empty file, and a second model or url where the
        provider takes one per file (an error, or a warning where that is not known)."""
        profile = profile_for(provider, None)
        report = Report(path=self.path, provider=profile.name, requests=self.requests,
                        bytes=self.bytes, embedding_inputs=self.embedding_inputs)
        found: list[Problem] = []
        for code, values, policy in (("model_mismatch", self.models, profile.mixed_models),
                                     ("url_mismatch", self.urls, profile.mixed_urls)):
            if len(values) > 1 and policy in ("error", "warning"):
                what = "models" if code == "model_mismatch" else "urls"
                found.append(Problem(code=code, path=self.path, severity=policy, message=(
                    f"{len(values)} {what} in one file ({', '.join(list(values)[:3])}); "
                    f"{profile.title} takes one per file"
                    + ("" if policy == "error" else " (not documented either way)"))))
        file_limits(profile, report)
        return found + report.errors + report.warnings


#: The joined table's columns a result line decides on its own (:func:`classify`).
RESULT_COLUMNS = ("custom_id", "status", "http_status", "error_code", "error_message",
                  "retryable", "model", "text", "finish_reason", "finish_reason_raw",
                  "refusal", "input_tokens", "output_tokens", "cached_tokens",
                  "reasoning_tokens", "total_tokens", "embedding")


def classify(batch: pyarrow.RecordBatch, *, provider: str | Profile | None = None
             ) -> pyarrow.RecordBatch:
    """``batch`` (the lines schema, result lines) with the joined table's columns that a
    result line decides on its own (:data:`RESULT_COLUMNS`: status, error, answer text,
    finish reason, tokens, embedding), each read as the join reads it. A line that is not
    a result of the provider's shape is ``failed`` with ``invalid_result_line``; a blank
    line or one over the cap has nulls."""
    pa = require_pyarrow()
    profile = profile_for(provider, None)
    read_id = id_reader(profile.result_id_field)
    decode = msgspec.json.Decoder().decode
    positions = [COLUMN_NAMES.index(name) for name in RESULT_COLUMNS]
    rows: list[tuple[Any, ...]] = []
    for path, line, raw in zip(*_columns(batch, "path", "line", "raw"), strict=True):
        if raw is None or raw.isspace():
            rows.append((None,) * len(positions))
            continue
        try:
            outcome = profile.classify_result(decode(raw))
        except (msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError,
                RecursionError) as exc:
            error = {"code": "invalid_result_line",
                     "message": f"not a result line of {profile.title}: {exc}"[:300]}
            outcome = Outcome(read_id(raw) or "", "failed", None, error,
                              "invalid_result_line", False)
        values = joined_values(JoinedRow(
            outcome.custom_id or None, outcome.status, {}, outcome.response,  # type: ignore[arg-type]
            outcome.error, outcome.error_code, outcome.retryable, "", 0, b"", path, line,
            raw))
        rows.append(tuple(values[position] for position in positions))
    schema = arrow_schema()
    for name, column in zip(RESULT_COLUMNS, zip(*rows, strict=True) if rows else
                            [()] * len(RESULT_COLUMNS), strict=True):
        kind = schema.field(name).type
        batch = _set_column(batch, pa.field(name, kind), pa.array(list(column), kind))
    return batch


__all__ = ["DEFAULT_ROWS", "RESULT_COLUMNS", "WHOLE_FILE_CODES", "FileStats", "check", "classify",
           "lines_schema",
           "problems_type", "read_batches", "with_ids"]
