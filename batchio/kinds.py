"""What a file is: requests, results, Batch objects, a shard folder, or none of these.

Owns :func:`line_kind` (one line's kind and provider, by its top-level fields) and
:func:`inspect` (a file's or folder's kind with its counts and the reason for the
verdict). Every command uses them for its first message when it is handed the wrong kind
of file: ``validate`` checks a result file as results (:func:`batchio.validation.
validate_results`), ``status`` says a request file is one, ``join`` refuses a request file
given as results.

The shapes (docs/formats.md): a request line carries ``body`` (``method``/``url``),
``params`` (Anthropic), ``request`` (Gemini, Vertex AI) or ``modelInput`` (Bedrock); a
result line ``response``/``error`` beside ``custom_id`` (OpenAI-shaped), ``result`` beside
``custom_id`` (Anthropic), ``response``/``error`` beside ``key`` (Gemini), ``modelOutput``
or ``error`` beside ``modelInput`` (Bedrock), or ``status``/``response`` beside the
echoed ``request`` (Vertex AI); a Batch object ``"object": "batch"``, ``request_counts``,
Anthropic's ``processing_status``, a Gemini batch's ``batches/`` name, a Bedrock job's
``jobArn`` (or its ``manifest.json.out``'s record counts) or a Vertex AI job's
``completionStats``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import BatchioError, Problem, UsageError
from .jsonl import read_lines, reads_once
from .providers import detect_provider, get_profile

Kind = Literal["requests", "results", "batch", "shards", "folder", "unknown"]

#: What each kind is called in a message.
KIND_NAMES = {"requests": "a request file", "results": "a result file",
              "batch": "a Batch object", "shards": "a shard folder",
              "folder": "a folder of batch files", "unknown": "no batch file"}


def line_kind(value: Any) -> tuple[Kind, str | None]:
    """One parsed line's kind and the provider its shape names (None where no shape
    names one)."""
    if not isinstance(value, Mapping):
        return "unknown", None
    if value.get("object") == "batch" or "processing_status" in value or (
            "request_counts" in value and "id" in value) or (
            isinstance(value.get("name"), str) and value["name"].startswith("batches/")):
        return "batch", ("anthropic" if "processing_status" in value else
                         "gemini" if "name" in value and "id" not in value else "openai")
    if "jobArn" in value or "totalRecordCount" in value:
        return "batch", "bedrock"
    if "completionStats" in value or (isinstance(value.get("name"), str)
                                      and "/batchPredictionJobs/" in value["name"]):
        return "batch", "vertex"
    if "jobProgress" in value or (isinstance(value.get("name"), str)
                                  and "/batchInferenceJobs/" in value["name"]):
        return "batch", "fireworks"
    if "batch_id" in value and isinstance(value.get("state"), Mapping):
        return "batch", "xai"
    if "recordId" in value or "modelInput" in value:
        return ("results" if "modelOutput" in value or "error" in value else "requests"), \
            "bedrock"
    answers = "response" in value or "error" in value
    if "request" in value and "key" not in value and (
            answers or "status" in value or "processed_time" in value):
        return "results", "vertex"
    if "custom_id" in value and "result" in value and "params" not in value:
        return "results", "anthropic"
    if "key" in value and answers and "request" not in value:
        return "results", "gemini"
    if "custom_id" in value and answers and "body" not in value and "method" not in value:
        return "results", "openai"
    if any(name in value for name in ("body", "params", "request", "method", "url",
                                      "contents")):
        return "requests", detect_provider(value).provider
    return "unknown", None


def first_kind(path: str | os.PathLike[str]) -> tuple[Kind, str | None]:
    """The kind of a file by its first line (a file that cannot be read, or read as
    JSON lines, is ``unknown``)."""
    try:
        for item in read_lines(path, errors="collect"):
            if isinstance(item, Problem):
                if item.code == "blank_line" or item.severity == "warning":
                    continue
                return "unknown", None
            return line_kind(item.value)
    except BatchioError:
        return "unknown", None
    return "unknown", None


@dataclass
class FileKind:
    """What :func:`inspect` found: a path's kind, its provider, its counts, and why."""

    path: str
    kind: Kind
    provider: str | None = None
    reason: str = ""
    lines: int = 0
    #: Records of the kind: requests, result lines, Batch objects, shards.
    records: int = 0
    endpoints: dict[str, int] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)
    #: Result lines by status (results), files by kind (a folder).
    statuses: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "provider": self.provider,
                "reason": self.reason, "lines": self.lines, "records": self.records,
                "endpoints": self.endpoints, "models": self.models,
                "statuses": self.statuses}

    def describe(self) -> str:
        """One line: what the path is, with its counts."""
        what = KIND_NAMES[self.kind]
        if self.provider:
            what += f" ({self.provider})"
        figures = {"requests": "request", "results": "result line", "batch": "object",
                   "shards": "shard", "folder": "file"}.get(self.kind)
        details = [f"{self.records:,} {figures}" + ("" if self.records == 1 else "s")
                   ] if figures else []
        if self.endpoints:
            details.append("endpoint " + ", ".join(self.endpoints))
        if self.models:
            details.append("model " + ", ".join(list(self.models)[:5]))
        if self.statuses:
            # A folder's are its files by kind, a result file's its lines by status.
            unit = {"requests": "request file", "results": "result file",
                    "batch": "Batch object file", "unknown": "other file"}
            details.append(", ".join(
                f"{count:,} {unit.get(name, name) if self.kind == 'folder' else name}"
                + ("s" if self.kind == "folder" and count != 1 else "")
                for name, count in self.statuses.items()))
        tail = f" ({'; '.join(details)})" if details else ""
        return f"{self.path}: {what}{tail}: {self.reason}"


