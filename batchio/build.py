"""Building request files: unique custom_ids, checked bodies, and shards within limits.

Owns the id strategies, :class:`RequestWriter` (rows in, request lines out, rolled over
into as many shards as the provider's limits require), :func:`split` (an existing file
into compliant shards, bytes untouched), the token estimate, and the shard
:class:`Manifest`. Body checks use the same schemas and codes as :mod:`batchio.validation`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from .bodies import embedding_inputs, explain_body
from .errors import DuplicateIdError, LimitError, LineError, SourceError
from .jsonl import JsonlWriter, dumps_line, open_source, read_lines, write_file_atomically
from .providers import Profile, get_profile, profile_for
from .schemas import compiled

_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE

MANIFEST_NAME = "manifest.json"


# --- custom_id strategies -------------------------------------------------------------------


class IdStrategy(Protocol):
    """Makes the custom_id of the ``index``-th request (0-based) of a writer."""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str: ...


@dataclass(frozen=True)
class SequenceIds:
    """``prefix`` plus a zero-padded sequence number: ``request-0000001`` (the default)."""

    prefix: str = "request-"
    width: int = 7
    start: int = 1

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        # zfill rather than a nested format spec: a third of the time, once per request.
        return self.prefix + str(index + self.start).zfill(self.width)


@dataclass(frozen=True)
class UuidIds:
    """A random UUID4 per request (hex, no dashes, so it fits every provider's charset)."""

    prefix: str = ""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        return f"{self.prefix}{uuid.uuid4().hex}"


@dataclass(frozen=True)
class ContentHashIds:
    """A hash of the request (url and body, keys sorted): the same rows give the same ids,
    so re-running a pipeline makes resubmission and de-duplication idempotent."""

    prefix: str = "req-"
    length: int = 32

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        canonical = orjson.dumps({"url": url, "body": body}, option=orjson.OPT_SORT_KEYS)
        return f"{self.prefix}{hashlib.sha256(canonical).hexdigest()[: self.length]}"


@dataclass(frozen=True)
class CallerKeys:
    """The caller's own key, given to every ``add`` as ``custom_id``; none is made up."""

    def make_id(self, body: Mapping[str, Any], *, url: str, index: int) -> str:
        raise LineError("this writer uses the caller's keys: pass custom_id= to add()",
                        code="missing_custom_id", line=index + 1)


# --- token estimate -------------------------------------------------------------------------


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """A dependency-free estimate of a request's input tokens.

    About four characters a token (the usual figure for English with OpenAI's tokenizers)
    over every string in the body except the model name, plus four tokens of overhead a
    message. An estimate for budgets, not a count: real tokenizers differ by language.
    """
    characters = 0
    messages = 0
    stack: list[Any] = [value for key, value in body.items() if key != "model"]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            characters += len(value)
        elif isinstance(value, dict):
            if "role" in value:
                messages += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return math.ceil(characters / 4) + 4 * messages


# --- manifest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardInfo:
    """One finished shard: where it is and what it holds."""

    path: str
    requests: int
    bytes: int
    model: str | None
    endpoint: str | None
    sha256: str
    first_custom_id: str | None
    last_custom_id: str | None
    tokens: int = 0
    embedding_inputs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "requests": self.requests, "bytes": self.bytes,
                "model": self.model, "endpoint": self.endpoint, "sha256": self.sha256,
                "first_custom_id": self.first_custom_id,
                "last_custom_id": self.last_custom_id, "tokens": self.tokens,
                "embedding_inputs": self.embedding_inputs}


