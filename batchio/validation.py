"""Pre-submit validation: one streaming pass that finds every problem a server would report.

Owns :func:`validate` and its :class:`Report`. It reads lines through
:func:`batchio.jsonl.read_lines` in collect mode, checks each request's envelope and body
against the provider's profile and the shipped schemas, and checks the whole-file limits.
Problems are values in the report; nothing here raises for a bad line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Problem
from .jsonl import DEFAULT_MAX_LINE_BYTES, Line, LineSource, read_lines, source_name
from .providers import Profile, get_profile
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
) -> Report:
    """Check a batch file in one pass and report every problem with its line and code.

    ``source`` is a path, ``-``, a binary file object or an iterable of lines. ``endpoint``
    fixes the endpoint (otherwise the first line's url, or the provider's default for
    providers whose lines carry none). ``schema`` is a user's own JSON Schema applied to
    every body in addition. ``max_errors`` caps the listed errors; the report counts the
    rest. ``on_progress`` is called now and then with the bytes read so far.
    """
    profile = get_profile(provider)
    user_schema = _user_schema(schema)
    report = Report(path=source_name(source), provider=profile.name, endpoint=endpoint)
    collector = _Collector(report, max_errors)
    cap = max_line_bytes or profile.limits.max_file_bytes or DEFAULT_MAX_LINE_BYTES
    checker = _LineChecker(profile, report, collector, user_schema)
    lines = read_lines(source, errors="collect", max_line_bytes=cap)
    checker.run(lines, on_progress)
    _check_file_limits(profile, report, collector, checker)
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
        if self.endpoint is not None or not profile.carries_url:
            self._fix_endpoint(self.endpoint or profile.default_endpoint, None)

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
            report.models[self.first_model[0]] += fast_model_count
        report.requests = requests
        report.lines = last_line
        report.bytes = end
        if on_progress is not None:
            on_progress(end)

    def _count_embeddings(self, body: Mapping[str, Any], number: int, limit: int | None
                          ) -> None:
        self.report.embedding_inputs += embedding_inputs(body)
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
                       checker: _LineChecker) -> None:
    limits = profile.limits

    def add(code: str, message: str, line: int | None) -> None:
        collector.add(Problem(code=code, message=message, line=line, path=report.path))

    if report.requests == 0 and not report.errors:
        add("empty_file", "the file holds no requests", None)
    if checker.over_request_limit is not None:
        add("too_many_tasks",
            f"{report.requests:,} requests; {profile.title} allows {limits.max_requests:,} "
            f"per file (line {checker.over_request_limit} is the first over)",
            checker.over_request_limit)
    if limits.max_file_bytes is not None and report.bytes > limits.max_file_bytes:
        add("file_too_large",
            f"{report.bytes:,} bytes; {profile.title} allows {limits.max_file_bytes:,} per file",
            None)
    if checker.over_embedding_limit is not None and limits.max_embedding_inputs is not None:
        add("too_many_embedding_inputs",
            f"{report.embedding_inputs:,} embedding inputs; at most "
            f"{limits.max_embedding_inputs:,} per file", checker.over_embedding_limit)
