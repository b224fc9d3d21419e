"""Joining result files back to their inputs: every request accounted for exactly once.

Owns :func:`join`, its rows (:class:`JoinedRow`) and summary (:class:`JoinSummary`), the
custom_id index (in memory, or spilled to SQLite), and :func:`write_retry`.

How it stays small in memory: pass A streams every result line once and indexes it by
custom_id -> where it is (file, byte offset, length); pass B streams the inputs once, in
order, and reads each one's result back with one positioned read. Bodies are never held,
only ids and a few integers per result. Orphans are the results no input claimed.

Where results repeat their requests instead of naming them (Vertex AI's Gemini results;
Bedrock records without a recordId), pass A also indexes each such result by the digest
of the request it repeats (:class:`_EchoMatches`, :func:`batchio.ids.echo_key`), and pass
B gives an input without an id the best unclaimed result of its digest: identical
requests take their group's results best outcome first (file order among equals), each
once. Such a join runs in one process.

An id with several result lines counts the best outcome of them (:func:`outcome_rank`;
the first read among equals): pass A reads both lines when it meets the second.
"""

from __future__ import annotations

import contextlib
import operator
import os
import re
import shutil
import sqlite3
import tempfile
import warnings
from array import array
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import msgspec
import orjson

from .errors import (
    BatchioWarning,
    DuplicateIdError,
    JoinError,
    LineError,
    Problem,
    UsageError,
    import_extra,
    quote,
)
from .ids import echo_key, synthetic_id
from .jsonl import (
    DEFAULT_MAX_LINE_BYTES,
    READ_BUFFER,
    ClosesOnExit,
    JsonlWriter,
    Line,
    can_read_twice,
    check_read_once,
    is_plain_file,
    is_read_failure,
    iter_raw_blocks,
    open_error,
    open_source,
    path_list,
    read_error,
    read_lines,
    reads_once,
)
from .kinds import not_results
from .outputs import ASKING_KEYS, OUTPUT_CHECKS, OutputCheck, OutputChecker, requested_output
from .pricing import AnswerCost, PriceTable, TokenUsage, cost_report
from .providers import STATUSES, Outcome, Profile, Status, get_profile, profile_for
from .results import (
    COLUMN_NAMES,
    USAGE_FIELDS,
    UsageCounts,
    answer_body,
    answer_fields,
    error_message,
    request_body,
    usage_of,
)
from .sharding import request_files, result_files

if TYPE_CHECKING:
    import pyarrow

#: How many inputs answered by id, whose results repeat other requests, make a join
#: refuse its results as another job's (where results repeat their requests).
_ECHO_SAMPLE = 20

#: In ``index="auto"`` mode, the index moves to SQLite past this many inputs.
DEFAULT_SPILL_THRESHOLD = 5_000_000

_NO_RESULT = -1


@dataclass(frozen=True, slots=True)
class ResultRef:
    """Where a result line is: its custom_id, file and 1-based line."""

    custom_id: str
    path: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"custom_id": self.custom_id, "path": self.path, "line": self.line}


# A NamedTuple, made once a request (see batchio.jsonl.Line for the measured reason).
class JoinedRow(NamedTuple):
    """One input request with what became of it.

    ``request`` is the input line as parsed; ``request_raw`` its exact bytes (what a retry
    file holds). ``response`` and ``error`` come from the result line (None when there is
    none), whose exact bytes are ``result_raw``; ``result_path`` and ``result_line`` say
    where that line is. ``endpoint`` is the request's url (or its provider's endpoint).
    ``output_check`` is the verdict on the answer when the join checks outputs
    (:mod:`batchio.outputs`), else ``not_checked``.
    """

    custom_id: str
    status: Status
    request: dict[str, Any]
    response: Any
    error: Any
    error_code: str | None
    retryable: bool
    request_path: str
    request_line: int
    request_raw: bytes
    result_path: str | None = None
    result_line: int | None = None
    result_raw: bytes | None = None
    endpoint: str | None = None
    output_check: OutputCheck = "not_checked"
    output_check_message: str | None = None
    #: The answer's fields as :func:`batchio.results.answer_fields` reads them, when the
    #: join has read them already (it does to check outputs); None otherwise.
    answer: dict[str, Any] | None = None
    #: This answer's cost at batch prices (USD), None where its model has no price or its
    #: result reports no tokens.
    cost_usd: float | None = None
    #: The HTTP status of a result whose ``response`` was not kept: rows made for a table
    #: file (:func:`batchio.write_join`) read a successful answer straight into ``answer``,
    #: its result line whole in ``result_raw``. None otherwise (``response`` says it).
    http_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as the joined table has it (:data:`batchio.results.COLUMNS`, in order):
        flat values, with ``request`` and ``response`` (the whole result line) as their
        exact JSON text."""
        return joined_columns(self)


def joined_columns(row: JoinedRow) -> dict[str, Any]:
    """The joined table's columns of one row (see :meth:`JoinedRow.to_dict`)."""
    return dict(zip(COLUMN_NAMES, joined_values(row), strict=True))


def joined_values(row: JoinedRow, *, raw_json: bool = False) -> tuple[Any, ...]:
    """The values of one row in :data:`batchio.results.COLUMNS` order: the one place a
    row's columns are made. With ``raw_json``, ``request`` and ``response`` are the lines'
    bytes without their line ending (for a writer that checks their UTF-8 itself)."""
    # Unpacked at once, and the answer's columns taken by one itemgetter where it has them
    # all: this runs for every row of a written join (2.4 against 2.8 us a row, 2026-12-07).
    (custom_id, status, request, response, error, error_code, retryable, request_path,
     request_line, request_raw, result_path, result_line, result_raw, endpoint,
     output_check, output_check_message, answer, cost_usd, http_status) = row
    if answer is None:
        answer = answer_fields(answer_body(response)) if response is not None else _NO_ANSWER
    try:
        (text, finish_reason, finish_reason_raw, refusal, input_tokens, output_tokens,
         cached_tokens, reasoning_tokens, total_tokens) = _answer_columns(answer)
    except KeyError:
        get = answer.get
        (text, finish_reason, finish_reason_raw, refusal, input_tokens, output_tokens,
         cached_tokens, reasoning_tokens, total_tokens) = (
            get(name) for name in _ANSWER_COLUMNS)
    model = answer.get("model")
    if model is None:
        body = request_body(request)
        requested = body.get("model") if isinstance(body, dict) else None
        model = requested if isinstance(requested, str) else None
    if isinstance(response, dict):
        http_status = response.get("status_code")
    if not (type(http_status) is int and -(1 << 63) <= http_status < 1 << 63):
        http_status = None
    if result_raw is not None and error_code == "invalid_result_line":
        result_raw = _as_json(result_raw)
    if raw_json:
        request_json: Any = request_raw.rstrip(b"\r\n")
        response_json: Any = None if result_raw is None else result_raw.rstrip(b"\r\n")
    else:
        request_json = _json_text(request_raw)
        response_json = None if result_raw is None else _json_text(result_raw)
    return (custom_id, status, http_status, error_code,
            None if error is None else error_message(error), retryable, model, endpoint,
            text, _output_json(request, answer) if status == "succeeded" else None,
            finish_reason, finish_reason_raw, refusal, input_tokens, output_tokens,
            cached_tokens, reasoning_tokens, total_tokens, cost_usd, answer.get("embedding"),
            output_check, output_check_message, request_path or None, request_line,
            result_path, result_line, request_json, response_json)


#: The answer's fields that are columns as they are (``embedding`` apart: most answers
#: have none).
_ANSWER_COLUMNS = ("text", "finish_reason", "finish_reason_raw", "refusal", "input_tokens",
                   "output_tokens", "cached_tokens", "reasoning_tokens", "total_tokens")
_answer_columns = operator.itemgetter(*_ANSWER_COLUMNS)


def _output_json(request: Mapping[str, Any], answer: Mapping[str, Any]) -> str | None:
    """The answer of a succeeded request that asked for JSON, as compact JSON text where it
    parses (the ``output_json`` column); None for free text and answers that do not parse.
    A body that asks for nothing ends at one set test."""
    body = request_body(request)
    if not isinstance(body, dict) or ASKING_KEYS.isdisjoint(body):
        return None
    try:
        wanted = requested_output(body)
    except RecursionError:
        return None
    if wanted is None:
        return None
    value: Any = answer.get("tool_input") if wanted.tool else None
    if value is None:
        text = answer.get("tool_arguments") if wanted.tool else answer.get("text")
        if not isinstance(text, str):
            return None
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return None


_NO_ANSWER: dict[str, Any] = {}