@dataclass
class Manifest:
    """The shards of one job, written as ``manifest.json`` beside them."""

    provider: str
    shards: list[ShardInfo] = field(default_factory=list)
    #: False when building stopped on an error: the listed shards are whole, but more rows
    #: were meant to follow.
    complete: bool = True

    @property
    def requests(self) -> int:
        return sum(shard.requests for shard in self.shards)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "complete": self.complete,
                "requests": self.requests, "shards": [s.to_dict() for s in self.shards]}

    def save(self, folder: str | os.PathLike[str]) -> Path:
        path = Path(folder) / MANIFEST_NAME
        write_file_atomically(path, orjson.dumps(self.to_dict(),
                                                 option=orjson.OPT_INDENT_2) + b"\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a manifest from its file, or from the folder holding ``manifest.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = orjson.loads(path.read_bytes())
            shards = [ShardInfo(**shard) for shard in data["shards"]]
            return cls(provider=data["provider"], shards=shards,
                       complete=bool(data.get("complete", True)))
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise SourceError(f"cannot read manifest {path}: {exc}", path=str(path)) from None


# --- sharding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardLimits:
    """What one shard may hold; None is no limit."""

    max_requests: int | None = None
    max_bytes: int | None = None
    max_embedding_inputs: int | None = None
    max_tokens: int | None = None

    @classmethod
    def for_profile(cls, profile: Profile, **overrides: int | None) -> ShardLimits:
        """The provider's limits, each replaced by an override that is not None."""
        limits = profile.limits
        base = {"max_requests": limits.max_requests, "max_bytes": limits.max_file_bytes,
                "max_embedding_inputs": limits.max_embedding_inputs, "max_tokens": None}
        base.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**base)

    def admit(self, requests: int, size: int, inputs: int, tokens: int, *,
              line_size: int, line_inputs: int, line_tokens: int) -> bool:
        """Whether a file holding these counts can take one more line of this size."""
        return not (
            (self.max_requests is not None and requests + 1 > self.max_requests)
            or (self.max_bytes is not None and size + line_size > self.max_bytes)
            or (self.max_embedding_inputs is not None
                and inputs + line_inputs > self.max_embedding_inputs)
            or (self.max_tokens is not None and tokens + line_tokens > self.max_tokens))


class _Shard:
    """One shard being written: its atomic writer, running sha256 and counts.

    Lines wait in a short list and go to the file and the hash a few hundred at a time:
    one write and one hash update per group instead of one per line. (Hashing and writing
    groups on a second thread was measured slower: handing the GIL back and forth costs
    more than the work it moves.)
    """

    #: Lines held before they are written (a few hundred KB of typical requests).
    GROUP = 256

    def __init__(self, folder: Path, name: str,
                 describe: Callable[[bytes], tuple[str | None, str | None]] | None = None
                 ) -> None:
        self.name = name
        self.describe = describe
        self.first_raw: bytes | None = None
        self.last_raw: bytes | None = None
        self.writer = JsonlWriter(folder / name)
        self.hash = hashlib.sha256()
        self.pending: list[bytes] = []
        self.requests = 0
        self.bytes = 0
        self.tokens = 0
        self.embedding_inputs = 0
        self.model: str | None = None
        self.endpoint: str | None = None
        self.first_id: str | None = None
        self.last_id: str | None = None

    def fits(self, size: int, tokens: int, inputs: int, limits: ShardLimits) -> bool:
        # An empty shard takes any line: one too large for every shard is refused earlier.
        return self.requests == 0 or limits.admit(
            self.requests, self.bytes, self.embedding_inputs, self.tokens,
            line_size=size, line_inputs=inputs, line_tokens=tokens)

    def write(self, raw: bytes, custom_id: str | None, tokens: int, inputs: int) -> None:
        """Append one line, which ends in a newline."""
        pending = self.pending
        pending.append(raw)
        if len(pending) >= self.GROUP:
            self.flush()
        self.requests += 1
        self.bytes += len(raw)
        if tokens:
            self.tokens += tokens
        if inputs:
            self.embedding_inputs += inputs
        if self.describe is not None:
            if self.first_raw is None:
                self.first_raw = raw
            self.last_raw = raw
            return
        if self.first_id is None:
            self.first_id = custom_id
        self.last_id = custom_id

    def flush(self) -> None:
        if not self.pending:
            return
        block = b"".join(self.pending)
        self.hash.update(block)
        self.writer.write_block(block, len(self.pending))
        self.pending = []

    def abort(self) -> None:
        self.pending = []
        self.writer.abort()

    def finish(self) -> ShardInfo:
        self.flush()
        self.writer.close()
        if self.describe is not None and self.first_raw is not None \
                and self.last_raw is not None:
            self.first_id, self.model = self.describe(self.first_raw)
            self.last_id = self.describe(self.last_raw)[0]
        return ShardInfo(self.name, self.requests, self.bytes, self.model, self.endpoint,
                         self.hash.hexdigest(), self.first_id, self.last_id, self.tokens,
                         self.embedding_inputs)


