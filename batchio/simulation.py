"""Simulated batch results: output and error files shaped like a provider's, offline.

Owns :func:`simulate`: from a request file it writes what the provider would send back,
with the failure modes that break pipelines (HTTP failures, expired and cancelled
requests, requests missing from both files, results out of order), and the matching
Batch object, in each provider's own shapes (OpenAI's and its compatible services',
Anthropic's, Gemini's, Bedrock's ``.jsonl.out`` with each family's response body, Vertex
AI's ``predictions.jsonl`` repeating each request). Deterministic for a seed. For tests of
code downstream of a batch job.
"""

from __future__ import annotations

import contextlib
import os
import random
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import msgspec
import orjson

from ._simulated_answers import Answer, AnswerMaker
from .batch import Batch, read_batch
from .bodies import embedding_inputs
from .errors import BatchioWarning, LineError, UsageError
from .jsonl import (
    JsonlWriter,
    Line,
    check_distinct_paths,
    check_source,
    check_target,
    read_lines,
    reported,
    write_file_atomically,
)
from .outputs import OUTPUT_CHECKS
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
    #: Per output-check verdict, the succeeded answers that should get it.
    outputs: dict[str, int] = field(default_factory=dict)


@dataclass
class _Context:
    """What every result line of a simulation is made with."""

    rng: random.Random
    dimensions: int | None
    profile: Profile
    answers: AnswerMaker
    #: The verdict each succeeded answer should get from ``join --check-outputs``.
    verdicts: Counter[str]

    def answer(self, url: str, body: Mapping[str, Any], refusable: bool = True) -> Answer:
        generates = not url.endswith(("/embeddings", "/moderations")) and "/images/" not in url
        answer = self.answers.answer(body, generates, refusable)
        self.verdicts[answer.verdict] += 1
        return answer


def _openai_body(url: str, body: Mapping[str, Any], context: _Context) -> Any:
    """A response body shaped like the endpoint's real responses."""
    rng = context.rng
    model = body.get("model", "simulated-model")
    answer = context.answer(url, body, refusable=not url.endswith("/v1/completions"))
    prompt, completion = answer.input_tokens, answer.output_tokens
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}
    created = _EPOCH + rng.randint(0, 3600)
    if url.endswith("/chat/completions"):
        refused = answer.ending == "refusal"
        return {"id": f"chatcmpl-{rng.getrandbits(64):016x}", "object": "chat.completion",
                "created": created, "model": model, "system_fingerprint": "fp_simulated",
                "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": answer.text,
                    "refusal": "I can't help with that." if refused else None},
                    "logprobs": None,
                    "finish_reason": "length" if answer.ending == "length" else "stop"}],
                "usage": usage}
    if url.endswith("/embeddings"):
        return _embeddings_body(body, model, prompt, context)
    if url.endswith("/responses"):
        return _responses_body(answer, model, created, rng)
    if url.endswith("/completions"):
        return {"id": f"cmpl-{rng.getrandbits(64):016x}", "object": "text_completion",
                "created": created, "model": model,
                "choices": [{"text": answer.text or "", "index": 0, "logprobs": None,
                             "finish_reason": "length" if answer.ending == "length"
                             else "stop"}], "usage": usage}
    if url.endswith("/moderations"):
        return _moderations_body(body, model, rng)
    if "/images/" in url:
        return {"created": created, "data": [{"b64_json": "iVBORw0KGgo="}]}
    return {"id": f"video_{rng.getrandbits(64):016x}", "object": "video", "status": "completed",
            "model": model, "created_at": created}


def _embeddings_body(body: Mapping[str, Any], model: Any, prompt: int, context: _Context
                     ) -> dict[str, Any]:
    size = body.get("dimensions") or context.dimensions or EMBEDDING_DIMENSIONS.get(
        str(model), DEFAULT_EMBEDDING_DIMENSIONS)
    rng = context.rng
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": index,
                      "embedding": [round(rng.uniform(-1, 1), 6) for _ in range(size)]}
                     for index in range(embedding_inputs(body))],
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}


def _moderations_body(body: Mapping[str, Any], model: Any, rng: random.Random
                      ) -> dict[str, Any]:
    items = body.get("input")
    count = len(items) if isinstance(items, list) and items and isinstance(items[0], str) \
        else 1
    categories = ("harassment", "hate", "self-harm", "sexual", "violence")
    return {"id": f"modr-{rng.getrandbits(64):016x}",
            "model": model if "model" in body else "omni-moderation-latest",
            "results": [{"flagged": False, "categories": dict.fromkeys(categories, False),
                         "category_scores": {name: round(rng.random() / 100, 6)
                                             for name in categories}}
                        for _ in range(count)]}


