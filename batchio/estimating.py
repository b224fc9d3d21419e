"""Estimates before submit: requests, input tokens, the output bound and the cost range.

Owns :func:`estimate` (per file, per shard of a manifest, per model), its report
(:class:`Estimate`, :class:`FileEstimate`, :class:`ModelEstimate`), and :func:`calibrate`,
which fits the characters-a-token ratio of :class:`batchio.bodies.TokenCounter` to a past
job's real usage (:class:`Calibration`).

The cost range is at batch prices (:mod:`batchio.pricing`): low is the inputs alone, high
the inputs plus every request's output cap. A request with no cap has no upper bound: the
report counts those (``uncapped``), and its high figure then leaves them out.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .bodies import TokenCounter, output_cap, text_size
from .errors import UsageError
from .jsonl import Line, read_error, read_lines, reported
from .pricing import PriceTable, TokenUsage, load_prices
from .providers import Profile, profile_for
from .results import request_body
from .sharding import request_files
from .validation import check_workers, each_in_processes, usable_cores


@dataclass
class ModelEstimate:
    """One model's requests in a file: input tokens, the sum of output caps, the uncapped."""

    requests: int = 0
    input_tokens: int = 0
    output_cap_tokens: int = 0
    uncapped: int = 0
    #: No output to bound (embeddings, moderations): counted neither as capped nor not.
    no_output: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "input_tokens": self.input_tokens,
                "output_cap_tokens": self.output_cap_tokens, "uncapped": self.uncapped}


@dataclass
class FileEstimate:
    """The estimate of one request file (or shard)."""

    path: str
    provider: str = "openai"
    models: dict[str, ModelEstimate] = field(default_factory=dict)
    cost_low: float = 0.0
    cost_high: float = 0.0
    unpriced: list[str] = field(default_factory=list)
    uncertain_prices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(model, name) for model in self.models.values())

    # The file's figures: its models' summed.
    requests = property(lambda self: self._sum("requests"))
    input_tokens = property(lambda self: self._sum("input_tokens"))
    output_cap_tokens = property(lambda self: self._sum("output_cap_tokens"))
    uncapped = property(lambda self: self._sum("uncapped"))

    @property
    def unpriced_requests(self) -> int:
        """Requests whose model has no price: not in the cost range."""
        return sum(self.models[name].requests for name in self.unpriced
                   if name in self.models)

    def to_dict(self) -> dict[str, Any]:
        known = not self.requests or self.unpriced_requests < self.requests
        return {"path": self.path, "provider": self.provider, "requests": self.requests,
                "input_tokens": self.input_tokens,
                "output_cap_tokens": self.output_cap_tokens, "uncapped": self.uncapped,
                # None: no request of the file has a price (not a cost of $0).
                "cost_low": round(self.cost_low, 6) if known else None,
                "cost_high": round(self.cost_high, 6) if known else None,
                "unpriced_requests": self.unpriced_requests,
                "models": {name: model.to_dict() for name, model in sorted(self.models.items())},
                "unpriced": self.unpriced, "uncertain_prices": self.uncertain_prices,
                "warnings": self.warnings}


@dataclass
class Estimate:
    """What :func:`estimate` found, per file and in total."""

    provider: str
    chars_per_token: float
    files: list[FileEstimate] = field(default_factory=list)

    #: The figures :meth:`total` sums over the files.
    TOTALS = ("requests", "input_tokens", "output_cap_tokens", "uncapped", "cost_low",
              "cost_high", "unpriced_requests")

    def total(self, name: str) -> Any:
        """One figure (a name of :attr:`TOTALS`) summed over the files."""
        if name not in self.TOTALS:
            raise UsageError(f"Estimate.total sums one of {', '.join(self.TOTALS)}, not "
                             f"{name!r}")
        return sum(getattr(item, name) for item in self.files)

    def to_dict(self) -> dict[str, Any]:
        requests, unpriced = self.total("requests"), self.total("unpriced_requests")
        known = not requests or unpriced < requests
        return {"provider": self.provider, "chars_per_token": self.chars_per_token,
                "currency": "USD", "at": "batch prices",
                "requests": requests, "input_tokens": self.total("input_tokens"),
                "output_cap_tokens": self.total("output_cap_tokens"),
                "uncapped": self.total("uncapped"),
                # None: no request has a price (unknown, not $0).
                "cost_low": round(self.total("cost_low"), 6) if known else None,
                "cost_high": round(self.total("cost_high"), 6) if known else None,
                "unpriced_requests": unpriced,
                "files": [item.to_dict() for item in self.files]}