def _place(where: str, line: int | None) -> str:
    if line is None:
        return where
    return f"row {line}" if where == "row" else f"{where}:{line}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


class _Sharder:
    """Routes lines into shard series (one, or one per model) and rolls shards over."""

    def __init__(self, folder: Path, limits: ShardLimits, by_model: bool, prefix: str,
                 profile: Profile, counts_inputs: bool = True) -> None:
        self.folder = folder
        self.limits = limits
        self.by_model = by_model
        self.prefix = prefix
        self.manifest = Manifest(provider=profile.name)
        self.open: dict[str | None, _Shard] = {}
        self.counters: dict[str | None, int] = {}
        # For add's fast lane: the limits a line can break when only requests and bytes
        # count (lines that carry no embedding inputs cannot break that limit).
        self._simple = limits.max_tokens is None and (
            limits.max_embedding_inputs is None or not counts_inputs)
        self._max_requests = limits.max_requests or sys.maxsize
        self._max_bytes = limits.max_bytes or sys.maxsize

    def _name(self, model: str | None) -> str:
        number = self.counters.get(model, 0) + 1
        self.counters[model] = number
        middle = f"-{_slug(model)}" if self.by_model and model is not None else ""
        return f"{self.prefix}{middle}-{number:05d}.jsonl"

    def add(self, raw: bytes, custom_id: str | None, model: str | None,
            endpoint: str | None, tokens: int = 0, inputs: int = 0, where: str = "",
            line: int | None = None,
            describe: Callable[[bytes], tuple[str | None, str | None]] | None = None) -> None:
        """Write one line to the right shard, rolling over first if it would not fit.

        With ``describe``, the line's id and model are not given: they are read off the
        first and last line of each shard when it is finished.
        """
        if raw[-1] != 0x0A:  # split's last line may lack its newline
            raw += b"\n"
        size = len(raw)
        key = model if self.by_model else None
        shard = self.open.get(key)
        if shard is not None and self._simple and shard.requests < self._max_requests \
                and shard.bytes + size <= self._max_bytes:
            shard.write(raw, custom_id, tokens, inputs)
            return
        limits = self.limits
        too_big = None
        if limits.max_bytes is not None and size > limits.max_bytes:
            too_big = f"is {size:,} bytes, more than a whole shard may hold ({limits.max_bytes:,})"
        elif limits.max_tokens is not None and tokens > limits.max_tokens:
            too_big = (f"is about {tokens:,} tokens, more than a shard's budget "
                       f"({limits.max_tokens:,})")
        elif limits.max_embedding_inputs is not None and inputs > limits.max_embedding_inputs:
            too_big = (f"has {inputs:,} embedding inputs, more than a shard may hold "
                       f"({limits.max_embedding_inputs:,})")
        if too_big is not None:
            raise LimitError(f"{_place(where, line)} {too_big}", custom_id=custom_id)
        if shard is not None and not shard.fits(size, tokens, inputs, limits):
            self.manifest.shards.append(shard.finish())
            shard = None
        if shard is None:
            shard = self.open[key] = _Shard(self.folder, self._name(key), describe)
            shard.model, shard.endpoint = model, endpoint
        shard.write(raw, custom_id, tokens, inputs)

    def copy_lines(self, lines: Iterable[tuple[int, bytes]], *, where: str,
                   endpoint: str | None,
                   describe: Callable[[bytes], tuple[str | None, str | None]]) -> None:
        """Split's hot loop: numbered lines copied as bytes into one shard series, within
        the request and byte limits. Ids and model are read off each shard's first and last
        lines when it is finished."""
        max_requests = self.limits.max_requests or sys.maxsize
        max_bytes = self.limits.max_bytes or sys.maxsize
        shard: _Shard | None = None
        requests = size_so_far = 0
        last = b""
        for number, raw in lines:
            if raw.isspace():
                raise LineError("blank line", code="blank_line", path=where, line=number)
            if raw[-1:] != b"\n":
                raw += b"\n"
            size = len(raw)
            if size > max_bytes:
                raise LimitError(f"{where}:{number} is {size:,} bytes, more than a whole shard "
                                 f"may hold ({max_bytes:,})")
            if shard is None or requests >= max_requests or size_so_far + size > max_bytes:
                if shard is not None:
                    shard.requests, shard.bytes, shard.last_raw = requests, size_so_far, last
                    self.manifest.shards.append(shard.finish())
                shard = self.open[None] = _Shard(self.folder, self._name(None), describe)
                shard.endpoint = endpoint
                shard.first_raw = raw
                write, update = shard.writer.write_raw, shard.hash.update
                requests = size_so_far = 0
            write(raw)
            update(raw)
            requests += 1
            size_so_far += size
            last = raw
        if shard is not None:
            shard.requests, shard.bytes, shard.last_raw = requests, size_so_far, last

    def close(self) -> Manifest:
        try:
            while self.open:
                key = next(iter(self.open))
                self.manifest.shards.append(self.open[key].finish())
                del self.open[key]
        except BaseException:
            self.abort()
            raise
        self.manifest.shards.sort(key=lambda shard: shard.path)
        self.manifest.save(self.folder)
        return self.manifest

    def abort(self) -> Manifest:
        for shard in self.open.values():
            shard.abort()
        self.open.clear()
        self.manifest.complete = False
        self.manifest.shards.sort(key=lambda shard: shard.path)
        self.manifest.save(self.folder)
        return self.manifest