def _responses_body(answer: Answer, model: Any, created: int, rng: random.Random
                    ) -> dict[str, Any]:
    cut = answer.ending == "length"
    part = ({"type": "refusal", "refusal": "I can't help with that."}
            if answer.ending == "refusal" else
            {"type": "output_text", "text": answer.text or "", "annotations": []})
    return {"id": f"resp_{rng.getrandbits(64):016x}", "object": "response",
            "created_at": created, "status": "incomplete" if cut else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "model": model,
            "output": [{"type": "message", "id": f"msg_{rng.getrandbits(64):016x}",
                        "status": "completed", "role": "assistant", "content": [part]}],
            "usage": {"input_tokens": answer.input_tokens,
                      "output_tokens": answer.output_tokens,
                      "total_tokens": answer.input_tokens + answer.output_tokens}}


def _openai_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                  context: _Context) -> tuple[str, dict[str, Any]]:
    rng, profile = context.rng, context.profile
    request_id = f"req_{rng.getrandbits(64):016x}"
    line_id = f"batch_req_{rng.getrandbits(64):016x}"
    if fate == "succeeded":
        return "output", {"id": line_id, "custom_id": custom_id, "response": {
            "status_code": 200, "request_id": request_id,
            "body": _openai_body(url, body, context)}, "error": None}
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


def _anthropic_message(url: str, body: Mapping[str, Any], context: _Context
                       ) -> dict[str, Any]:
    """An Anthropic Message answering ``body`` (Anthropic's batches, Claude on Bedrock and
    on Vertex AI)."""
    rng = context.rng
    answer = context.answer(url, body)
    content: list[dict[str, Any]] = []
    if answer.tool_input is not None:
        content.append({"type": "tool_use", "id": f"toolu_{rng.getrandbits(64):016x}",
                        "name": _forced_tool_name(body), "input": answer.tool_input})
    elif answer.text is not None:
        content.append({"type": "text", "text": answer.text})
    stop = {"length": "max_tokens", "refusal": "refusal"}.get(
        answer.ending, "tool_use" if answer.tool_input is not None else "end_turn")
    return {"id": f"msg_{rng.getrandbits(64):016x}", "type": "message", "role": "assistant",
            "model": body.get("model", "simulated-model"), "content": content,
            "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": answer.input_tokens,
                      "output_tokens": answer.output_tokens}}


def _anthropic_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                     context: _Context) -> tuple[str, dict[str, Any]]:
    rng = context.rng
    if fate == "succeeded":
        message = _anthropic_message(url, body, context)
        message["usage"]["service_tier"] = "batch"
        result: dict[str, Any] = {"type": "succeeded", "message": message}
    elif fate == "failed":
        kind = rng.choice(("invalid_request_error", "overloaded_error", "api_error"))
        result = {"type": "errored", "error": {"type": "error", "error": {
            "type": kind, "message": "Simulated failure."}}}
    else:
        result = {"type": "canceled" if fate == "cancelled" else "expired"}
    return "output", {"custom_id": custom_id, "result": result}


def _forced_tool_name(body: Mapping[str, Any]) -> Any:
    choice = body.get("tool_choice")
    return choice.get("name") if isinstance(choice, dict) else None


def _gemini_response(url: str, body: Mapping[str, Any], context: _Context
                     ) -> dict[str, Any]:
    """A GenerateContentResponse answering ``body`` (Gemini's and Vertex AI's batches)."""
    # Gemini's answers have no refusal signal of their own: none is simulated.
    answer = context.answer(url, body, refusable=False)
    parts = [] if answer.text is None else [{"text": answer.text}]
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "MAX_TOKENS" if answer.ending == "length"
                            else "STOP"}],
            "usageMetadata": {"promptTokenCount": answer.input_tokens,
                              "candidatesTokenCount": answer.output_tokens,
                              "totalTokenCount": answer.input_tokens + answer.output_tokens}}


