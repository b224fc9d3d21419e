"""Simulated batch results: output and error files shaped like a provider's, offline.

Owns :func:`simulate`: from a request file it writes what the provider would send back,
with the failure modes that break pipelines (HTTP failures, expired and cancelled
requests, requests missing from both files, results out of order), and the matching
Batch object. Deterministic for a seed. For tests of code downstream of a batch job.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .batch import Batch
from .bodies import embedding_inputs
from .errors import UsageError
from .jsonl import JsonlWriter, read_lines, write_file_atomically
from .providers import Profile, profile_for

#: Embedding sizes of well-known models; others take ``embedding_dimensions``.
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
DEFAULT_EMBEDDING_DIMENSIONS = 1536
#: Results are shuffled within windows of this many lines: out of order, in bounded memory.
SHUFFLE_WINDOW = 10_000
_EPOCH = 1_767_225_600

# (status code, error code, type, message) of the HTTP failures a simulation draws from.
_HTTP_FAILURES = (
    (400, "invalid_value", "invalid_request_error", "Invalid value for a request parameter."),
    (429, "rate_limit_exceeded", "rate_limit_error", "Rate limit reached for requests."),
    (500, "server_error", "server_error", "The server had an error processing the request."),
)


@dataclass
class Simulation:
    """What :func:`simulate` wrote: the files, the Batch object, and the count of each fate."""

    output: str
    errors: str | None
    batch: Batch
    counts: dict[str, int] = field(default_factory=dict)


def _words(rng: random.Random, count: int) -> str:
    vocabulary = ("the", "batch", "result", "is", "ready", "and", "matches", "its", "request",
                  "by", "custom", "id", "simulated", "answer", "text")
    return " ".join(rng.choice(vocabulary) for _ in range(count)).capitalize() + "."


def _usage(rng: random.Random) -> tuple[int, int]:
    return rng.randint(8, 400), rng.randint(5, 300)


def _openai_body(url: str, body: Mapping[str, Any], rng: random.Random,
                 dimensions: int | None) -> Any:
    """A response body shaped like the endpoint's real responses."""
    model = body.get("model", "simulated-model")
    prompt, completion = _usage(rng)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}
    created = _EPOCH + rng.randint(0, 3600)
    if url.endswith("/chat/completions"):
        return {"id": f"chatcmpl-{rng.getrandbits(64):016x}", "object": "chat.completion",
                "created": created, "model": model, "system_fingerprint": "fp_simulated",
                "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": _words(rng, 12), "refusal": None},
                    "logprobs": None, "finish_reason": "stop"}],
                "usage": usage}
    if url.endswith("/embeddings"):
        size = body.get("dimensions") or dimensions or EMBEDDING_DIMENSIONS.get(
            str(model), DEFAULT_EMBEDDING_DIMENSIONS)
        count = embedding_inputs(body)
        return {"object": "list", "model": model,
                "data": [{"object": "embedding", "index": index,
                          "embedding": [round(rng.uniform(-1, 1), 6) for _ in range(size)]}
                         for index in range(count)],
                "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}
    if url.endswith("/responses"):
        return {"id": f"resp_{rng.getrandbits(64):016x}", "object": "response",
                "created_at": created, "status": "completed", "model": model,
                "output": [{"type": "message", "id": f"msg_{rng.getrandbits(64):016x}",
                            "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": _words(rng, 12),
                                         "annotations": []}]}],
                "usage": {"input_tokens": prompt, "output_tokens": completion,
                          "total_tokens": prompt + completion}}
    if url.endswith("/completions"):
        return {"id": f"cmpl-{rng.getrandbits(64):016x}", "object": "text_completion",
                "created": created, "model": model,
                "choices": [{"text": _words(rng, 12), "index": 0, "logprobs": None,
                             "finish_reason": "stop"}], "usage": usage}
    if url.endswith("/moderations"):
        items = body.get("input")
        count = len(items) if isinstance(items, list) and items and isinstance(
            items[0], str) else 1
        categories = ("harassment", "hate", "self-harm", "sexual", "violence")
        return {"id": f"modr-{rng.getrandbits(64):016x}",
                "model": model if "model" in body else "omni-moderation-latest",
                "results": [{"flagged": False,
                             "categories": dict.fromkeys(categories, False),
                             "category_scores": {name: round(rng.random() / 100, 6)
                                                 for name in categories}}
                            for _ in range(count)]}
    if "/images/" in url:
        return {"created": created, "data": [{"b64_json": "iVBORw0KGgo="}]}
    return {"id": f"video_{rng.getrandbits(64):016x}", "object": "video", "status": "completed",
            "model": model, "created_at": created}