def estimate(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    provider: str | Profile | None = None,
    counter: TokenCounter | None = None,
    prices: PriceTable | None = None,
    enqueued_limit: int | None = None,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Estimate:
    """Estimate request files before submit: per file (a manifest, or a folder holding one,
    stands for its shards) the requests, input tokens by ``counter`` (default: the
    provider's characters-a-token figure), the output bound from each request's own cap
    and the cost range at batch prices. ``enqueued_limit`` warns where a model's input
    tokens in one file pass a per-model enqueued-token budget (what fails a batch with
    ``token_limit_exceeded``). Every line is read with the reader's checks; a bad line
    raises its :class:`LineError`. ``workers``: processes that estimate files at once
    (None: the usable cores); the report is the same. ``on_progress`` is told the bytes
    read so far (one file: as it is read; several: as each is done)."""
    if enqueued_limit is not None and (type(enqueued_limit) is not int or enqueued_limit < 1):
        raise UsageError(f"the enqueued-token limit must be a whole number of at least 1, "
                         f"not {enqueued_limit!r}")
    files = request_files(paths, what="estimate")
    table = prices or load_prices()
    first = profile_for(provider, files[0])
    report = Estimate(first.name, (counter or TokenCounter(first.chars_per_token))
                      .chars_per_token)
    check_workers(workers)
    count = min(len(files), usable_cores() if workers is None else workers)
    # Another process rebuilds the profile from its name (a Profile holds functions).
    sendable = provider is None or isinstance(provider, str)
    named: str | Profile | None = None if provider is None else (
        first.name if sendable else first)
    if len(files) == 1:
        profile = profile_for(named, files[0])
        report.files.append(_estimate_file(
            files[0], profile, counter or TokenCounter(profile.chars_per_token), table,
            enqueued_limit, on_progress))
        return report
    done = 0
    for path, found in zip(files, each_in_processes(
            _estimate_named, [(path, named, counter, table, enqueued_limit)
                              for path in files], count if sendable else 1), strict=True):
        report.files.append(found)
        if on_progress is not None:
            with contextlib.suppress(OSError):
                done += os.path.getsize(path)
            on_progress(done)
    return report


def _estimate_named(path: str, provider: str | Profile | None, counter: TokenCounter | None,
                    table: PriceTable, enqueued_limit: int | None) -> FileEstimate:
    # Without ``provider``, each file's provider is read off its own first request.
    profile = profile_for(provider, path)
    return _estimate_file(path, profile, counter or TokenCounter(profile.chars_per_token),
                          table, enqueued_limit)


def _estimate_file(path: str, profile: Profile, counter: TokenCounter, table: PriceTable,
                   enqueued_limit: int | None,
                   on_progress: Callable[[int], None] | None = None) -> FileEstimate:
    result = FileEstimate(path, profile.name)
    for line in reported(read_lines(path, blank_lines="skip"), on_progress):
        body, _ = profile.body_of(line.value)
        body = body if isinstance(body, dict) else {}
        model = body.get("model")
        name = model if isinstance(model, str) else "(no model)"
        entry = result.models.get(name)
        if entry is None:
            entry = result.models[name] = ModelEstimate()
        entry.requests += 1
        entry.input_tokens += counter(body)
        if _has_output(line, body, profile):
            cap = output_cap(body)
            if cap is None:
                entry.uncapped += 1
            else:
                entry.output_cap_tokens += cap
        else:
            entry.no_output += 1
    for name, entry in sorted(result.models.items()):
        price = table.find(profile.name, name)
        if price is None:
            result.unpriced.append(name)
        else:
            low, uncertain = price.cost(TokenUsage(input=entry.input_tokens))
            high, _ = price.cost(TokenUsage(input=entry.input_tokens,
                                            output=entry.output_cap_tokens))
            result.cost_low += low
            result.cost_high += high
            if uncertain:
                result.uncertain_prices.append(name)
        if enqueued_limit is not None and entry.input_tokens > enqueued_limit:
            result.warnings.append(
                f"{name}: about {entry.input_tokens:,} input tokens, over the enqueued-token "
                f"limit of {enqueued_limit:,} (the batch would fail with "
                "token_limit_exceeded)")
    return result


def _has_output(line: Line, body: Mapping[str, Any], profile: Profile) -> bool:
    """Whether the request generates output tokens (not embeddings or moderations)."""
    url = line.value.get("url") if profile.carries_url else profile.default_endpoint
    if not isinstance(url, str):
        url = profile.default_endpoint
    return not url.endswith(("/embeddings", "/moderations", "embedContent"))


#: The range a fitted characters-a-token figure must fall in to be believed (the
#: command line's --chars-per-token takes 0.1 and up).
MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN = 0.1, 100.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """A characters-a-token ratio fitted to a past job, with its error on that job."""

    chars_per_token: float
    requests: int
    #: Median and 90th-percentile absolute error of the fitted estimate per request, as a
    #: fraction of the request's real input tokens.
    median_error: float
    p90_error: float

    def counter(self, per_message: int = 4) -> TokenCounter:
        return TokenCounter(self.chars_per_token, per_message)

    def to_dict(self) -> dict[str, Any]:
        return {"chars_per_token": round(self.chars_per_token, 4), "requests": self.requests,
                "median_error": round(self.median_error, 4),
                "p90_error": round(self.p90_error, 4)}


def calibrate(joined: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
              per_message: int = 4) -> Calibration:
    """Fit the characters-a-token ratio to a past job's real usage: ``joined`` is a joined
    file (``batchio join -o joined.jsonl`` or ``.parquet``) or its rows as dicts. Each row
    with a request body and reported ``input_tokens`` counts; the ratio makes the summed
    estimate equal the summed real tokens, and the error is measured per request."""
    samples: list[tuple[int, int, int]] = []
    for row in _joined_rows(joined):
        tokens = row.get("input_tokens") if isinstance(row, Mapping) else None
        request = row.get("request") if isinstance(row, Mapping) else None
        if isinstance(request, (str, bytes)):
            try:
                request = msgspec.json.decode(request)
            except msgspec.DecodeError:
                continue  # not a request line: nothing to learn from
        if type(tokens) is float and tokens.is_integer():
            # A table saved back by pandas makes a count column with a null in it float64:
            # a whole float is still a count.
            tokens = int(tokens)
        if type(tokens) is not int or not 0 < tokens < 1 << 63 \
                or not isinstance(request, dict):
            continue
        body = request_body(request)
        if body is None:  # a bare body is the line itself
            body = request
        if not isinstance(body, dict):
            continue
        characters, messages = text_size(body)
        samples.append((characters, messages, tokens))
    text_tokens = sum(tokens - per_message * messages for _, messages, tokens in samples)
    characters = sum(characters for characters, _, _ in samples)
    if not samples or text_tokens <= 0 or characters <= 0:
        raise UsageError("the joined file has no rows with a request and its reported input "
                         "tokens to calibrate on", path=os.fspath(joined) if isinstance(
                             joined, (str, os.PathLike)) else None)
    ratio = characters / text_tokens
    if not MIN_CHARS_PER_TOKEN <= ratio <= MAX_CHARS_PER_TOKEN:
        raise UsageError(f"the joined file's usage gives {ratio:.3g} characters a token, "
                         f"outside any tokenizer's range ({MIN_CHARS_PER_TOKEN} to "
                         f"{MAX_CHARS_PER_TOKEN}): is its input_tokens column right?")
    counter = TokenCounter(ratio, per_message)
    errors = sorted(abs(counter.tokens_for(characters, messages) - tokens) / tokens
                    for characters, messages, tokens in samples)
    return Calibration(ratio, len(samples), statistics.median(errors),
                       errors[min(len(errors) - 1, math.ceil(0.9 * len(errors)) - 1)])


def _joined_rows(joined: str | os.PathLike[str] | Iterable[Mapping[str, Any]]
                 ) -> Iterable[Mapping[str, Any]]:
    if not isinstance(joined, (str, os.PathLike)):
        return joined
    name = os.fspath(joined)
    if name.lower().endswith((".parquet", ".pq")):
        from .table import require_pyarrow

        require_pyarrow()
        import pyarrow
        import pyarrow.parquet

        try:
            batches = pyarrow.parquet.ParquetFile(name).iter_batches(
                columns=["input_tokens", "request"])
            return [row for batch in batches for row in batch.to_pylist()]
        except pyarrow.ArrowException as exc:
            if isinstance(exc, OSError) and not isinstance(exc, pyarrow.ArrowInvalid):
                raise read_error(name, exc) from exc
            raise UsageError(f"{name} is not a joined table batchio can read: {exc}") from exc
        except OSError as exc:
            raise read_error(name, exc) from exc
    return (line.value for line in read_lines(name, blank_lines="skip"))


__all__ = ["Calibration", "Estimate", "FileEstimate", "ModelEstimate", "calibrate",
           "estimate"]