def _as_json(raw: bytes) -> bytes:
    """A result line as JSON for the ``response`` column: the line itself where it is JSON,
    else a JSON string of its text, each byte that is not UTF-8 escaped as ``\\xNN``; so
    every table format holds it whole and valid (a line of bad UTF-8 or cut-off JSON is
    still a row, never a broken file)."""
    try:
        msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return orjson.dumps(raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace"))
    return raw


def _json_text(raw: bytes) -> str:
    """A line's exact JSON as text, without its line ending (bad UTF-8 never reaches here:
    the reader refused it)."""
    return raw.rstrip(b"\r\n").decode("utf-8", "replace")


def outcome_rank(status: str, output_check: str, retryable: bool) -> int:
    """How good an outcome is, 0 best: succeeded with its output check ok or not checked;
    succeeded with a failed output check; failed and retryable; expired or cancelled;
    failed and not retryable; missing. It decides which of an id's result lines a join
    counts, and a campaign's best answer for each id."""
    if status == "succeeded":
        return 0 if output_check in ("ok", "not_checked") else 1
    if status == "failed":
        return 2 if retryable else 4
    if status in ("expired", "cancelled"):
        return 3
    return 5


#: The succeeded answers of each part of a join whose model is compared with their
#: request's (where the provider's answers name it): enough to tell another job's results,
#: at no cost past them.
MODEL_SAMPLE = 1000
#: The fewest answers compared for the ``other_model`` warning: a few answers prove little.
MIN_MODELS_COMPARED = 10


#: The rank of a line that is not a result: after every outcome a line can give.
UNREADABLE_RANK = 6


def line_rank(raw: bytes, classify: Callable[[Any], Outcome]) -> int:
    """The :func:`outcome_rank` of the outcome result line ``raw`` gives, its output
    unchecked; :data:`UNREADABLE_RANK` for a line that is not a result."""
    try:
        outcome = classify(msgspec.json.decode(raw))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return UNREADABLE_RANK
    return outcome_rank(outcome.status, "not_checked", outcome.retryable)


class _EchoMatches:
    """Result ordinals by the :func:`echo_key` of the request each repeats, for inputs
    with no id; each key's results are given to its inputs best outcome first, in file
    order among equals (both orders are the files', so a join read again gives the same
    rows)."""

    def __init__(self, input_ids: set[str] | None) -> None:
        #: The ids the inputs use (None: not known, inputs read once): a result naming one
        #: of them is that input's, never given to an input without an id.
        self.input_ids = input_ids
        self.groups: dict[bytes, list[int]] = {}
        #: The results in the groups that name an id of their own (one no input uses:
        #: Bedrock names a record that had none itself).
        self.named: set[int] = set()
        #: Inputs without an id seen per key, and keys shared by more than one input or
        #: answered by more than one result.
        self.inputs: Counter[bytes] = Counter()
        self.shared_inputs = 0
        self._ranked: set[bytes] = set()

    def wants(self, result_id: str | None) -> bool:
        """Whether a result with this id (None: none) may answer an input without one."""
        if not result_id:
            return True
        return self.input_ids is not None and result_id not in self.input_ids

    def add(self, key: bytes, ordinal: int, named: bool) -> None:
        self.groups.setdefault(key, []).append(ordinal)
        if named:
            self.named.add(ordinal)

    def ranked(self, key: bytes, rank: Callable[[int], int]) -> list[int]:
        """The results of ``key``, best outcome first (``rank`` of an ordinal, 0 best),
        file order among equals: where a request was answered more than once (two jobs'
        results in one folder), its success counts, not whichever file came first. Each
        group is ranked once, the first time it is asked for."""
        group = self.groups.get(key, [])
        if len(group) > 1 and key not in self._ranked:
            group.sort(key=rank)
            self._ranked.add(key)
        return group

    def claim_unnamed(self, key: bytes, claimed: Sequence[int], rank: Callable[[int], int]
                      ) -> int | None:
        """For an input with an id no result names: the best result of ``key`` that names
        no id at all and no input has claimed (a Vertex AI result that came back without
        its request's custom_id); a result naming another id is another request's."""
        for ordinal in self.ranked(key, rank):
            if not claimed[ordinal] and ordinal not in self.named:
                return ordinal
        return None

    def claim(self, key: bytes, claimed: Sequence[int], rank: Callable[[int], int]
              ) -> tuple[int | None, int]:
        """The best result of ``key`` no input has claimed (None: none is left; see
        :meth:`ranked`), and which input of the key this is (1 for the first)."""
        self.inputs[key] += 1
        seen = self.inputs[key]
        if seen == 2:
            self.shared_inputs += 2
        elif seen > 2:
            self.shared_inputs += 1
        for ordinal in self.ranked(key, rank):
            if not claimed[ordinal]:
                return ordinal, seen
        return None, seen


# Rows are made once per request: tuple.__new__ skips NamedTuple's Python-level __new__.
_new_row = _new_outcome = tuple.__new__


@dataclass
class JoinSummary:
    """Counts per status, orphans, duplicates, and per error code, complete after iteration."""

    inputs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    orphans: list[ResultRef] = field(default_factory=list)
    duplicates: list[ResultRef] = field(default_factory=list)
    error_codes: Counter[str] = field(default_factory=Counter)
    #: Result lines that are not results (bad JSON, missing fields), with their place.
    problems: list[Problem] = field(default_factory=list)
    #: Requests not succeeded whose cause is worth resubmitting as they are (retryable
    #: failures, expired, cancelled, missing), and of them the failed ones.
    retryable: int = 0
    failed_retryable: int = 0
    #: Result lines read (blank lines aside).
    result_lines: int = 0
    #: The provider whose prices the cost is figured at.
    provider: str = "openai"
    #: Verdicts on the succeeded answers, when the join checked outputs (else empty).
    output_checks: Counter[str] = field(default_factory=Counter)
    checked_outputs: bool = False
    #: Tokens per model (the answer's model, else the request's), over every row whose
    #: result reports usage: succeeded rows and failures that carry a body with usage.
    usage: dict[str, TokenUsage] = field(default_factory=dict)
    #: Result lines whose usage gives a count that cannot be used (below 0, past 64 bits,
    #: not a number): it is left out of ``usage`` and the cost, which are short by it.
    unusable_usage: int = 0
    #: The request lines a retry file written with the join holds (None: none was).
    retry_requests: int | None = None
    #: Result lines read in each result file (blank lines aside), by the file's name.
    lines_by_file: dict[str, int] = field(default_factory=dict)
    #: Second result lines of an id that are not results at all, by the file's name: they
    #: count for :attr:`unreadable_file` as the unreadable lines in ``problems`` do.
    unread_duplicates: Counter[str] = field(default_factory=Counter)
    #: Of the succeeded answers whose model was compared with their request's (the first
    #: :data:`MODEL_SAMPLE` of each part, where the provider's answers name it), those
    #: another model gave, and the first of them: (custom_id, asked, answered).
    models_compared: int = 0
    other_models: int = 0
    other_model: tuple[str, str, str] | None = None

    @property
    def none_readable(self) -> bool:
        """There were result lines and none of them could be read as a result (another
        provider's results, or no results at all)."""
        return 0 < self.result_lines <= len(self.problems)

    @property
    def unreadable_file(self) -> str | None:
        """The first result file with lines, none of which could be read as a result
        (another provider's results among this one's, a file that holds no results), or
        None. Its requests would be failed for good, or missing and resubmitted."""
        unread = Counter(problem.path for problem in self.problems)
        unread.update(self.unread_duplicates)
        found = next((name for name, lines in self.lines_by_file.items()
                      if 0 < lines <= unread[name]), None)
        if found is None and self.none_readable:
            found = self.problems[0].path
        return found

    def unreadable_results(self, consequence: str) -> JoinError:
        """The error that refuses a join with a result file none of whose lines could be
        read (:attr:`unreadable_file`). ``consequence`` says what was left undone."""
        name = self.unreadable_file
        first = next((problem for problem in self.problems if problem.path == name), None)
        lines = self.lines_by_file.get(name or "", self.result_lines)
        # Where every line of the file is a second result of its id, no problem was kept:
        # the file is said without a first line.
        said = f" (the first: {first.message})" if first is not None else ""
        return JoinError(
            f"none of the {lines:,} result lines of {name} could be read as "
            f"{get_profile(self.provider).title} results{said}; "
            f"{consequence}: are they another provider's? (--provider, provider= in Python)",
            code="results_do_not_match", path=name if first is None else first.path,
            line=None if first is None else first.line,
            custom_id=None if first is None else first.custom_id)

    @property
    def clean(self) -> bool:
        """Every input succeeded, with no orphans, duplicates or unreadable result lines."""
        return (self.counts["succeeded"] == self.inputs and not self.orphans
                and not self.duplicates and not self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            **self.counts,
            "orphans": len(self.orphans),
            "duplicates": len(self.duplicates),
            "error_codes": dict(sorted(self.error_codes.items())),
            "result_lines": self.result_lines,
            "invalid_result_lines": len(self.problems),
            "retryable": self.retryable,
            "failed_retryable": self.failed_retryable,
            **({"output_checks": {check: self.output_checks.get(check, 0)
                                  for check in OUTPUT_CHECKS}}
               if self.checked_outputs else {}),
            "usage": {model: tokens.to_dict() for model, tokens in sorted(self.usage.items())},
            "unusable_usage": self.unusable_usage,
            "cost": self.cost(),
            "retry_requests": self.retry_requests,
        }

    def merge_inputs(self, part: JoinSummary) -> None:
        """Add what joining a later part of the inputs found (its rows' counts, usage and
        checks, and the unreadable result lines they met, which follow these in input
        order). The result files' own findings (orphans, duplicates) are not a part's."""
        self.inputs += part.inputs
        for status, count in part.counts.items():
            self.counts[status] += count
        self.error_codes.update(part.error_codes)
        self.problems.extend(part.problems)
        self.retryable += part.retryable
        self.failed_retryable += part.failed_retryable
        self.output_checks.update(part.output_checks)
        self.unusable_usage += part.unusable_usage
        self.models_compared += part.models_compared
        self.other_models += part.other_models
        self.other_model = self.other_model or part.other_model
        for model, tokens in part.usage.items():
            self.usage.setdefault(model, TokenUsage()).merge(tokens)

    def cost(self, prices: PriceTable | None = None) -> dict[str, Any]:
        """The job's cost at batch prices, per model and in total (see
        :func:`batchio.pricing.cost_report`); ``prices`` defaults to the shipped table."""
        return cost_report(self.provider, self.usage, prices)


class _Index(Protocol):
    def add(self, custom_id: str, ordinal: int) -> int | None: ...
    def get(self, custom_id: str) -> int | None: ...
    def __len__(self) -> int: ...
    def close(self) -> None: ...


class _MemoryIndex:
    """custom_id -> ordinal in a dict: about 130 bytes a request."""

    def __init__(self) -> None:
        self._ordinals: dict[str, int] = {}
        self.get = self._ordinals.get
        setdefault = self._ordinals.setdefault

        def add(custom_id: str, ordinal: int) -> int | None:
            first = setdefault(custom_id, ordinal)
            return None if first == ordinal else first

        self.add = add

    def items(self) -> Iterable[tuple[str, int]]:
        return self._ordinals.items()

    def __len__(self) -> int:
        return len(self._ordinals)

    def close(self) -> None:
        self._ordinals.clear()


class _SqliteIndex:
    """custom_id -> ordinal in an SQLite file in a temporary folder, deleted on close."""

    def __init__(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="batchio-join-")
        self._db = sqlite3.connect(os.path.join(self._folder, "index.sqlite3"))
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE ids (custom_id TEXT PRIMARY KEY, ordinal INTEGER)"
                         " WITHOUT ROWID")
        self._count = 0

    def add(self, custom_id: str, ordinal: int) -> int | None:
        try:
            self._db.execute("INSERT INTO ids VALUES (?, ?)", (custom_id, ordinal))
        except sqlite3.IntegrityError:
            return self.get(custom_id)
        self._count += 1
        return None

    def add_many(self, pairs: Iterable[tuple[str, int]]) -> None:
        with self._db:
            self._db.executemany("INSERT INTO ids VALUES (?, ?)", pairs)
        self._count = self._db.execute("SELECT count(*) FROM ids").fetchone()[0]

    def get(self, custom_id: str) -> int | None:
        row = self._db.execute("SELECT ordinal FROM ids WHERE custom_id = ?",
                               (custom_id,)).fetchone()
        return None if row is None else int(row[0])

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._db.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class Join:
    """An iterator of :class:`JoinedRow` in input order; ``summary`` is complete after it.

    Made by :func:`join`. It cleans up its temporary files when exhausted or closed (it is
    also a context manager). Read to the end, it can be read again: its files are read
    again, from the start, and its summary made anew (so a DataFrame and a retry file can
    come from one ``Join``); input read once (stdin, a pipe) cannot be.
    """

    def __init__(
        self,
        inputs: list[str],
        outputs: list[str],
        errors: list[str],
        profile: Profile,
        strict: bool,
        index: str,
        spill_threshold: int,
        on_progress: Callable[[int], None] | None,
        check_outputs: bool = False,
    ) -> None:
        self._summary = JoinSummary(provider=profile.name, checked_outputs=check_outputs)
        self._check_outputs = check_outputs
        #: Whether each row's answer fields are read as its outcome is accounted (and kept
        #: in ``JoinedRow.answer``): so by a join whose rows become a table's, which reads
        #: them anyway, and reads the usage once instead of twice (a join that checks
        #: outputs reads them whatever this says).
        self._reads_answers = False
        self._state = "new"
        self._profile = profile
        self._strict = strict
        self._index_mode = index
        self._spill_threshold = spill_threshold
        self._on_progress = on_progress
        self._temp_folder: str | None = None
        self._inputs = inputs
        self._result_names = [*outputs, *errors]
        self._results: list[str] = []
        #: Where results repeat their requests (Bedrock, Vertex AI) and an input has no
        #: id: the results by the request they repeat (made in pass A).
        self._echo: _EchoMatches | None = None
        #: Inputs read once, kept in temporary files where they must be read again.
        self._copies: dict[str, str] = {}
        self._rows = self._run()

    @property
    def summary(self) -> JoinSummary:
        """Counts per status, orphans, duplicates and unreadable result lines; complete
        once every row has been read (before that, :class:`JoinError`)."""
        if self._state != "done":
            raise JoinError("the join's summary is complete only after its rows have been "
                            "read: iterate the Join first (list(join) or a for loop)",
                            code="join_not_read")
        return self._summary

    def __iter__(self) -> Iterator[JoinedRow]:
        if self._state == "done":
            if any(reads_once(path) for path in (*self._inputs, *self._result_names)):
                raise JoinError("this Join has been read to the end already, and its input "
                                "can be read only once (stdin, a pipe): call batchio.join() "
                                "on files to read it again", code="join_not_read")
            # Read again from the files: a new summary, the same rows.
            self._summary = JoinSummary(provider=self._profile.name,
                                        checked_outputs=self._check_outputs)
            self._state = "new"
            self._temp_folder = None
            self._results = []
            self._echo = None
            self._rows = self._run()
        # The rows' own generator, not a wrapper around it: a Python-level call a row less
        # (about a twentieth of a join).
        return self._rows

    def __next__(self) -> JoinedRow:
        return next(self._rows)

    def iter_batches(self, rows: int = 65_536, *, columns: Iterable[str] | None = None
                     ) -> Iterator[pyarrow.RecordBatch]:
        """The rows as Arrow record batches of at most ``rows`` rows (the ``[arrow]``
        extra): the table in bounded memory; ``columns`` only, where given."""
        from .table import arrow_schema, record_batches, selected

        chosen = selected(columns, arrow_schema().names)
        batches = record_batches(self, rows)
        return batches if chosen is None else (batch.select(chosen) for batch in batches)

    def to_arrow(self, *, columns: Iterable[str] | None = None,
                 expand_output: bool = False) -> pyarrow.Table:
        """The rows as a ``pyarrow.Table`` (:data:`batchio.results.COLUMNS`): ``columns``
        only, where given (500,000 chat rows without ``request`` and ``response`` keep a
        fraction of the memory); with ``expand_output``, each structured answer's fields
        as typed columns ``output.<field>`` (:func:`batchio.table.expanded`)."""
        from .table import arrow_schema, record_batches, tabled

        return tabled(record_batches(self), arrow_schema(), columns=columns,
                      expand_output=expand_output)

    def to_polars(self, *, columns: Iterable[str] | None = None,
                  expand_output: bool = False) -> Any:
        """The rows as a polars DataFrame (polars installed, with the ``[arrow]`` extra);
        ``columns`` and ``expand_output`` as :meth:`to_arrow` takes them."""
        polars = import_extra("polars", "to_polars() needs polars", "polars")
        return polars.from_arrow(self.to_arrow(columns=columns, expand_output=expand_output))

    def to_pandas(self, *, columns: Iterable[str] | None = None,
                  expand_output: bool = False) -> Any:
        """The rows as a pandas DataFrame (pandas installed, with the ``[arrow]`` extra),
        integer and boolean columns as pandas' nullable ``Int64`` and ``boolean``;
        ``columns`` and ``expand_output`` as :meth:`to_arrow` takes them."""
        from .table import to_pandas

        import_extra("pandas", "to_pandas() needs pandas", "pandas")
        return to_pandas(self.to_arrow(columns=columns, expand_output=expand_output))

    def close(self) -> None:
        self._rows.close()
        self._cleanup()

    def __enter__(self) -> Join:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cleanup(self) -> None:
        if self._temp_folder is not None:
            shutil.rmtree(self._temp_folder, ignore_errors=True)
            self._temp_folder = None

    def _seekable(self, number: int, path: str) -> str:
        """The path itself when it is a plain file; otherwise (stdin, gzip, zstd) a plain
        copy in a temporary folder, since results are read back at byte offsets.

        The copy holds whole lines of at most the reader's line cap: a longer line (a
        decompression bomb is one) is never written out; an empty line keeps its place and
        it is reported as ``line_too_large``. The folder goes when the join ends, however
        it ends.
        """
        if is_plain_file(path):
            return path
        if self._temp_folder is None:
            self._temp_folder = tempfile.mkdtemp(prefix="batchio-join-")
        copy = os.path.join(self._temp_folder, f"{number}.jsonl")
        with open_source(path) as stream, open(copy, "wb") as target:
            line = 0
            try:
                for block in iter_raw_blocks(stream, DEFAULT_MAX_LINE_BYTES):
                    if isinstance(block, int):
                        target.write(b"\n")
                        line += 1
                        self._summary.problems.append(Problem(
                            code="line_too_large", path=path, line=line, message=(
                                f"line of {block:,} bytes is over the "
                                f"{DEFAULT_MAX_LINE_BYTES:,}-byte cap")))
                    else:
                        target.write(block)
                        line += block.count(b"\n")
            except Exception as exc:
                if not is_read_failure(exc):
                    raise
                raise read_error(path, exc) from exc
        return copy

    def _source(self, name: str) -> str:
        """Where input ``name`` is read from: itself, or its copy (:meth:`_prepare`)."""
        return self._copies.get(name, name)

    def _kept(self, number: int, name: str) -> str:
        """A plain copy of input ``name``, read once, in the join's temporary folder."""
        if self._temp_folder is None:
            self._temp_folder = tempfile.mkdtemp(prefix="batchio-join-")
        copy = os.path.join(self._temp_folder, f"input-{number}.jsonl")
        with open_source(name) as stream, open(copy, "wb") as target:
            try:
                shutil.copyfileobj(stream, target, READ_BUFFER)
            except Exception as exc:
                if not is_read_failure(exc):
                    raise
                raise read_error(name, exc) from exc
        return copy

    def _run(self) -> Generator[JoinedRow, None, None]:
        index: _Index = _MemoryIndex() if self._index_mode != "sqlite" else _SqliteIndex()
        try:
            index, locations = self._prepare(index)
            yield from self._emit_all(index, locations)
            self._state = "done"
        finally:
            index.close()
            self._cleanup()

    def _prepare(self, index: _Index) -> tuple[_Index, _Locations]:
        """Everything before the first row: seekable result files, pass A, and the strict
        checks."""
        self._results = [self._seekable(number, path)
                         for number, path in enumerate(self._result_names)]
        if self._profile.echo_field is not None:
            # Requests matched by their bodies are read more than once (for the ids they
            # use, then joined): input read once is kept in a temporary file for that.
            self._copies = {name: self._kept(number, name)
                            for number, name in enumerate(self._inputs) if reads_once(name)}
        self._echo = self._echo_matches()
        index, locations = self._index_results(index)
        if self._strict:
            self._check_strictly(index, locations)
        self._check_results_match(index, locations)
        return index, locations

    def _echo_matches(self) -> _EchoMatches | None:
        """Where results repeat their requests (the profile's ``echo_field``): the matcher
        of requests by the request a result repeats, for inputs with no id and for results
        that name none of the inputs' ids (a Vertex AI result may come back without the
        ``custom_id`` its request had). It knows every id the inputs use (one more read of
        the inputs; inputs read once are matched without it). None for other providers."""
        if self._profile.echo_field is None:
            return None
        id_field = self._profile.id_field
        ids: set[str] = set()
        for name in self._inputs:
            if not can_read_twice(self._source(name)):
                return _EchoMatches(None)
            for line in read_lines(self._source(name), blank_lines="skip"):
                custom_id = line.value.get(id_field)
                if type(custom_id) is str and custom_id:
                    ids.add(custom_id)
        return _EchoMatches(ids)

    def _echo_key_of_input(self, value: Mapping[str, Any]) -> bytes | None:
        """The echo key of an input line without an id (None: it has an id, or its
        results do not repeat requests)."""
        if self._echo is None:
            return None
        custom_id = value.get(self._profile.id_field)
        if type(custom_id) is str and custom_id:
            return None
        return echo_key(value.get(self._profile.body_field))

    def _check_results_match(self, index: _Index, locations: _Locations) -> None:
        """Refuse, before the first row, result files that answer none of the inputs (another
        job's results folder): the join would count every input missing and its retry file
        would resubmit, and pay for, the whole job. The inputs' ids are read until the first
        that has a result, which in a right join is the first input; inputs read once are
        left to the count at the end (:meth:`_collect_orphans`)."""
        if not len(locations):
            return
        id_field, body_field = self._profile.id_field, self._profile.body_field
        inputs = examined = 0
        for name in self._inputs:
            if not can_read_twice(self._source(name)):
                return
            for line in read_lines(self._source(name), blank_lines="skip"):
                custom_id = line.value.get(id_field)
                ordinal = index.get(custom_id) if type(custom_id) is str else None
                if ordinal is not None:
                    # Where results repeat their requests, an id is not enough: another job
                    # numbered as this one (request-0000001...) has the same ids.
                    if self._profile.echo_field is None or self._echo_agrees(
                            self._result_at(ordinal, locations), line.value):
                        return
                    examined += 1
                    if examined == _ECHO_SAMPLE:
                        raise self._other_requests(examined)
                    continue
                if self._echo is not None and \
                        echo_key(line.value.get(body_field)) in self._echo.groups:
                    return
                inputs += 1
        if examined:
            raise self._other_requests(examined)
        if inputs:  # no request at all: nothing to retry, nothing to pay twice for
            raise self._no_match(inputs, len(locations))

    def _result_at(self, ordinal: int, locations: _Locations) -> bytes:
        """The bytes of result line ``ordinal``."""
        with open(self._results[locations.files[ordinal]], "rb") as handle:
            handle.seek(locations.offsets[ordinal])
            return handle.read(locations.lengths[ordinal])

    def _echo_agrees(self, raw: bytes, value: Mapping[str, Any]) -> bool:
        """Whether a result line repeats the request of input ``value`` (True where it
        repeats none: nothing says otherwise)."""
        try:
            line = msgspec.json.decode(raw)
        except (ValueError, RecursionError):
            return True
        return self._repeats(line.get(self._profile.echo_field) if type(line) is dict
                             else None, value)

    def _repeats(self, echoed: Any, value: Mapping[str, Any]) -> bool:
        """Whether ``echoed``, the request a result repeats, is input ``value``'s (True
        where it repeats none)."""
        return type(echoed) is not dict or echo_key(echoed) == echo_key(
            value.get(self._profile.body_field))

    def _other_requests(self, examined: int) -> JoinError:
        return JoinError(
            f"the results named by the first {examined:,} inputs' ids repeat other requests "
            "than those inputs: they are another job's results under the same ids (or these "
            "are another job's requests); nothing was written, and no retry file",
            code="results_do_not_match", path=self._result_names[0])

    def _no_match(self, inputs: int, results: int) -> JoinError:
        return JoinError(
            f"none of the {results:,} result lines answers any of the {inputs:,} inputs: they "
            "are another job's results (or these are another job's requests); nothing was "
            "written, and no retry file, which would resubmit and pay for the whole job",
            code="results_do_not_match", path=self._result_names[0])

    def _emit_all(self, index: _Index, locations: _Locations) -> Iterator[JoinedRow]:
        """Pass B over every input, its unanswered ids kept where the index is."""
        unanswered = _SqliteIndex() if isinstance(index, _SqliteIndex) else _MemoryIndex()
        try:
            yield from self._emit(index, locations, self._whole_inputs(), unanswered)
        finally:
            unanswered.close()

    def _whole_inputs(self) -> Iterator[tuple[int, int, Iterator[Line]]]:
        """Each input file's number, first offset and lines, in order."""
        for file_number, name in enumerate(self._inputs):
            # A blank line holds no request: nothing to join, nothing lost.
            yield file_number, 0, read_lines(self._source(name), blank_lines="skip")

    def check_inputs_unique(self) -> None:
        """Look for an input id used twice before any row is made, for a target that
        cannot take rows back (standard output): raises the :class:`DuplicateIdError` the
        join would, at the same two lines. One more read of the inputs; inputs read once
        (stdin) are left to the join."""
        id_field = self._profile.id_field
        first_uses: dict[str, tuple[str, int]] = {}
        for name in self._inputs:
            if not can_read_twice(name):
                return
            for line in read_lines(name, blank_lines="skip"):
                custom_id = line.value.get(id_field)
                if type(custom_id) is not str:
                    continue  # the join's own error, at its line
                first = first_uses.setdefault(custom_id, (name, line.number))
                if first != (name, line.number):
                    raise duplicate_input(id_field, custom_id, first[0], first[1], name,
                                          line.number)

    def _check_strictly(self, index: _Index, locations: _Locations) -> None:
        """``strict``: duplicates and orphans raise before any row is yielded (orphans are
        found by reading the inputs' ids once first)."""
        if self._summary.duplicates:
            raise self._strict_error("duplicate", self._summary.duplicates)
        claimed = bytearray(len(locations))
        id_field = self._profile.id_field
        # Identical requests without an id take their key's results in order.
        taken: Counter[bytes] = Counter()
        for name in self._inputs:
            for line in read_lines(self._source(name), blank_lines="skip"):
                key = self._echo_key_of_input(line.value)
                if key is not None and self._echo is not None:
                    group = self._echo.groups.get(key, [])
                    if taken[key] < len(group):
                        claimed[group[taken[key]]] = 1
                    taken[key] += 1
                    continue
                ordinal = index.get(line.value.get(id_field))  # type: ignore[arg-type]
                if ordinal is not None:
                    claimed[ordinal] = 1
                    if self._profile.echo_field is not None and not self._echo_agrees(
                            self._result_at(ordinal, locations), line.value):
                        # A strict join takes no result that repeats another request.
                        raise JoinError(
                            f"the result named by {id_field} {quote(line.value[id_field])} "
                            "repeats another request than this input: another job's "
                            "results under the same ids? A strict join accepts none",
                            code="results_do_not_match", path=name, line=line.number,
                            custom_id=line.value[id_field])
        if not all(claimed):
            self._summary.orphans = self._orphans(claimed, locations)
            raise self._strict_error("orphan", self._summary.orphans)

    @staticmethod
    def _strict_error(what: str, refs: Sequence[ResultRef]) -> JoinError:
        """The error a strict join raises for its orphan or duplicate result lines, at the
        first of them."""
        first = refs[0]
        lines = "line" if len(refs) == 1 else "lines"
        why = ("its custom_id is not among the inputs" if what == "orphan" else
               "its custom_id has a result line before this one")
        return JoinError(f"{len(refs):,} {what} result {lines}, the first here: {why}; a "
                         "strict join accepts none",
                         code=f"{what}_result", path=first.path, line=first.line,
                         custom_id=first.custom_id)

    def _index_results(self, index: _Index) -> tuple[_Index, _Locations]:
        """Pass A: custom_id -> result ordinal, and where each result line is."""
        locations = _Locations()
        id_field = self._profile.result_id_field
        summary = self._summary
        done = 0
        add = index.add
        files, offsets, lengths, lines = (locations.files.append, locations.offsets.append,
                                          locations.lengths.append, locations.lines.append)
        count = 0
        read_id = id_reader(id_field)
        echo = self._echo
        echo_of = self._echo_key_of_result
        #: The outcome ranks of result lines an id has more than one of, by ordinal.
        ranks: dict[int, int] = {}
        for file_number, path in enumerate(self._results):
            name = self._result_names[file_number]
            lines_before = summary.result_lines
            with open(path, "rb", buffering=READ_BUFFER) as stream:
                offset = 0
                for number, raw in enumerate(stream, 1):
                    start = offset
                    offset += len(raw)
                    if raw.isspace():
                        # A blank line is no result (and an oversize line, dropped from a
                        # copy, left one in its place).
                        continue
                    summary.result_lines += 1
                    custom_id = read_id(raw)
                    key = echo_of(raw) if echo is not None and echo.wants(custom_id) \
                        else None
                    if key is not None and echo is not None:
                        # It answers a request with no id: matched by the request it repeats.
                        echo.add(key, count, bool(custom_id))
                    elif custom_id is None:
                        problem = _result_line_problem(raw, id_field)
                        summary.problems.append(replace(problem, line=number, path=name))
                        continue
                    elif (first := add(custom_id, count)) is not None:
                        # An id answered twice: the better outcome counts, the first read
                        # where they are as good, and the other is the duplicate.
                        better, unreadable = self._better(raw, first, locations, ranks)
                        if better:
                            loser = ResultRef(custom_id,
                                              self._result_names[locations.files[first]],
                                              locations.lines[first])
                            locations.files[first] = file_number
                            locations.offsets[first] = start
                            locations.lengths[first] = len(raw)
                            locations.lines[first] = number
                        else:
                            loser = ResultRef(custom_id, name, number)
                        summary.duplicates.append(loser)
                        if unreadable:
                            summary.unread_duplicates[loser.path] += 1
                        continue
                    files(file_number)
                    offsets(start)
                    lengths(len(raw))
                    lines(number)
                    count += 1
                    if not count & 8191:
                        if self._on_progress is not None:
                            self._on_progress(done + start)
                        if self._index_mode == "auto" and isinstance(index, _MemoryIndex) \
                                and count > self._spill_threshold:
                            index = self._spill(index)
                            add = index.add
            summary.lines_by_file[name] = summary.result_lines - lines_before
            done += os.path.getsize(path)
        locations.claimed_by = array("q", bytes(8 * count))
        self._progress_base = done
        return index, locations

    def _better(self, raw: bytes, ordinal: int, locations: _Locations,
                ranks: dict[int, int]) -> tuple[bool, bool]:
        """Whether result line ``raw`` gives its request a better outcome than result
        ``ordinal``, which names the same id (:func:`line_rank`, the output unchecked): a
        success read after a failure counts, whatever order the files came in; and whether
        the line that does not count is not a result at all (its file's lines are counted
        for :attr:`JoinSummary.unreadable_file`). Ranks are kept in ``ranks``, the better
        one's under ``ordinal``."""
        classify = self._profile.classify_result
        if ordinal not in ranks:
            ranks[ordinal] = line_rank(self._result_at(ordinal, locations), classify)
        rank = line_rank(raw, classify)
        if rank < ranks[ordinal]:
            loser, ranks[ordinal] = ranks[ordinal], rank
            return True, loser == UNREADABLE_RANK
        return False, rank == UNREADABLE_RANK

    def _echo_key_of_result(self, raw: bytes) -> bytes | None:
        """The echo key of the request a result line repeats (None: it repeats none)."""
        try:
            value = msgspec.json.decode(raw)
        except (ValueError, RecursionError):
            return None
        body = value.get(self._profile.echo_field) if type(value) is dict else None
        return echo_key(body) if type(body) is dict else None

    @staticmethod
    def _spill(memory: _MemoryIndex) -> _SqliteIndex:
        spilled = _SqliteIndex()
        spilled.add_many(memory.items())
        memory.close()
        return spilled

    def _emit(self, index: _Index, locations: _Locations,
              pieces: Iterable[tuple[int, int, Iterator[Line]]], unanswered: _Index,
              whole: bool = True) -> Iterator[JoinedRow]:
        """Pass B: the input lines of ``pieces`` (input file number, first offset, lines) in
        order, each with what became of it (:meth:`_look_up`). Inputs with no result go to
        ``unanswered``, by id: how a repeated id among them is caught. ``whole``: the
        pieces are all the inputs, so result lines no input claimed are orphans."""
        id_field = self._profile.id_field
        summary = self._summary
        counts = summary.counts
        error_codes = summary.error_codes
        echo_field = self._profile.echo_field
        results = _ResultReader(self._results, self._result_names, locations,
                                self._profile.classify_result, self._unreadable,
                                self._profile.read_success if self._reads_answers else None) \
            if echo_field is None else _EchoingResultReader(
                self._results, self._result_names, locations, self._profile.classify_result,
                self._unreadable, echo_field)
        look_up = self._look_up
        account = _Answers(self._summary, self._profile, self._check_outputs,
                           self._reads_answers).account
        endpoint_of = self._profile.endpoint_of_line
        on_progress = self._on_progress
        # The common case inline (an input whose id has one result, not yet claimed): a
        # call less a row; _look_up has the rest.
        find = index.get if isinstance(index, _MemoryIndex) else None
        claimed = locations.claimed_by
        read_outcome = results.outcome
        echo = self._echo
        checks_echo = self._profile.echo_field is not None
        #: Inputs whose result, named by their id, repeats another request.
        changed: list[str] = []
        result_path: str | None
        result_line: int | None
        result_raw: bytes | None
        inputs = 0
        try:
            done = self._progress_base
            for file_number, first_offset, lines in pieces:
                name = self._inputs[file_number]
                end = first_offset
                for number, offset, raw, value in lines:
                    end = offset + len(raw)
                    custom_id = value.get(id_field)
                    if type(custom_id) is str and (custom_id or echo is None):
                        inputs += 1
                        ordinal = find(custom_id) if find is not None else None
                        if ordinal is not None and not claimed[ordinal]:
                            claimed[ordinal] = (file_number + 1) << 32 | number
                            outcome, result_path, result_line, result_raw = read_outcome(
                                ordinal, custom_id)
                        else:
                            outcome, result_path, result_line, result_raw = look_up(
                                custom_id, index, unanswered, results, file_number, number,
                                value)
                    elif echo is not None:
                        # No id: matched by the request its result repeats, which it must
                        # have (a line of another provider's shape has neither).
                        if type(value.get(self._profile.body_field)) is not dict:
                            raise LineError(
                                f"input line has neither a string {id_field} nor a "
                                f"{self._profile.body_field} object: not a request line of "
                                f"{self._profile.title} (is the provider right? --provider, "
                                "provider= in Python)", path=name, line=number,
                                code="missing_custom_id")
                        inputs += 1
                        custom_id, outcome, result_path, result_line, result_raw = \
                            self._match_echo(value, results, file_number, number)
                    else:
                        raise LineError(f"input line has no string {id_field}", path=name,
                                        line=number, code="missing_custom_id")
                    if checks_echo and result_raw is not None and custom_id == value.get(
                            id_field) and not self._repeats(results.echoed, value):
                        changed.append(custom_id)
                    counts[outcome.status] += 1
                    if outcome.error_code is not None:
                        error_codes[outcome.error_code] += 1
                    if outcome.retryable and outcome.status != "succeeded":
                        summary.retryable += 1
                        if outcome.status == "failed":
                            summary.failed_retryable += 1
                    if not number & 8191 and on_progress is not None:
                        on_progress(done + offset - first_offset)
                    check, message, answer, cost = account(outcome, value)
                    yield _new_row(JoinedRow, (
                        custom_id, outcome.status, value, outcome.response, outcome.error,
                        outcome.error_code, outcome.retryable, name, number, raw,
                        result_path, result_line, result_raw, endpoint_of(value), check,
                        message, answer, cost, outcome.http_status))
                done += end - first_offset
            summary.inputs += inputs
            if whole:
                self._collect_orphans(locations)
                self._warn_ambiguous()
            if changed:
                warnings.warn(BatchioWarning(
                    f"{len(changed):,} results named by their input's id repeat another "
                    f"request than that input (first: {changed[0]!r}): another job's results "
                    "under the same ids, or inputs changed since they were sent",
                    code="changed_request", path=self._inputs[0]), stacklevel=2)
            if on_progress is not None:
                on_progress(done)
        finally:
            results.close()

    def _match_echo(self, value: Mapping[str, Any], results: _ResultReader,
                    file_number: int, number: int
                    ) -> tuple[str, Outcome, str | None, int | None, bytes | None]:
        """What became of an input without an id: the first result, not yet claimed, that
        repeats its request (:class:`_EchoMatches`), or ``missing``. Its row's id is the
        made of its request (:func:`synthetic_id`), the same in every round that asks it:
        not the one a Bedrock result names, which Bedrock makes anew for each job."""
        assert self._echo is not None
        key = echo_key(value.get(self._profile.body_field))
        claimed = results.locations.claimed_by
        ordinal, repeat = self._echo.claim(key, claimed, results.rank)
        if ordinal is None:
            custom_id = synthetic_id(key, repeat)
            return custom_id, _new_outcome(Outcome, (
                custom_id, "missing", None, None, None, True, None, None)), None, None, None
        claimed[ordinal] = (file_number + 1) << 32 | number
        custom_id = synthetic_id(key, repeat)
        outcome, path, line, raw = results.outcome(ordinal, custom_id)
        return custom_id, outcome, path, line, raw

    def _warn_ambiguous(self) -> None:
        """``ambiguous_match``: inputs without an id whose requests are identical; each has
        one result at most, but which of them got which result cannot be known."""
        shared = self._echo.shared_inputs if self._echo is not None else 0
        if shared:
            warnings.warn(BatchioWarning(
                f"{shared:,} requests without an id of their own are identical to another "
                "request of the inputs: their results answer identical requests, and were "
                "given to them in file order, successes first (each request is counted once)",
                code="ambiguous_match",
                path=self._inputs[0]), stacklevel=2)

    def _look_up(self, custom_id: str, index: _Index, unanswered: _Index,
                 results: _ResultReader, file_number: int, number: int,
                 value: Mapping[str, Any] | None = None
                 ) -> tuple[Outcome, str | None, int | None, bytes | None]:
        """What became of one input: its result line's outcome and place, or ``missing``.
        An id that two inputs use is a :class:`DuplicateIdError` (the first input is found
        in ``unanswered``, or in the result's claim)."""
        name = self._inputs[file_number]
        ordinal = index.get(custom_id)
        if ordinal is None:
            first = unanswered.add(custom_id, file_number << 32 | number)
            if first is not None:
                self._duplicate_input(custom_id, (first >> 32, first & 0xFFFFFFFF), name,
                                      number)
            if self._echo is not None and value is not None:
                # No result names it: one that repeats its request, and names no input,
                # answers it.
                found = self._echo.claim_unnamed(
                    echo_key(value.get(self._profile.body_field)), results.locations.claimed_by,
                    results.rank)
                if found is not None:
                    results.locations.claimed_by[found] = (file_number + 1) << 32 | number
                    return results.outcome(found, custom_id)
            return _new_outcome(Outcome, (custom_id, "missing", None, None, None, True, None,
                                          None)), \
                None, None, None
        claimed = results.locations.claimed_by
        claimer = claimed[ordinal]
        if claimer:
            self._duplicate_input(custom_id, ((claimer >> 32) - 1, claimer & 0xFFFFFFFF),
                                  name, number)
        claimed[ordinal] = (file_number + 1) << 32 | number
        return results.outcome(ordinal, custom_id)

    def _unreadable(self, custom_id: str, exc: Exception, path: str, line: int) -> Outcome:
        """A result line that names its request but says nothing readable about it: the
        request counts as failed, and the line is reported."""
        if isinstance(exc, KeyError):
            reason = f"it has no {exc.args[0]!r} field"
        elif isinstance(exc, RecursionError):
            reason = "it is nested too deeply"
        else:
            reason = str(exc) or type(exc).__name__
        message = f"not a result line of {self._profile.title}: {reason}"
        self._summary.problems.append(Problem(code="invalid_result_line", message=message,
                                             line=line, path=path, custom_id=custom_id))
        return Outcome(custom_id, "failed", None,
                       {"code": "invalid_result_line", "message": message},
                       "invalid_result_line", False)

    def _duplicate_input(self, custom_id: str, first: tuple[int, int], name: str,
                         number: int) -> None:
        raise duplicate_input(self._profile.id_field, custom_id, self._inputs[first[0]],
                              first[1], name, number)

    def _collect_orphans(self, locations: _Locations) -> None:
        """Add the result lines no input claimed to the summary's orphans: where no result
        line answered any input, the :meth:`_check_results_match` error (inputs read once
        are only known here), and where most did not, a warning with their share."""
        orphans = self._orphans(locations.claimed_by, locations)
        self._summary.orphans += orphans
        results = len(locations)
        if orphans and len(orphans) == results and self._summary.inputs:
            raise self._no_match(self._summary.inputs, results)
        self._warn_other_models()
        if len(orphans) * 2 > results:
            warnings.warn(BatchioWarning(
                f"{len(orphans):,} of the {results:,} result lines ({len(orphans) / results:.0%})"
                " answer none of the inputs: are some of these results another job's?",
                code="most_results_orphans", path=self._result_names[0]), stacklevel=2)

    def _warn_other_models(self) -> None:
        """``other_model``: most answers compared come from another model than their
        requests asked for: another job's results under the same ids (build's default ids,
        request-00001..., are the same in every job), whose answers are not these requests'."""
        summary = self._summary
        if summary.other_model is not None and summary.other_models * 2 > \
                summary.models_compared >= MIN_MODELS_COMPARED:
            custom_id, asked, answered = summary.other_model
            warnings.warn(BatchioWarning(
                f"{summary.other_models:,} of the {summary.models_compared:,} answers compared "
                f"come from another model than their request asked for (first: {custom_id!r} "
                f"asked {asked!r}, answered by {answered!r}): are these another job's results "
                "under the same ids?", code="other_model", path=self._result_names[0]),
                stacklevel=2)

    def _orphans(self, claimed: Sequence[int], locations: _Locations) -> list[ResultRef]:
        """Result lines no input claimed (a 0 in ``claimed``), read back for their
        custom_id."""
        if all(claimed):
            return []
        read_id = id_reader(self._profile.result_id_field)
        orphans = []
        with contextlib.ExitStack() as files:
            handles = [files.enter_context(open(path, "rb", buffering=0))
                       for path in self._results]
            for ordinal, claimer in enumerate(claimed):
                if claimer:
                    continue
                file_number = locations.files[ordinal]
                raw = os.pread(handles[file_number].fileno(), locations.lengths[ordinal],
                               locations.offsets[ordinal])
                orphans.append(ResultRef(read_id(raw) or "", self._result_names[file_number],
                                         locations.lines[ordinal]))
        return orphans