def _gemini_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                  context: _Context) -> tuple[str, dict[str, Any]]:
    if fate == "succeeded":
        return "output", {"key": custom_id, "response": _gemini_response(url, body, context)}
    status = {"failed": ("INVALID_ARGUMENT", 400), "expired": ("DEADLINE_EXCEEDED", 504),
              "cancelled": ("CANCELLED", 499)}[fate]
    return "output", {"key": custom_id, "error": {"code": status[1], "status": status[0],
                                                  "message": f"Simulated {fate} request."}}


def _bedrock_output(family: str, body: Mapping[str, Any], context: _Context
                    ) -> dict[str, Any]:
    """The modelOutput of a Bedrock record: the response body of the body's model family
    (its InvokeModel response, or a Converse response), as each family's docs show it."""
    rng = context.rng
    if family in ("anthropic.claude", "any-model"):
        return _anthropic_message("bedrock", body, context)
    embeds = family in ("amazon.titan-embed-text", "amazon.titan-embed-image", "cohere.embed")
    answer = context.answer("/embeddings" if embeds else "bedrock", body, refusable=False)
    cut = answer.ending == "length"
    text = answer.text or ""
    size = context.dimensions or int(body.get("dimensions") or 1024)
    if family == "cohere.embed":
        given = body.get("texts")
        texts = given if isinstance(given, list) else []
        return {"id": f"{rng.getrandbits(128):032x}", "response_type": "embeddings_floats",
                "texts": texts, "embeddings": [[round(rng.uniform(-1, 1), 6)
                                                for _ in range(size)] for _ in texts]}
    if embeds:
        return {"embedding": [round(rng.uniform(-1, 1), 6) for _ in range(size)],
                "inputTextTokenCount": answer.input_tokens}
    if family == "amazon.titan-text":
        return {"inputTextTokenCount": answer.input_tokens, "results": [{
            "tokenCount": answer.output_tokens, "outputText": text,
            "completionReason": "LENGTH" if cut else "FINISH"}]}
    if family == "meta.llama":
        return {"generation": text, "prompt_token_count": answer.input_tokens,
                "generation_token_count": answer.output_tokens,
                "stop_reason": "length" if cut else "stop"}
    if family == "mistral":
        return {"outputs": [{"text": text, "stop_reason": "length" if cut else "stop"}]}
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "max_tokens" if cut else "end_turn",
            "usage": {"inputTokens": answer.input_tokens, "outputTokens": answer.output_tokens,
                      "totalTokens": answer.input_tokens + answer.output_tokens}}


def _bedrock_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                   context: _Context) -> tuple[str, dict[str, Any]]:
    rng = context.rng
    # A record without a recordId gets one of Bedrock's in the output.
    line: dict[str, Any] = {"recordId": custom_id or f"{rng.randrange(10 ** 11):011d}",
                            "modelInput": body}
    if fate == "succeeded":
        line["modelOutput"] = _bedrock_output(url, body, context)
    else:
        code, message = rng.choice(((400, "Malformed input request: simulated."),
                                    (429, "Too many requests: simulated."),
                                    (500, "Internal server error: simulated.")))
        line["error"] = {"errorCode": code, "errorMessage": message}
    return "output", line


def _vertex_lines(fate: str, custom_id: str, url: str, body: Mapping[str, Any],
                  context: _Context) -> tuple[str, dict[str, Any]]:
    rng = context.rng
    line: dict[str, Any] = {"custom_id": custom_id} if custom_id else {}
    moment = _rfc3339(_EPOCH + rng.randint(0, 86_400))
    if fate == "succeeded":
        response = _anthropic_message(url, body, context) if url == "claude" \
            else {**_gemini_response(url, body, context), "modelVersion": "simulated-model"}
        line.update(status="", processed_time=moment, request=body, response=response)
    else:
        error = {"error": {"code": 400, "message": "Simulated failure.",
                           "status": "INVALID_ARGUMENT"}}
        line.update(status="Bad Request: " + orjson.dumps(error).decode(),
                    processed_time=moment, request=body)
    return "output", line


_SHAPES: dict[str, Callable[[str, str, str, Mapping[str, Any], _Context],
                            tuple[str, dict[str, Any]]]] = {
    "openai": _openai_lines, "anthropic": _anthropic_lines, "gemini": _gemini_lines,
    "bedrock": _bedrock_lines, "vertex": _vertex_lines}

#: The largest embedding a simulation makes (the largest models' are 3,072 to 4,096).
MAX_DIMENSIONS = 65_536