def _openai_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                  rng: random.Random, dimensions: int | None, profile: Profile
                  ) -> tuple[str, dict[str, Any]]:
    request_id = f"req_{rng.getrandbits(64):016x}"
    line_id = f"batch_req_{rng.getrandbits(64):016x}"
    if fate == "succeeded":
        return "output", {"id": line_id, "custom_id": custom_id, "response": {
            "status_code": 200, "request_id": request_id,
            "body": _openai_body(url, body, rng, dimensions)}, "error": None}
    if fate == "failed":
        status_code, code, kind, message = rng.choice(_HTTP_FAILURES)
        return "errors", {"id": line_id, "custom_id": custom_id, "response": {
            "status_code": status_code, "request_id": request_id, "body": {"error": {
                "message": message, "type": kind, "param": None, "code": code}}},
            "error": None}
    codes = profile.expired_codes if fate == "expired" else profile.cancelled_codes
    code = min(codes) if codes else f"batch_{fate}"
    return "errors", {"id": line_id, "custom_id": custom_id, "response": None,
                      "error": {"code": code, "message": f"This request was {fate}."}}


def _anthropic_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                     rng: random.Random, dimensions: int | None, profile: Profile
                     ) -> tuple[str, dict[str, Any]]:
    if fate == "succeeded":
        prompt, completion = _usage(rng)
        result: dict[str, Any] = {"type": "succeeded", "message": {
            "id": f"msg_{rng.getrandbits(64):016x}", "type": "message", "role": "assistant",
            "model": body.get("model"), "content": [{"type": "text", "text": _words(rng, 12)}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": completion}}}
    elif fate == "failed":
        kind = rng.choice(("invalid_request_error", "overloaded_error", "api_error"))
        result = {"type": "errored", "error": {"type": "error", "error": {
            "type": kind, "message": "Simulated failure."}}}
    else:
        result = {"type": "canceled" if fate == "cancelled" else "expired"}
    return "output", {"custom_id": custom_id, "result": result}


def _gemini_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                  rng: random.Random, dimensions: int | None, profile: Profile
                  ) -> tuple[str, dict[str, Any]]:
    if fate == "succeeded":
        prompt, completion = _usage(rng)
        return "output", {"key": custom_id, "response": {
            "candidates": [{"content": {"role": "model", "parts": [{"text": _words(rng, 12)}]},
                            "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": completion,
                              "totalTokenCount": prompt + completion}}}
    status = {"failed": ("INVALID_ARGUMENT", 400), "expired": ("DEADLINE_EXCEEDED", 504),
              "cancelled": ("CANCELLED", 499)}[fate]
    return "output", {"key": custom_id, "error": {"code": status[1], "status": status[0],
                                                  "message": f"Simulated {fate} request."}}


_SHAPES: dict[str, Callable[..., tuple[str, dict[str, Any]]]] = {
    "openai": _openai_lines, "anthropic": _anthropic_lines, "gemini": _gemini_lines}


def simulate(
    requests: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str],
    errors: str | os.PathLike[str] | None = None,
    seed: int = 0,
    failure_rate: float = 0.02,
    expire_rate: float = 0.0,
    cancel_rate: float = 0.0,
    missing_rate: float = 0.0,
    shuffle: bool = True,
    provider: str | Profile | None = None,
    embedding_dimensions: int | None = None,
    batch_json: str | os.PathLike[str] | None = None,
) -> Simulation:
    """Write the result files a provider would return for a request file.

    Each request independently goes missing (``missing_rate``), expires, is cancelled,
    fails with an HTTP 400/429/500, or succeeds with a body shaped like the endpoint's
    real response. OpenAI-shaped providers put failures, expired and cancelled requests
    in ``errors``; providers with one results file put everything in ``output``. Results
    are shuffled within windows of :data:`SHUFFLE_WINDOW` lines. The Batch object (status
    ``expired`` or ``cancelled`` when any request was, else ``completed``) is returned and,
    with ``batch_json``, written there.
    """
    rates = {"missing": missing_rate, "expired": expire_rate, "cancelled": cancel_rate,
             "failed": failure_rate}
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"{name} rate must be between 0 and 1, not {rate}")
    if sum(rates.values()) > 1.0:
        raise UsageError("the rates add up to more than 1")
    profile = profile_for(provider, requests)
    rng = random.Random(seed)
    write_line = _SHAPES[profile.result_shape]
    one_file = profile.one_result_file
    counts = dict.fromkeys(("succeeded", "failed", "expired", "cancelled", "missing"), 0)
    output_writer = JsonlWriter(output)
    error_writer = None if one_file or errors is None else JsonlWriter(errors)
    windows: dict[str, list[bytes]] = {"output": [], "errors": []}
    writers = {"output": output_writer, "errors": error_writer or output_writer}
    total = 0

    def flush(name: str) -> None:
        window = windows[name]
        if shuffle:
            rng.shuffle(window)
        for raw in window:
            writers[name].write_raw(raw)
        window.clear()

    try:
        for line in read_lines(requests):
            value = line.value
            total += 1
            custom_id = value.get(profile.id_field)
            body = value.get(profile.body_field)
            body = body if isinstance(body, dict) else {}
            url = value.get("url") if profile.carries_url else profile.default_endpoint
            roll = rng.random()
            fate = "succeeded"
            for name, rate in rates.items():
                if roll < rate:
                    fate = name
                    break
                roll -= rate
            counts[fate] += 1
            if fate == "missing":
                continue
            target, result = write_line(fate, str(custom_id), str(url), body, rng,
                                        embedding_dimensions, profile)
            target = "output" if one_file or error_writer is None else target
            windows[target].append(orjson.dumps(result) + b"\n")
            if len(windows[target]) >= SHUFFLE_WINDOW:
                flush(target)
        flush("output")
        flush("errors")
        output_writer.close()
        if error_writer is not None:
            error_writer.close()
    except BaseException:
        output_writer.abort()
        if error_writer is not None:
            error_writer.abort()
        raise
    batch = _batch_object(profile, counts, total, seed, error_writer is not None)
    if batch_json is not None:
        write_file_atomically(batch_json, orjson.dumps(
            batch.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    errors_path = None if error_writer is None or errors is None else os.fspath(errors)
    return Simulation(os.fspath(output), errors_path, batch, counts)


def _batch_object(profile: Profile, counts: dict[str, int], total: int, seed: int,
                  has_error_file: bool) -> Batch:
    """The Batch object of the simulated job, its request_counts matching the files:
    completed is the successful lines, failed every other line written."""
    created = _EPOCH + seed % 86_400
    status = ("cancelled" if counts["cancelled"] else "expired" if counts["expired"]
              else "completed")
    failed = counts["failed"] + counts["expired"] + counts["cancelled"]
    data: dict[str, Any] = {
        "id": f"batch_sim_{seed:08x}", "object": "batch", "endpoint": profile.default_endpoint,
        "errors": None, "input_file_id": "file-sim-input", "completion_window": "24h",
        "status": status, "output_file_id": "file-sim-output",
        "error_file_id": "file-sim-errors" if has_error_file else None,
        "created_at": created, "in_progress_at": created + 60,
        "expires_at": created + 86_400,
        "request_counts": {"total": total, "completed": counts["succeeded"], "failed": failed},
    }
    if status == "completed":
        data.update(finalizing_at=created + 3_600, completed_at=created + 3_660)
    elif status == "expired":
        data.update(expired_at=created + 86_400)
    else:
        data.update(cancelling_at=created + 1_800, cancelled_at=created + 1_860)
    return Batch.from_dict(data)