def duplicate_input(id_field: str, custom_id: str, first_path: str, first_line: int,
                    path: str, line: int) -> DuplicateIdError:
    """The error for an id two input lines use: their results could not be told apart."""
    return DuplicateIdError(
        f"{id_field} {custom_id!r} is used by two inputs: {first_path}:{first_line} and "
        f"{path}:{line}; results cannot be matched unambiguously",
        path=path, line=line, custom_id=custom_id)


def id_reader(id_field: str) -> Callable[[bytes], str | None]:
    """Reads the custom_id (or key) off a result line, or None when it has none.

    Pass A needs only the id of each result line. A decoder typed to that one field reads
    it exactly as the full parse would (the last of repeated keys wins) without building
    the response body: 2.1 us a line against 3.5 us for a pattern anchored at the line's
    start (2026-11-23, 200,000 chat results). A line that is not valid JSON still gives its
    id when the pattern finds it first, so that its request is reported with the line
    (failed, ``invalid_result_line``) rather than missing; whether the rest of such a line
    is readable is found when it is read back for its input.
    """
    typed = msgspec.json.Decoder(msgspec.defstruct("_ResultId", [(id_field, str)])).decode
    quoted = b'"' + id_field.encode() + b'"'
    prefix = re.compile(
        rb'\{\s*(?:"[A-Za-z_]+"\s*:\s*(?:"[^"\\]*"|null|-?[0-9]+)\s*,\s*)*?"' +
        re.escape(id_field.encode()) + rb'"\s*:\s*"([^"\\]*)"').match
    decode = msgspec.json.Decoder().decode
    # Not JSON, not an object with a string id, or bytes that are not UTF-8 inside the id
    # (msgspec raises UnicodeDecodeError there): all ValueErrors.
    failures = (ValueError, RecursionError)

    def read_id(raw: bytes) -> str | None:
        try:
            return getattr(typed(raw), id_field)  # type: ignore[no-any-return]
        except failures:
            pass
        found = prefix(raw)
        # A second "custom_id" later in the line may be a second key of the same name, and
        # the parser keeps the last one: such a line gives no id here.
        if found is not None and raw.find(quoted, found.end()) < 0:
            try:
                return found.group(1).decode()
            except UnicodeDecodeError:
                return None
        try:
            value = decode(raw)
        except (ValueError, RecursionError):
            return None
        custom_id = value.get(id_field) if type(value) is dict else None
        return custom_id if type(custom_id) is str else None

    return read_id