class _ResultFiles:
    """The files a simulation writes, each filled through a shuffle window: results come
    out of order, as real ones do, in bounded memory."""

    def __init__(self, output: str | os.PathLike[str], errors: str | os.PathLike[str] | None,
                 shuffle: bool, rng: random.Random) -> None:
        self.shuffle = shuffle
        self.rng = rng
        self.writers: dict[str, JsonlWriter] = {}
        self.windows: dict[str, list[bytes]] = {"output": [], "errors": []}
        self.writers["output"] = JsonlWriter(output)
        try:
            if errors is not None:
                self.writers["errors"] = JsonlWriter(errors)
        except BaseException:
            self.writers["output"].abort()
            raise

    def add(self, target: str, result: Mapping[str, Any]) -> None:
        name = target if target in self.writers else "output"
        window = self.windows[name]
        try:
            window.append(orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE))
        except TypeError:  # a request repeated in its result may hold a 65-bit integer
            window.append(msgspec.json.encode(result) + b"\n")
        if len(window) >= SHUFFLE_WINDOW:
            self._flush(name)

    def _flush(self, name: str) -> None:
        window = self.windows[name]
        if self.shuffle:
            self.rng.shuffle(window)
        writer = self.writers[name]
        for raw in window:
            writer.write_raw(raw)
        window.clear()

    def close(self) -> None:
        for name in self.writers:
            self._flush(name)
        for writer in self.writers.values():
            writer.close()

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def _checked_rates(**rates: float) -> dict[str, float]:
    """The fates' rates in the order they are drawn, each in [0, 1] and at most 1 in all."""
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"{name} rate must be between 0 and 1, not {rate}")
    if sum(rates.values()) > 1.0:
        raise UsageError("the rates add up to more than 1")
    return rates


def _draw_fate(rng: random.Random, rates: Mapping[str, float]) -> str:
    """One request's fate: a name of ``rates`` with its probability, else succeeded."""
    roll = rng.random()
    for name, rate in rates.items():
        if roll < rate:
            return name
        roll -= rate
    return "succeeded"


def _request_of(line: Line, profile: Profile, requests: str | os.PathLike[str]
                ) -> tuple[str, str, dict[str, Any]]:
    """A request line's id, endpoint and body (empty when it has none)."""
    value = line.value
    custom_id = value.get(profile.id_field)
    if custom_id is None and profile.echo_field is not None:
        custom_id = ""  # its result repeats its body, which names it
    elif type(custom_id) is not str or not custom_id:
        raise LineError(f"the request has no string {profile.id_field}: a result could not "
                        "name it", code="invalid_custom_id", path=os.fspath(requests),
                        line=line.number)
    body = value.get(profile.body_field)
    url = profile.endpoint_of_line(value)
    return (custom_id, url if type(url) is str else profile.default_endpoint,
            body if isinstance(body, dict) else {})


