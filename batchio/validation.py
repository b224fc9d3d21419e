"""Pre-submit validation: one streaming pass that finds every problem a server would report.

Owns :func:`validate` and its :class:`Report`. It reads lines through
:func:`batchio.jsonl.read_lines` in collect mode, checks each request's envelope and body
against the provider's profile and the shipped schemas, and checks the whole-file limits.
Problems are values in the report; nothing here raises for a bad line.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .errors import Problem
from .jsonl import (
    DEFAULT_MAX_LINE_BYTES,
    Line,
    LineSource,
    is_plain_file,
    read_lines,
    read_range,
    source_name,
)
from .providers import PROVIDERS, Profile, get_profile
from .schemas import CompiledSchema, compiled, format_param, load_user_schema

_PROGRESS_EVERY = 8192


@dataclass
class Report:
    """What :func:`validate` found in one file: the problems and the file's counts."""

    path: str
    provider: str
    endpoint: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: How many more errors were found than ``errors`` holds (``max_errors``).
    errors_truncated: int = 0
    lines: int = 0
    requests: int = 0
    bytes: int = 0
    #: Each model seen, with how many requests named it, in order of first use.
    models: dict[str, int] = field(default_factory=dict)
    embedding_inputs: int = 0

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings do not count)."""
        return not self.errors and not self.errors_truncated

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_truncated

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` shape of one file."""
        return {
            "path": self.path,
            "ok": self.ok,
            "lines": self.lines,
            "requests": self.requests,
            "bytes": self.bytes,
            "endpoint": self.endpoint,
            "models": list(self.models),
            "embedding_inputs": self.embedding_inputs,
            "errors": [problem.to_dict() for problem in self.errors],
            "warnings": [problem.to_dict() for problem in self.warnings],
            "errors_truncated": self.errors_truncated,
        }


class _Collector:
    """Appends problems to a report, up to ``max_errors``, counting the rest."""

    def __init__(self, report: Report, max_errors: int | None) -> None:
        self.report = report
        self.max_errors = max_errors

    def add(self, problem: Problem) -> None:
        if problem.severity == "warning":
            self.report.warnings.append(problem)
        elif self.max_errors is None or len(self.report.errors) < self.max_errors:
            self.report.errors.append(problem)
        else:
            self.report.errors_truncated += 1


def embedding_inputs(body: Mapping[str, Any]) -> int:
    """How many inputs an embeddings body counts for towards the per-file limit."""
    items = body.get("input")
    if isinstance(items, list):
        # A list of token ids is one input; a list of strings or token lists is many.
        if items and isinstance(items[0], int):
            return 1
        return len(items)
    return 1