def _result_line_problem(raw: bytes, id_field: str) -> Problem:
    """Why a result line has no readable id: the reader's diagnosis, or a missing field."""
    for item in read_lines([raw], errors="collect"):
        if type(item) is Problem and item.severity == "error":
            return item
    return Problem(code="invalid_result_line",
                   message=f"not a result line: no string {id_field}")


_usage_counts_of: Callable[[dict[str, Any]], UsageCounts] = operator.itemgetter(*USAGE_FIELDS)


class _Answers:
    """Sums each answer's tokens per model into the summary and, when the join checks
    outputs, gives each row its verdict (:class:`batchio.outputs.OutputChecker`)."""

    def __init__(self, summary: JoinSummary, profile: Profile, check_outputs: bool,
                 reads_answers: bool = False) -> None:
        self.summary = summary
        self.usage = summary.usage
        self.verdicts = summary.output_checks
        self.body_field = profile.body_field
        self.checker = OutputChecker() if check_outputs else None
        self.reads_answers = reads_answers or check_outputs
        self.price = AnswerCost(profile.name)
        #: Succeeded answers left to compare with their requests' model.
        self.to_compare = MODEL_SAMPLE if profile.answers_name_their_model else 0

    def account(self, outcome: Outcome, request: Mapping[str, Any]
                ) -> tuple[OutputCheck, str | None, dict[str, Any] | None, float | None]:
        """The row's verdict and its message, the answer's fields where they were read (to
        check it, or for a table's columns), and the answer's cost at batch prices."""
        response = outcome.response
        body = answer_body(response) if response is not None else None
        reading = self.reads_answers and outcome.status == "succeeded"
        answer: dict[str, Any] = _NO_ANSWER
        if reading:
            answer = outcome.answer if outcome.answer is not None else answer_fields(body)
            model: Any = answer.get("model")
            # answer_fields gives all the usage fields or none of them.
            counts: UsageCounts | None = (_usage_counts_of(answer)
                                          if "input_tokens" in answer else None)
        else:
            model, counts = usage_of(body)
        cost = None
        if counts is not None:
            cost = self._tally(model, counts, request)
        if self.to_compare and outcome.status == "succeeded":
            self._compare_model(outcome.custom_id, request, model)
        if self.checker is None:
            return "not_checked", None, answer if reading else None, cost
        if outcome.status != "succeeded":
            self.verdicts["not_checked"] += 1
            return "not_checked", None, None, cost
        check, message = self.checker.check(request.get(self.body_field, request), answer)
        self.verdicts[check] += 1
        return check, message, answer, cost

    def _compare_model(self, custom_id: str, request: Mapping[str, Any], model: Any
                       ) -> None:
        """Count an answer whose model is neither its request's nor a dated snapshot of
        it (``gpt-4o-mini-2024-07-18`` answers ``gpt-4o-mini``)."""
        body = request.get(self.body_field)
        asked = body.get("model") if isinstance(body, dict) else None
        if type(asked) is not str or type(model) is not str:
            return
        self.to_compare -= 1
        summary = self.summary
        summary.models_compared += 1
        if model != asked and not model.startswith(asked + "-"):
            summary.other_models += 1
            if summary.other_model is None:
                summary.other_model = (custom_id, asked, model)

    def _tally(self, model: Any, counts: UsageCounts, request: Mapping[str, Any]
               ) -> float | None:
        """Adds one answer's tokens to its model's totals (the model the request named,
        where the answer names none); returns the answer's cost (the same prices as the
        summary's, :class:`batchio.pricing.AnswerCost`)."""
        input_tokens, output_tokens, cached, reasoning, _total, cache_writes, unusable = counts
        if unusable:
            # A count that could not be used is left out of the sums: said, not hidden.
            self.summary.unusable_usage += 1
        if input_tokens is None and output_tokens is None:
            return None
        if not isinstance(model, str):
            requested = request.get(self.body_field)
            model = requested.get("model") if isinstance(requested, dict) else None
        key = model if isinstance(model, str) else "(no model)"
        totals = self.usage.get(key)
        if totals is None:
            totals = self.usage[key] = TokenUsage()
        totals.add(input_tokens, cached, output_tokens, reasoning, cache_writes)
        return self.price(key, input_tokens, cached, output_tokens, cache_writes)