def simulate(
    requests: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str],
    errors: str | os.PathLike[str] | None = None,
    seed: int = 0,
    failure_rate: float = 0.02,
    expire_rate: float = 0.01,
    cancel_rate: float = 0.0,
    missing_rate: float = 0.001,
    shuffle: bool = True,
    provider: str | Profile | None = None,
    embedding_dimensions: int | None = None,
    batch_json: str | os.PathLike[str] | None = None,
    refusal_rate: float = 0.0,
    truncation_rate: float = 0.0,
    invalid_json_rate: float = 0.0,
    schema_violation_rate: float = 0.0,
    chars_per_token: float = 4.0,
    on_progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Write the result files a provider would return for a request file.

    Each request independently goes missing (``missing_rate``), expires, is cancelled,
    fails with an HTTP 400/429/500, or succeeds with a body shaped like the endpoint's
    real response, its output tokens within the request's own cap (a draw over it is cut
    off there, with the API's "length" finish). OpenAI-shaped providers put failures,
    expired and cancelled requests in ``errors``; providers with one results file put
    everything in ``output`` (``errors`` is then a :class:`UsageError`). Results are
    shuffled within windows of :data:`SHUFFLE_WINDOW` lines. The Batch object (status
    ``expired`` or ``cancelled`` when any request was, else ``completed``) is returned and,
    with ``batch_json``, written there in the provider's own shape (what ``batchio status``
    reads back).

    Succeeded answers: input tokens follow the request's text at ``chars_per_token`` (a
    tenth of noise either way); a request that asks for JSON gets JSON that fits its
    schema, and among succeeded answers the shares ``refusal_rate``,
    ``truncation_rate``, ``invalid_json_rate`` and ``schema_violation_rate`` get that
    fault (JSON faults only where JSON was asked for, refusals not on Gemini).
    ``Simulation.outputs`` counts the verdict ``join --check-outputs`` should give each.
    """
    rates = _checked_rates(missing=missing_rate, expired=expire_rate,
                           cancelled=cancel_rate, failed=failure_rate)
    if embedding_dimensions is not None and not 1 <= embedding_dimensions <= MAX_DIMENSIONS:
        raise UsageError(f"embedding dimensions must be from 1 to {MAX_DIMENSIONS:,}, not "
                         f"{embedding_dimensions:,}")
    check_source(requests)
    check_target(output, "output")
    check_distinct_paths([requests], [output, errors, batch_json])
    profile = profile_for(provider, requests)
    if errors is not None and profile.one_result_file:
        raise UsageError(f"{profile.title} returns every result in one file: give output "
                         "only, not errors")
    faults = _checked_rates(refusal=refusal_rate, truncated=truncation_rate,
                            invalid_json=invalid_json_rate,
                            schema_violation=schema_violation_rate)
    rng = random.Random(seed)
    context = _Context(rng, embedding_dimensions, profile,
                       AnswerMaker(rng, faults, chars_per_token,
                                   can_refuse=profile.result_shape != "gemini"), Counter())
    write_line = _SHAPES[profile.result_shape]
    counts = dict.fromkeys(("succeeded", "failed", "expired", "cancelled", "missing"), 0)
    files = _ResultFiles(output, errors, shuffle, rng)
    total = 0
    endpoint: str | None = None
    try:
        for line in reported(read_lines(requests), on_progress):
            total += 1
            custom_id, url, body = _request_of(line, profile, requests)
            endpoint = endpoint or url
            fate = _draw_fate(rng, rates)
            if fate in ("expired", "cancelled") and not (
                    profile.expired_codes if fate == "expired" else profile.cancelled_codes):
                # A provider with no result line for a request that never ran (Bedrock,
                # Vertex AI): it is missing from the files.
                fate = "missing"
            counts[fate] += 1
            if fate != "missing":
                files.add(*write_line(fate, custom_id, url, body, context))
        document = _batch_document(profile, counts, total, seed, endpoint or
                                   profile.default_endpoint, "errors" in files.writers)
        # The Batch object first: where it cannot be written, no result file is either.
        if batch_json is not None:
            write_file_atomically(batch_json, orjson.dumps(
                document, option=orjson.OPT_INDENT_2) + b"\n")
        try:
            files.close()
        except BaseException:
            if batch_json is not None:
                with contextlib.suppress(OSError):
                    os.unlink(batch_json)
            raise
    except BaseException:
        files.abort()
        raise
    _warn_unapplied(context.answers.unapplied, os.fspath(requests))
    batch = _load_batch(document, profile.name)
    errors_path = None if errors is None else os.fspath(errors)
    return Simulation(os.fspath(output), errors_path, batch, counts,
                      {check: context.verdicts.get(check, 0) for check in OUTPUT_CHECKS})


_UNAPPLIED = {
    "refusal": "a refusal was drawn for {count:,} answers whose shape cannot say it refused "
               "(Gemini's, or an endpoint with no text answer): they answer as asked",
    "invalid_json": "invalid JSON was drawn for {count:,} answers that ask for no JSON, "
                    "force a tool (whose input is always JSON) or are cut at their request's "
                    "cap first: they answer as asked",
    "schema_violation": "a schema violation was drawn for {count:,} answers that give no "
                        "schema an answer can break or are cut at their request's cap first: "
                        "they answer as asked",
}


def _warn_unapplied(unapplied: Counter[str], path: str) -> None:
    """A warning for each fault drawn where it cannot apply: the share asked for is then not
    the share the files hold, which a user should know."""
    for fault, count in unapplied.items():
        warnings.warn(BatchioWarning(_UNAPPLIED[fault].format(count=count),
                                     code="fault_not_applied", path=path), stacklevel=3)


def _batch_document(profile: Profile, counts: dict[str, int], total: int, seed: int,
                    endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """The Batch object of the simulated job in the provider's own shape: completed counts
    the successful lines and the missing requests (counted by the server, absent from the
    files), failed every other line written."""
    created = _EPOCH + seed % 86_400
    status = ("cancelled" if counts["cancelled"] else "expired" if counts["expired"]
              else "completed")
    failed = counts["failed"] + counts["expired"] + counts["cancelled"]
    if profile.name == "anthropic":
        return {"id": f"msgbatch_sim_{seed:08x}", "type": "message_batch",
                "processing_status": "ended",
                # A missing request was counted by the server (as succeeded), but its
                # result line is not in the file: what a cross-check is for.
                "request_counts": {"processing": 0,
                                   "succeeded": counts["succeeded"] + counts["missing"],
                                   "errored": counts["failed"],
                                   "canceled": counts["cancelled"],
                                   "expired": counts["expired"]},
                "created_at": _rfc3339(created), "expires_at": _rfc3339(created + 86_400),
                "ended_at": _rfc3339(created + 3_660),
                "cancel_initiated_at": _rfc3339(created + 1_800) if status == "cancelled"
                else None,
                "archived_at": None,
                "results_url": f"https://api.anthropic.com/v1/messages/batches/"
                               f"msgbatch_sim_{seed:08x}/results"}
    # A missing request was counted by the server (as completed), but its result line is
    # not in the files: what a cross-check is for.
    completed = counts["succeeded"] + counts["missing"]
    own = _OWN_SHAPES.get(profile.name)
    if own is not None:
        return own(seed, created, status, total, completed, failed, endpoint, has_error_file)
    data: dict[str, Any] = {
        "id": f"batch_sim_{seed:08x}", "object": "batch", "endpoint": endpoint,
        "errors": None, "input_file_id": "file-sim-input", "completion_window": "24h",
        "status": status, "output_file_id": "file-sim-output",
        "error_file_id": "file-sim-errors" if has_error_file else None,
        "created_at": created, "in_progress_at": created + 60,
        "expires_at": created + 86_400,
        "request_counts": {"total": total, "completed": completed, "failed": failed},
    }
    if status == "completed":
        data.update(finalizing_at=created + 3_600, completed_at=created + 3_660)
    elif status == "expired":
        data.update(expired_at=created + 86_400)
    else:
        data.update(cancelling_at=created + 1_800, cancelled_at=created + 1_860)
    return data


def _gemini_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                  failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """The operation Gemini's ``batches.get`` returns (its counts are JSON strings)."""
    name = f"batches/sim{seed:08x}"
    kind = "EmbedContentBatch" if endpoint == "embedContent" else "GenerateContentBatch"
    return {"name": name, "done": True, "metadata": {
        "@type": f"type.googleapis.com/google.ai.generativelanguage.v1main.{kind}",
        "name": name, "displayName": "batchio simulation",
        "createTime": _rfc3339(created), "updateTime": _rfc3339(created + 3_660),
        "endTime": _rfc3339(created + 3_660),
        "batchStats": {"requestCount": str(total), "successfulRequestCount": str(succeeded),
                       "failedRequestCount": str(failed)},
        "state": f"BATCH_STATE_{_OWN_STATUS[status][0]}",
        "output": {"responsesFile": f"files/{name.split('/')[1]}-results"}}}