def inspect(path: str | os.PathLike[str]) -> FileKind:
    """What ``path`` is (:class:`FileKind`): for a file, every line read and counted (a
    request file's endpoints and models, a result file's statuses); for a folder, its
    manifest's shards, or the kinds of the batch files in it."""
    name = os.fspath(path)
    if reads_once(name):
        raise UsageError(f"{name} can be read only once: inspect reads files",
                         code="invalid_argument", path=name)
    if os.path.isdir(name):
        return _inspect_folder(name)
    found = FileKind(name, "unknown")
    kinds: dict[tuple[Kind, str | None], int] = {}
    for item in read_lines(name, errors="collect"):
        if isinstance(item, Problem):
            if item.code not in ("blank_line", "crlf_line_ending"):
                found.reason = f"line {item.line}: {item.code}"
                if found.lines == 0:
                    return _whole_document(found)
            continue
        found.lines += 1
        kind, provider = line_kind(item.value)
        kinds[(kind, provider)] = kinds.get((kind, provider), 0) + 1
        if kind == "requests":
            _count_request(found, item.value, provider)
        elif kind == "results" and provider is not None:
            _count_result(found, item.value, provider)
    if not kinds:
        if not found.lines and not found.reason:
            found.reason = "an empty file: no line holds anything"
            return found
        return _whole_document(found) if not found.lines else found
    (kind, provider), count = max(kinds.items(), key=lambda entry: entry[1])
    if kind == "unknown":
        found.reason = "its lines are JSON, but no request, result or Batch object"
        found.lines, found.records = found.lines, 0
        return found
    found.kind, found.provider, found.records = kind, provider, count
    shape = {"requests": "a request line", "results": "a result line",
             "batch": "a Batch object"}[kind] + (f" of {provider}'s" if provider else "")
    others = found.lines - count
    found.reason = (f"every line has the shape of {shape}" if not others else
                    f"{count:,} of {found.lines:,} lines have the shape of {shape}; "
                    f"{others:,} have another")
    return found