class _ResultReader:
    """Reads an indexed result line back (one positioned read) and classifies it."""

    #: The request the line last read repeats (kept by :class:`_EchoingResultReader`).
    echoed: Any = None

    def __init__(self, paths: Sequence[str], names: Sequence[str], locations: _Locations,
                 classify: Callable[[Any], Outcome],
                 unreadable: Callable[[str, Exception, str, int], Outcome],
                 read_success: Callable[[bytes], Outcome | None] | None = None) -> None:
        self.names = names
        self.locations = locations
        self.classify = classify
        self.read_success = read_success
        self.unreadable = unreadable
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder().decode
        self.descriptors: list[int] = []
        try:
            for path in paths:
                self.descriptors.append(os.open(path, os.O_RDONLY))
        except BaseException:
            self.close()
            raise

    def rank(self, ordinal: int) -> int:
        """The :func:`outcome_rank` of result ``ordinal``'s outcome (:func:`line_rank`)."""
        locations = self.locations
        return line_rank(os.pread(self.descriptors[locations.files[ordinal]],
                                  locations.lengths[ordinal], locations.offsets[ordinal]),
                         self.classify)

    def outcome(self, ordinal: int, custom_id: str) -> tuple[Outcome, str, int, bytes]:
        """The outcome of result ``ordinal``, with its file, line and exact bytes."""
        locations = self.locations
        file = locations.files[ordinal]
        path, line = self.names[file], locations.lines[ordinal]
        raw = os.pread(self.descriptors[file], locations.lengths[ordinal],
                       locations.offsets[ordinal])
        if self.read_success is not None:
            outcome = self.read_success(raw)
            if outcome is not None:
                return outcome, path, line, raw
        try:
            return self.classify(self.decode(raw)), path, line, raw
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            return self.unreadable(custom_id, exc, path, line), path, line, raw

    def close(self) -> None:
        for descriptor in self.descriptors:
            os.close(descriptor)
        self.descriptors = []


