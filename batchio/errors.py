"""batchio's error tree, the problem record, and the table of stable error codes.

Checking code (the reader in collect mode, the validator, the join) reports problems as
:class:`Problem` values; code that acts (a strict reader, a writer, a builder) raises a
:class:`BatchioError` carrying the same fields. Every code batchio emits is listed in
:data:`CODES`, which is also the source of the table in the docs.

The tree (each error also subclasses the builtin a caller would catch)::

    BatchioError(Exception)          every error batchio raises: code, line, custom_id, path
    ├── SourceError(OSError)         a file cannot be opened, read, decompressed or written
    ├── UsageError(ValueError)       a bad argument: unknown provider or endpoint, bad limits
    ├── LineError(ValueError)        a bad line: not JSON, not an object, a bad request
    ├── DuplicateIdError(ValueError) a custom_id used twice (the message names both places)
    ├── LimitError(ValueError)       a request too large for any file on its own
    ├── JoinError(ValueError)        results cannot be joined back to their inputs
    └── BatchObjectError(ValueError) a Batch object with a wrong field

    BatchioWarning(UserWarning)      what batchio went on with but a user should know

An error raised because of another keeps it as ``__cause__``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: Every stable code batchio emits, with what it means. Where the provider's server has its
#: own code for a problem, batchio uses that code (``invalid_json_line``, ``duplicate_custom_id``,
#: ``url_mismatch``, ``model_mismatch``, ``empty_file``, ``too_many_tasks``).
CODES: dict[str, str] = {
    # Reading lines.
    "invalid_json_line": "The line is not parseable as JSON.",
    "not_an_object": "The line is valid JSON but not a JSON object.",
    "invalid_utf8": "The line is not valid UTF-8 (or holds a lone surrogate escape).",
    "utf8_bom": "The file starts with a UTF-8 byte-order mark, which batch APIs reject.",
    "blank_line": "An empty or whitespace-only line.",
    "crlf_line_ending": "Warning: lines end with CRLF; JSON parsers accept it, LF is canonical.",
    "non_finite_number": "NaN or Infinity, which JSON does not allow.",
    "integer_out_of_range": "An integer beyond 64 bits in a request being written, or of more "
                            "than 4,300 digits (too long to read exactly).",
    "line_too_large": "A single line is larger than the per-line size cap.",
    "nesting_too_deep": "JSON nested deeper than the parser's limit (1024).",
    "unreadable_file": "The file cannot be opened, read or decompressed.",
    "unwritable_file": "A file cannot be written: read-only, disk full, too large, no permission.",
    "invalid_argument": "An argument is out of range or names something batchio does not know.",
    "usage_error": "The command line is not one the command takes: an unknown option or "
                   "command, a missing argument, options that exclude each other.",
    "deprecated_option": "Warning: an option spelt as an earlier release spelt it; it still "
                         "works, under its new name.",
    "over_limit": "Warning: a limit asked for is over the provider's own (the provider's "
                  "applies).",
    "wrong_file_kind": "A file is not the kind the command reads there (a request file given "
                       "as results, a result file as a Batch object); inspect names it.",
    "same_file": "Two paths of one command name the same file (an output over an input, or "
                 "two outputs to stdout).",
    "target_exists": "The output folder already holds shards or a manifest, or the result "
                     "files simulate would write (see --overwrite).",
    "target_locked": "Another batchio run is writing shards to the same folder.",
    "incomplete_manifest": "The manifest's split did not finish (complete: false): its shards "
                           "do not hold every request.",
    "changed_shard": "Warning: a shard's size differs from its manifest's (changed since "
                     "split).",
    "missing_extra": "A compressed file needs an optional extra that is not installed.",
    "unknown_provider": "The provider name is not one batchio knows.",
    "provider_assumed": "Warning: input read once (stdin, a pipe) gives no line to detect its "
                        "provider by: openai is assumed unless one is given.",
    # The request envelope.
    "missing_custom_id": "The request line has no custom_id.",
    "invalid_custom_id": "custom_id is not a non-empty string.",
    "custom_id_too_long": "custom_id is longer than the provider allows.",
    "custom_id_charset": "custom_id has characters the provider does not allow.",
    "duplicate_custom_id": "custom_id was already used by an earlier line of the file.",
    "invalid_method": "method is not POST.",
    "missing_url": "The request line has no url.",
    "unsupported_url": "url is not an endpoint the provider's batch API accepts.",
    "url_mismatch": "url differs from the url of the file's first request.",
    "missing_body": "The request line has no body (or params/request for other providers).",
    "body_not_object": "The request body is not a JSON object.",
    "missing_model": "The request body names no model.",
    "model_mismatch": "body.model differs from the model of the file's first request.",
    "strict_schema_violation": "A structured output's schema breaks the provider's strict-mode "
                               "rules (every property required, additionalProperties false).",
    "unsupported_schema_keyword": "A structured output's schema uses a keyword the provider "
                                  "refuses (an error) or ignores (a warning).",
    "schema_too_large": "A structured output's schema passes one of the provider's size "
                        "limits (properties, nesting, enum values, characters).",
    "foreign_model": "Warning: the model is one only another provider serves (by the price "
                     "table's lists).",
    "unknown_field": "Warning: a top-level field the provider's request line does not define.",
    "duplicate_key": "Warning: a key appears twice in one object; readers may keep either.",
    "mixed_shapes": "The line has another provider's shape than the file's first request.",
    "provider_ambiguous": "Warning: the file's shape fits several providers; it meets the "
                          "rules of the one it was checked by, not those of another.",
    "unsupported_parameter": "A parameter of a sibling endpoint, which the service rejects.",
    "invalid_body": "The request body breaks its endpoint's schema (param says where).",
    "stream_not_supported": "The request body sets stream to true, which batches do not allow.",
    "custom_schema": "The request body breaks the user's own schema given with --schema.",
    "invalid_json_schema": "The JSON Schema a request gives its answer (structured output, a "
                           "forced tool) is not a usable schema; the service refuses it.",
    # Whole-file limits.
    "empty_file": "The file holds no requests (or no rows, or no Batch object).",
    "nothing_converted": "convert could convert none of the file's requests (each is said "
                         "with its cause): no file was written.",
    "too_many_tasks": "The file holds more requests than the provider allows per file.",
    "malformed_row": "A row of a CSV or TSV file holds more fields than its header names (a "
                     "delimiter inside a field that is not quoted?).",
    "unsupported_row_file": "build was given rows in a format it does not read (it reads "
                            "CSV, TSV, JSONL and Parquet).",
    "ids_remapped": "Warning: ids the provider refuses were replaced by ones it takes; the "
                    "mapping file beside the output gives each back.",
    "too_few_requests": "Warning: the file holds fewer requests than the provider's minimum "
                        "per job (Bedrock: 100 records by default).",
    "ambiguous_match": "Warning: a request without an id repeats another exactly; their "
                       "results, matched by the request they repeat, cannot be told apart "
                       "(the join gives them in file order).",
    "model_family_unknown": "Warning: neither the job's model nor the body's shape names a "
                            "model family: only its being an object is checked.",
    "file_too_large": "The file is larger than the provider allows per file (or, for "
                      "Batch objects and polling logs, than batchio reads: 256 MiB).",
    "too_many_embedding_inputs": "Embedding inputs summed over the file exceed the limit.",
    # Joining results.
    "orphan_result": "A result line whose custom_id is not among the inputs.",
    "results_do_not_match": "No result line answers any input, or a result file has no "
                            "line that can be read as the provider's: the results (or the "
                            "inputs) are another job's or another provider's; nothing is "
                            "written.",
    "most_results_orphans": "Warning: most result lines answer none of the inputs.",
    "other_model": "Warning: most answers compared come from another model than their "
                   "requests asked for: another job's results under the same ids?",
    "unusable_usage": "Warning: result lines report a token count that cannot be used (below "
                      "0, past 64 bits, not a number): the usage and cost are short by it.",
    "duplicate_result": "A custom_id that got more than one result line.",
    "join_not_read": "A join's summary was asked for before its rows were read (or read twice).",
    "invalid_result_line": "A result line without the fields its provider's result shape needs.",
    "worker_failed": "A process joining part of the inputs ended without its results.",
    "misfiled_results": "A shard's result file holds another shard's answers (a join shard "
                        "by shard would count them missing).",
    # Building and converting.
    "limit_exceeded": "A single request is larger than a per-file limit on its own.",
    "unconvertible_request": "A request uses a feature the target provider lacks.",
    "fault_not_applied": "Warning: simulate drew a fault (refusal, invalid JSON, schema "
                         "violation) for answers it cannot apply to; they answer as asked.",
    # The Batch object.
    "invalid_batch": "A Batch object field has the wrong type or value.",
    "illegal_transition": "Two polled Batch objects are not a legal step of the lifecycle.",
    "inconsistent_batch": "The Batch object contradicts itself or the files.",
    "changed_file": "A file recorded in a campaign ledger changed since (its size or sha256 "
                    "differs, or a request line is not where it was recorded).",
    "ledger_busy": "Another command held the campaign ledger for longer than the wait.",
    "already_answered": "Warning: a request answered in one round was asked again in a later "
                        "one (paid twice).",
    "changed_request": "Warning: another body under the same custom_id (in a later round, or "
                       "in a result that repeats its request).",
    "awaiting_results": "Warning: a round's requests have no results recorded yet; they may "
                        "still be answered.",
}


def escape(text: str) -> str:
    """``text`` with every control character escaped (newlines included), safe to print as
    one line: nothing read from a file can forge a line or reach a terminal raw."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else
                   char.encode("unicode_escape").decode("ascii") for char in text)


