"""Pre-submit validation: one streaming pass that finds every problem a server would report.

Owns :func:`validate` and :func:`validate_files`, their :class:`Report`, and checking one
file in several byte ranges at once. It reads lines through
:func:`batchio.jsonl.read_lines` in collect mode, checks each request's envelope and body
against the provider's profile and the shipped schemas (each line against the schema of
its own url), and checks the whole-file limits. Problems are values in the report; nothing
here raises for a bad line.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import io
import itertools
import json
import os
import sys
import tempfile
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import msgspec

from . import _workers
from ._workers import process_context, progress_worker, quiet_worker
from .bodies import (
    MAX_MESSAGE,
    body_is_clean,
    body_problems,
    embedding_input_count,
    embedding_inputs,
    rejection,
)
from .errors import (
    BatchioError,
    BatchioWarning,
    Problem,
    Severity,
    SourceError,
    UsageError,
    quote,
)
from .ids import echo_key
from .jsonl import (
    DEFAULT_MAX_LINE_BYTES,
    BlankLines,
    Line,
    LineSource,
    TakenLines,
    blank_problem,
    can_read_twice,
    is_plain_file,
    line_start_at_or_after,
    path_list,
    read_lines,
    read_lines_taking,
    read_range,
    reads_once,
    repeated_files,
    source_name,
)
from .kinds import first_kind
from .outputs import ASKING_KEYS, SchemaCache
from .pricing import foreign_model
from .providers import PROVIDERS, Detection, Limits, Profile, detect_provider, get_profile
from .results import answer_body, answer_fields
from .schema_rules import schema_problems
from .schemas import CompiledSchema, compiled, load_user_schema
from .sharding import ShardLimits, request_files
from .typed import DECODE_FAILURES as TYPED_FAILURES
from .typed import line_decoder

#: Problems of each severity a report lists unless told otherwise; past it they are only
#: counted (per code), so memory stays bounded whatever the file holds.
DEFAULT_MAX_ERRORS = 1000

#: Whether clean lines may take the typed lane (:meth:`_LineChecker.take_block`); the
#: differential tests turn it off to compare the verdicts of the lanes behind it.
TYPED_LANE = True

#: Files at least this large are checked in byte ranges by several processes.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


@dataclass
class Report:
    """What :func:`validate` found in one file: the problems and the file's counts.

    ``bool(report)`` is ``report.ok``.
    """

    path: str
    provider: str
    #: True when the provider was read off the first request's shape, not given.
    provider_detected: bool = False
    #: The file's endpoint: the first request's url (or the provider's endpoint for lines
    #: that carry none); ``endpoints`` counts every url used, for providers that allow several.
    endpoint: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: How many more errors (warnings) were found than ``errors`` (``warnings``) holds.
    errors_truncated: int = 0
    warnings_truncated: int = 0
    #: Every problem found, listed or not, counted by code.
    counts: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    requests: int = 0
    bytes: int = 0
    #: Each model seen, with how many requests named it, in order of first use.
    models: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, int] = field(default_factory=dict)
    embedding_inputs: int = 0
    #: What the file holds: ``requests``, or ``results`` (checked as a result file; its
    #: result lines counted in ``results``).
    kind: str = "requests"
    results: int = 0

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings do not count)."""
        return not self.errors and not self.errors_truncated

    def __bool__(self) -> bool:
        return self.ok

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_truncated

    @property
    def warning_count(self) -> int:
        return len(self.warnings) + self.warnings_truncated

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` shape of one file."""
        return {
            "path": self.path,
            "ok": self.ok,
            "kind": self.kind,
            "provider": self.provider,
            "provider_detected": self.provider_detected,
            "lines": self.lines,
            "requests": self.requests,
            "results": self.results,
            "bytes": self.bytes,
            "endpoint": self.endpoint,
            "endpoints": dict(self.endpoints),
            "models": list(self.models),
            "embedding_inputs": self.embedding_inputs,
            "errors": [problem.to_dict() for problem in self.errors],
            "warnings": [problem.to_dict() for problem in self.warnings],
            "errors_truncated": self.errors_truncated,
            "warnings_truncated": self.warnings_truncated,
            "counts": dict(self.counts),
        }


#: Warnings a file gives once (or once per value): CRLF endings, and a second url or model
#: where that is a warning. Ranges of a file checked in parallel keep every one they find,
#: so that the merge can tell the first.
_ONCE_WARNINGS = frozenset({"crlf_line_ending", "model_mismatch", "url_mismatch",
                            "model_family_unknown"})


class _Collector:
    """Adds problems to a report: counted by code, listed up to ``max_errors`` of each
    severity (``keep_once``: the warnings of :data:`_ONCE_WARNINGS` are always listed)."""

    def __init__(self, report: Report, max_errors: int | None, keep_once: bool = False
                 ) -> None:
        self.report = report
        self.max_errors = max_errors
        self.keep_once = keep_once

    def add(self, problem: Problem) -> None:
        report = self.report
        report.counts[problem.code] = report.counts.get(problem.code, 0) + problem.lines
        if problem.severity == "warning":
            if self.max_errors is None or len(report.warnings) < self.max_errors or (
                    self.keep_once and problem.code in _ONCE_WARNINGS):
                report.warnings.append(problem)
            else:
                report.warnings_truncated += 1
        elif self.max_errors is None or len(report.errors) < self.max_errors:
            report.errors.append(problem)
        else:
            report.errors_truncated += 1


def validate(
    source: LineSource,
    *,
    provider: str | Profile | None = None,
    endpoint: str | None = None,
    model: str | None = None,
    schema: str | os.PathLike[str] | Mapping[str, Any] | CompiledSchema | None = None,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
    max_line_bytes: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Report:
    """Check one batch file in one pass and report every problem with its line and code.

    ``source`` is a path, ``-``, a binary file object or an iterable of lines (for several
    files, :func:`validate_files`). ``provider`` names the profile; without it the provider
    is read off the first request's shape (``report.provider_detected``). ``endpoint`` fixes
    the endpoint (otherwise each line's url, or for providers whose lines carry none the
    provider's endpoint for the first body). ``model`` is the job's model, where the
    provider sets it on the job: on Bedrock it names the body family every line is checked
    by. ``schema`` is a user's own JSON Schema applied
    to every body in addition. ``max_errors`` caps the problems listed of each severity
    (None: no cap); the report counts the rest by code. ``on_progress`` is called now and
    then with the bytes read so far.

    A plain file of :data:`PARALLEL_MIN_BYTES` or more is checked in byte ranges by
    ``workers`` processes (default: the usable cores; 1 never starts another); the report
    is the one a single pass gives. Raises :class:`SourceError` when the file cannot be read
    at all and :class:`UsageError` for bad arguments.
    """
    if _looks_like_paths(source):
        raise UsageError("validate() checks one file, and was given a list of paths: use "
                         "batchio.validate_files(paths) for several")
    if max_errors is not None and max_errors < 0:
        raise UsageError(f"max_errors must be at least 0, not {max_errors}")
    if isinstance(source, (str, os.PathLike)) and not reads_once(source):
        kind, shape = first_kind(source)
        if kind == "results":
            return validate_results(source, provider=provider or shape, max_errors=max_errors,
                                    max_line_bytes=max_line_bytes)
    options: dict[str, Any] = {"endpoint": endpoint, "model": model, "schema": schema,
                               "max_errors": max_errors, "max_line_bytes": max_line_bytes,
                               "on_progress": on_progress, "workers": workers}
    if provider is not None:
        return _finish(_validate_as(source, provider, None, **options), False)
    if reads_once(source) and (isinstance(source, (str, os.PathLike))
                               or hasattr(source, "read")):
        with _Recorder(source) as recorder:
            return _validate_recorded(recorder, options)
    first, lines = _first_request(source, max_line_bytes or DEFAULT_MAX_LINE_BYTES)
    detection = detect_provider(first)
    if lines is None:
        if detection.alternatives:
            return _validate_as_any(source, detection, **options)
        return _finish(_validate_as(source, detection.provider, None, **options), True)
    # Lines given once, as Python objects: the first provider's rules, the others named.
    names = _serving(detection, endpoint)
    return _finish(_validate_as(source, names[0], lines, **options), True, names[1:],
                   read_once=True)


#: The shipped schema of each result shape's lines (Gemini's results have none shipped:
#: they are read by their shape alone).
_RESULT_SCHEMAS = {"openai": ("openai/output-line", "openai/error-line"),
                   "anthropic": ("anthropic/result-line", "anthropic/result-line"),
                   "bedrock": ("bedrock/result-line", "bedrock/result-line"),
                   "vertex": ("vertex/result-line", "vertex/result-line")}


def validate_results(source: str | os.PathLike[str], *, provider: str | Profile | None = None,
                     max_errors: int | None = DEFAULT_MAX_ERRORS,
                     max_line_bytes: int | None = None) -> Report:
    """Check a result file as a result file (``report.kind == "results"``): each line read
    by the provider's result shape (``invalid_result_line`` where it cannot be), its id
    (``missing_custom_id``, ``duplicate_result``), and the shipped result-line schema of
    its shape. ``provider`` defaults to the one the first line's shape names."""
    profile = get_profile(provider or first_kind(source)[1] or "openai")
    report = Report(path=source_name(source), provider=profile.name, kind="results",
                    provider_detected=provider is None)
    collector = _Collector(report, max_errors)
    names = _RESULT_SCHEMAS.get(profile.result_shape)
    schemas = None if names is None else (compiled(names[0]), compiled(names[1]))
    id_field = profile.result_id_field
    seen: dict[str, int] = {}
    echoed: dict[bytes, int] = {}
    cap = max_line_bytes or profile.limits.max_file_bytes or DEFAULT_MAX_LINE_BYTES
    for item in read_lines(source, errors="collect", max_line_bytes=cap,
                           blank_lines=blank_policy(profile)):
        if isinstance(item, Problem):
            collector.add(item)
            continue
        report.lines += 1
        value = item.value
        custom_id = value.get(id_field)
        custom = custom_id if type(custom_id) is str else None
        if not custom and profile.echo_field is not None and profile.echo_field in value:
            # Matched to its request by the request it repeats; the same line twice (its
            # processing time too) is one answer written twice.
            digest = hashlib.blake2b(item.raw.rstrip(b"\r\n"), digest_size=16).digest()
            if echoed.setdefault(digest, item.number) != item.number:
                collector.add(Problem(code="duplicate_result", line=item.number,
                                      path=report.path,
                                      message=f"this result line repeats line "
                                      f"{echoed[digest]} exactly"))
        elif not custom:
            collector.add(Problem(code="missing_custom_id", line=item.number,
                                  param=id_field, path=report.path,
                                  message=f"the result line has no {id_field}: it answers "
                                  "no request"))
        elif seen.setdefault(custom, item.number) != item.number:
            collector.add(Problem(code="duplicate_result", line=item.number, param=id_field,
                                  custom_id=custom, path=report.path,
                                  message=f"{id_field} {quote(custom, 60)} already has a "
                                  f"result on line {seen[custom]}"))
        if schemas is not None:
            schema = schemas[1] if value.get("error") is not None else schemas[0]
            if not schema.is_valid(value):
                problem = rejection(schema, value, "", "invalid_result_line")
                collector.add(dataclasses.replace(problem, line=item.number, custom_id=custom,
                                                  path=report.path))
                continue
        try:
            outcome = profile.classify_result(value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            collector.add(Problem(code="invalid_result_line", line=item.number,
                                  custom_id=custom, path=report.path,
                                  message=f"not a result line of {profile.title}: {exc}"))
            continue
        report.results += 1
        if outcome.response is not None:
            model = answer_fields(answer_body(outcome.response)).get("model")
            if isinstance(model, str):
                report.models[model] = report.models.get(model, 0) + 1
    return report


def _validate_as(source: LineSource, provider: str | Profile,
                 lines: Iterator[Line | Problem] | None, *, endpoint: str | None,
                 model: str | None, schema: Any, max_errors: int | None,
                 max_line_bytes: int | None, on_progress: Callable[[int], None] | None,
                 workers: int | None) -> Report:
    """One file checked by one provider's rules (``lines``: the source's lines, where
    detection has begun reading a stream)."""
    user_schema = _user_schema(schema)
    profile = get_profile(provider)
    endpoint = profile.endpoint_named(endpoint, model)
    if endpoint is not None and profile.schema_for(endpoint) is None:
        raise UsageError(f"endpoint {endpoint!r} is not accepted by {profile.title}; "
                         f"expected one of {profile.endpoint_list()}")
    cap = max_line_bytes or profile.limits.max_file_bytes or DEFAULT_MAX_LINE_BYTES
    if lines is None:
        ranges = _plan_ranges(source, profile, schema, workers)
        if ranges is not None:
            report = _validate_in_ranges(os.fspath(cast(Any, source)), ranges, profile,
                                         endpoint, schema, max_errors, cap, on_progress)
            if report is not None:
                return report
    report = Report(path=source_name(source), provider=profile.name, endpoint=endpoint)
    collector = _Collector(report, max_errors)
    if model is not None and endpoint is None and profile.endpoint_of_model is not None:
        collector.add(Problem(
            code="model_family_unknown", path=report.path, severity="warning",
            message=f"model {quote(model, 60)} names no model family batchio knows of "
                    f"{profile.title} (known: {profile.endpoint_list()}): each body is "
                    "checked by its own fields"))
    checker = _LineChecker(profile, report, collector, user_schema, endpoint)
    checker.run(lines if lines is not None else read_lines_taking(
        source, checker.take_block, max_line_bytes=cap, blank_lines=blank_policy(profile)),
        on_progress)
    checker.check_file_limits()
    return report


def _validate_recorded(recorder: _Recorder, options: dict[str, Any]) -> Report:
    """A stream read once, detected: checked as it streams by the first provider's rules,
    and where its shape is shared and those rules find errors, its copy by the others'."""
    first, lines = _first_request(recorder, options["max_line_bytes"]
                                  or DEFAULT_MAX_LINE_BYTES)
    names = _serving(detect_provider(first), options["endpoint"])
    if len(names) < 2:
        recorder.stop_keeping()
    report = _validate_as(recorder, names[0], lines, **options)
    if len(names) < 2 or report.ok:
        return _finish(report, True)
    if not recorder.keeping:
        return _finish(report, True, names[1:], read_once=True)
    again = {**options, "on_progress": None, "workers": 1}

    def check(name: str) -> Report:
        if name == names[0]:
            return report
        return _renamed(_validate_as(recorder.again(), name, None, **again), recorder.name)

    return _first_met(names, check, options["max_errors"])


def blank_policy(profile: Profile) -> BlankLines:
    """What the reader does with blank lines for a provider (its ``blank_lines``)."""
    return {"error": "error", "warning": "warning", "allowed": "skip"}[profile.blank_lines]  # type: ignore[return-value]


def validate_files(
    paths: Iterable[str | os.PathLike[str]], *, workers: int | None = None, **options: Any,
) -> list[Report]:
    """:func:`validate` each path with the same options; one report per file, in order (a
    shard folder or its ``manifest.json`` stands for its shards).

    Several files are checked in parallel by ``workers`` processes (default: the usable
    cores; 1 checks them one after another here), each report the one a single
    :func:`validate` of that file gives. The first file that cannot be read raises, as it
    would in order."""
    outcomes = list(validate_each(paths, workers=workers, **options))
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return cast("list[Report]", outcomes)


def validate_each(
    paths: Iterable[str | os.PathLike[str]], *, workers: int | None = None, **options: Any,
) -> Iterator[Report | BatchioError]:
    """Each path's report, in order, or the :class:`BatchioError` that stopped its check
    (a file that cannot be read); files checked in parallel as in :func:`validate_files`.
    A shard folder or its ``manifest.json`` stands for its shards."""
    check_workers(workers)
    given = path_list(paths, "the files to validate")
    files = request_files(given, what="validate", folders=True) if given else []
    # A file named twice is checked twice: said, so that two reports are not taken for two
    # files.
    for later, earlier in repeated_files(files):
        warnings.warn(BatchioWarning(f"named twice (also as {files[earlier]}): it is checked, "
                                     "and reported, twice", code="same_file",
                                     path=files[later]), stacklevel=2)
    count = min(usable_cores() if workers is None else workers, len(files))
    # Standard input is this process's: no other can read it.
    if count < 2 or not _can_send(options) or "-" in map(os.fspath, files):
        yield from each_in_processes(_outcome_of, [(path, workers, options) for path in files],
                                     1)
        return
    # Files share the processes: a file gets more than one only when they outnumber it.
    per_file = max(1, (usable_cores() if workers is None else workers) // len(files))
    yield from each_in_processes(_outcome_of, [(path, per_file, options) for path in files],
                                 count)


def each_in_processes(function: Callable[..., Any], calls: list[tuple[Any, ...]],
                      count: int) -> Iterator[Any]:
    """``function(*arguments)`` for each of ``calls``, in order: by ``count`` processes when
    that is two or more (the arguments and results go between processes), else here."""
    if count < 2:
        for arguments in calls:
            yield function(*arguments)
        return
    with worker_pool(count) as pool:
        futures = [pool.submit(function, *arguments) for arguments in calls]
        for future in futures:
            yield future.result()


@contextlib.contextmanager
def worker_pool(count: int, progress: Any = None
                ) -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    """A pool of ``count`` worker processes (:func:`quiet_worker`; with ``progress``, a
    shared array, :func:`progress_worker`), shut down on leaving; on Ctrl-C, SIGTERM or an
    error its workers end at once, not when their task is done."""
    if progress is None:
        initializer: Callable[..., None] = quiet_worker
        arguments: tuple[Any, ...] = (os.getpid(),)
    else:
        initializer, arguments = progress_worker, (os.getpid(), progress)
    pool = concurrent.futures.ProcessPoolExecutor(count, mp_context=process_context(),
                                                  initializer=initializer,
                                                  initargs=arguments)
    try:
        yield pool
    except BaseException:
        # The pool keeps its processes by pid; they are ours alone to end.
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _outcome_of(path: str | os.PathLike[str], workers: int | None,
                options: Mapping[str, Any]) -> Report | BatchioError:
    try:
        return validate(path, workers=workers, **options)
    except (SourceError, UsageError) as exc:
        return exc


def _can_send(options: Mapping[str, Any]) -> bool:
    """Whether the options can go to another process: no callback, no compiled schema, a
    profile only by name."""
    return (options.get("on_progress") is None
            and not isinstance(options.get("schema"), CompiledSchema)
            and not isinstance(options.get("provider"), Profile))


def _looks_like_paths(source: object) -> bool:
    """A list or tuple of paths (not of JSON lines, which start with ``{`` or ``[``)."""
    if not isinstance(source, (list, tuple)) or not source:
        return False
    return all(isinstance(item, os.PathLike)
               or (isinstance(item, str) and not item.lstrip().startswith(("{", "["))
                   and "\n" not in item.rstrip("\n") and item.strip() != "")
               for item in source)


def _validate_as_any(source: LineSource, detection: Detection, **options: Any) -> Report:
    """A file whose shape several providers share, checked by each one's rules in turn (see
    :func:`_first_met`)."""
    def check(name: str) -> Report:
        report = _validate_as(source, name, None, **options)
        options["on_progress"] = None  # progress is told once: by the first pass
        return report

    return _first_met(_serving(detection, options.get("endpoint")), check,
                      options.get("max_errors"))


def _serving(detection: Detection, endpoint: str | None) -> list[str]:
    """The providers a shape may be, in the order they are tried, less those that do not
    serve ``endpoint``; the first of them where none does (its error names its endpoints)."""
    names = [name for name in (detection.provider, *detection.alternatives)
             if endpoint is None or get_profile(name).schema_for(endpoint) is not None]
    return names or [detection.provider]


def _first_met(names: Sequence[str], check: Callable[[str], Report],
               max_errors: int | None) -> Report:
    """The first report with no error among ``check(name)`` for each provider in turn, with
    a warning naming what the ones before it found (the service the file is for is not
    known, and none of them is to be taken for it); else the first provider's report, its
    first error naming the others."""
    failed: list[Report] = []
    for name in names:
        report = check(name)
        if report.ok:
            if failed:
                _add_note(report, max_errors, _ambiguous_message(report, failed[0]))
            return _finish(report, True)
        failed.append(report)
    return _finish(failed[0], True, names[1:])


class _Recorder(io.RawIOBase):
    """A stream read once (stdin, a pipe, a FIFO, a file object) that keeps a copy of the
    bytes it gives, in a temporary file, until told to stop: so that a shape several
    providers share can be checked by each one's rules, as a file's is."""

    def __init__(self, source: LineSource) -> None:
        super().__init__()
        self.name = source_name(source)
        if isinstance(source, (str, os.PathLike)):
            self._raw: Any = (sys.stdin.buffer if os.fspath(source) == "-"
                              else open(source, "rb"))  # noqa: SIM115
            self._owned = self._raw is not sys.stdin.buffer
        else:
            self._raw, self._owned = source, False
        self.copy: Any = tempfile.TemporaryFile()  # noqa: SIM115
        self.keeping = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if self.keeping and size:
            try:
                self.copy.write(data)
            except OSError:
                # No room for the copy: this stream is checked by one provider's rules.
                self.stop_keeping()
        return size

    def stop_keeping(self) -> None:
        self.keeping = False
        self.copy.close()

    def again(self) -> BinaryIO:
        """The bytes given so far, from the first, as a file to read again."""
        self.copy.flush()
        self.copy.seek(0)
        return cast(BinaryIO, self.copy)

    def close(self) -> None:
        if self._owned:
            self._raw.close()
        self.copy.close()
        super().close()


def _renamed(report: Report, name: str) -> Report:
    """A report made of a copy, under the name of what was copied."""
    report.path = name
    report.errors = [dataclasses.replace(p, path=name) for p in report.errors]
    report.warnings = [dataclasses.replace(p, path=name) for p in report.warnings]
    return report


def _ambiguous_message(report: Report, other: Report) -> str:
    """What ``provider_ambiguous`` says: whose rules checked the file, and what another
    provider's rules found in it."""
    count = other.error_count
    first = (f"the first: line {other.errors[0].line}: {other.errors[0].code}"
             if other.errors else f"codes: {', '.join(sorted(other.counts))}")
    return (f"checked by {report_title(report)}'s rules: the file's shape is also "
            f"{report_title(other)}'s, whose rules find {count:,} error{'s' if count != 1 else ''} "
            f"here ({first}); give --provider to check against one of them")


def _add_note(report: Report, max_errors: int | None, message: str) -> None:
    """A ``provider_ambiguous`` warning first among the report's warnings, within its cap."""
    report.counts["provider_ambiguous"] = report.counts.get("provider_ambiguous", 0) + 1
    if max_errors is not None and len(report.warnings) >= max_errors:
        report.warnings_truncated += 1
        return
    report.warnings.insert(0, Problem(code="provider_ambiguous", severity="warning",
                                      path=report.path, message=message))


def report_title(report: Report) -> str:
    """The title of the provider a report was made for."""
    return get_profile(report.provider).title


def _finish(report: Report, detected: bool, others: Sequence[str] = (),
            read_once: bool = False) -> Report:
    """Say how the provider was chosen; where the shape fits other providers too, the first
    error names them (``read_once``: the input could be checked by one's rules only)."""
    report.provider_detected = detected
    if others and report.errors:
        first = report.errors[0]
        how = " only, the input being read once" if read_once else ""
        also = " or ".join(get_profile(name).title for name in others)
        try_them = " or ".join(f"--provider {name}" for name in others)
        report.errors[0] = dataclasses.replace(first, message=(
            f"{first.message} (checked by {report_title(report)}'s rules{how}; lines of this "
            f"shape are also {also}'s: try {try_them})"))
    return report


#: How many lines detection reads looking for the first request before it settles for
#: the default provider.
_DETECTION_LINES = 10_000


def _first_request(source: LineSource, cap: int
                   ) -> tuple[Mapping[str, Any] | None, Iterator[Line | Problem] | None]:
    """The first request line's object, for detecting the provider; and, for a source that
    cannot be read twice, the lines read so far followed by the rest (their blank lines
    reported as warnings: the provider is not known yet)."""
    rereadable = can_read_twice(source)
    lines = read_lines(source, errors="collect", max_line_bytes=cap,
                       blank_lines="skip" if rereadable else "warning")
    head: list[Line | Problem] = []
    first = None
    for index, item in enumerate(lines):
        if not rereadable:
            head.append(item)
        if isinstance(item, Line):
            first = item.value
            break
        if index >= _DETECTION_LINES:
            break
    if rereadable:
        with contextlib.suppress(Exception):
            lines.close()  # type: ignore[attr-defined]
        return first, None
    return first, itertools.chain(head, lines)


def _user_schema(
    schema: str | os.PathLike[str] | Mapping[str, Any] | CompiledSchema | None,
) -> CompiledSchema | None:
    if schema is None or isinstance(schema, CompiledSchema):
        return schema
    if isinstance(schema, Mapping):
        return CompiledSchema(schema)
    return load_user_schema(Path(schema))


@dataclass(frozen=True, slots=True)
class _Target:
    """An endpoint as the checks need it: its url, compiled body schema, the sibling
    endpoint's fields its bodies must not carry (``misplaced_names``, or None when there
    are none), and whether its inputs are counted."""

    url: str
    schema: CompiledSchema
    misplaced: Mapping[str, str]
    misplaced_names: frozenset[str] | None
    counts_inputs: bool
    model_required: bool


def _duplicate_keys(raw: bytes) -> list[str]:
    """Keys that appear twice in one JSON object anywhere in the line (the parser keeps the
    last; another reader may keep the first)."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    with contextlib.suppress(ValueError, RecursionError):
        json.loads(raw, object_pairs_hook=pairs)
    return repeated


class IdLines:
    """custom_id -> the line that first used it: the only per-request state validation
    keeps. Ids the typed lane takes a block at a time are kept as a set, with each block's
    ids and first line; their lines are made only when one is asked for (an id used
    again). The set and the blocks take 0.03 s where a dict of ids and lines took 0.06 s on
    300,000 chat lines, and about 40 bytes less a request (2026-12-07)."""

    def __init__(self, lines: dict[str, int] | None = None) -> None:
        #: Ids taken one at a time, and those of blocks whose lines were asked for.
        self.lines: dict[str, int] = {} if lines is None else lines
        #: Ids taken in blocks (not to be changed but by :meth:`add_block`).
        self.block_ids: set[str] = set()
        #: (first line, ids) of each block whose lines have not been made.
        self._blocks: list[tuple[int, list[str]]] = []
        #: Block ids whose lines are in ``lines`` too.
        self._made = 0

    def add_block(self, ids: list[str], first: int) -> bool:
        """Take the ids of consecutive lines from line ``first``, when each is new and
        none repeats another; else take none and return False."""
        block_ids = self.block_ids
        if not block_ids.isdisjoint(ids) or (
                self.lines and not self.lines.keys().isdisjoint(ids)):
            return False
        before = len(block_ids)
        block_ids.update(ids)
        if len(block_ids) != before + len(ids):
            # An id twice in the block: none of its ids was there before.
            block_ids.difference_update(ids)
            return False
        self._blocks.append((first, ids))
        return True

    def setdefault(self, custom_id: str, line: int) -> int:
        """The line that first used ``custom_id``, which is ``line`` if none did."""
        if custom_id in self.block_ids:
            return self[custom_id]
        return self.lines.setdefault(custom_id, line)

    def __getitem__(self, custom_id: str) -> int:
        line = self.lines.get(custom_id)
        if line is None:
            if custom_id not in self.block_ids:
                raise KeyError(custom_id)
            self._make_lines()
            line = self.lines[custom_id]
        return line

    def _make_lines(self) -> None:
        for first, ids in self._blocks:
            self.lines.update(zip(ids, range(first, first + len(ids)), strict=True))
            self._made += len(ids)
        self._blocks.clear()

    def __contains__(self, custom_id: object) -> bool:
        return custom_id in self.lines or custom_id in self.block_ids

    def __len__(self) -> int:
        return len(self.lines) + len(self.block_ids) - self._made

    def common(self, other: IdLines) -> set[str]:
        """The ids both hold: set intersections in C, none of them made into one set first
        (a few ms for 500,000 ids, where Python loops took 0.13 s)."""
        found: set[str] = set()
        for mine in (self.block_ids, self.lines.keys()):
            for theirs in (other.block_ids, other.lines.keys()):
                if mine and theirs:
                    found |= mine & theirs
        return found

    def export(self) -> tuple[list[str], array[int], list[tuple[int, int]]]:
        """Every id, for :meth:`restore`: those with a line of their own first, their lines,
        and (first line, count) of each block of the ids after them."""
        ids = list(self.lines)
        for _, block in self._blocks:
            ids += block
        return ids, array("q", self.lines.values()), [
            (first, len(block)) for first, block in self._blocks]

    @classmethod
    def restore(cls, ids: list[str], lines: Sequence[int], runs: list[tuple[int, int]]
                ) -> IdLines:
        """The ids :meth:`export` gave."""
        start = len(lines)
        restored = cls(dict(zip(ids[:start], lines, strict=True)))
        restored.block_ids.update(ids[start:])
        for first, count in runs:
            restored._blocks.append((first, ids[start:start + count]))
            start += count
        return restored

    def clear(self) -> None:
        self.lines.clear()
        self.block_ids.clear()
        self._blocks.clear()
        self._made = 0


class _LineChecker:
    """The per-line checks, with the little state a file needs (first url and model, ids).

    Every rule lives once, in the careful lane (:meth:`check`), which reports each problem
    of a line. The fast lane in :meth:`run` takes a line only when each of its rule
    families is clean by the same test the careful lane makes: the id by
    :meth:`IdRule.problem`, the body by the same compiled schemas, and the envelope (method,
    url, model, and the file's mixing rules) by a cache of the verdicts :meth:`check` has
    reached: a (method, url, model) it found no fault with maps to its endpoint.
    """

    def __init__(self, profile: Profile, report: Report, collector: _Collector,
                 user_schema: CompiledSchema | None, endpoint: str | None) -> None:
        self.profile = profile
        self.report = report
        self.collector = collector
        self.user_schema = user_schema
        #: The schemas requests give their answers, each compiled once.
        self.schemas = SchemaCache()
        #: The endpoint every line must use (``--endpoint``), if given.
        self.fixed_endpoint = endpoint
        self.first_url: tuple[str, int] | None = None
        self.first_model: tuple[str, int] | None = None
        #: custom_id -> the line that first used it: the only per-request state kept.
        self.seen = IdLines()
        #: The echo key of each request without an id -> its first line (Bedrock, Vertex).
        self.echo_seen: dict[bytes, int] = {}
        #: (method, url, model) -> [the endpoint, lines of the fast lane with that envelope],
        #: for envelopes found clean.
        self.clean: dict[tuple[Any, Any, Any], list[Any]] = {}
        self._targets: dict[str, _Target | None] = {}
        self.warned: set[tuple[str, str]] = set()
        self.over_request_limit: int | None = None
        self.over_embedding_limit: int | None = None
        self.envelope = profile.envelope_fields
        #: When set (a range of a file checked in parallel): each request's line, and each
        #: embeddings request's line and input count, for the limits of the whole file.
        self.request_lines: array[int] | None = None
        self.input_lines: array[int] | None = None
        self.input_counts: array[int] | None = None
        #: The typed lane's decoder, for the envelope in :attr:`_typed_key` (None: none).
        self._typed_key: tuple[Any, Any, Any] | None = None
        self._typed_decode: Callable[[bytes], Any] | None = None

    def record_requests(self) -> None:
        self.request_lines = array("q")
        self.input_lines = array("q")
        self.input_counts = array("q")

    def target(self, url: str) -> _Target | None:
        """The endpoint a url names, compiled once; None when the provider has no such one."""
        if url not in self._targets:
            name = self.profile.schema_for(url)
            misplaced = self.profile.misplaced.get(url, {})
            self._targets[url] = None if name is None else _Target(
                url, compiled(name), misplaced, frozenset(misplaced) or None,
                url.endswith("/embeddings") and self.profile.limits.max_embedding_inputs
                is not None, url in self.profile.model_required)
        return self._targets[url]

    def _add(self, code: str, message: str, line: int | None, param: str | None,
             custom_id: str | None, severity: Any = "error") -> None:
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE - 1] + "…"
        self.collector.add(Problem(code=code, message=message, line=line, param=param,
                                   custom_id=custom_id, path=self.report.path,
                                   severity=severity))

    def run(self, lines: Iterable[Line | Problem | TakenLines],
            on_progress: Callable[[int], None] | None) -> None:
        """Check every line: the validator's hot path. A line the fast lane takes
        (:meth:`_fast_lane`) is clean by the careful lane's own tests; any other goes to
        :meth:`check`, which reports each of its problems."""
        report = self.report
        read_problem = self.collector.add
        check = self.check
        takes = self._fast_lane()
        max_requests = self.profile.limits.max_requests
        # The request that takes the file over the limit: found by one comparison a line.
        first_over = -1 if max_requests is None else max_requests + 1
        requests = last_line = end = 0
        record = None if self.request_lines is None else self.request_lines.append
        for item in lines:
            if type(item) is not Line:
                if type(item) is TakenLines:
                    # Lines the typed lane took: every one a request, clean and counted.
                    count, last_line, end = item
                    if requests < first_over <= requests + count:
                        self.over_request_limit = last_line - (requests + count - first_over)
                    requests += count
                    if on_progress is not None:
                        on_progress(end)
                    continue
                problem = cast(Problem, item)
                read_problem(problem)
                # A run of blank lines is one problem of its first line, and its count.
                last_line = max(last_line, (problem.line or 0) + max(problem.lines, 1) - 1)
                if problem.offset is not None and problem.length is not None:
                    end = max(end, problem.offset + problem.length)
                continue
            number, offset, raw, value = item
            last_line = number
            end = offset + len(raw)
            requests += 1
            if record is not None:
                record(number)
            if requests == first_over:
                self.over_request_limit = number
            if on_progress is not None and not number & 8191:
                on_progress(end)
            if not takes(value, number):
                check(item)
        self._count_fast_lane()
        report.requests = requests
        report.lines = last_line
        report.bytes = end
        if on_progress is not None:
            on_progress(end)

    def _fast_lane(self) -> Callable[[dict[str, Any], int], bool]:
        """The test of the fast lane: True (the line counted) when each rule family of the
        line is clean by the careful lane's own test: the id by :meth:`IdRule.problem`, the
        envelope by the verdicts :meth:`check` cached in :attr:`clean`, the body by the
        same compiled schemas, and the id not seen before. Names are bound once here
        because the test runs once a line."""
        profile = self.profile
        id_field, body_field = profile.id_field, profile.body_field
        carries_url = profile.carries_url
        endpoint_of = self._endpoint_of
        id_problem = None if profile.ids.plain else profile.ids.problem
        envelope_fits = self.envelope.issuperset
        clean_get = self.clean.get
        # The ids of this lane are in seen.lines, or taken by the typed lane in blocks.
        seen_setdefault = self.seen.lines.setdefault
        block_ids = self.seen.block_ids
        user_schema = self.user_schema
        count_embeddings = self._count_embeddings
        body_clean = body_is_clean
        schemas = self.schemas
        provider = profile.name
        # Most bodies ask for no structured output: one set test, schema_problems' own
        # first, spares them the call (300,000 chat lines in one process, 2026-12-06:
        # 1.50-1.62 s with the call against 1.39-1.46 s without, the version before the
        # schema check 1.31-1.44 s).
        asks_nothing = ASKING_KEYS.isdisjoint
        # Where a line without an id is the provider's own shape (Vertex AI's Gemini lines),
        # it is clean by the careful lane's own test of its body: no repeat of an earlier
        # one (_check_repeated_body's key and map). Taken here, 100,000 such lines are
        # checked in 1.25 to 1.29 s instead of 3.24 s (2026-12-07).
        idless_takes = not profile.id_required and not profile.missing_id_warns \
            and profile.echo_field is not None
        echo_seen_setdefault = self.echo_seen.setdefault

        def takes(value: dict[str, Any], number: int) -> bool:
            body = value.get(body_field)
            if type(body) is not dict:
                return False
            key = (value.get("method"), value.get("url") if carries_url else endpoint_of(body),
                   body.get("model"))
            try:
                entry = clean_get(key)
            except TypeError:  # a list or object where a name should be: not clean
                return False
            if entry is None:
                return False
            target = entry[0]
            custom_id = value.get(id_field)
            if custom_id is None and idless_takes:
                id_clean = echo_seen_setdefault(echo_key(body), number) == number
            else:
                id_clean = (type(custom_id) is str and bool(custom_id)
                            and (id_problem is None or id_problem(custom_id) is None))
            if not (id_clean
                    and envelope_fits(value)
                    and body_clean(target.schema, body, target.model_required,
                                   target.misplaced_names)
                    and (user_schema is None or user_schema.is_valid(body))
                    and (asks_nothing(body) or not schema_problems(body, schemas, provider))
                    and (custom_id is None or (custom_id not in block_ids and seen_setdefault(
                        custom_id, number) == number))):
                return False
            entry[1] += 1
            if target.counts_inputs:
                count_embeddings(body, number)
            return True

        return takes

    def take_block(self, text: bytes, first: int, whole: int, number: int
                   ) -> tuple[int, int]:
        """The typed lane: the lines of ``text[first:whole]`` (numbered from ``number + 1``)
        that decode, from the block's start, into the types generated from the schemas for
        the file's first clean envelope (:func:`batchio.typed.line_decoder`): each is clean
        by the same rules as the fast lane's, so they are counted without another look.
        Returns (lines taken, where the rest of the block begins); a block whose ids repeat
        one another or earlier ones is left whole to the lanes behind it.

        A line decoded into types costs less than one decoded into dicts, and far less than
        one checked by the compiled schema after that: 300,000 chat lines validate in one
        process in 0.41 s against 0.42 s for a bare orjson loop, from 1.33 s (2026-12-07)."""
        decode = self._typed_decoder()
        if decode is None:
            return 0, first
        entry = self.clean[self._typed_key]  # type: ignore[index]
        lines = io.BytesIO(text)
        lines.seek(first)
        ids: list[str] = []
        add = ids.append
        inputs: list[Any] | None = [] if entry[0].counts_inputs else None
        resume = whole
        # The lines are read to the end of the text, past ``whole``: the part of a line that
        # the next read completes is dropped after (counting the block's lines first took
        # 0.08 s of 0.65 for 300,000 lines).
        try:
            if inputs is None:
                for raw in lines:
                    add(decode(raw).id)
            else:
                add_input = inputs.append
                for raw in lines:
                    value = decode(raw)
                    add(value.id)
                    add_input(value.body.input)
            if lines.tell() > whole:
                ids.pop()
        except TYPED_FAILURES:
            # The line that failed goes to the other lanes, and the rest of the block with it.
            resume = min(text.rfind(b"\n", first, lines.tell() - 1) + 1 or first, whole)
        if inputs is not None:
            del inputs[len(ids):]
        taken = len(ids)
        if not taken:
            return 0, first
        numbers = range(number + 1, number + taken + 1)
        if not self.seen.add_block(ids, number + 1):
            return 0, first
        entry[1] += taken
        if self.request_lines is not None:
            self.request_lines.extend(numbers)
        if inputs is not None:
            # Most inputs are one text each: told by their types in C, not a call a line
            # (0.04 s of 0.33 on 300,000 embeddings lines, 2026-12-07).
            counts = list(map(embedding_input_count, inputs)) \
                if list in set(map(type, inputs)) else [1] * taken
            self._count_embeddings_in(numbers, counts)
        return taken, resume

    def _typed_decoder(self) -> Callable[[bytes], Any] | None:
        """The typed lane's decoder, for the first envelope found clean (lines with another
        take the lanes behind it); None where the lane does not apply (a user's schema, an
        endpoint read off each body by more than which fields it holds, a body schema the
        types cannot say)."""
        if not self.clean or self.user_schema is not None or not TYPED_LANE:
            return None
        key = next(iter(self.clean))
        if key != self._typed_key:
            target, _, endpoint_keys = self.clean[key]
            self._typed_key = key
            self._typed_decode = self._make_typed_decoder(key, target, endpoint_keys)
        return self._typed_decode

    def _make_typed_decoder(self, key: tuple[Any, Any, Any], target: _Target,
                            endpoint_keys: frozenset[str] | None
                            ) -> Callable[[bytes], Any] | None:
        """The decoder of lines with this envelope, the id rule and the body schema of
        ``target``, or None where the lane cannot hold to the careful lane's rules."""
        profile = self.profile
        method, url, model = key
        if model is not None and type(model) is not str:
            return None
        # Where the body's shape decides its endpoint, the fields that decide it are held
        # to those of the first clean body: present there, required; absent, refused.
        fixed: dict[str, bool] = {}
        if profile.carries_url:
            if type(method) is not str or type(url) is not str:
                return None
            envelope = {"method": method, "url": url}
        elif self.fixed_endpoint is not None or profile.endpoint_of_body is None:
            envelope = {}
        elif profile.endpoint_keys is not None and endpoint_keys is not None:
            envelope = {}
            fixed = {name: name in endpoint_keys for name in profile.endpoint_keys}
        else:
            return None
        if target.model_required and model is None:
            return None
        return line_decoder(id_field=profile.id_field, id_type=profile.ids.decoded_type(),
                            body_field=profile.body_field, body_uri=target.schema.uri,
                            envelope=envelope, model=model,
                            forbidden=(target.misplaced_names or frozenset()) | ASKING_KEYS,
                            present=fixed)

    def _count_fast_lane(self) -> None:
        """Add the lines the fast lane took to the report's endpoints and models."""
        report = self.report
        for (_, url, model), entry in self.clean.items():
            count, entry[1] = entry[1], 0
            report.endpoints[url] = report.endpoints.get(url, 0) + count
            if type(model) is str:
                report.models[model] = report.models.get(model, 0) + count

    def _endpoint_of(self, body: Mapping[str, Any]) -> str:
        """The endpoint of a line that carries no url."""
        if self.fixed_endpoint is not None:
            return self.fixed_endpoint
        return self.profile.endpoint_for_body(body)

    def _count_embeddings(self, body: Mapping[str, Any], number: int) -> None:
        self._count_embeddings_in((number,), (embedding_inputs(body),))

    def _count_embeddings_in(self, numbers: Sequence[int], counts: Sequence[int]) -> None:
        """Count the embedding inputs of requests on these lines, and note the line that
        takes the file over the limit."""
        before = self.report.embedding_inputs
        self.report.embedding_inputs += sum(counts)
        if self.input_lines is not None and self.input_counts is not None:
            self.input_lines.extend(numbers)
            self.input_counts.extend(counts)
        limit = self.profile.limits.max_embedding_inputs
        if limit is not None and self.over_embedding_limit is None \
                and self.report.embedding_inputs > limit:
            total = itertools.accumulate(counts, initial=before)
            next(total)
            self.over_embedding_limit = next(
                number for number, running in zip(numbers, total, strict=False)
                if running > limit)

    # --- the careful lane: every rule, once ---------------------------------------------------

    def check(self, line: Line) -> None:
        """Every check of one request line, each problem reported."""
        profile = self.profile
        value, number = line.value, line.number
        body, bare = profile.body_of(value)
        if body is None and self._another_providers_line(value, number):
            return
        custom_id = self._check_id(value.get(profile.id_field), number)
        if custom_id is None and profile.echo_field is not None and isinstance(body, dict):
            self._check_repeated_body(body, number)
        url, url_clean = self._check_url(value, body, number, custom_id)
        if not bare and not self.envelope.issuperset(value):
            unknown = sorted(set(value) - self.envelope)
            self._add("unknown_field",
                      f"top-level field {quote(unknown[0], 40)} is not part of the request line",
                      number, unknown[0], custom_id, "warning")
        if body is None:
            self._add("missing_body", f"the line has no {profile.body_field}", number,
                      profile.body_field, custom_id)
            return
        if type(body) is not dict:
            self._add("body_not_object", f"{profile.body_field} must be a JSON object",
                      number, profile.body_field, custom_id)
            return
        model, model_clean = self._check_model(url, body, number, custom_id)
        target = None if url is None else self.target(url)
        if target is not None and url is not None:
            self.report.endpoints[url] = self.report.endpoints.get(url, 0) + 1
            if target.counts_inputs:
                self._count_embeddings(body, number)
            self._check_body(target, body, number, custom_id, bare)
        for code, severity, param, message in schema_problems(body, self.schemas,
                                                               profile.name):
            self._add(code, message, number,
                      param if bare else f"{profile.body_field}.{param}", custom_id, severity)
        if self.user_schema is not None and not self.user_schema.is_valid(body):
            self._explain(self.user_schema, body, number, custom_id, "custom_schema")
        self._check_keys_once(line.raw, number, custom_id)
        if target is not None and url_clean and model_clean and not bare:
            # No fault with this envelope: later lines like it may take the fast lane.
            with contextlib.suppress(TypeError):
                # With the body fields that decide its endpoint, where the body does.
                keys = profile.endpoint_keys
                self.clean.setdefault((value.get("method"), url, model), [
                    target, 0, None if keys is None else keys.intersection(body)])

    def _check_repeated_body(self, body: Mapping[str, Any], number: int) -> None:
        """``ambiguous_match``: a request without an id whose body repeats an earlier one's
        exactly (:func:`batchio.ids.echo_key`): their results repeat the same request, so
        which answers which cannot be known."""
        first = self.echo_seen.setdefault(echo_key(body), number)
        if first != number:
            self._add("ambiguous_match", f"this request repeats line {first} exactly and "
                      f"neither has a {self.profile.id_field}: their results cannot be told "
                      "apart (the join gives them in file order); give each an id",
                      number, self.profile.id_field, None, "warning")

    def _check_keys_once(self, raw: bytes, number: int, custom_id: str | None) -> None:
        for key in _duplicate_keys(raw):
            self._add("duplicate_key",
                      f"key {quote(key, 40)} appears twice in one object; readers disagree "
                      "on which one counts", number, key, custom_id, "warning")

    def _another_providers_line(self, value: Mapping[str, Any], number: int) -> bool:
        """True (and reported) when a line without this provider's body has the shape of
        another provider's lines."""
        other = detect_provider(value).provider
        if other in (self.profile.name, "openai"):
            return False
        self._add("mixed_shapes",
                  f"the line has the shape of {get_profile(other).title} lines (top-level "
                  f"{', '.join(quote(key, 20) for key in list(value)[:4])}), not of this "
                  f"file's {self.profile.title} lines", number, None, None)
        return True

    def _check_id(self, custom_id: Any, number: int) -> str | None:
        profile = self.profile
        problem = profile.ids.problem(custom_id, profile.id_field)
        if problem is not None:
            code, message = problem
            if code == "missing_custom_id" and not profile.id_required \
                    and not profile.missing_id_warns:
                pass  # the provider's own shape: its result repeats the request
            elif code == "missing_custom_id" and not profile.id_required:
                how = ("its result is matched back to it by the body the result repeats "
                       f"({profile.echo_field}), which two identical requests share"
                       if profile.echo_field else "its result cannot be matched back to it")
                self._add(code, f"{message}: {how}", number, profile.id_field, None,
                          "warning")
            else:
                self._add(code, message, number, profile.id_field,
                          custom_id if type(custom_id) is str else None)
        if type(custom_id) is not str or not custom_id:
            return None
        first = self.seen.setdefault(custom_id, number)
        if first != number and profile.duplicate_ids != "allowed":
            self._add("duplicate_custom_id",
                      f"{profile.id_field} {quote(custom_id)} was already used on line {first}",
                      number, profile.id_field, custom_id, profile.duplicate_ids)
        return custom_id

    def _check_url(self, value: Mapping[str, Any], body: Any, number: int,
                   custom_id: str | None) -> tuple[str | None, bool]:
        """The line's endpoint (None when it names none the provider has) and whether the
        method and url rules found no error."""
        profile = self.profile
        clean = True
        url: Any
        if not profile.carries_url:
            url = self._endpoint_of(body if isinstance(body, dict) else {})
            if profile.default_is_guess and url == profile.default_endpoint \
                    and isinstance(body, dict) and self.fixed_endpoint is None:
                self._add("model_family_unknown", "the body's shape names no model family "
                          f"of {profile.title} (top-level "
                          f"{', '.join(quote(key, 20) for key in list(body)[:4]) or 'none'})"
                          ": only its being an object is checked; give the job's model "
                          "(--model, model= in Python) to check every body by its family", number,
                          profile.body_field, custom_id, "warning")
        else:
            method = value.get("method")
            if method != "POST":
                clean = False
                self._add("invalid_method", "method must be POST" + (
                    "" if method is None else f", not {quote(method, 20)}"),
                    number, "method", custom_id)
            url = value.get("url")
            if url is None:
                self._add("missing_url", "the line has no url", number, "url", custom_id)
                return None, False
            if type(url) is not str or profile.schema_for(url) is None:
                self._add("unsupported_url",
                          f"url {quote(url, 60)} is not a batch endpoint of {profile.title}; "
                          f"expected one of {profile.endpoint_list()}{_served_by(url)}",
                          number, "url", custom_id)
                return None, False
        if self.fixed_endpoint is not None:
            if url != self.fixed_endpoint:
                clean = self._mismatch(
                    "url_mismatch", f"url {quote(url, 60)} differs from the endpoint "
                    f"{quote(self.fixed_endpoint, 60)} the batch is for", "error", number,
                    "url", custom_id) and clean
            elif self.report.endpoint is None:
                self.report.endpoint = url
        elif profile.default_is_guess and url == profile.default_endpoint:
            pass  # a body whose family is not known differs from none (warned above)
        elif self.first_url is None:
            self.first_url = (url, number)
            if self.report.endpoint is None:
                self.report.endpoint = url
        elif url != self.first_url[0]:
            first, first_line = self.first_url
            if profile.carries_url:
                message = (f"url {quote(url, 60)} differs from the file's endpoint "
                           f"{quote(first, 60)} (line {first_line}); {profile.title} takes "
                           "one endpoint per file")
            else:  # the endpoint is the job's: read off each body
                message = (f"the body is for {quote(url, 60)}, the file's first for "
                           f"{quote(first, 60)} (line {first_line}); {profile.title} takes "
                           "one endpoint (or model family) per job")
            clean = self._mismatch("url_mismatch", message, profile.mixed_urls, number,
                                   "url" if profile.carries_url else profile.body_field,
                                   custom_id) and clean
        return url, clean

    def _mismatch(self, code: str, message: str, policy: str, number: int, param: str,
                  custom_id: str | None) -> bool:
        """A second url or model in one file, by the provider's policy: an error on each
        line, a warning once per value, or nothing. True when it is not an error."""
        if policy == "error":
            self._add(code, message, number, param, custom_id)
            return False
        if policy == "warning" and (code, message) not in self.warned:
            self.warned.add((code, message))
            self._add(code, message.replace(" takes one", " may take only one") +
                      " (not documented either way: a warning)", number, param, custom_id,
                      "warning")
        return True

    def _check_model(self, url: str | None, body: Mapping[str, Any], number: int,
                     custom_id: str | None) -> tuple[Any, bool]:
        """The body's model, and whether the model rules found no error."""
        profile = self.profile
        model = body.get("model")
        param = f"{profile.body_field}.model"
        if type(model) is not str:
            # None: the body's rules say whether the endpoint requires one. Not a name: the
            # body's schema says so (a model must be a string).
            return model, model is None and url not in profile.model_required
        models = self.report.models
        seen = models.get(model, 0)
        models[model] = seen + 1
        if not seen:
            serving = foreign_model(profile.name, model)
            if serving is not None:
                self._add("foreign_model", f"model {quote(model, 60)} is served by "
                          f"{', '.join(serving)}, not {profile.title}: the request will fail "
                          "for its model (convert --model names another)", number, param,
                          custom_id, "warning")
        if self.first_model is None:
            self.first_model = (model, number)
            return model, True
        if model == self.first_model[0]:
            return model, True
        expected, first_line = self.first_model
        return model, self._mismatch(
            "model_mismatch", f"model {quote(model, 60)} differs from {quote(expected, 60)} "
            f"(line {first_line}); {profile.title} takes one model per file",
            profile.mixed_models, number, param, custom_id)

    def _check_body(self, target: _Target, body: Mapping[str, Any], number: int,
                    custom_id: str | None, bare: bool) -> None:
        prefix = "" if bare else self.profile.body_field
        for problem in body_problems(target.schema, body, prefix, target.url,
                                     model_required=target.model_required,
                                     misplaced=target.misplaced):
            self._add(problem.code, problem.message, number, problem.param, custom_id)

    def _explain(self, schema: CompiledSchema, body: Any, number: int,
                 custom_id: str | None, code: str) -> None:
        problem = rejection(schema, body, self.profile.body_field, code)
        self._add(problem.code, problem.message, number, problem.param, custom_id)

    def check_file_limits(self) -> None:
        _check_file_limits(self.profile, self.report, self.collector, self.over_request_limit,
                           self.over_embedding_limit)


def file_limits(profile: Profile, report: Report) -> None:
    """Add to ``report`` what its totals (``requests``, ``bytes``, ``embedding_inputs``)
    break of the provider's per-file limits, and ``empty_file``, as :func:`validate` does
    at a file's end (without the line first over a limit, which only a pass knows)."""
    _check_file_limits(profile, report, _Collector(report, None), None, None)


def _served_by(url: Any) -> str:
    """`` (served by ...: --provider ...)`` when other providers take this url."""
    if type(url) is not str:
        return ""
    # Providers whose lines carry urls first: the line at hand does.
    ranked = sorted(PROVIDERS, key=lambda name: not get_profile(name).carries_url)
    others = [name for name in ranked if get_profile(name).schema_for(url) is not None]
    if not others:
        return ""
    return f" (served by {', '.join(others)}: --provider {others[0]})"


def _check_file_limits(profile: Profile, report: Report, collector: _Collector,
                       over_request_limit: int | None, over_embedding_limit: int | None
                       ) -> None:
    """The file's totals against the provider's limits, by the sharder's own test
    (:meth:`ShardLimits.within`); the lines named are the first past each count."""
    limits = ShardLimits.for_profile(profile)

    adjustable = profile.limits.adjustable

    def add(code: str, message: str, line: int | None, limit: str = "") -> None:
        # A default quota an account may have raised is a warning, never an error.
        severity: Severity = "warning" if limit in adjustable else "error"
        if severity == "warning":
            message += " by default (a quota your account may have raised)"
        collector.add(Problem(code=code, message=message, line=line, path=report.path,
                              severity=severity))

    if report.requests == 0 and not report.errors:
        add("empty_file", "the file holds no requests", None)
    minimum = profile.limits.min_requests
    if minimum is not None and 0 < report.requests < minimum:
        add("too_few_requests", f"{report.requests:,} requests; each job of {profile.title} "
            f"takes at least {minimum:,} (across its files)", None, "min_requests")
    if not limits.within(requests=report.requests):
        add("too_many_tasks",
            f"{report.requests:,} requests; {profile.title} allows {limits.max_requests:,} "
            f"per file (line {over_request_limit} is the first over)", over_request_limit,
            "max_requests")
    if not limits.within(size=report.bytes):
        add("file_too_large",
            f"{report.bytes:,} bytes; {profile.title} allows {limits.max_bytes:,} per file",
            None)
    if not limits.within(inputs=report.embedding_inputs):
        add("too_many_embedding_inputs",
            f"{report.embedding_inputs:,} embedding inputs; at most "
            f"{limits.max_embedding_inputs:,} per file", over_embedding_limit)


# --- one file, several processes --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Range:
    """A byte range of a file that starts at a line."""

    start: int
    end: int


@dataclass
class _RangeResult:
    """What checking one range of a file found, with what the whole-file checks need.

    Its lines are numbered from 1 at the range's start (how many lines come before it is
    known only once the ranges before it are read): the merge shifts them by ``base``."""

    report: Report
    seen: IdLines
    request_lines: Sequence[int]
    input_lines: Sequence[int]
    input_counts: array[int]
    lines_read: int
    #: The lines of the file before this range, set by the merge.
    base: int = 0

    # A worker sends its ids as one msgpack string, the lines of those the typed lane did
    # not take, and the typed lane's blocks as (first line, count): 150,000 ids cross in
    # 30 ms as a msgpack string and an array of lines against 47 ms as a pickled dict
    # (2026-12-07), and the blocks spare both the array and, here, a dict of their lines.
    # Lines of requests every line of which is one go as a range. Ids that are not UTF-8 (a
    # lone surrogate from a JSON escape) go as pickle has them.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        with contextlib.suppress(UnicodeEncodeError):
            ids, lines, runs = self.seen.export()
            state["seen"] = (_ID_ENCODER.encode(ids), lines, runs)
        for name in ("request_lines", "input_lines"):
            numbers = state[name]
            # Lines that rise from 1 and end at their count are every line from 1.
            if numbers and numbers[0] == 1 and numbers[-1] == len(numbers):
                state[name] = range(1, len(numbers) + 1)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state["seen"], tuple):
            ids, lines, runs = state["seen"]
            state["seen"] = IdLines.restore(_ID_DECODER.decode(ids), lines, runs)
        self.__dict__.update(state)


_ID_ENCODER = msgspec.msgpack.Encoder()
_ID_DECODER = msgspec.msgpack.Decoder(list[str])


def _check_range(path: str, byte_range: _Range, provider: str, limits: Any,
                 endpoint: str | None, schema: Any, max_errors: int | None, cap: int,
                 on_progress: Callable[[int], None] | None = None,
                 slot: int | None = None) -> _RangeResult:
    """Check the lines of one range of ``path`` (run in any process), numbered from 1.

    The checker first reads the file's first line as a single pass would (its problems
    dropped), so that the url and model it fixes are known in every range.
    """
    profile = dataclasses.replace(get_profile(provider), limits=limits)
    report = Report(path=path, provider=profile.name, endpoint=endpoint)
    checker = _LineChecker(profile, report, _Collector(report, max_errors, keep_once=True),
                           _user_schema(schema), endpoint)
    if byte_range.start > 0:
        for item in read_lines(path, errors="collect", max_line_bytes=cap):
            if isinstance(item, Line):
                checker.check(item)
            break
        report.counts.clear()
        report.errors.clear()
        report.warnings.clear()
        report.models.clear()
        report.endpoints.clear()
        report.embedding_inputs = 0
        checker.seen.clear()
    checker.record_requests()
    lines = read_range(path, byte_range.start, byte_range.end, first_line=1,
                       max_line_bytes=cap, blank_lines=blank_policy(profile),
                       take_block=checker.take_block)
    counters = _workers.shared_progress
    if slot is not None and counters is not None:
        # In a worker: the bytes of this range done so far, for the bar's sum.
        start = byte_range.start

        def on_progress(position: int) -> None:
            counters[slot] = position - start

    checker.run(lines, on_progress)
    assert checker.request_lines is not None and lines.lines_read is not None
    assert checker.input_lines is not None and checker.input_counts is not None
    return _RangeResult(report, checker.seen, checker.request_lines, checker.input_lines,
                        checker.input_counts, lines.lines_read)


def check_workers(workers: object) -> None:
    """Refuse a ``workers=`` that is not None or a whole number of at least 1."""
    if workers is not None and (type(workers) is not int or workers < 1):
        raise UsageError(f"workers must be a whole number of at least 1, not {workers!r}")


def usable_cores() -> int:
    """The cores this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _plan_ranges(source: LineSource, profile: Profile, schema: Any, workers: int | None
                 ) -> list[_Range] | None:
    """Line-aligned byte ranges of a large plain file, one per worker; None to check it in
    one pass. Nothing is read but a line's end at each cut: a pass counting the lines
    before each range would be work no process shares (0.14 s of 1.4 s on 425 MB)."""
    check_workers(workers)
    count = usable_cores() if workers is None else workers
    if count < 2 or not isinstance(source, (str, os.PathLike)) or os.fspath(source) == "-":
        return None
    if profile.echo_field is not None:
        # Requests without an id are told apart by their bodies, across the whole file
        # (ambiguous_match): one pass (Bedrock's and Vertex AI's files are 1 GB at most).
        return None
    path = os.fspath(source)
    if not is_plain_file(path):
        return None
    # A worker rebuilds the profile from its name and limits, and the schema from its
    # source: anything that cannot be rebuilt that way is checked in one process.
    if profile.name not in PROVIDERS or dataclasses.replace(
            get_profile(profile.name), limits=profile.limits) != profile:
        return None
    if isinstance(schema, CompiledSchema):
        return None
    try:
        size = os.path.getsize(path)
        if workers is None and size < PARALLEL_MIN_BYTES:
            return None
        with open(path, "rb") as handle:
            starts = _line_starts_near(handle, size, count)
    except OSError:
        return None
    if len(starts) < 2:
        return None
    return [_Range(start, end) for start, end in zip(starts, [*starts[1:], size], strict=True)]


#: How much more of the file the first range holds than each other one: it is checked in
#: the process that starts the others, which pay for starting and for sending their ids
#: back. Even ranges left this process waiting (300,000 chat lines in two processes: 0.38 s,
#: its own half 0.28 s of it); at 1.25 it was the one waited for, once the typed lane
#: kept its ids as a set. Two processes against a bare orjson loop, four rounds each
#: (2026-12-07): 300,000 chat lines 1.29-1.37x at 1.1 against 1.23-1.30x at 1.25 and
#: 1.26-1.35x at 1.0; embeddings 1.00-1.07x against 0.96-1.00x; Responses 1.24-1.32x
#: against 1.18-1.21x; 500,000 chat lines 1.30-1.39x against 1.19-1.29x.
FIRST_RANGE_WEIGHT = 1.1


def _line_starts_near(handle: BinaryIO, size: int, count: int) -> list[int]:
    """Offsets that cut a file of ``size`` bytes into ``count`` parts (the first
    :data:`FIRST_RANGE_WEIGHT` times as large as each other), each moved forward to the
    start of a line; fewer where parts would be empty."""
    starts = [0]
    total = FIRST_RANGE_WEIGHT + count - 1
    for index in range(1, count):
        cut = int(size * (FIRST_RANGE_WEIGHT + index - 1) / total)
        start = line_start_at_or_after(handle, max(cut, starts[-1]))
        if start >= size:
            break
        if start > starts[-1]:
            starts.append(start)
    return starts


def _validate_in_ranges(path: str, ranges: list[_Range], profile: Profile,
                        endpoint: str | None, schema: Any, max_errors: int | None, cap: int,
                        on_progress: Callable[[int], None] | None) -> Report | None:
    """Check each range in its own process (the first in this one) and merge the results
    into the report one pass gives; None when that cannot be done (no other process to be
    had, or a first line that does not fix the file's url and model, which every range
    must know)."""
    if not _first_line_fixes_the_file(path, profile, endpoint, cap):
        return None
    arguments = (profile.name, profile.limits, endpoint, schema, max_errors, cap)
    # The bar shows the sum of every range's bytes: each worker counts its own in shared
    # memory, this process adds them up as it checks the first range, then while it waits.
    done = None if on_progress is None else process_context().Array(
        "q", len(ranges), lock=False)
    try:
        with worker_pool(len(ranges) - 1, done) as pool:
            others = [pool.submit(_check_range, path, byte_range, *arguments, slot=slot)
                      for slot, byte_range in enumerate(ranges[1:], 1)]
            mine = None
            if on_progress is not None and done is not None:
                shared = done

                def mine(position: int) -> None:
                    on_progress(position + sum(shared[1:]))

            first = _check_range(path, ranges[0], *arguments, on_progress=mine)
            while on_progress is not None and done is not None and not all(
                    future.done() for future in others):
                concurrent.futures.wait(others, timeout=0.2)
                on_progress(ranges[0].end + sum(done[1:]))
            results = [first, *(future.result() for future in others)]
    except (OSError, BrokenProcessPool):
        return None
    if on_progress is not None:
        on_progress(ranges[-1].end)
    return _merge(results, profile, max_errors)


def _first_line_fixes_the_file(path: str, profile: Profile, endpoint: str | None, cap: int
                               ) -> bool:
    """True when the file's first line is a request that fixes its url and model, as the
    later lines of a single pass would see them."""
    report = Report(path=path, provider=profile.name)
    checker = _LineChecker(profile, report, _Collector(report, 0), None, endpoint)
    for item in read_lines(path, errors="collect", max_line_bytes=cap):
        if not isinstance(item, Line) or item.number != 1:
            return False
        checker.check(item)
        break
    return (checker.first_model is not None and report.counts.get("url_mismatch", 0) == 0
            and (checker.first_url is not None or endpoint is not None))


def _merge(results: list[_RangeResult], profile: Profile, max_errors: int | None) -> Report:
    """One report, the same as a single pass would give, from the results of the ranges in
    file order. Problems are ordered by line, so merging is a sort."""
    report = Report(path=results[0].report.path, provider=profile.name,
                    endpoint=next((r.report.endpoint for r in results if r.report.endpoint),
                                  None))
    collector = _Collector(report, max_errors)
    base = 0
    for result in results:
        result.base = base
        base += result.lines_read
    once: set[tuple[str, str]] = set()
    for problem in _problems_in_file_order(results, profile):
        if problem.severity == "warning" and problem.code in _ONCE_WARNINGS:
            # Warnings a single pass gives once per file (or per value).
            if (problem.code, problem.message) in once:
                continue
            once.add((problem.code, problem.message))
        collector.add(problem)
    _add_totals(report, results)
    _check_file_limits(profile, report, collector,
                       *_first_lines_over_limits(results, profile.limits))
    return report


# In one pass, a duplicate is reported after the id's own rule problems and before every
# other problem of its line.
_SAME_LINE_ORDER = {"missing_custom_id": 0, "invalid_custom_id": 0, "custom_id_too_long": 0,
                    "custom_id_charset": 0, "duplicate_custom_id": 1}


def _problems_in_file_order(results: list[_RangeResult], profile: Profile) -> list[Problem]:
    """Every range's problems at their lines in the file, plus the duplicates across ranges
    (found from the ranges' ids, named after the id's first use in the whole file), sorted
    as one pass lists them."""
    problems: list[Problem] = []
    id_field = profile.id_field

    def already_used(custom_id: str, last: int) -> str:
        # The first range (up to ``last``) that used the id holds its first use.
        first = next(result.base + result.seen[custom_id] for result in results[:last + 1]
                     if custom_id in result.seen)
        return f"{id_field} {quote(custom_id)} was already used on line {first}"

    for number, result in enumerate(results):
        base = result.base
        for problem in result.report.errors + result.report.warnings:
            if base:
                problem = _shifted(problem, base)
                if problem.code == "duplicate_custom_id" and problem.custom_id is not None:
                    problem = dataclasses.replace(
                        problem, message=already_used(problem.custom_id, number))
            problems.append(problem)
        if not number or profile.duplicate_ids == "allowed":
            continue
        # The ids a range shares with earlier ranges.
        seen = result.seen
        for custom_id in set().union(*(seen.common(earlier.seen)
                                       for earlier in results[:number])):
            problems.append(Problem(
                code="duplicate_custom_id", line=base + seen[custom_id], param=id_field,
                custom_id=custom_id, path=result.report.path,
                message=already_used(custom_id, number - 1),
                severity="warning" if profile.duplicate_ids == "warning" else "error"))
    problems.sort(key=lambda p: (p.line or 0, _SAME_LINE_ORDER.get(p.code, 2)))
    return _blank_runs_joined(problems)


def _shifted(problem: Problem, base: int) -> Problem:
    """A range's problem at its line in the file, ``base`` lines further on."""
    if problem.line is None:
        return problem
    if problem.code == "blank_line" and problem.lines > 1:
        # Its message names its lines.
        return blank_problem(problem.line + base, problem.lines, problem.path or "",
                             problem.offset or 0, problem.length or 0, problem.severity,
                             problem.message)
    return dataclasses.replace(problem, line=problem.line + base)


def _blank_runs_joined(problems: list[Problem]) -> list[Problem]:
    """A run of blank lines that a range boundary cut in two is one problem, as one pass
    reports it (within a range, the reader already gives each run as one)."""
    joined: list[Problem] = []
    for problem in problems:
        last = joined[-1] if joined else None
        if (last is not None and problem.code == last.code == "blank_line"
                and last.line is not None and problem.line == last.line + (last.lines or 1)):
            joined[-1] = blank_problem(
                last.line, (last.lines or 1) + (problem.lines or 1), last.path or "",
                last.offset or 0, (last.length or 0) + (problem.length or 0), last.severity,
                last.message)
            continue
        joined.append(problem)
    return joined


def _add_totals(report: Report, results: list[_RangeResult]) -> None:
    """The ranges' counts of unlisted problems, lines, requests, models and urls."""
    for result in results:
        part = result.report
        listed = dict.fromkeys(part.counts, 0)
        for problem in part.errors + part.warnings:
            listed[problem.code] += problem.lines
        for code, count in part.counts.items():
            if count > listed.get(code, 0):
                report.counts[code] = report.counts.get(code, 0) + count - listed.get(code, 0)
        report.errors_truncated += part.errors_truncated
        report.warnings_truncated += part.warnings_truncated
        report.requests += part.requests
        report.embedding_inputs += part.embedding_inputs
        for model, count in part.models.items():
            report.models[model] = report.models.get(model, 0) + count
        for url, count in part.endpoints.items():
            report.endpoints[url] = report.endpoints.get(url, 0) + count
    report.lines = max(result.base + result.report.lines if result.report.lines else 0
                       for result in results)
    report.bytes = max(result.report.bytes for result in results)


def _first_lines_over_limits(results: list[_RangeResult], limits: Limits
                             ) -> tuple[int | None, int | None]:
    """The line of the first request past the file's request limit, and of the request
    whose embedding inputs first pass the input limit (None where a limit is not passed)."""
    over_requests = None
    if limits.max_requests is not None:
        index = limits.max_requests  # of the first request over, counted from 0
        for result in results:
            if index < len(result.request_lines):
                over_requests = result.base + result.request_lines[index]
                break
            index -= len(result.request_lines)
    if limits.max_embedding_inputs is None:
        return over_requests, None
    total = 0
    for result in results:
        for line, count in zip(result.input_lines, result.input_counts, strict=True):
            total += count
            if total > limits.max_embedding_inputs:
                return over_requests, result.base + line
    return over_requests, None