class _EchoingResultReader(_ResultReader):
    """A :class:`_ResultReader` for results that repeat their requests (Bedrock, Vertex
    AI): it keeps the request the line last read repeats (``echoed``), for the row's check
    that it is its input's, without reading the line again. Only these joins pay for it."""

    def __init__(self, paths: Sequence[str], names: Sequence[str], locations: _Locations,
                 classify: Callable[[Any], Outcome],
                 unreadable: Callable[[str, Exception, str, int], Outcome],
                 echo_field: str) -> None:
        super().__init__(paths, names, locations, classify, unreadable)
        decode = self.decode

        def keeping(raw: bytes) -> Any:
            self.echoed = None  # a line that cannot be read repeats nothing
            value = decode(raw)
            self.echoed = value.get(echo_field) if type(value) is dict else None
            return value

        self.decode = keeping


class _Locations:
    """Where each indexed result line is, by result ordinal, in compact arrays."""

    def __init__(self) -> None:
        self.files: array[int] = array("h")
        self.offsets: array[int] = array("q")
        self.lengths: array[int] = array("q")
        self.lines: array[int] = array("q")
        #: Per result: 0, or (input file + 1) << 32 | input line of the input that claimed it.
        self.claimed_by: array[int] = array("q")

    def __len__(self) -> int:
        return len(self.files)