def quote(value: object, limit: int = 80) -> str:
    """A value from a user's file, fit to print: at most about ``limit`` characters of it,
    its full size when cut, and every control character escaped, so no value can forge an
    output line or send a terminal an escape sequence."""
    if isinstance(value, str):
        text, size = value, f"{len(value):,} characters"
        shown = escape(repr(text[:limit]))
        if len(shown) > limit + 2:
            shown = shown[:limit + 1] + shown[0]
        cut = len(text) > limit or len(shown) < len(escape(repr(text[:limit])))
        if cut:
            shown = shown[:-1] + "…" + shown[-1]
    else:
        text = _json_text(value)
        size = f"{len(text):,} characters of JSON"
        shown = escape(text[:limit])[:limit]
        cut = len(text) > limit or len(shown) < len(text)
        if cut:
            shown += "…"
    return f"{shown} ({size})" if cut else shown


def _json_text(value: object) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while checking: where it is, its stable code, and a message.

    ``line`` is 1-based (None for whole-file problems); ``param`` is the JSON path of the
    offending value (``body.messages[2].role``), the shape of the server's ``errors.data``.
    """

    code: str
    message: str
    line: int | None = None
    param: str | None = None
    custom_id: str | None = None
    path: str | None = None
    column: int | None = None
    severity: Severity = "error"
    #: Where the line is in the (decompressed) stream: its first byte and its length.
    offset: int | None = None
    length: int | None = None
    #: How many consecutive lines the problem stands for (a run of blank lines is one).
    lines: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The server's ``errors.data`` entry shape: line, code, message, param, custom_id."""
        return {
            "line": self.line,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "custom_id": self.custom_id,
        }

    def describe(self) -> str:
        """``PATH:LINE: CODE: message (custom_id=...)``, like a compiler."""
        place = ":".join(str(part) for part in (self.path, self.line) if part is not None)
        text = f"{self.code}: {self.message}"
        if self.param:
            text += f" [{self.param}]"
        if self.custom_id is not None:
            text += f" (custom_id={self.custom_id})"
        return escape(f"{place}: {text}" if place else text)

    def error(self) -> BatchioError:
        """The exception a strict caller raises for this problem."""
        return LineError(
            self.message,
            code=self.code,
            line=self.line,
            custom_id=self.custom_id,
            path=self.path,
            column=self.column,
            param=self.param,
        )