# --- the writer -----------------------------------------------------------------------------


class RequestWriter:
    """Turn request bodies into request lines with unique custom_ids, checked and sharded.

    ``target`` is a folder (shards ``requests-00001.jsonl``... plus ``manifest.json``) or a
    ``.jsonl`` file (one file; going over a limit raises :class:`LimitError`). Every body
    is checked against its endpoint's schema before anything is written for it; a bad body
    or a duplicate id raises, and the writer stays usable. Use as a context manager: on
    leaving, open shards are finished and the manifest written; on an exception, the
    unfinished shards are discarded and the manifest lists only whole ones.

    ``token_counter`` estimates a body's tokens (default :func:`estimate_tokens`); it runs
    when ``max_tokens_per_file`` is set or ``count_tokens=True``, and the manifest reports
    each shard's estimate (0 when not counted).
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        endpoint: str | None = None,
        provider: str | Profile = "openai",
        ids: IdStrategy | None = None,
        max_requests: int | None = None,
        max_bytes: int | None = None,
        max_embedding_inputs: int | None = None,
        max_tokens_per_file: int | None = None,
        token_counter: Callable[[Mapping[str, Any]], int] = estimate_tokens,
        count_tokens: bool | None = None,
        group_by_model: bool = False,
        validate: bool = True,
        prefix: str = "requests",
    ) -> None:
        self.profile = get_profile(provider)
        self.endpoint = endpoint or self.profile.default_endpoint
        if self.profile.schema_for(self.endpoint) is None:
            raise LineError(f"endpoint {self.endpoint!r} is not accepted by "
                            f"{self.profile.title}", code="unsupported_url")
        self.ids = ids or SequenceIds()
        self.token_counter = token_counter
        # Estimating walks every body: done only when a budget needs it or it is asked for.
        self.count_tokens = (max_tokens_per_file is not None if count_tokens is None
                             else count_tokens)
        self.group_by_model = group_by_model
        self.validate = validate
        self.count = 0
        self._seen: dict[str, int] = {}
        self._plain_ids = not (self.profile.ids.max_length or self.profile.ids.pattern)
        self._carries_url = self.profile.carries_url
        self._id_field, self._body_field = self.profile.id_field, self.profile.body_field
        self._first_model: str | None = None
        self._schema = compiled(self.profile.endpoints[self.endpoint])
        self._is_valid = self._schema.is_valid
        self._counting_inputs = self.endpoint.endswith("/embeddings")
        limits = ShardLimits.for_profile(
            self.profile, max_requests=max_requests, max_bytes=max_bytes,
            max_embedding_inputs=max_embedding_inputs, max_tokens=max_tokens_per_file)
        path = Path(target)
        self.single_file = path.suffix in (".jsonl", ".json")
        self._file_limits = limits
        if self.single_file:
            self.folder = path.parent
            self._file = JsonlWriter(path)
            self._file_bytes = 0
            self._file_inputs = 0
            self._file_tokens = 0
            self._sharder: _Sharder | None = None
        else:
            self.folder = path
            path.mkdir(parents=True, exist_ok=True)
            self._sharder = _Sharder(path, limits, group_by_model, prefix, self.profile,
                                     counts_inputs=self._counting_inputs)
        self.manifest: Manifest | None = None

    def add(self, body: Mapping[str, Any], *, custom_id: str | None = None,
            url: str | None = None) -> str:
        """Write one request; returns the custom_id used.

        Raises :class:`LineError` for a body that breaks its schema or an id that breaks
        the provider's rules, :class:`DuplicateIdError` for an id already used (naming
        both rows), :class:`LimitError` for a request too large for any file.
        """
        row = self.count + 1
        if url is not None and url != self.endpoint:
            raise LineError(f"row {row}: url {url!r} differs from the writer's endpoint "
                            f"{self.endpoint!r}", code="url_mismatch", line=row)
        url = self.endpoint
        if custom_id is None:
            custom_id = self.ids.make_id(body, url=url, index=self.count)
        # The usual row (a new plain id, a dict body with the file's model and a valid
        # schema) passes these tests and skips the checks that explain a failure.
        if not (self._plain_ids and type(custom_id) is str and custom_id
                and custom_id not in self._seen):
            self._check_id(custom_id, row)
        model = body.get("model") if type(body) is dict or isinstance(body, Mapping) else None
        if self.validate and not (type(body) is dict and model is not None
                                  and model == self._first_model
                                  and self._is_valid(body)):
            self._check_body(body, custom_id, row, model if isinstance(model, str) else None)
        if type(model) is not str:
            model = None
        if self._carries_url:
            line = {self._id_field: custom_id, "method": "POST", "url": url,
                    self._body_field: body}
        else:
            line = {self._id_field: custom_id, self._body_field: body}
        try:
            raw = _dumps(line, option=_NEWLINE)
        except TypeError:
            raw = dumps_line(line)  # raises the LineError that names what cannot be written
        tokens = self.token_counter(body) if self.count_tokens else 0
        inputs = embedding_inputs(body) if self._counting_inputs else 0
        if self._sharder is not None:
            self._sharder.add(raw, custom_id, model, url, tokens, inputs, "row", row)
        else:
            self._add_to_file(raw, custom_id, tokens, inputs,
                              f"row {row} (custom_id {custom_id!r})")
        self._seen[custom_id] = row
        self.count = row
        return custom_id

    def add_many(self, bodies: Iterable[Mapping[str, Any]]) -> list[str]:
        """Add each body with a made-up id; returns the ids."""
        return [self.add(body) for body in bodies]

    def _check_id(self, custom_id: str, row: int) -> None:
        if not isinstance(custom_id, str) or not custom_id:
            raise LineError(f"row {row}: custom_id must be a non-empty string",
                            code="invalid_custom_id", line=row)
        problem = self.profile.ids.problem(custom_id)
        if problem is not None:
            raise LineError(f"row {row}: {problem[1]}", code=problem[0], line=row,
                            custom_id=custom_id)
        first = self._seen.get(custom_id)
        if first is not None:
            raise DuplicateIdError(f"custom_id {custom_id!r} of row {row} was already used by "
                                   f"row {first}", line=row, custom_id=custom_id)

    def _check_body(self, body: Mapping[str, Any], custom_id: str, row: int,
                    model: str | None) -> None:
        if not isinstance(body, Mapping):
            raise LineError(f"row {row}: the body must be a mapping", code="body_not_object",
                            line=row, custom_id=custom_id)
        if not self._schema.is_valid(body):
            problem = explain_body(self._schema, body, self.profile.body_field, "invalid_body")
            if problem is not None:
                raise LineError(f"row {row}: {problem.message}", code=problem.code,
                                line=row, custom_id=custom_id, param=problem.param)
        if model is None:
            if self.endpoint in self.profile.model_required:
                raise LineError(f"row {row}: the body names no model", code="missing_model",
                                line=row, custom_id=custom_id, param="model")
            return
        if self._first_model is None:
            self._first_model = model
        elif (model != self._first_model and self.profile.one_model_per_file
              and not self.group_by_model):
            raise LineError(f"row {row}: model {model!r} differs from {self._first_model!r}; "
                            "one model per file (or group_by_model=True)",
                            code="model_mismatch", line=row, custom_id=custom_id)

    def _add_to_file(self, raw: bytes, custom_id: str, tokens: int, inputs: int,
                     where: str) -> None:
        if not self._file_limits.admit(self.count, self._file_bytes, self._file_inputs,
                                       self._file_tokens, line_size=len(raw),
                                       line_inputs=inputs, line_tokens=tokens):
            raise LimitError(f"{where} would take the file over a limit; write to a folder to "
                             "shard", custom_id=custom_id)
        self._file.write_raw(raw)
        self._file_bytes += len(raw)
        self._file_inputs += inputs
        self._file_tokens += tokens

    def close(self) -> Manifest | None:
        """Finish every shard and write the manifest (folder mode); returns it."""
        if self._sharder is not None:
            self.manifest = self._sharder.close()
        else:
            self._file.close()
        return self.manifest

    def abort(self) -> None:
        if self._sharder is not None:
            self.manifest = self._sharder.abort()
        else:
            self._file.abort()

    def __enter__(self) -> RequestWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# --- split ----------------------------------------------------------------------------------


def split(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    provider: str | Profile | None = None,
    max_requests: int | None = None,
    max_bytes: int | None = None,
    max_embedding_inputs: int | None = None,
    by_model: bool = False,
    prefix: str = "requests",
) -> Manifest:
    """Stream a request file into shards within the provider's limits, plus a manifest.

    Each line's bytes are copied exactly (no re-serialisation) and order is kept: the
    shards concatenated give back the input's lines. A line larger than a whole shard
    raises :class:`LimitError` naming it; a bad line raises :class:`LineError`. On an error
    the shards finished so far stay, whole, and the manifest says ``complete: false``.
    """
    profile = profile_for(provider, source)
    limits = ShardLimits.for_profile(profile, max_requests=max_requests, max_bytes=max_bytes,
                                     max_embedding_inputs=max_embedding_inputs)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sharder = _Sharder(folder, limits, by_model, prefix, profile)
    name = os.fspath(source)
    describe = _describer(profile)
    try:
        with open_source(source) as stream:
            lines = enumerate(stream, 1)
            first = next(lines, None)
            if first is None:
                return sharder.close()
            # Every line is parsed only when it matters: per-model series, or embedding
            # inputs to count. Otherwise lines are copied as bytes, and a shard's ids and
            # model come from parsing its first and last lines.
            custom_id, model, url, inputs = describe(first[1], name, first[0])
            parse_all = by_model or (url is not None and url.endswith("/embeddings"))
            every = itertools.chain([first], lines)
            if not parse_all:
                sharder.copy_lines(every, where=name, endpoint=url,
                                   describe=lambda line: describe(line, name, 0)[:2])
            for number, raw in every:
                custom_id, model, url, inputs = describe(raw, name, number)
                sharder.add(raw, custom_id, model, url, 0, inputs, name, number)
    except BaseException:
        sharder.abort()
        raise
    return sharder.close()


def _describer(profile: Profile) -> Callable[[bytes, str, int],
                                             tuple[str | None, str | None, str | None, int]]:
    """Reads (custom_id, model, url, embedding inputs) off one request line."""
    id_field, body_field = profile.id_field, profile.body_field

    def describe(raw: bytes, name: str, number: int
                 ) -> tuple[str | None, str | None, str | None, int]:
        [line] = list(read_lines([raw]))
        value = line.value
        body = value.get(body_field)
        body = body if isinstance(body, dict) else {}
        url = value.get("url") if profile.carries_url else profile.default_endpoint
        url = url if isinstance(url, str) else None
        custom_id = value.get(id_field)
        model = body.get("model")
        inputs = embedding_inputs(body) if url and url.endswith("/embeddings") else 0
        return (custom_id if isinstance(custom_id, str) else None,
                model if isinstance(model, str) else None, url, inputs)

    def describe_with_place(raw: bytes, name: str, number: int
                            ) -> tuple[str | None, str | None, str | None, int]:
        try:
            return describe(raw, name, number)
        except LineError as exc:
            raise LineError(exc.message, code=exc.code, path=name, line=number) from None

    return describe_with_place


def parse_size(text: str) -> int:
    """A size such as ``200MB``, ``1.5G``, ``50000`` or ``64KiB`` in bytes (MB = 10**6)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    power = " KMGT".index(unit.upper() or " ")
    return int(float(number) * base**power)


