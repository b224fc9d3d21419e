"""The Batch object a batch API returns: a typed record, its lifecycle, and checks.

Owns :class:`Batch` (parsed from a dict, a JSON string, or an SDK object with
``model_dump()``, losslessly), :class:`BatchStatus` with the lifecycle as data,
:meth:`Batch.check` for self-contradictions, :meth:`Batch.reconcile` against downloaded
files, and :class:`BatchHistory` for a polling log. No SDK is imported.
"""

from __future__ import annotations

import enum
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import msgspec
import orjson

from .errors import BatchObjectError, Problem, SourceError, UsageError, quote
from .jsonl import (
    is_compressed,
    json_type,
    names_a_level_down,
    read_lines,
    read_small_file,
)
from .kinds import not_a_batch_object
from .providers import get_profile


class BatchStatus(str, enum.Enum):
    """The eight statuses of a batch."""

    VALIDATING = "validating"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def timestamp_field(self) -> str:
        """The Batch field stamped when the batch enters this status."""
        return _STATUS_TIMESTAMP[self]

    def can_become(self, other: BatchStatus) -> bool:
        """Whether ``other`` can directly follow this status."""
        return other in TRANSITIONS[self]


TERMINAL = frozenset({BatchStatus.FAILED, BatchStatus.COMPLETED, BatchStatus.EXPIRED,
                      BatchStatus.CANCELLED})

#: The lifecycle as data: each status and the statuses that may directly follow it.
#: Which moves into cancelling and expired exist is inferred from the API reference, not
#: documented; change this table, not code, if a provider shows another.
TRANSITIONS: Mapping[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.VALIDATING: frozenset({BatchStatus.IN_PROGRESS, BatchStatus.FAILED,
                                       BatchStatus.CANCELLING}),
    BatchStatus.IN_PROGRESS: frozenset({BatchStatus.FINALIZING, BatchStatus.CANCELLING,
                                        BatchStatus.EXPIRED}),
    BatchStatus.FINALIZING: frozenset({BatchStatus.COMPLETED, BatchStatus.EXPIRED}),
    BatchStatus.CANCELLING: frozenset({BatchStatus.CANCELLED}),
    BatchStatus.FAILED: frozenset(),
    BatchStatus.COMPLETED: frozenset(),
    BatchStatus.EXPIRED: frozenset(),
    BatchStatus.CANCELLED: frozenset(),
}

_STATUS_TIMESTAMP = {
    BatchStatus.VALIDATING: "created_at",
    BatchStatus.IN_PROGRESS: "in_progress_at",
    BatchStatus.FINALIZING: "finalizing_at",
    BatchStatus.COMPLETED: "completed_at",
    BatchStatus.FAILED: "failed_at",
    BatchStatus.EXPIRED: "expired_at",
    BatchStatus.CANCELLING: "cancelling_at",
    BatchStatus.CANCELLED: "cancelled_at",
}

TIMESTAMP_FIELDS = ("created_at", "in_progress_at", "expires_at", "finalizing_at",
                    "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at")
_STRING_FIELDS = ("endpoint", "input_file_id", "completion_window", "output_file_id",
                  "error_file_id", "model")
_METADATA_PAIRS, _METADATA_KEY, _METADATA_VALUE = 16, 64, 512


def reachable(start: BatchStatus) -> frozenset[BatchStatus]:
    """Every status reachable from ``start`` (itself included) through the lifecycle."""
    seen = {start}
    frontier = [start]
    while frontier:
        for following in TRANSITIONS[frontier.pop()]:
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return frozenset(seen)


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """How many requests the batch holds, and how many completed or failed so far."""

    total: int
    completed: int
    failed: int

    @property
    def done(self) -> int:
        return self.completed + self.failed


@dataclass(frozen=True, slots=True)
class BatchErrorEntry:
    """One entry of ``errors.data``: why the batch (or one of its lines) was rejected."""

    code: str | None
    message: str | None
    param: str | None = None
    line: int | None = None


def _fail(name: str, message: str) -> BatchObjectError:
    return BatchObjectError(f"Batch field {name!r} {message}", param=name)


#: The latest time a Batch object may carry (the end of year 9999, the last a date can
#: name): a larger number is no time at all, and durations from it overflow.
_LAST_SECOND = 253_402_300_799