class BatchioError(Exception):
    """Base class of every error batchio raises; carries ``code``, ``line`` and ``custom_id``.

    Each subclass also subclasses the builtin it specialises: :class:`SourceError` is an
    ``OSError``, the others are ``ValueError``s.
    """

    default_code = "batchio_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        line: int | None = None,
        custom_id: str | None = None,
        path: str | None = None,
        column: int | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.line = line
        self.custom_id = custom_id
        self.path = path
        self.column = column
        self.param = param

    def problem(self) -> Problem:
        return Problem(
            code=self.code,
            message=self.message,
            line=self.line,
            param=self.param,
            custom_id=self.custom_id,
            path=self.path,
            column=self.column,
        )

    def __str__(self) -> str:
        return self.problem().describe()


class LineError(BatchioError, ValueError):
    """A line of a batch file is bad: not JSON, not an object, too large, a bad request."""

    default_code = "invalid_json_line"


class SourceError(BatchioError, OSError):
    """A file or stream cannot be opened, read, decompressed or written (an ``OSError``).

    ``errno`` and ``strerror`` are those of the OSError that caused it, when one did.
    """

    default_code = "unreadable_file"

    def __init__(self, message: str, *, errno: int | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.errno = errno
        self.strerror = None if errno is None else os.strerror(errno)
        self.filename = fields.get("path")


class UsageError(BatchioError, ValueError):
    """An argument batchio cannot work with: an unknown provider or endpoint, bad limits."""

    default_code = "invalid_argument"


class DuplicateIdError(BatchioError, ValueError):
    """A custom_id was used twice; the message names both places."""

    default_code = "duplicate_custom_id"


class LimitError(BatchioError, ValueError):
    """A request cannot fit within a provider's per-file limit even on its own."""

    default_code = "limit_exceeded"


class JoinError(BatchioError, ValueError):
    """Results cannot be joined back to inputs (strict mode, or ambiguous inputs)."""

    default_code = "duplicate_result"


class BatchObjectError(BatchioError, ValueError):
    """A Batch object has a field of the wrong type or an unknown value."""

    default_code = "invalid_batch"


class BatchioWarning(UserWarning):
    """Something batchio went on with that a user should know (``warnings.warn``); the
    command line prints it as ``batchio: warning: ...``. ``code`` is one of :data:`CODES`."""

    def __init__(self, message: str, *, code: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.code}: {self.args[0]}"


def import_extra(module: str, needs: str, install: str) -> Any:
    """An optional dependency imported, or the :class:`UsageError` (``missing_extra``)
    saying what needs it and what installs it: ``"<needs>: pip install <install>"``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{needs}: pip install {install}", code="missing_extra") from None