def join(
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    outputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = (),
    errors: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = (),
    provider: str | Profile | None = None,
    strict: bool = False,
    index: str = "auto",
    spill_threshold: int = DEFAULT_SPILL_THRESHOLD,
    on_progress: Callable[[int], None] | None = None,
    check_outputs: bool = False,
    results: str | os.PathLike[str] | None = None,
) -> Join:
    """Join result files back to their inputs; iterate for rows in input order.

    ``inputs``, ``outputs`` and ``errors`` are paths (several of each for sharded jobs);
    which result file a line is in does not matter, its content decides its status. An
    input may be a shard folder's ``manifest.json`` (or the folder): its shards, in order.
    ``results`` is a folder whose result files (``*.jsonl``, ``.gz``, ``.zst``) are joined
    as outputs.
    ``index`` is ``"memory"``, ``"sqlite"``, or ``"auto"`` (memory, spilling to SQLite past
    ``spill_threshold`` inputs). With ``strict=True``, orphans or duplicates raise
    :class:`JoinError` before any row is yielded. Duplicate ids among the inputs always
    raise :class:`DuplicateIdError`: their results could not be told apart. With
    ``check_outputs=True`` each succeeded answer is checked against what its request asked
    for (:mod:`batchio.outputs`): the verdict is the row's ``output_check`` and the summary
    counts them. The summary also sums tokens per model and prices them
    (``summary.to_dict()["usage"]`` and ``["cost"]``).

    The rows are also a table: :meth:`Join.to_arrow`, :meth:`Join.iter_batches`,
    :meth:`Join.to_polars`, :meth:`Join.to_pandas` (the ``[arrow]`` extra).
    """
    if index not in ("auto", "memory", "sqlite"):
        raise UsageError(f"index must be auto, memory or sqlite, not {index!r}")
    if type(spill_threshold) is not int or spill_threshold < 0:
        raise UsageError(f"spill_threshold must be a whole number of at least 0, not "
                         f"{spill_threshold!r}")
    paths = request_files(inputs, what="join")
    output_paths = path_list(outputs, "outputs")
    error_paths = path_list(errors, "errors")
    if results is not None:
        output_paths += result_files(results)
    # A file read in two roles would count its lines twice (a result file named as --output
    # and --errors), or read requests as results.
    check_read_once({"an input": paths, "a result file": [*output_paths, *error_paths]})
    for path in (*paths, *output_paths, *error_paths):
        # A file that is not there is said now, as the command line says it, not when the
        # rows are first read.
        if path != "-":
            try:
                if is_plain_file(path):
                    # Opened, not only looked at: a file without read permission is said as
                    # unreadable, not met later as an error of an output. (A FIFO is not
                    # opened twice: its writer would lose what it wrote in between.)
                    open(path, "rb").close()
                else:
                    os.stat(path)
            except OSError as exc:
                raise open_error(path, exc) from exc
    for path in (*output_paths, *error_paths):
        if not reads_once(path):
            wrong = not_results(path)
            if wrong is not None:
                raise JoinError(wrong, code="wrong_file_kind", path=path)
    return Join(paths, output_paths, error_paths,
                profile_for(provider, paths[0] if paths else None), strict, index,
                spill_threshold, on_progress, check_outputs)