def _int_or_none(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise _fail(name, f"must be an integer (Unix seconds) or null, not {quote(value)}")
    return _seconds(name, value)


def _seconds(name: str, value: int) -> int:
    """A time in Unix seconds, refused outside 0 to :data:`_LAST_SECOND`."""
    if not 0 <= value <= _LAST_SECOND:
        raise _fail(name, f"must be Unix seconds from 0 to {_LAST_SECOND:,} (year 9999), "
                          f"not {quote(value)}")
    return value


def _str_or_none(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise _fail(name, f"must be a string or null, not {value!r}")
    return value


def _as_mapping(source: Any) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    if isinstance(source, (str, bytes)):
        try:
            value = orjson.loads(source)
        except orjson.JSONDecodeError as exc:
            raise BatchObjectError(f"not a JSON Batch object: {exc}") from None
        return _as_mapping(value)
    dump = getattr(source, "model_dump", None)
    if callable(dump):
        return _as_mapping(dump())
    raise BatchObjectError(f"cannot read a Batch object from {type(source).__name__}")


@dataclass(frozen=True, slots=True)
class Batch:
    """A Batch object, typed; ``extra`` keeps fields this version does not know."""

    id: str
    status: BatchStatus
    created_at: int
    object: str = "batch"
    endpoint: str | None = None
    errors: tuple[BatchErrorEntry, ...] | None = None
    input_file_id: str | None = None
    completion_window: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: RequestCounts | None = None
    metadata: Mapping[str, str] | None = None
    model: str | None = None
    usage: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: The ``errors`` object's own fields besides ``data`` (``object``), kept for to_dict.
    errors_extra: Mapping[str, Any] | None = None

    @classmethod
    def from_anthropic(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """An Anthropic message batch as a Batch (see :func:`from_anthropic`)."""
        return from_anthropic(source)

    @classmethod
    def from_together(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """A Together batch job as a Batch (see :func:`from_together`)."""
        return from_together(source)

    @classmethod
    def from_mistral(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """A Mistral batch job as a Batch (see :func:`from_mistral`)."""
        return from_mistral(source)

    @classmethod
    def from_gemini(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """A Gemini batch job as a Batch (see :func:`from_gemini`)."""
        return from_gemini(source)

    @classmethod
    def from_bedrock(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """A Bedrock model invocation job (or its manifest.json.out) as a Batch (see
        :func:`from_bedrock`)."""
        return from_bedrock(source)

    @classmethod
    def from_vertex(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """A Vertex AI BatchPredictionJob as a Batch (see :func:`from_vertex`)."""
        return from_vertex(source)

    @classmethod
    def from_dict(cls, source: Mapping[str, Any] | str | bytes | Any) -> Batch:
        """Parse a dict, a JSON string, or an object with ``model_dump()``.

        Raises :class:`BatchObjectError` naming the field when a field has the wrong type
        or the status is unknown.
        """
        data = _as_mapping(source)
        batch_id = data.get("id")
        if not isinstance(batch_id, str) or not batch_id:
            raise _fail("id", "must be a non-empty string")
        try:
            status = BatchStatus(data.get("status"))
        except ValueError:
            raise _fail("status", f"is not a known status: {data.get('status')!r}") from None
        created_at = _int_or_none(data, "created_at")
        if created_at is None:
            raise _fail("created_at", "must be an integer (Unix seconds), not null")
        known = {name: _int_or_none(data, name) for name in TIMESTAMP_FIELDS[1:]}
        strings = {name: _str_or_none(data, name) for name in _STRING_FIELDS}
        errors, errors_extra = cls._parse_errors(data.get("errors"))
        metadata = data.get("metadata")
        if metadata is not None and not (isinstance(metadata, Mapping) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
            raise _fail("metadata", "must be an object of string pairs or null")
        usage = data.get("usage")
        if usage is not None and not isinstance(usage, Mapping):
            raise _fail("usage", "must be an object or null")
        handled = {"id", "object", "status", "created_at", "errors", "request_counts",
                   "metadata", "usage", *TIMESTAMP_FIELDS, *_STRING_FIELDS}
        return cls(
            id=batch_id, status=status, created_at=created_at,
            object=data.get("object", "batch"),
            errors=errors, errors_extra=errors_extra,
            request_counts=cls._parse_counts(data.get("request_counts")),
            metadata=metadata, usage=usage,
            extra={key: value for key, value in data.items() if key not in handled},
            **known, **strings,  # type: ignore[arg-type]
        )

    @staticmethod
    def _parse_counts(value: Any) -> RequestCounts | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise _fail("request_counts", "must be an object or null")
        counts = []
        for name in ("total", "completed", "failed"):
            count = value.get(name, 0)
            if type(count) is not int or count < 0:
                raise _fail(f"request_counts.{name}", f"must be a whole number, not {count!r}")
            counts.append(count)
        return RequestCounts(*counts)

    @staticmethod
    def _parse_errors(value: Any
                      ) -> tuple[tuple[BatchErrorEntry, ...] | None, Mapping[str, Any] | None]:
        if value is None:
            return None, None
        if isinstance(value, list):
            value = {"object": "list", "data": value}
        if not isinstance(value, Mapping):
            raise _fail("errors", "must be an object with data, or null")
        entries = []
        for item in value.get("data") or ():
            if not isinstance(item, Mapping):
                raise _fail("errors.data", "entries must be objects")
            line = item.get("line")
            if line is not None and type(line) is not int:
                raise _fail("errors.data.line", f"must be an integer or null, not {line!r}")
            entries.append(BatchErrorEntry(item.get("code"), item.get("message"),
                                           item.get("param"), line))
        rest = {key: item for key, item in value.items() if key != "data"}
        return tuple(entries), rest

    def to_dict(self) -> dict[str, Any]:
        """The API's shape, with every unknown field kept: ``from_dict(to_dict())`` is equal."""
        data: dict[str, Any] = {"id": self.id, "object": self.object,
                                "endpoint": self.endpoint}
        if self.errors is None:
            data["errors"] = None
        else:
            data["errors"] = {**(self.errors_extra or {}), "data": [
                {"code": e.code, "message": e.message, "param": e.param, "line": e.line}
                for e in self.errors]}
        data.update({
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status.value,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
        })
        for name in TIMESTAMP_FIELDS:
            data[name] = getattr(self, name)
        counts = self.request_counts
        data["request_counts"] = None if counts is None else {
            "total": counts.total, "completed": counts.completed, "failed": counts.failed}
        data["metadata"] = None if self.metadata is None else dict(self.metadata)
        data["model"] = self.model
        data["usage"] = None if self.usage is None else dict(self.usage)
        data.update(self.extra)
        return data

    def time(self, name: str) -> datetime | None:
        """A timestamp field (``created_at``, ``completed_at``...) as an aware UTC datetime."""
        if name not in TIMESTAMP_FIELDS:
            raise KeyError(f"{name!r} is not a timestamp field")
        value: int | None = getattr(self, name)
        return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)

    def durations(self) -> dict[str, int | None]:
        """Seconds spent queued (created to in progress), running (to finalizing or the
        end), and finalizing (to completed); None where the batch has not got that far."""
        def between(start: int | None, end: int | None) -> int | None:
            return None if start is None or end is None else end - start

        ended = (self.finalizing_at or self.completed_at or self.failed_at or self.expired_at
                 or self.cancelling_at or self.cancelled_at)
        return {
            "queued": between(self.created_at, self.in_progress_at),
            "running": between(self.in_progress_at, ended),
            "finalizing": between(self.finalizing_at, self.completed_at),
        }

    def reached(self) -> frozenset[BatchStatus]:
        """The statuses whose timestamps are set: the ones the batch says it went through."""
        return frozenset(status for status, name in _STATUS_TIMESTAMP.items()
                         if getattr(self, name) is not None)

    def check(self) -> list[Problem]:
        """Every way the object contradicts itself, each a Problem with the field as param.

        Each rule is one function of the batch (:data:`_BATCH_RULES`) yielding (field,
        message) pairs."""
        return [Problem(code="inconsistent_batch", message=message, param=param)
                for rule in _BATCH_RULES for param, message in rule(self)]

    @property
    def provider(self) -> str:
        """The provider whose object this was read from (its original is kept under its
        name in ``extra``; OpenAI's shape, and its gateways', have none)."""
        return next((name for name in _READERS if isinstance(self.extra.get(name), Mapping)),
                    "openai")

    def reconcile(
        self,
        *,
        output: str | os.PathLike[str] | None = None,
        errors: str | os.PathLike[str] | None = None,
        inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        provider: str | None = None,
        results: Iterable[str | os.PathLike[str]] = (),
    ) -> CrossCheck:
        """Count the lines of the downloaded files and compare them with ``request_counts``.

        Which file a line is in does not decide its fate (HTTP failures can sit in the
        output file): each line is read by the provider's result shape, and a successful
        line is one that shape calls succeeded. ``results`` are all of the job's result
        files (output and error files alike), so both counts are compared.
        """
        profile = get_profile(provider or self.provider)
        classify = profile.classify_result
        succeeded = failed = 0
        results = list(results)
        for path in (output, errors, *results):
            if path is None:
                continue
            for line in read_lines(path):
                try:
                    ok = classify(line.value).status == "succeeded"
                except (KeyError, TypeError, ValueError, AttributeError):
                    ok = False
                if ok:
                    succeeded += 1
                else:
                    failed += 1
        # A job of several input files (Bedrock takes a folder of them) counts them all.
        input_paths = [] if inputs is None else [inputs] if isinstance(
            inputs, (str, os.PathLike)) else list(inputs)
        input_lines = None if inputs is None else sum(
            1 for path in input_paths for _ in read_lines(path))
        problems: list[Problem] = []
        counts = self.request_counts

        def add(param: str, message: str) -> None:
            problems.append(Problem(code="inconsistent_batch", message=message, param=param))

        if counts is None:
            if profile.batch_counts:
                add("request_counts", "the batch has no request_counts to compare with")
        else:
            if (output is not None or results) and succeeded != counts.completed:
                add("request_counts.completed",
                    f"the server says {counts.completed:,} completed but the files hold "
                    f"{succeeded:,} successful lines")
            one_file = profile.one_result_file
            if (errors is not None or results or (one_file and output is not None)) \
                    and failed != counts.failed:
                add("request_counts.failed",
                    f"the server says {counts.failed:,} failed but the files hold "
                    f"{failed:,} failed lines")
            if input_lines is not None and input_lines != counts.total:
                add("request_counts.total",
                    f"the server says {counts.total:,} requests but the input "
                    + (f"file has {input_lines:,} lines" if len(input_paths) == 1 else
                       f"files have {input_lines:,} lines"))
        return CrossCheck(succeeded, failed, input_lines, problems)


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """What the downloaded files hold, and how that differs from ``request_counts``."""

    succeeded_lines: int
    failed_lines: int
    input_lines: int | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a running batch is: share done, rate, and an estimate of the time left."""

    done: int
    total: int
    #: None when no request count is known (0 of 0).
    percent: float | None
    requests_per_second: float | None
    #: None while running: a Batch object does not say when it was polled, so no rate of
    #: progress can be had from it; 0 once the batch has ended.
    eta_seconds: float | None
    #: How long the batch has been (or was) running, from ``in_progress_at``.
    running_seconds: float | None = None


# --- the rules of Batch.check, one function each: (field, message) for every breach -------

_Breaches = Iterator[tuple[str, str]]


#: Providers whose batches are jobs of their own, read into a Batch: such a job fails after
#: it ran (Vertex AI's JOB_STATE_FAILED keeps the startTime of its run, google-genai's
#: ``BatchJob.start_time``), where OpenAI's failed batch is one whose file did not
#: validate; and it may end partly done (JOB_STATE_PARTIALLY_SUCCEEDED: "some results may
#: be missing", Bedrock's PartiallyCompleted).
_JOB_PROVIDERS = frozenset({"vertex", "gemini", "bedrock", "fireworks"})


def _partly_done(batch: Batch) -> bool:
    """Whether a job's own state says it ended with part of its requests not done."""
    original = batch.extra.get(batch.provider)
    if batch.provider not in _JOB_PROVIDERS or not isinstance(original, Mapping):
        return False
    state = original.get("state", original.get("status"))
    return "PARTIAL" in str(state).upper()


def _timestamps_of_reached_statuses(batch: Batch) -> _Breaches:
    """A timestamp is set only for a status on some path from validating to the current."""
    possible = {status for status in BatchStatus
                if batch.status in reachable(status)
                and status in reachable(BatchStatus.VALIDATING)}
    if batch.status is BatchStatus.FAILED and batch.provider in _JOB_PROVIDERS:
        possible |= {BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING}
    for status in batch.reached():
        if status not in possible:
            yield (status.timestamp_field,
                   f"{status.timestamp_field} is set, but a {batch.status.value} batch never "
                   f"was {status.value}")


#: The ``object`` of a Batch read from a job's summary rather than its job object (Bedrock's
#: manifest.json.out: counts, with no times and no file ids to check).
SUMMARY_OBJECT = "batch.summary"


def _terminal_has_its_timestamp(batch: Batch) -> _Breaches:
    name = batch.status.timestamp_field
    if batch.status.is_terminal and getattr(batch, name) is None \
            and batch.object != SUMMARY_OBJECT:
        yield name, f"a {batch.status.value} batch has no {name}"


def _timestamps_in_order(batch: Batch) -> _Breaches:
    """created, in progress, finalizing and completed in that order; nothing but expiry
    before creation; cancelled after cancelling."""
    order = ["created_at", "in_progress_at", "finalizing_at", "completed_at"]
    stamped = [(name, getattr(batch, name)) for name in order
               if getattr(batch, name) is not None]
    for (earlier, a), (later, b) in itertools.pairwise(stamped):
        if b < a:
            yield later, f"{later} ({b}) is before {earlier} ({a})"
    for name in TIMESTAMP_FIELDS[1:]:
        value = getattr(batch, name)
        if value is not None and value < batch.created_at and name != "expires_at":
            yield name, f"{name} ({value}) is before created_at ({batch.created_at})"
    if batch.cancelling_at is not None and batch.cancelled_at is not None \
            and batch.cancelled_at < batch.cancelling_at:
        yield "cancelled_at", "cancelled_at is before cancelling_at"


def _counts_add_up(batch: Batch) -> _Breaches:
    counts = batch.request_counts
    if counts is not None and counts.done > counts.total:
        yield ("request_counts", f"completed ({counts.completed}) + failed ({counts.failed})"
               f" is more than total ({counts.total})")


def _completed_counts_every_request(batch: Batch) -> _Breaches:
    """A completed batch has done every request: none is left uncounted (but a job that
    says it ended partly done)."""
    counts = batch.request_counts
    if batch.status is BatchStatus.COMPLETED and counts is not None \
            and counts.done < counts.total and not _partly_done(batch):
        yield ("request_counts", f"a completed batch counts {counts.done:,} of its "
               f"{counts.total:,} requests as completed or failed")


def _completed_has_a_file(batch: Batch) -> _Breaches:
    if batch.status is BatchStatus.COMPLETED and batch.output_file_id is None \
            and batch.error_file_id is None and batch.object != SUMMARY_OBJECT:
        yield "output_file_id", "a completed batch has neither an output nor an error file"


def _metadata_within_limits(batch: Batch) -> _Breaches:
    if batch.metadata is None:
        return
    if len(batch.metadata) > _METADATA_PAIRS:
        yield "metadata", f"{len(batch.metadata)} pairs; at most {_METADATA_PAIRS}"
    for key, value in batch.metadata.items():
        if len(key) > _METADATA_KEY:
            yield f"metadata.{key}", f"key longer than {_METADATA_KEY} characters"
        if len(value) > _METADATA_VALUE:
            yield f"metadata.{key}", f"value longer than {_METADATA_VALUE} characters"


_BATCH_RULES: tuple[Callable[[Batch], _Breaches], ...] = (
    _timestamps_of_reached_statuses, _terminal_has_its_timestamp, _timestamps_in_order,
    _counts_add_up, _completed_counts_every_request, _completed_has_a_file,
    _metadata_within_limits)


class BatchHistory:
    """A polling log of one batch: checks the sequence is a legal path, reports progress."""

    def __init__(self, batches: Iterable[Batch | Mapping[str, Any]]) -> None:
        self.batches: list[Batch] = [
            b if isinstance(b, Batch) else Batch.from_dict(b) for b in batches]
        if not self.batches:
            raise BatchObjectError("a batch history needs at least one Batch object")

    @property
    def latest(self) -> Batch:
        return self.batches[-1]

    def check(self) -> list[Problem]:
        """Problems with the sequence: another id, or a status that cannot follow the last.

        Polls may miss statuses (validating, then completed), so a step is legal when the
        new status can be reached from the previous one.
        """
        problems: list[Problem] = []
        first = self.batches[0]
        for number, (before, after) in enumerate(itertools.pairwise(self.batches), 2):
            if after.id != first.id:
                problems.append(Problem(code="illegal_transition", line=number, param="id",
                                        message=f"poll {number} is batch {after.id}, "
                                        f"not {first.id}"))
            elif after.status not in reachable(before.status):
                problems.append(Problem(
                    code="illegal_transition", line=number, param="status",
                    message=f"{before.status.value} cannot become {after.status.value}"))
        for number, batch in enumerate(self.batches, 1):
            problems.extend(Problem(code=p.code, message=p.message, line=number,
                                    param=p.param) for p in batch.check())
        return problems

    def progress(self, now: float | None = None) -> Progress | None:
        """Share of requests done, how long it has run, its rate, and the time left.

        ``now`` is when the latest object was polled (Unix seconds). A Batch object does
        not say, so without ``now`` a running batch has no rate and no ETA; an ended one
        is measured to its end. An ETA that would fall after ``expires_at`` is not given.
        None when the batch has no request counts.
        """
        batch = self.latest
        counts = batch.request_counts
        if counts is None:
            return None
        percent = 100.0 * counts.done / counts.total if counts.total else None
        ended = [getattr(batch, name) for name in ("finalizing_at", "completed_at",
                                                   "failed_at", "expired_at", "cancelled_at")]
        end = min((t for t in ended if t is not None), default=None)
        observed = now if now is not None else end
        running = None
        if batch.in_progress_at is not None:
            clock = observed if observed is not None else time.time()
            running = max(0.0, clock - batch.in_progress_at)
        rate = eta = None
        if batch.status.is_terminal:
            eta = 0.0
        if observed is not None and running and counts.done:
            rate = counts.done / running
            if not batch.status.is_terminal:
                eta = (counts.total - counts.done) / rate
                if batch.expires_at is not None and observed + eta > batch.expires_at:
                    eta = None
        return Progress(counts.done, counts.total, percent, rate, eta, running)


def _unix_seconds(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    if not isinstance(value, str):
        raise _fail(name, f"must be an RFC 3339 time or null, not {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(name, f"is not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return _seconds(name, int(moment.timestamp()))


def from_anthropic(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """An Anthropic message batch (``processing_status``, RFC 3339 times, five request
    counts) as a :class:`Batch`; every field of the original is kept in ``extra``.

    ``in_progress`` stays in progress, ``canceling`` is cancelling, and an ``ended`` batch
    is cancelled when it was cancelled, expired when any request expired, else completed.
    ``completed`` counts the succeeded requests, ``failed`` the errored, cancelled and
    expired ones.
    """
    data = dict(_as_mapping(source))
    counts = data.get("request_counts") or {}
    if not isinstance(counts, Mapping):
        raise _fail("request_counts", "must be an object")
    number = {name: counts.get(name, 0) for name in
              ("processing", "succeeded", "errored", "canceled", "expired")}
    for name, value in number.items():
        if type(value) is not int or value < 0:
            raise _fail(f"request_counts.{name}", f"must be a whole number, not {value!r}")
    processing = data.get("processing_status")
    created = _unix_seconds(data.get("created_at"), "created_at")
    ended = _unix_seconds(data.get("ended_at"), "ended_at")
    cancel_initiated = _unix_seconds(data.get("cancel_initiated_at"), "cancel_initiated_at")
    if processing == "in_progress":
        status = "in_progress"
    elif processing == "canceling":
        status = "cancelling"
    elif processing == "ended":
        status = ("cancelled" if cancel_initiated is not None
                  else "expired" if number["expired"] else "completed")
    else:
        raise _fail("processing_status", f"is not a known status: {processing!r}")
    converted: dict[str, Any] = {
        "id": data.get("id"),
        "object": "batch",
        "endpoint": "/v1/messages",
        "status": status,
        "created_at": created,
        "in_progress_at": created,
        "expires_at": _unix_seconds(data.get("expires_at"), "expires_at"),
        "cancelling_at": cancel_initiated,
        "output_file_id": data.get("results_url"),
        "request_counts": {"total": sum(number.values()), "completed": number["succeeded"],
                           "failed": number["errored"] + number["canceled"]
                           + number["expired"]},
        # The original, whole: to_dict() gives it back untouched.
        "anthropic": data,
    }
    converted[{"completed": "completed_at", "expired": "expired_at",
               "cancelled": "cancelled_at"}.get(status, "finalizing_at")] = (
        ended if status in ("completed", "expired", "cancelled") else None)
    return Batch.from_dict(converted)


def _upper_status(data: Mapping[str, Any], table: Mapping[str, str], provider: str) -> str:
    status = data.get("status")
    if not isinstance(status, str) or status.upper() not in table:
        raise _fail("status", f"is not a known {provider} status: {status!r}")
    return table[status.upper()]


def _ended(converted: dict[str, Any], status: str, ended: int | None) -> Batch:
    """A provider's object, converted, as a :class:`Batch`: its end time (``ended``) set
    in the field of its terminal status, where it has reached one."""
    terminal = _terminal_field(status)
    if terminal is not None:
        converted[terminal] = ended
    return Batch.from_dict(converted)


def _terminal_field(status: str) -> str | None:
    return {"completed": "completed_at", "failed": "failed_at", "expired": "expired_at",
            "cancelled": "cancelled_at"}.get(status)


# Together batch job statuses (together-py BatchJob.status; docs.together.ai/docs/batch-inference).
_TOGETHER_STATUSES = {"VALIDATING": "validating", "IN_PROGRESS": "in_progress",
                      "COMPLETED": "completed", "FAILED": "failed", "EXPIRED": "expired",
                      "CANCELING": "cancelling", "CANCELLED": "cancelled"}


def from_together(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Together batch job (upper-case ``status``, ISO times, ``progress`` from 0 to 100,
    ``job_deadline``, no request counts) as a :class:`Batch`; the original is kept whole
    under ``together``. ``job_deadline`` is the batch's ``expires_at``."""
    data = dict(_as_mapping(source))
    status = _upper_status(data, _TOGETHER_STATUSES, "Together")
    created = _unix_seconds(data.get("created_at"), "created_at")
    converted: dict[str, Any] = {
        "id": data.get("id"), "object": "batch", "endpoint": data.get("endpoint"),
        "status": status, "created_at": created if created is not None else 0,
        "in_progress_at": created if status != "validating" else None,
        "expires_at": _unix_seconds(data.get("job_deadline"), "job_deadline"),
        "input_file_id": data.get("input_file_id"),
        "output_file_id": data.get("output_file_id"),
        "error_file_id": data.get("error_file_id"),
        "model": data.get("model_id"),
        "together": data,
    }
    return _ended(converted, status, _unix_seconds(data.get("completed_at"), "completed_at"))


# Mistral batch job statuses (mistralai/client-python BatchJobStatus).
_MISTRAL_STATUSES = {"QUEUED": "validating", "RUNNING": "in_progress", "SUCCESS": "completed",
                     "FAILED": "failed", "TIMEOUT_EXCEEDED": "expired",
                     "CANCELLATION_REQUESTED": "cancelling", "CANCELLED": "cancelled"}


def from_mistral(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Mistral batch job (``QUEUED`` ... ``SUCCESS``, Unix-second times, ``total_requests``,
    ``succeeded_requests``, ``failed_requests``) as a :class:`Batch`; the original is kept
    whole under ``mistral``. ``TIMEOUT_EXCEEDED`` is expired."""
    data = dict(_as_mapping(source))
    status = _upper_status(data, _MISTRAL_STATUSES, "Mistral")
    counts = {name: data.get(f"{name}_requests") for name in ("total", "succeeded", "failed")}
    for name, value in counts.items():
        if value is not None and (type(value) is not int or value < 0):
            raise _fail(f"{name}_requests", f"must be a whole number, not {value!r}")
    created = data.get("created_at")
    converted: dict[str, Any] = {
        "id": data.get("id"), "object": "batch", "endpoint": data.get("endpoint"),
        "status": status, "created_at": created,
        "in_progress_at": data.get("started_at"),
        "output_file_id": data.get("output_file"), "error_file_id": data.get("error_file"),
        "model": data.get("model"),
        "request_counts": None if counts["total"] is None else {
            "total": counts["total"], "completed": counts["succeeded"] or 0,
            "failed": counts["failed"] or 0},
        "mistral": data,
    }
    return _ended(converted, status, data.get("completed_at"))


# Gemini batch states: the REST API's GenerateContentBatch ``state`` (BATCH_STATE_*) and the
# google-genai SDK's BatchJob ``state`` (JOB_STATE_*), read 2026-12 (ai.google.dev
# batch-mode guide and API reference). A paused job (Vertex AI) is still in progress.
_GEMINI_STATES = {"PENDING": "validating", "QUEUED": "validating", "RUNNING": "in_progress",
                  "PAUSED": "in_progress", "SUCCEEDED": "completed",
                  "PARTIALLY_SUCCEEDED": "completed", "FAILED": "failed",
                  "CANCELLING": "cancelling", "CANCELLED": "cancelled", "EXPIRED": "expired"}


def _gemini_field(data: Mapping[str, Any], camel: str) -> Any:
    """A field of a Gemini object by its REST (camelCase) or SDK (snake_case) name."""
    if camel in data:
        return data[camel]
    return data.get("".join(f"_{char.lower()}" if char.isupper() else char for char in camel))


def _job_state(job: Mapping[str, Any], table: Mapping[str, str], what: str) -> str:
    """The lifecycle status of a Google-style job's ``state`` (``BATCH_STATE_X`` or
    ``JOB_STATE_X``, read by its ``X`` in ``table``)."""
    state = job.get("state")
    name = state.split("_STATE_", 1)[-1] if isinstance(state, str) else None
    if name is None or name not in table:
        raise _fail("state", f"is not a known {what} state: {state!r}")
    return table[name]


def _gemini_count(stats: Mapping[str, Any], camel: str) -> int | None:
    # 64-bit counts come as JSON strings in the REST API ("requestCount": "2").
    value = _gemini_field(stats, camel)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if value is None or (type(value) is int and value >= 0):
        return value
    raise _fail(f"batchStats.{camel}", f"must be a whole number, not {value!r}")


def from_gemini(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Gemini batch (the long-running operation ``batches.get`` returns, its
    ``metadata``, or the google-genai SDK's BatchJob) as a :class:`Batch`; the original is
    kept whole under ``gemini``. ``BATCH_STATE_*`` and ``JOB_STATE_*`` map onto the
    lifecycle (pending is validating, partially succeeded is completed); ``batchStats``
    gives the request counts."""
    data = dict(_as_mapping(source))
    metadata = data.get("metadata")
    job = metadata if isinstance(metadata, Mapping) and "state" in metadata else data
    status = _job_state(job, _GEMINI_STATES, "Gemini batch")
    stats = _gemini_field(job, "batchStats") or {}
    if not isinstance(stats, Mapping):
        raise _fail("batchStats", "must be an object")
    total = _gemini_count(stats, "requestCount")
    created = _unix_seconds(_gemini_field(job, "createTime"), "createTime")
    output = _gemini_field(job, "output") or _gemini_field(job, "dest") or {}
    kind = str(job.get("@type", ""))
    converted: dict[str, Any] = {
        "id": job.get("name") or data.get("name"), "object": "batch",
        "endpoint": "embedContent" if "Embed" in kind else "generateContent",
        "status": status, "created_at": created if created is not None else 0,
        "in_progress_at": _unix_seconds(_gemini_field(job, "startTime"), "startTime")
        if status != "validating" else None,
        "output_file_id": ((_gemini_field(output, "responsesFile")
                            or _gemini_field(output, "fileName"))
                           if isinstance(output, Mapping) else None)
        or _sdk_destination(job),
        "model": job.get("model"),
        "request_counts": None if total is None else {
            "total": total, "completed": _gemini_count(stats, "successfulRequestCount") or 0,
            "failed": _gemini_count(stats, "failedRequestCount") or 0},
        "gemini": data,
    }
    return _ended(converted, status, _unix_seconds(_gemini_field(job, "endTime"), "endTime"))


# Bedrock model invocation job statuses (GetModelInvocationJob ``status``; the SDKs'
# ModelInvocationJobStatus, read 2026-12-06): submitted, validating and scheduled jobs have
# not started; a partially completed job ended with some records failed; a stopped job was
# stopped by its owner.
_BEDROCK_STATUSES = {"SUBMITTED": "validating", "VALIDATING": "validating",
                     "SCHEDULED": "validating", "INPROGRESS": "in_progress",
                     "COMPLETED": "completed", "PARTIALLYCOMPLETED": "completed",
                     "FAILED": "failed", "STOPPING": "cancelling", "STOPPED": "cancelled",
                     "EXPIRED": "expired"}

#: The record counts of a Bedrock job's ``manifest.json.out`` (batch-inference-results).
BEDROCK_MANIFEST_FIELDS = ("totalRecordCount", "processedRecordCount", "successRecordCount",
                           "errorRecordCount")


def from_bedrock(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Bedrock model invocation job (``GetModelInvocationJob``: ``jobArn``, ``status``
    ``Submitted`` ... ``Expired``, ISO times) as a :class:`Batch`; the original is kept whole
    under ``bedrock``. The job object carries no record counts: a job's
    ``manifest.json.out`` (``totalRecordCount``, ``successRecordCount``...) does, and read
    alone it is a completed job with those counts (its id the job's ARN where the manifest
    holds one, else ``manifest.json.out``)."""
    data = dict(_as_mapping(source))
    if "status" not in data and "totalRecordCount" in data:
        return _from_bedrock_manifest(data)
    status = _upper_status(data, _BEDROCK_STATUSES, "Bedrock")
    created = _unix_seconds(data.get("submitTime"), "submitTime")
    converted: dict[str, Any] = {
        "id": data.get("jobArn") or data.get("jobName"), "object": "batch",
        "endpoint": data.get("modelInvocationType") or "InvokeModel",
        "status": status, "created_at": created if created is not None else 0,
        # A failed job may have failed validation, before it ran: no start is known.
        "in_progress_at": None if status in ("validating", "failed") else created,
        "expires_at": _unix_seconds(data.get("jobExpirationTime"), "jobExpirationTime"),
        # Why it failed or was stopped, in the job's own words.
        "errors": [{"code": data.get("status"), "message": data["message"]}]
        if isinstance(data.get("message"), str) and data["message"] else None,
        "output_file_id": _s3_uri(data.get("outputDataConfig"), "s3OutputDataConfig"),
        "input_file_id": _s3_uri(data.get("inputDataConfig"), "s3InputDataConfig"),
        "model": data.get("modelId"),
        "bedrock": data,
    }
    return _ended(converted, status, _unix_seconds(data.get("endTime"), "endTime"))


def _s3_uri(config: Any, name: str) -> str | None:
    """``config[name]["s3Uri"]`` of a Bedrock job's input or output configuration."""
    inner = config.get(name) if isinstance(config, Mapping) else None
    uri = inner.get("s3Uri") if isinstance(inner, Mapping) else None
    return uri if isinstance(uri, str) else None


def _from_bedrock_manifest(data: Mapping[str, Any]) -> Batch:
    counts = {}
    for name in (*BEDROCK_MANIFEST_FIELDS, "inputTokenCount", "outputTokenCount"):
        value = data.get(name, 0)
        if type(value) is not int or value < 0:
            raise _fail(name, f"must be a whole number, not {value!r}")
        counts[name] = value
    return Batch.from_dict({
        "id": data.get("jobArn") or "manifest.json.out", "object": SUMMARY_OBJECT,
        "status": "completed", "created_at": 0,
        "request_counts": {"total": counts["totalRecordCount"],
                           "completed": counts["successRecordCount"],
                           "failed": counts["errorRecordCount"]},
        "usage": {"input_tokens": counts["inputTokenCount"],
                  "output_tokens": counts["outputTokenCount"]},
        "bedrock": dict(data)})


# Vertex AI JobState (google.cloud.aiplatform.v1.JobState, read 2026-12-06): an updating
# job is still running; a cancelling one may still end succeeded, failed or cancelled.
_VERTEX_STATES = {**_GEMINI_STATES, "UPDATING": "in_progress"}


def from_vertex(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Vertex AI ``BatchPredictionJob`` (``JOB_STATE_*``, ``completionStats`` with int64
    counts as JSON strings, RFC 3339 times) as a :class:`Batch`; the original is kept whole
    under ``vertex``. ``successfulCount`` is completed, ``failedCount`` failed, and the
    total adds ``incompleteCount``; where that is -1 (not known) there are no counts."""
    data = dict(_as_mapping(source))
    status = _job_state(data, _VERTEX_STATES, "Vertex AI job")
    stats = _gemini_field(data, "completionStats")
    counts = None
    if stats is not None:
        if not isinstance(stats, Mapping):
            raise _fail("completionStats", "must be an object")
        succeeded = _job_count(stats, "completionStats", "successfulCount")
        failed = _job_count(stats, "completionStats", "failedCount")
        incomplete = _job_count(stats, "completionStats", "incompleteCount")
        # -1: the requests still to run are not known, and with them the total.
        counts = None if incomplete < 0 else {
            "total": succeeded + failed + incomplete, "completed": succeeded,
            "failed": failed}
    created = _unix_seconds(_gemini_field(data, "createTime"), "createTime")
    output = _gemini_field(data, "outputInfo")
    converted: dict[str, Any] = {
        "id": data.get("name"), "object": "batch",
        "endpoint": "claude" if "/anthropic/" in str(data.get("model")) else "gemini",
        "status": status, "created_at": created if created is not None else 0,
        "in_progress_at": _unix_seconds(_gemini_field(data, "startTime"), "startTime"),
        "output_file_id": (_gemini_field(output, "gcsOutputDirectory")
                           if isinstance(output, Mapping) else None) or _sdk_destination(data),
        "model": data.get("model"),
        "request_counts": counts,
        "errors": _rpc_error(_gemini_field(data, "error")),
        "vertex": data,
    }
    return _ended(converted, status, _unix_seconds(_gemini_field(data, "endTime"), "endTime"))


# Fireworks batch inference job states (its API reference's JobState, JOB_STATE_*; read
# 2026-12-06): writing results is finalizing; a job stopped early or deleted is cancelled.
_FIREWORKS_STATES = {
    "CREATING": "validating", "CREATING_INPUT_DATASET": "validating",
    "VALIDATING": "validating", "PENDING": "validating", "RE_QUEUEING": "validating",
    "IDLE": "validating", "RUNNING": "in_progress", "PAUSED": "in_progress",
    "WRITING_RESULTS": "finalizing", "COMPLETED": "completed", "FAILED": "failed",
    "EXPIRED": "expired", "CANCELLING": "cancelling", "CANCELLED": "cancelled",
    "EARLY_STOPPED": "cancelled", "DELETING": "cancelled",
    "DELETING_CLEANING_UP": "cancelled", "DELETED": "cancelled"}


def from_fireworks(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """A Fireworks batch inference job (``state`` ``JOB_STATE_*``, ``jobProgress`` with
    ``totalInputRequests``, ``successfullyProcessedRequests`` and ``failedRequests``, RFC
    3339 times) as a :class:`Batch`; the original is kept whole under ``fireworks``."""
    data = dict(_as_mapping(source))
    status = _job_state(data, _FIREWORKS_STATES, "Fireworks job")
    progress = data.get("jobProgress")
    counts = None
    if isinstance(progress, Mapping) and progress.get("totalInputRequests") is not None:
        counts = {name: _job_count(progress, "jobProgress", field_name) for name, field_name
                  in (("total", "totalInputRequests"),
                      ("completed", "successfullyProcessedRequests"),
                      ("failed", "failedRequests"))}
    created = _unix_seconds(data.get("createTime"), "createTime")
    converted: dict[str, Any] = {
        "id": data.get("name"), "object": "batch", "status": status,
        "created_at": created if created is not None else 0,
        "in_progress_at": created if status not in ("validating", "failed") else None,
        "input_file_id": data.get("inputDatasetId"),
        "output_file_id": data.get("outputDatasetId"),
        "model": data.get("model"), "request_counts": counts,
        "errors": _rpc_error(data.get("status")), "fireworks": data,
    }
    return _ended(converted, status, _unix_seconds(data.get("updateTime"), "updateTime"))


def from_xai(source: Mapping[str, Any] | str | bytes | Any) -> Batch:
    """An xAI batch (``batch_id``, and a ``state`` of request counts: ``num_requests``,
    ``num_pending``, ``num_success``, ``num_error``, ``num_cancelled``; it has no status of
    its own) as a :class:`Batch`; the original is kept whole under ``xai``. Its status is
    read off the counts: requests pending, in progress; none pending, cancelled where any
    request was, else completed. Source: xAI's batch API as its SDKs and clients show it
    (a third party's reading, uncertain)."""
    data = dict(_as_mapping(source))
    state = data.get("state")
    if not isinstance(state, Mapping):
        raise _fail("state", "must be an object of request counts")
    number = {}
    for field_name in ("num_requests", "num_pending", "num_success", "num_error",
                       "num_cancelled"):
        value = state.get(field_name, 0)
        if type(value) is not int or value < 0:
            raise _fail(f"state.{field_name}", f"must be a whole number, not {value!r}")
        number[field_name] = value
    status = ("in_progress" if number["num_pending"] else
              "cancelled" if number["num_cancelled"] else "completed")
    created = _unix_seconds(data.get("create_time"), "create_time")
    converted: dict[str, Any] = {
        "id": data.get("batch_id"), "object": "batch", "status": status,
        "created_at": created if created is not None else 0,
        "in_progress_at": created, "expires_at": _unix_seconds(data.get("expire_time"),
                                                               "expire_time"),
        # Its results are read from the API (GET /v1/batches/{id}/results), not a file.
        "output_file_id": f"{data.get('batch_id')}/results" if status == "completed" else None,
        "request_counts": {"total": number["num_requests"],
                           "completed": number["num_success"],
                           "failed": number["num_error"] + number["num_cancelled"]},
        "xai": data,
    }
    return _ended(converted, status, _unix_seconds(
            data.get("cancel_time") or data.get("complete_time") or data.get("create_time"),
            "complete_time"))


def _sdk_destination(data: Mapping[str, Any]) -> str | None:
    """Where a google-genai ``BatchJob`` wrote its results (``dest.gcs_uri``,
    ``bigquery_uri`` or ``file_name``)."""
    dest = data.get("dest")
    if not isinstance(dest, Mapping):
        return None
    for camel in ("gcsUri", "bigqueryUri", "fileName"):
        found = _gemini_field(dest, camel)
        if isinstance(found, str) and found:
            return found
    return None


def _rpc_error(error: Any) -> list[dict[str, Any]] | None:
    """A google.rpc.Status (a failed job's ``error``) as the Batch's errors."""
    if not isinstance(error, Mapping) or not error.get("message"):
        return None
    return [{"code": str(error.get("code")) if error.get("code") is not None else None,
             "message": str(error["message"])}]


def _job_count(counts: Mapping[str, Any], where: str, camel: str) -> int:
    """A count of a job's ``where`` object (Vertex AI's ``completionStats``, Fireworks'
    ``jobProgress``), an int64 that may come as a JSON string; 0 where absent, -1 where
    the service does not know it."""
    value = _gemini_field(counts, camel)
    if value is None:
        return 0
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if type(value) is not int or value < -1:
        raise _fail(f"{where}.{camel}", f"must be a whole number, not {value!r}")
    return value


#: How to read each provider's batch objects.
_READERS: dict[str, Callable[[Any], Batch]] = {
    "anthropic": from_anthropic, "together": from_together, "mistral": from_mistral,
    "gemini": from_gemini, "bedrock": from_bedrock, "vertex": from_vertex,
    "fireworks": from_fireworks, "xai": from_xai}


def read_batch(data: Mapping[str, Any], provider: str | None = None) -> Batch:
    """A provider's own batch object as a :class:`Batch`: read as ``provider``'s (without
    it, as its shape says, :func:`batch_provider`)."""
    name = provider if provider is not None else batch_provider(data)
    return _READERS.get(name, Batch.from_dict)(data)


def batch_provider(data: Mapping[str, Any]) -> str:
    """Whose batch object this is, by its shape: Anthropic's ``message_batch`` type or
    ``processing_status``, Together's ``job_deadline`` or ``progress``, Mistral's
    ``total_requests``, Bedrock's ``jobArn`` (or a ``manifest.json.out``'s record counts),
    Vertex AI's ``completionStats`` or ``batchPredictionJobs/`` name, Gemini's
    ``BATCH_STATE_``/``JOB_STATE_`` state (of the operation's ``metadata``, or its own);
    otherwise the OpenAI shape (OpenAI, Azure, Groq, vLLM
    gateways)."""
    if data.get("type") == "message_batch" or "processing_status" in data:
        return "anthropic"
    if "job_deadline" in data or ("progress" in data and "request_counts" not in data):
        return "together"
    if "total_requests" in data or "succeeded_requests" in data:
        return "mistral"
    if "jobArn" in data or "modelInvocationType" in data or (
            "totalRecordCount" in data and "successRecordCount" in data):
        return "bedrock"
    if "completionStats" in data or "completion_stats" in data or (
            isinstance(data.get("name"), str) and "/batchPredictionJobs/" in data["name"]):
        return "vertex"
    if "jobProgress" in data or (isinstance(data.get("name"), str)
                                 and "/batchInferenceJobs/" in data["name"]):
        return "fireworks"
    if "batch_id" in data and isinstance(data.get("state"), Mapping):
        return "xai"
    metadata = data.get("metadata")
    state = (metadata.get("state") if isinstance(metadata, Mapping) else None) \
        or data.get("state")
    if isinstance(state, str) and state.startswith(("BATCH_STATE_", "JOB_STATE_")):
        return "gemini"
    return "openai"


#: The largest Batch file read whole (a single object or a JSON list); a larger one is read
#: as JSONL, a line at a time.
MAX_BATCH_FILE = 64 << 20
#: The largest Batch object on one line of a polling log.
MAX_BATCH_LINE = 4 << 20
#: The most of a polling log read (a day of objects polled every second is about 170 MB):
#: past it ``status`` stops with ``file_too_large`` instead of reading without end.
MAX_BATCH_LOG = 256 << 20


def load_batches(source: str | os.PathLike[str], *, provider: str | None = None
                 ) -> list[Batch]:
    """Batch objects from a file: one JSON object, a JSON list, or JSONL (a polling log).

    ``provider`` names whose objects they are (``anthropic``, ``together``, ``mistral`` and
    ``gemini`` have their own shapes, mapped onto the same lifecycle); without it each
    object's shape says. Raises :class:`SourceError` when the file cannot be read, and
    :class:`BatchObjectError` or :class:`LineError` when it holds no Batch objects.
    """
    def parse(item: Any) -> Batch:
        if not isinstance(item, Mapping):
            raise BatchObjectError("the file holds no Batch object: found a JSON "
                                   f"{json_type(item)} where one was expected",
                                   code="invalid_batch")
        other = not_a_batch_object(os.fspath(source), item)
        if other is not None:
            raise BatchObjectError(other, code="wrong_file_kind")
        return read_batch(item, provider)

    name = os.fspath(source)
    data = read_small_file(source, MAX_BATCH_FILE)
    value: Any = None
    if len(data) <= MAX_BATCH_FILE:
        try:
            value = msgspec.json.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            value = None
    try:
        if value is None:
            if not data:
                raise BatchObjectError("the file is empty: it holds no Batch object",
                                       code="empty_file", path=name)
            document_error = None if is_compressed(data) else _document_error(data)
            if document_error is not None:
                raise document_error
            batches = []
            for line in read_lines(name, max_line_bytes=MAX_BATCH_LINE):
                if line.offset >= MAX_BATCH_LOG:
                    raise SourceError(
                        f"{name}: more than {MAX_BATCH_LOG >> 20:,} MiB of Batch objects: "
                        "batchio reads a polling log up to that size (keep its latest "
                        "objects)", path=name, code="file_too_large")
                batches.append(parse(line.value))
            return batches
        if isinstance(value, list):
            return [parse(item) for item in value]
        if isinstance(value, dict) and value.get("object") == "list" and "data" in value:
            return [parse(item) for item in value["data"]]
        return [parse(value)]
    except BatchObjectError as exc:
        # Say which file: a Batch error names a field, not where it was read.
        if exc.path is None:
            exc.path = name
        raise


#: The names Batch objects are saved under in a results folder: ``STEM.batch.json`` (as
#: simulate writes them, and the README's submitters), Bedrock's ``manifest.json.out``.
BATCH_OBJECT_SUFFIXES = (".batch.json",)
BATCH_OBJECT_NAMES = ("manifest.json.out",)


def batch_object_files(folder: str | os.PathLike[str]) -> list[str]:
    """The Batch object files in a folder, by name; where it holds none, those of its
    folders, a level down (a cloud job's own folder), as result files are found. A
    :class:`UsageError` where there are none."""
    name = os.fspath(folder)
    try:
        files = [path for path in (os.path.join(name, found) for found in names_a_level_down(
            name, lambda entry: entry.endswith(BATCH_OBJECT_SUFFIXES)
            or entry in BATCH_OBJECT_NAMES)) if os.path.isfile(path)]
    except OSError as exc:
        raise SourceError(f"cannot read the folder {name}: {exc.strerror or exc}", path=name,
                          errno=exc.errno) from exc
    if not files:
        raise UsageError(f"no Batch object (*.batch.json, manifest.json.out) in {name}",
                         path=name, code="invalid_argument")
    return files


def _document_error(data: bytes) -> BatchObjectError | None:
    """The error of a Batch object written over several lines (pretty-printed, as SDKs and
    consoles save it) that is not JSON, at its own line and column; None for data that
    reads as JSON lines, whose first line is JSON on its own (a polling log)."""
    first = data.lstrip().split(b"\n", 1)[0]
    if not first.strip() or b"\n" not in data.strip():
        return None
    try:
        orjson.loads(first)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return BatchObjectError(f"not UTF-8 at line {line} ({exc.reason})",
                                code="invalid_utf8", line=line)
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return BatchObjectError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                                code="invalid_json_line", line=exc.lineno)
    return None


__all__: Sequence[str] = ["TRANSITIONS", "Batch", "BatchErrorEntry", "BatchHistory",
                          "BatchStatus", "CrossCheck", "Progress", "RequestCounts",
                          "batch_provider", "from_anthropic", "from_bedrock", "from_fireworks",
                          "from_gemini", "from_mistral", "from_together", "from_vertex",
                          "from_xai",
                          "load_batches", "reachable", "read_batch"]