def _together_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                    failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """Together's batch job (no request counts; ISO times)."""
    return {"id": f"sim-{seed:08x}", "status": _OWN_STATUS[status][1], "endpoint": endpoint,
            "input_file_id": "file-sim-input", "output_file_id": "file-sim-output",
            "error_file_id": "file-sim-errors" if has_error_file else None,
            "created_at": _rfc3339(created), "completed_at": _rfc3339(created + 3_660),
            "job_deadline": _rfc3339(created + 86_400), "progress": 100.0}


def _mistral_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                   failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """Mistral's batch job (Unix-second times, request counts of its own)."""
    return {"id": f"sim-{seed:08x}", "object": "batch", "status": _OWN_STATUS[status][2],
            "endpoint": endpoint, "input_files": ["file-sim-input"],
            "output_file": "file-sim-output",
            "error_file": "file-sim-errors" if has_error_file else None,
            "created_at": created, "started_at": created + 60,
            "completed_at": created + 3_660, "total_requests": total,
            "succeeded_requests": succeeded, "failed_requests": failed}


# A simulated job's status in Gemini's, Together's and Mistral's words.
_OWN_STATUS = {"completed": ("SUCCEEDED", "COMPLETED", "SUCCESS"),
               "expired": ("EXPIRED", "EXPIRED", "TIMEOUT_EXCEEDED"),
               "cancelled": ("CANCELLED", "CANCELLED", "CANCELLED")}