def validate(
    source: LineSource,
    *,
    provider: str | Profile = "openai",
    endpoint: str | None = None,
    schema: str | os.PathLike[str] | Mapping[str, Any] | CompiledSchema | None = None,
    max_errors: int | None = None,
    max_line_bytes: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Report:
    """Check a batch file in one pass and report every problem with its line and code.

    ``source`` is a path, ``-``, a binary file object or an iterable of lines. ``endpoint``
    fixes the endpoint (otherwise the first line's url, or the provider's default for
    providers whose lines carry none). ``schema`` is a user's own JSON Schema applied to
    every body in addition. ``max_errors`` caps the listed errors; the report counts the
    rest. ``on_progress`` is called now and then with the bytes read so far.

    A plain file of :data:`PARALLEL_MIN_BYTES` or more is checked in two halves by two
    processes when the machine has two cores (``workers=1`` never does, ``workers=2``
    always does when it can); the report is the same as one pass gives.
    """
    profile = get_profile(provider)
    cap = max_line_bytes or profile.limits.max_file_bytes or DEFAULT_MAX_LINE_BYTES
    plan = _parallel_plan(source, profile, schema, endpoint, workers)
    if plan is not None:
        return _validate_in_halves(plan, profile, endpoint, schema, max_errors, cap,
                                   on_progress)
    user_schema = _user_schema(schema)
    report = Report(path=source_name(source), provider=profile.name, endpoint=endpoint)
    collector = _Collector(report, max_errors)
    checker = _LineChecker(profile, report, collector, user_schema)
    lines = read_lines(source, errors="collect", max_line_bytes=cap)
    checker.run(lines, on_progress)
    _check_file_limits(profile, report, collector, checker.over_request_limit,
                       checker.over_embedding_limit)
    return report


def _user_schema(
    schema: str | os.PathLike[str] | Mapping[str, Any] | CompiledSchema | None,
) -> CompiledSchema | None:
    if schema is None or isinstance(schema, CompiledSchema):
        return schema
    if isinstance(schema, Mapping):
        return CompiledSchema(schema)
    return load_user_schema(Path(schema))


class _LineChecker:
    """The per-line checks, with the little state a file needs (first url, model, ids)."""

    def __init__(self, profile: Profile, report: Report, collector: _Collector,
                 user_schema: CompiledSchema | None) -> None:
        self.profile = profile
        self.report = report
        self.collector = collector
        self.user_schema = user_schema
        self.first_url: tuple[str, int] | None = None
        self.first_model: tuple[str, int] | None = None
        #: custom_id -> the line that first used it: the only per-request state kept.
        self.seen: dict[str, int] = {}
        self.over_request_limit: int | None = None
        self.over_embedding_limit: int | None = None
        self.endpoint: str | None = report.endpoint
        self.body_schema: CompiledSchema | None = None
        self.envelope = profile.envelope_fields
        self.counting_embeddings = False
        #: When set (a half of a file checked in parallel): each request's line, and each
        #: embeddings request's line and input count, for the limits of the whole file.
        self.request_lines: array[int] | None = None
        self.input_lines: array[int] | None = None
        self.input_counts: array[int] | None = None
        if self.endpoint is not None or not profile.carries_url:
            self._fix_endpoint(self.endpoint or profile.default_endpoint, None)

    def preset(self, first: _FirstRequest) -> None:
        """Start as if the file's first request had been read: its url and model."""
        if first.url is not None and self.endpoint is None:
            self._fix_endpoint(first.url, first.line)
        self.first_model = (first.model, first.line)
        self.report.models.setdefault(first.model, 0)

    def record_requests(self) -> None:
        self.request_lines = array("q")
        self.input_lines = array("q")
        self.input_counts = array("q")

    def _fix_endpoint(self, endpoint: str, line: int | None) -> None:
        self.endpoint = endpoint
        self.report.endpoint = endpoint
        name = self.profile.schema_for(endpoint)
        if name is None:
            self._add("unsupported_url",
                      f"endpoint {endpoint!r} is not accepted by {self.profile.title}; "
                      f"expected one of {', '.join(self.profile.endpoints)}", line, "url", None)
            return
        self.body_schema = compiled(name)
        self.counting_embeddings = endpoint.endswith("/embeddings")
        if line is not None:
            self.first_url = (endpoint, line)

    def _add(self, code: str, message: str, line: int | None, param: str | None,
             custom_id: str | None, severity: Any = "error") -> None:
        self.collector.add(Problem(code=code, message=message, line=line, param=param,
                                   custom_id=custom_id, path=self.report.path,
                                   severity=severity))

    def run(self, lines: Iterator[Line | Problem], on_progress: Callable[[int], None] | None
            ) -> None:
        """Check every line. The loop is the validator's hot path: a line that is entirely
        normal (the file's url and model, a new id, a valid body) is checked with local
        lookups only; any line that fails a fast test goes through :meth:`check`, which
        finds and reports each of its problems.
        """
        report = self.report
        profile = self.profile
        add_problem = self.collector.add
        check = self.check
        id_field = profile.id_field
        body_field = profile.body_field
        carries_url = profile.carries_url
        id_rule = profile.ids if (profile.ids.max_length or profile.ids.pattern) else None
        envelope_fits = self.envelope.issuperset
        seen_setdefault = self.seen.setdefault
        user_schema = self.user_schema
        max_requests = profile.limits.max_requests
        max_embedding_inputs = profile.limits.max_embedding_inputs
        requests = 0
        last_line = 0
        end = 0
        fast_model_count = 0
        record = None if self.request_lines is None else self.request_lines.append
        for item in lines:
            if type(item) is Problem:
                add_problem(item)
                if item.line is not None and item.line > last_line:
                    last_line = item.line
                if item.offset is not None and item.length is not None:
                    end = max(end, item.offset + item.length)
                continue
            number, offset, raw, value = item  # type: ignore[misc]
            last_line = number
            end = offset + len(raw)
            requests += 1
            if record is not None:
                record(number)
            if max_requests is not None and requests > max_requests \
                    and self.over_request_limit is None:
                self.over_request_limit = number
            if on_progress is not None and not number & 8191:
                on_progress(end)
            custom_id = value.get(id_field)
            body = value.get(body_field)
            schema = self.body_schema
            if (type(custom_id) is str and custom_id
                    and (id_rule is None or id_rule.problem(custom_id) is None)
                    and (not carries_url or (value.get("method") == "POST"
                                             and value.get("url") == self.endpoint))
                    and envelope_fits(value)
                    and type(body) is dict
                    and self.first_model is not None
                    and body.get("model") == self.first_model[0]
                    and schema is not None and schema.is_valid(body)
                    and (user_schema is None or user_schema.is_valid(body))
                    and seen_setdefault(custom_id, number) == number):
                fast_model_count += 1
                if self.counting_embeddings:
                    self._count_embeddings(body, number, max_embedding_inputs)
                continue
            check(item)  # type: ignore[arg-type]
        if fast_model_count and self.first_model is not None:
            model = self.first_model[0]
            report.models[model] = report.models.get(model, 0) + fast_model_count
        report.requests = requests
        report.lines = last_line
        report.bytes = end
        if on_progress is not None:
            on_progress(end)

    def _count_embeddings(self, body: Mapping[str, Any], number: int, limit: int | None
                          ) -> None:
        count = embedding_inputs(body)
        self.report.embedding_inputs += count
        if self.input_lines is not None and self.input_counts is not None:
            self.input_lines.append(number)
            self.input_counts.append(count)
        if limit is not None and self.over_embedding_limit is None \
                and self.report.embedding_inputs > limit:
            self.over_embedding_limit = number

    def check(self, line: Line) -> None:
        """Every check of one request line, each problem reported (the slow path)."""
        profile = self.profile
        value = line.value
        number = line.number
        custom_id = value.get(profile.id_field)
        known_id: str | None = None
        if custom_id is None:
            self._add("missing_custom_id", f"the line has no {profile.id_field}", number,
                      profile.id_field, None)
        elif type(custom_id) is not str or not custom_id:
            self._add("invalid_custom_id",
                      f"{profile.id_field} must be a non-empty string", number,
                      profile.id_field, None)
        else:
            known_id = custom_id
            id_problem = profile.ids.problem(custom_id)
            if id_problem is not None:
                self._add(id_problem[0], id_problem[1], number, profile.id_field, custom_id)
            first = self.seen.setdefault(custom_id, number)
            if first != number:
                self._add("duplicate_custom_id",
                          f"{profile.id_field} {custom_id!r} was already used on line {first}",
                          number, profile.id_field, custom_id)

        if profile.carries_url:
            self._check_method_url(value, number, known_id)
        if not self.envelope.issuperset(value):
            unknown = sorted(set(value) - self.envelope)
            self._add("unknown_field",
                      f"top-level field {unknown[0]!r} is not part of the request line",
                      number, unknown[0], known_id, "warning")

        body = value.get(profile.body_field)
        if body is None:
            self._add("missing_body", f"the line has no {profile.body_field}", number,
                      profile.body_field, known_id)
            return
        if type(body) is not dict:
            self._add("body_not_object", f"{profile.body_field} must be a JSON object",
                      number, profile.body_field, known_id)
            return
        self._check_model(body, number, known_id)
        if self.counting_embeddings:
            self._count_embeddings(body, number, profile.limits.max_embedding_inputs)
        schema = self.body_schema
        if schema is not None and not schema.is_valid(body):
            self._explain(schema, body, number, known_id, "invalid_body")
        if self.user_schema is not None and not self.user_schema.is_valid(body):
            self._explain(self.user_schema, body, number, known_id, "custom_schema")

    def _check_method_url(self, value: Mapping[str, Any], number: int,
                          custom_id: str | None) -> None:
        method = value.get("method")
        if method != "POST":
            self._add("invalid_method",
                      "method must be POST" + ("" if method is None else f", not {method!r}"),
                      number, "method", custom_id)
        url = value.get("url")
        if url is None:
            self._add("missing_url", "the line has no url", number, "url", custom_id)
            return
        if type(url) is not str or url not in self.profile.endpoints:
            self._add("unsupported_url",
                      f"url {url!r} is not a batch endpoint of {self.profile.title}",
                      number, "url", custom_id)
            return
        if self.endpoint is None:
            self._fix_endpoint(url, number)
        elif url != self.endpoint:
            where = f" (from line {self.first_url[1]})" if self.first_url else ""
            self._add("url_mismatch",
                      f"url {url!r} differs from the file's endpoint {self.endpoint!r}{where}",
                      number, "url", custom_id)

    def _check_model(self, body: Mapping[str, Any], number: int,
                     custom_id: str | None) -> None:
        model = body.get("model")
        if type(model) is not str:
            if model is None and self.endpoint in self.profile.model_required:
                self._add("missing_model", "the body names no model", number,
                          f"{self.profile.body_field}.model", custom_id)
            return
        models = self.report.models
        models[model] = models.get(model, 0) + 1
        if self.first_model is None:
            self.first_model = (model, number)
        elif model != self.first_model[0] and self.profile.one_model_per_file:
            expected, first_line = self.first_model
            self._add("model_mismatch",
                      f"model {model!r} differs from {expected!r} (line {first_line}); "
                      "a batch file must use one model",
                      number, f"{self.profile.body_field}.model", custom_id)

    def _explain(self, schema: CompiledSchema, body: Any, number: int,
                 custom_id: str | None, code: str) -> None:
        problem = explain_body(schema, body, self.profile.body_field, code)
        if problem is not None:
            self._add(problem.code, problem.message, number, problem.param, custom_id)


def explain_body(schema: CompiledSchema, body: Any, body_field: str, code: str
                 ) -> Problem | None:
    """The one problem to show for a body a schema rejected, with its JSON path as param.

    ``code`` is ``invalid_body`` for the endpoint's schema (a true ``stream`` becomes
    ``stream_not_supported``) or ``custom_schema`` for a user's own.
    """
    violation = schema.explain(body)
    if violation is None:
        return None
    param = format_param(body_field, violation.path)
    if code == "invalid_body" and violation.path == ("stream",):
        return Problem(code="stream_not_supported", param=param,
                       message="stream must not be true in a batch request")
    message = violation.message
    if len(message) > 300:
        message = message[:297] + "..."
    return Problem(code=code, message=message, param=param)


def _check_file_limits(profile: Profile, report: Report, collector: _Collector,
                       over_request_limit: int | None, over_embedding_limit: int | None
                       ) -> None:
    limits = profile.limits

    def add(code: str, message: str, line: int | None) -> None:
        collector.add(Problem(code=code, message=message, line=line, path=report.path))

    if report.requests == 0 and not report.errors:
        add("empty_file", "the file holds no requests", None)
    if over_request_limit is not None:
        add("too_many_tasks",
            f"{report.requests:,} requests; {profile.title} allows {limits.max_requests:,} "
            f"per file (line {over_request_limit} is the first over)", over_request_limit)
    if limits.max_file_bytes is not None and report.bytes > limits.max_file_bytes:
        add("file_too_large",
            f"{report.bytes:,} bytes; {profile.title} allows {limits.max_file_bytes:,} per file",
            None)
    if over_embedding_limit is not None and limits.max_embedding_inputs is not None:
        add("too_many_embedding_inputs",
            f"{report.embedding_inputs:,} embedding inputs; at most "
            f"{limits.max_embedding_inputs:,} per file", over_embedding_limit)


# --- one file, two processes ------------------------------------------------------------------

#: Files at least this large are checked by two processes when two cores are free.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class _FirstRequest:
    """The file's first line when it is a plain request: the url and model it fixes."""

    line: int
    url: str | None
    model: str


@dataclass
class _Half:
    """What checking one half of a file found, with what the whole-file checks need."""

    report: Report
    seen: dict[str, int]
    request_lines: array[int]
    input_lines: array[int]
    input_counts: array[int]


def _check_half(path: str, start: int, end: int, first_line: int, provider: str,
                limits: Any, endpoint: str | None, first: _FirstRequest,
                schema: Any, max_errors: int | None, cap: int,
                on_progress: Callable[[int], None] | None = None) -> _Half:
    """Check the lines of ``path`` between two byte offsets (run in either process)."""
    profile = dataclasses.replace(get_profile(provider), limits=limits)
    report = Report(path=path, provider=profile.name, endpoint=endpoint)
    checker = _LineChecker(profile, report, _Collector(report, max_errors), _user_schema(schema))
    checker.preset(first)
    checker.record_requests()
    checker.run(read_range(path, start, end, first_line=first_line, max_line_bytes=cap),
                on_progress)
    assert checker.request_lines is not None
    assert checker.input_lines is not None and checker.input_counts is not None
    return _Half(report, checker.seen, checker.request_lines, checker.input_lines,
                 checker.input_counts)


def _parallel_plan(source: LineSource, profile: Profile, schema: Any, endpoint: str | None,
                   workers: int | None) -> tuple[str, int, int, _FirstRequest] | None:
    """(path, split offset, lines before it, first request) when the file can be halved."""
    if workers == 1 or not isinstance(source, (str, os.PathLike)) or os.fspath(source) == "-":
        return None
    path = os.fspath(source)
    if (workers is None and (os.cpu_count() or 1) < 2) or not is_plain_file(path):
        return None
    # The worker rebuilds the profile from its name and limits, and the schema from its
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
            head = handle.readline()
            handle.seek(size // 2)
            handle.readline()
            split = handle.tell()
            if split >= size or split <= len(head):
                return None
            handle.seek(0)
            lines_before = sum(block.count(b"\n") for block in iter(
                lambda: handle.read(min(1 << 22, split - handle.tell())), b""))
    except OSError:
        return None
    first = _first_request(head, profile, endpoint)
    return None if first is None else (path, split, lines_before, first)


def _first_request(head: bytes, profile: Profile, endpoint: str | None
                   ) -> _FirstRequest | None:
    """The first line as a _FirstRequest, when it is a request the checks would accept
    as fixing the file's url and model; otherwise None (and the file is checked whole)."""
    try:
        value = orjson.loads(head)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict:
        return None
    body = value.get(profile.body_field)
    model = body.get("model") if type(body) is dict else None
    if type(model) is not str:
        return None
    url = value.get("url") if profile.carries_url else None
    if profile.carries_url and (url not in profile.endpoints or (endpoint and url != endpoint)):
        return None
    return _FirstRequest(1, url if endpoint is None else None, model)


def _validate_in_halves(plan: tuple[str, int, int, _FirstRequest], profile: Profile,
                        endpoint: str | None, schema: Any, max_errors: int | None, cap: int,
                        on_progress: Callable[[int], None] | None) -> Report:
    path, split, lines_before, first = plan
    size = os.path.getsize(path)
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    arguments = (profile.name, profile.limits, endpoint, first, schema, max_errors, cap)
    try:
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            second = pool.submit(_check_half, path, split, size, lines_before + 1, *arguments)
            head = _check_half(path, 0, split, 1, *arguments, on_progress=on_progress)
            tail = second.result()
    except (OSError, BrokenProcessPool):
        # No second process to be had (or it died): check the file in one pass instead.
        return validate(path, provider=profile, endpoint=endpoint, schema=schema,
                        max_errors=max_errors, max_line_bytes=cap, on_progress=on_progress,
                        workers=1)
    if on_progress is not None:
        on_progress(size)
    return _merge_halves(head, tail, profile, max_errors)


def _merge_halves(head: _Half, tail: _Half, profile: Profile, max_errors: int | None
                  ) -> Report:
    """One report, the same as a single pass would give, from the reports of two halves."""
    first_use = head.seen
    id_field = profile.id_field
    late: list[Problem] = []
    for problem in tail.report.errors:
        # A repeat within the second half names the first use in the whole file.
        if problem.code == "duplicate_custom_id" and problem.custom_id in first_use:
            problem = dataclasses.replace(problem, message=(
                f"{id_field} {problem.custom_id!r} was already used on line "
                f"{first_use[problem.custom_id]}"))
        late.append(problem)
    crossing = [
        Problem(code="duplicate_custom_id", line=line, param=id_field, custom_id=custom_id,
                path=head.report.path,
                message=f"{id_field} {custom_id!r} was already used on line "
                        f"{first_use[custom_id]}")
        for custom_id, line in tail.seen.items() if custom_id in first_use]
    # In a single pass, a duplicate is reported after the id's own rule problems and before
    # every other problem of its line.
    order = {"custom_id_too_long": 0, "custom_id_charset": 0, "duplicate_custom_id": 1}
    late = sorted(late + crossing, key=lambda p: (p.line or 0, order.get(p.code, 2)))
    report = Report(path=head.report.path, provider=profile.name,
                    endpoint=head.report.endpoint or tail.report.endpoint)
    collector = _Collector(report, max_errors)
    for problem in head.report.errors + late:
        collector.add(problem)
    report.errors_truncated += head.report.errors_truncated + tail.report.errors_truncated
    crlf_seen = False
    for warning in head.report.warnings + tail.report.warnings:
        if warning.code == "crlf_line_ending":
            if crlf_seen:
                continue
            crlf_seen = True
        report.warnings.append(warning)
    report.lines = tail.report.lines or head.report.lines
    report.requests = head.report.requests + tail.report.requests
    report.bytes = max(head.report.bytes, tail.report.bytes)
    for half in (head, tail):
        for model, count in half.report.models.items():
            report.models[model] = report.models.get(model, 0) + count
    report.models = {model: count for model, count in report.models.items() if count}
    report.embedding_inputs = head.report.embedding_inputs + tail.report.embedding_inputs
    limits = profile.limits
    request_lines = head.request_lines + tail.request_lines
    over_requests = (request_lines[limits.max_requests]
                     if limits.max_requests is not None
                     and len(request_lines) > limits.max_requests else None)
    over_inputs = None
    if limits.max_embedding_inputs is not None:
        total = 0
        for line, count in zip(head.input_lines + tail.input_lines,
                               head.input_counts + tail.input_counts, strict=True):
            total += count
            if total > limits.max_embedding_inputs:
                over_inputs = line
                break
    _check_file_limits(profile, report, collector, over_requests, over_inputs)
    return report
