"""batchio's error hierarchy, the problem record, and the table of stable error codes.

Checking code (the reader in collect mode, the validator, the join) reports problems as
:class:`Problem` values; code that acts (a strict reader, a writer, a builder) raises a
:class:`BatchioError` carrying the same fields. Every code batchio emits is listed in
:data:`CODES`, which is also the source of the table in the docs.
"""

from __future__ import annotations

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
    "integer_out_of_range": "An integer that does not fit in 64 bits.",
    "line_too_large": "A single line is larger than the per-line size cap.",
    "nesting_too_deep": "JSON nested deeper than the parser's limit (1024).",
    "unreadable_file": "The file cannot be opened, read or decompressed.",
    "missing_extra": "A compressed file needs an optional extra that is not installed.",
    "unknown_provider": "The provider name is not one batchio knows.",
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
    "unknown_field": "Warning: a top-level field the provider's request line does not define.",
    "invalid_body": "The request body breaks its endpoint's schema (param says where).",
    "stream_not_supported": "The request body sets stream to true, which batches do not allow.",
    "custom_schema": "The request body breaks the user's own schema given with --schema.",
    # Whole-file limits.
    "empty_file": "The file holds no requests.",
    "too_many_tasks": "The file holds more requests than the provider allows per file.",
    "file_too_large": "The file is larger than the provider allows per file.",
    "too_many_embedding_inputs": "Embedding inputs summed over the file exceed the limit.",
    # Joining results.
    "orphan_result": "A result line whose custom_id is not among the inputs.",
    "duplicate_result": "A custom_id that got more than one result line.",
    "invalid_result_line": "A result line without the fields its provider's result shape needs.",
    # Building and converting.
    "limit_exceeded": "A single request is larger than a per-file limit on its own.",
    "unconvertible_request": "A request uses a feature the target provider lacks.",
    # The Batch object.
    "invalid_batch": "A Batch object field has the wrong type or value.",
    "illegal_transition": "Two polled Batch objects are not a legal step of the lifecycle.",
    "inconsistent_batch": "The Batch object contradicts itself or the files.",
}


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
        return f"{place}: {text}" if place else text

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


class BatchioError(ValueError):
    """Base class of every error batchio raises; carries ``code``, ``line`` and ``custom_id``.

    A subclass of ValueError, so callers catching the general thing still catch it.
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


class LineError(BatchioError):
    """A line of a batch file is bad: not JSON, not an object, too large, a bad request."""

    default_code = "invalid_json_line"


class SourceError(BatchioError):
    """A file or stream cannot be opened, read, decompressed or written."""

    default_code = "unreadable_file"


class DuplicateIdError(BatchioError):
    """A custom_id was used twice; the message names both places."""

    default_code = "duplicate_custom_id"


class LimitError(BatchioError):
    """A request cannot fit within a provider's per-file limit even on its own."""

    default_code = "limit_exceeded"


class JoinError(BatchioError):
    """Results cannot be joined back to inputs (strict mode, or ambiguous inputs)."""

    default_code = "duplicate_result"


class BatchObjectError(BatchioError):
    """A Batch object has a field of the wrong type or an unknown value."""

    default_code = "invalid_batch"