# --- rows to bodies -------------------------------------------------------------------------


def prompt_body(
    profile: Profile,
    endpoint: str,
    *,
    model: str | None,
    prompt: str,
    system: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> dict[str, Any]:
    """The request body that asks ``prompt`` of ``model`` on an endpoint of a provider.

    Chat endpoints get a system and a user message, embeddings get ``input``, Responses
    gets ``input`` and ``instructions``, Anthropic gets ``system`` and the ``max_tokens``
    it requires (1024 unless given), Gemini gets ``contents``.
    """
    schema = profile.endpoints.get(endpoint)
    body: dict[str, Any] = {} if model is None else {"model": model}
    if schema == "openai/embeddings":
        body["input"] = prompt
        return body
    if schema == "gemini/generate-content":
        body["contents"] = [{"role": "user", "parts": [{"text": prompt}]}]
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        config: dict[str, Any] = {}
        if max_tokens is not None:
            config["maxOutputTokens"] = max_tokens
        if temperature is not None:
            config["temperature"] = temperature
        if config:
            body["generationConfig"] = config
        return body
    if schema == "openai/responses":
        body["input"] = prompt
        if system:
            body["instructions"] = system
        if max_tokens is not None:
            body["max_output_tokens"] = max_tokens
    elif schema == "openai/completions":
        body["prompt"] = prompt if not system else f"{system}\n\n{prompt}"
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
    elif schema == "anthropic/messages":
        body["max_tokens"] = max_tokens or 1024
        if system:
            body["system"] = system
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        messages = [{"role": "system", "content": system}] if system else []
        body["messages"] = [*messages, {"role": "user", "content": prompt}]
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def read_rows(source: str | os.PathLike[str]) -> Iterable[tuple[int, dict[str, Any]]]:
    """Rows of a CSV file (by its ``.csv`` name, header first) or a JSONL file, numbered.

    CSV rows are numbered by their line in the file (the header is line 1).
    """
    import csv

    name = os.fspath(source)
    if name.lower().endswith(".csv"):
        try:
            with open(name, newline="", encoding="utf-8") as handle:
                for number, row in enumerate(csv.DictReader(handle), 2):
                    yield number, dict(row)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(f"cannot read {name}: {exc}", path=name) from None
        return
    for line in read_lines(source):
        yield line.number, line.value