def _bedrock_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                   failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """Bedrock's GetModelInvocationJob response (no request counts: those are in the
    output's manifest.json.out)."""
    state = {"completed": "PartiallyCompleted" if failed else "Completed",
             "expired": "Expired", "cancelled": "Stopped"}[status]
    arn = f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/{seed:012x}"
    return {"jobArn": arn, "jobName": f"batchio-simulation-{seed}",
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0", "status": state,
            "submitTime": _rfc3339(created), "lastModifiedTime": _rfc3339(created + 3_660),
            "endTime": _rfc3339(created + 3_660),
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://bucket/input/"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://bucket/output/"}},
            "timeoutDurationInHours": 24,
            "jobExpirationTime": _rfc3339(created + 86_400)}


def _vertex_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                  failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """Vertex AI's BatchPredictionJob (its counts are int64 JSON strings)."""
    state = {"completed": "PARTIALLY_SUCCEEDED" if failed else "SUCCEEDED",
             "expired": "EXPIRED", "cancelled": "CANCELLED"}[status]
    name = f"projects/123456789012/locations/us-central1/batchPredictionJobs/{seed}"
    model = ("publishers/anthropic/models/claude-sonnet-4" if endpoint == "claude"
             else "publishers/google/models/gemini-2.5-flash")
    return {"name": name, "displayName": "batchio simulation", "model": model,
            "state": f"JOB_STATE_{state}",
            "inputConfig": {"instancesFormat": "jsonl",
                            "gcsSource": {"uris": ["gs://bucket/input.jsonl"]}},
            "outputConfig": {"predictionsFormat": "jsonl",
                             "gcsDestination": {"outputUriPrefix": "gs://bucket/output"}},
            "outputInfo": {"gcsOutputDirectory": "gs://bucket/output/prediction-model-sim"},
            "completionStats": {"successfulCount": str(succeeded),
                                "failedCount": str(failed),
                                "incompleteCount": str(total - succeeded - failed)},
            "createTime": _rfc3339(created), "startTime": _rfc3339(created + 60),
            "endTime": _rfc3339(created + 3_660), "updateTime": _rfc3339(created + 3_660)}


def _fireworks_batch(seed: int, created: int, status: str, total: int, succeeded: int,
                     failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """Fireworks' batch inference job (JOB_STATE_*, jobProgress)."""
    state = {"completed": "COMPLETED", "expired": "EXPIRED", "cancelled": "CANCELLED"}[status]
    return {"name": f"accounts/simulated/batchInferenceJobs/sim-{seed:08x}",
            "state": f"JOB_STATE_{state}", "createTime": _rfc3339(created),
            "updateTime": _rfc3339(created + 3_660),
            "inputDatasetId": "accounts/simulated/datasets/input",
            "outputDatasetId": "accounts/simulated/datasets/output",
            "jobProgress": {"totalInputRequests": total,
                            "successfullyProcessedRequests": succeeded,
                            "failedRequests": failed}}


def _xai_batch(seed: int, created: int, status: str, total: int, succeeded: int,
               failed: int, endpoint: str, has_error_file: bool) -> dict[str, Any]:
    """An xAI batch: no status of its own, its request counts in ``state``."""
    # Its status is read off the counts: a cancelled job's unfinished requests count as
    # cancelled, any other's as errors.
    cancelled = failed if status == "cancelled" else 0
    return {"batch_id": f"batch_sim_{seed:08x}", "name": "batchio simulation",
            "create_time": _rfc3339(created), "expire_time": _rfc3339(created + 86_400),
            "state": {"num_requests": total, "num_pending": 0, "num_success": succeeded,
                      "num_error": failed - cancelled, "num_cancelled": cancelled}}


_OWN_SHAPES: dict[str, Callable[..., dict[str, Any]]] = {
    "gemini": _gemini_batch, "together": _together_batch, "mistral": _mistral_batch,
    "bedrock": _bedrock_batch, "vertex": _vertex_batch, "fireworks": _fireworks_batch,
    "xai": _xai_batch}


def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def _load_batch(document: Mapping[str, Any], provider: str) -> Batch:
    return read_batch(document, provider)