def _count_request(found: FileKind, value: Mapping[str, Any], provider: str | None) -> None:
    profile = get_profile(provider or "openai")
    body = value.get(profile.body_field)
    url = profile.endpoint_of_line(value)
    if isinstance(url, str):
        found.endpoints[url] = found.endpoints.get(url, 0) + 1
    model = body.get("model") if isinstance(body, Mapping) else None
    if isinstance(model, str):
        found.models[model] = found.models.get(model, 0) + 1


def _count_result(found: FileKind, value: Mapping[str, Any], provider: str) -> None:
    status: str
    try:
        status = get_profile(provider).classify_result(value).status
    except (KeyError, TypeError, ValueError, AttributeError):
        status = "unreadable"
    found.statuses[status] = found.statuses.get(status, 0) + 1


def _whole_document(found: FileKind) -> FileKind:
    """A file that is not JSON lines may be one JSON document: a Batch object (or a list
    of them), as ``status`` reads it."""
    from .batch import load_batches

    try:
        batches = load_batches(found.path)
    except (BatchioError, ValueError) as exc:
        if isinstance(exc, BatchioError) and exc.code in ("invalid_json_line", "invalid_utf8") \
                and exc.line is not None:
            # A document over several lines that is not JSON: where the document says.
            found.reason = f"line {exc.line}: {exc.code}"
        found.reason = found.reason or "no line is a request, a result or a Batch object"
        return found
    found.kind, found.records = "batch", len(batches)
    found.provider = batches[0].provider if batches else None
    found.reason = (f"a JSON document of {len(batches):,} Batch "
                    f"object{'' if len(batches) == 1 else 's'}, as status reads it")
    return found


def _inspect_folder(name: str) -> FileKind:
    from .sharding import MANIFEST_NAME, Manifest

    manifest = Path(name) / MANIFEST_NAME
    if manifest.is_file():
        loaded = Manifest.load(manifest)
        return FileKind(name, "shards", loaded.provider, f"{MANIFEST_NAME} lists its shards",
                        records=len(loaded.shards),
                        statuses={"requests": loaded.requests})
    files = batch_files(name)
    found = FileKind(name, "folder" if files else "unknown", records=len(files),
                     reason="its JSONL files" if files else "it holds no JSONL file")
    for path in files:
        kind = first_kind(path)[0]
        found.statuses[kind] = found.statuses.get(kind, 0) + 1
    return found


def batch_files(folder: str | os.PathLike[str]) -> list[str]:
    """The JSONL files in a folder (``*.jsonl``, ``.gz``, ``.zst``; Bedrock's ``.jsonl.out``
    too), by name; where it holds none, those of its folders, a level down, as a join
    finds a cloud job's results (:func:`batchio.sharding.result_files`)."""
    from .sharding import result_names

    return [path for path in (os.path.join(folder, name) for name in result_names(
        os.fspath(folder))) if os.path.isfile(path)]


def not_a_batch_object(path: str, value: Any) -> str | None:
    """Why a file whose first object is ``value`` is no Batch object, where its shape says
    what it is instead (a request or result line); None otherwise."""
    kind, provider = line_kind(value)
    if kind in ("requests", "results"):
        return (f"{path} is {KIND_NAMES[kind]} ({provider}), not a Batch object: status "
                "reads the object the provider returns for a batch (batchio inspect says "
                "what a file is)")
    return None


def not_results(path: str) -> str | None:
    """Why ``path``, given as results, is none, where its first line says so."""
    kind, provider = first_kind(path)
    if kind == "requests":
        return (f"{path} is a request file ({provider}): its lines ask, they do not answer; "
                "give it as an input, and its result files as results")
    if kind == "batch":
        return f"{path} is a Batch object, not a result file"
    return None


__all__ = ["KIND_NAMES", "FileKind", "Kind", "batch_files", "first_kind", "inspect",
           "line_kind", "not_a_batch_object", "not_results"]