#: What a retry file holds by default: failed rows with a retryable cause (``retryable``),
#: and expired, cancelled and missing ones.
DEFAULT_RETRY_STATUSES: frozenset[str] = frozenset({"retryable", "expired", "cancelled",
                                                    "missing"})
#: What a retry file may be asked to hold: statuses (``failed`` is every failure,
#: ``retryable`` the failures worth resubmitting unchanged), and the output checks' findings
#: (a join with ``check_outputs=True``) such as ``truncated`` or ``invalid_json``.
RETRY_CHOICES: tuple[str, ...] = (*STATUSES, "retryable",
                                  *(check for check in OUTPUT_CHECKS
                                    if check not in ("ok", "not_checked")))


def retry_choices(statuses: str | Iterable[str]) -> frozenset[str]:
    """What a retry file holds, from the words of ``--retry-status`` / ``retry_statuses=``
    (a comma-separated string or a list): ``default`` (:data:`DEFAULT_RETRY_STATUSES`),
    statuses and output checks (:data:`RETRY_CHOICES`), and ``+X`` / ``-X`` to add to or
    take from the default (``+truncated,+schema_violation`` is the default and those two);
    a list without ``+`` or ``-`` replaces the default. A :class:`UsageError` names an
    unknown word, and an empty list (an unset shell variable) is refused: it would retry
    nothing without a word."""
    words = [word.strip() for word in (statuses.split(",") if isinstance(statuses, str)
                                       else statuses)]
    words = [word for word in words if word]
    if not words:
        raise UsageError("the retry statuses are empty: name at least one (or 'default'), or "
                         "leave the option out for the default set", code="invalid_argument")
    relative = any(word[0] in "+-" for word in words)
    chosen = set(DEFAULT_RETRY_STATUSES) if relative else set()
    for word in words:
        sign, name = (word[0], word[1:].strip()) if word[0] in "+-" else ("", word)
        named = DEFAULT_RETRY_STATUSES if name == "default" else {name}
        unknown = sorted(named - set(RETRY_CHOICES))
        if unknown:
            raise UsageError(f"unknown status {unknown[0]!r}; choose from default, "
                             f"{', '.join(RETRY_CHOICES)} (+X adds to the default, -X takes "
                             "from it)")
        if sign == "-":
            # failed is every failure: taking it away takes the retryable ones too.
            chosen -= named | ({"retryable"} if "failed" in named else set())
        else:
            chosen |= named
    if not chosen:
        raise UsageError(f"the retry statuses {','.join(words)} choose nothing: everything "
                         "named is taken away again; name what to retry",
                         code="invalid_argument")
    return frozenset(chosen)


def should_retry(row: JoinedRow, statuses: Iterable[str] | None = None) -> bool:
    """Whether a row belongs in a retry file.

    By default: expired, cancelled and missing rows, and failed rows with a retryable cause
    (HTTP 429 or 5xx, or the provider's rate-limit and timeout codes). Given ``statuses``
    (as :func:`retry_choices` reads them), every row with one of them as its status or its
    output check; ``retryable`` takes the failed rows with a retryable cause.
    """
    chosen = DEFAULT_RETRY_STATUSES if statuses is None else (
        statuses if isinstance(statuses, (set, frozenset)) else retry_choices(statuses))
    return is_retried(row.status, row.output_check, row.retryable, chosen)


def is_retried(status: str, output_check: str, retryable: bool,
               chosen: frozenset[str] | set[str]) -> bool:
    """The one rule of what a retry file holds: an outcome whose status or output check is
    among ``chosen`` (:func:`retry_choices`), or a failure with a retryable cause where
    ``retryable`` is chosen."""
    return (status in chosen or output_check in chosen
            or (status == "failed" and retryable and "retryable" in chosen))


class RetryWriter(ClosesOnExit):
    """Writes the original request line of each row worth retrying, byte for byte, ready to
    validate and resubmit; atomically, when closed (a context manager).

    ``statuses`` chooses the rows (default: :func:`should_retry`'s). Use it to write a
    retry file while the rows also go elsewhere; :func:`write_retry` when they do not.
    """

    def __init__(self, target: str | os.PathLike[str], *,
                 statuses: Iterable[str] | None = None) -> None:
        self.statuses = None if statuses is None else retry_choices(statuses)
        self.count = 0
        self._written: set[str] = set()
        self._writer = JsonlWriter(target)

    def add(self, row: JoinedRow) -> bool:
        """Write the row's request if it is to be retried; True when it was. A row whose
        custom_id was written already is refused (:class:`UsageError`): the provider
        refuses a file that repeats an id."""
        if not should_retry(row, self.statuses):
            return False
        if row.custom_id in self._written:
            raise UsageError(f"custom_id {quote(row.custom_id)} is in the retry file already: "
                             "a provider refuses a file that repeats an id (add each row "
                             "once)", code="duplicate_custom_id", custom_id=row.custom_id)
        self._written.add(row.custom_id)
        self._writer.write_raw(row.request_raw)
        self.count += 1
        return True

    def add_lines(self, lines: bytes, count: int) -> None:
        """Write ``count`` request lines chosen elsewhere (by the same rule), as they are."""
        if lines:
            self._writer.write_raw(lines)
        self.count += count

    def close(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        self._writer.abort()


def write_retry(rows: Iterable[JoinedRow], target: str | os.PathLike[str], *,
                statuses: Iterable[str] | None = None) -> int:
    """Write the original request line of every row worth retrying to ``target`` (reading
    the rows through); returns how many were written. See :class:`RetryWriter`."""
    with RetryWriter(target, statuses=statuses) as writer:
        for row in rows:
            writer.add(row)
    return writer.count

