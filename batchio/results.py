"""What a result says, as flat columns: the answer's text, why it stopped, what it cost.

Owns the joined table's columns (:data:`COLUMNS`) and :func:`answer_fields`, which reads
them off one result whatever its provider: the body inside an OpenAI-shaped
``response.body`` (OpenAI, Azure, Groq, Together, Mistral, vLLM), an Anthropic message, a
Gemini ``GenerateContentResponse`` or embedding. The body's own shape decides how it is
read (``choices``, a Responses ``output`` list, Anthropic ``content`` blocks, Gemini
``candidates``, embedding ``data``, and the Bedrock families' own bodies: a Converse or
Nova ``output.message``, Titan ``results``, Llama ``generation``, Mistral ``outputs``), so
one function serves every provider.

Finish reasons are normalised to ``stop``, ``length``, ``tool_calls``, ``content_filter``,
``refusal`` or ``other`` (the raw value is kept); token counts follow OpenAI's meaning on
every provider: ``input_tokens`` includes cached input, ``output_tokens`` includes
reasoning. Sources for each field are listed in docs/formats.md ("Result bodies").
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping
from typing import Any, Literal

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "refusal", "other"]

#: The joined table's columns in order, with their Arrow types as text (see batchio.table).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("custom_id", "string"),
    ("status", "string"),
    ("http_status", "int64"),
    ("error_code", "string"),
    ("error_message", "string"),
    ("retryable", "bool"),
    ("model", "string"),
    ("endpoint", "string"),
    ("text", "string"),
    # The answer of a request that asked for JSON (structured output, a forced tool), as
    # compact JSON text where it parses; null otherwise.
    ("output_json", "string"),
    ("finish_reason", "string"),
    ("finish_reason_raw", "string"),
    ("refusal", "string"),
    ("input_tokens", "int64"),
    ("output_tokens", "int64"),
    ("cached_tokens", "int64"),
    ("reasoning_tokens", "int64"),
    ("total_tokens", "int64"),
    # This answer's cost at batch prices (USD), null where its model has no price.
    ("cost_usd", "float64"),
    ("embedding", "list<float64>"),
    ("output_check", "string"),
    ("output_check_message", "string"),
    ("input_file", "string"),
    ("input_line", "int64"),
    ("result_file", "string"),
    ("result_line", "int64"),
    # Last, and in this order: batchio.table.joined_line writes these two as raw JSON.
    ("request", "string"),
    ("response", "string"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

# Raw finish values and what they mean, per field that carries them (docs/formats.md).
_FINISH: dict[str, FinishReason] = {
    # OpenAI-shaped choices (OpenAI, Azure, Groq, Together, Mistral, vLLM)
    "stop": "stop", "eos": "stop", "length": "length", "model_length": "length",
    "tool_calls": "tool_calls", "function_call": "tool_calls",
    "content_filter": "content_filter",
    # Anthropic stop_reason
    "end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
    "model_context_window_exceeded": "length", "tool_use": "tool_calls", "refusal": "refusal",
    # Gemini finishReason
    "STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
    "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter", "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter", "MODEL_ARMOR": "content_filter",
    # Responses incomplete_details.reason
    "max_output_tokens": "length",
    # Bedrock: Converse and Nova stopReason, Titan completionReason (AWS's example writes
    # FINISH, its model page FINISHED), Llama and Mistral stop_reason (stop, length).
    "content_filtered": "content_filter", "guardrail_intervened": "content_filter",
    "FINISH": "stop", "FINISHED": "stop", "STOP_CRITERIA_MET": "stop", "LENGTH": "length",
    "CONTENT_FILTERED": "content_filter",
}


def normalise_finish(raw: Any) -> FinishReason | None:
    """The normalised finish reason of a raw value (None for none)."""
    if raw is None:
        return None
    return _FINISH.get(raw, "other") if isinstance(raw, str) else "other"


def request_body(request: Mapping[str, Any]) -> Any:
    """The body of a request line of any provider's shape, where its profile is not at
    hand: ``body`` (OpenAI-shaped), ``params`` (Anthropic), ``request`` (Gemini, Vertex AI)
    or ``modelInput`` (Bedrock); None
    when it has none of them."""
    return request.get("body", request.get("params", request.get(
        "request", request.get("modelInput"))))


def answer_body(response: Any) -> Any:
    """The body of a successful answer inside a result's response: ``response.body`` of an
    OpenAI-shaped result (with its ``status_code``), else the response itself."""
    if isinstance(response, dict) and "status_code" in response and "body" in response:
        return response["body"]
    return response


def answer_fields(body: Any) -> dict[str, Any]:
    """The answer's columns read off a result body: ``model``, ``text``, ``finish_reason``,
    ``finish_reason_raw``, ``refusal``, the token counts and ``embedding`` (absent keys
    are null). Also, for output checks, the first tool call's input: ``tool_input`` (an
    object: Anthropic, Gemini) or ``tool_arguments`` (JSON text: OpenAI-shaped)."""
    if not isinstance(body, dict):
        return {}
    if "choices" in body:
        fields = _choices_fields(body)
    elif body.get("object") == "response" or isinstance(body.get("output"), list):
        fields = _responses_fields(body)
    elif body.get("type") == "message" and "content" in body:
        fields = _anthropic_fields(body)
    elif "candidates" in body or "promptFeedback" in body or "usageMetadata" in body:
        fields = _gemini_fields(body)
    elif "data" in body or "embedding" in body or "embeddings" in body:
        fields = _embedding_fields(body)
    elif isinstance(body.get("output"), dict) and "stopReason" in body:
        fields = _converse_fields(body)
    else:
        fields = _bedrock_text_fields(body)
    model = body.get("model") or body.get("modelVersion")
    if isinstance(model, str):
        fields["model"] = model
    counts = usage_counts(body)
    if counts is not None:
        fields.update(zip(USAGE_FIELDS, counts, strict=True))
    return fields


def _text_of_content(content: Any) -> str | None:
    """A message's content as text: a string, or the text parts of a list (Mistral)."""
    if isinstance(content, str) or content is None:
        return content
    if isinstance(content, list):
        texts = [part["text"] for part in content if isinstance(part, dict)
                 and part.get("type") == "text" and isinstance(part.get("text"), str)]
        return "".join(texts) if texts else None
    return None


def _choices_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(first, dict):
        return {}
    message = first.get("message")
    arguments = None
    if isinstance(message, dict):
        text = _text_of_content(message.get("content"))
        refusal = message.get("refusal")
        calls = message.get("tool_calls")
        call = calls[0] if isinstance(calls, list) and calls else message.get("function_call")
        function = call.get("function", call) if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
    else:
        text, refusal = first.get("text"), None
    return choice_fields(text, refusal, first.get("finish_reason"), arguments)


def choice_fields(text: Any, refusal: Any, raw_finish: Any, arguments: Any) -> dict[str, Any]:
    """The answer's columns of a completion's first choice, from its message's content
    text, ``refusal``, the choice's ``finish_reason`` and the first tool call's
    ``arguments`` (each as the line gave it; a value of the wrong type stands as None)."""
    refusal = refusal if isinstance(refusal, str) else None
    return {"text": text if isinstance(text, str) else None,
            "finish_reason": "refusal" if refusal is not None else normalise_finish(raw_finish),
            "finish_reason_raw": raw_finish if isinstance(raw_finish, str) else None,
            "refusal": refusal,
            "tool_arguments": arguments if isinstance(arguments, str) else None}


def _responses_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    texts, refusals, called, arguments = _responses_output(body.get("output") or ())
    status = body.get("status")
    details = body.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    raw = reason if status == "incomplete" and isinstance(reason, str) else status
    finish: FinishReason | None
    if refusals:
        finish = "refusal"
    elif status == "completed":
        finish = "tool_calls" if called and not texts else "stop"
    elif status == "incomplete":
        finish = normalise_finish(reason)
    else:
        finish = None if status is None else "other"
    return {"text": "".join(texts) if texts else None, "finish_reason": finish,
            "finish_reason_raw": raw if isinstance(raw, str) else None,
            "refusal": "".join(refusals) if refusals else None,
            "tool_arguments": arguments if isinstance(arguments, str) else None}


def _responses_output(items: Any) -> tuple[list[str], list[str], bool, Any]:
    """A Responses ``output`` list's texts and refusals (every message item's parts, in
    order), whether it holds a tool call, and the first function call's arguments."""
    texts: list[str] = []
    refusals: list[str] = []
    called = False
    arguments = None
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "message":
            for part in item.get("content") or ():
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif kind == "refusal" and isinstance(part.get("refusal"), str):
                    refusals.append(part["refusal"])
        elif isinstance(kind, str) and kind.endswith("_call"):
            called = True
            if kind == "function_call" and arguments is None:
                arguments = item.get("arguments")
    return texts, refusals, called, arguments


def _anthropic_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    texts: list[str] = []
    tool_input = None
    for block in body.get("content") or ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use" and tool_input is None:
            tool_input = block.get("input")
    raw = body.get("stop_reason")
    return {"text": "".join(texts) if texts else None, "finish_reason": normalise_finish(raw),
            "finish_reason_raw": raw if isinstance(raw, str) else None, "refusal": None,
            "tool_input": tool_input}


def _gemini_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    candidates = body.get("candidates")
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    if not isinstance(first, dict):
        feedback = body.get("promptFeedback")
        blocked = feedback.get("blockReason") if isinstance(feedback, dict) else None
        # A prompt blocked before any answer: no candidates, the reason in promptFeedback.
        return {"finish_reason": "content_filter" if blocked else None,
                "finish_reason_raw": blocked if isinstance(blocked, str) else None}
    texts, call = _gemini_parts(first.get("content"))
    raw = first.get("finishReason")
    finish = normalise_finish(raw)
    if finish == "stop" and call is not None:
        finish = "tool_calls"
    return {"text": "".join(texts) if texts else None, "finish_reason": finish,
            "finish_reason_raw": raw if isinstance(raw, str) else None, "refusal": None,
            "tool_input": call.get("args") if call is not None else None}


def _converse_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Bedrock Converse response, or Amazon Nova's InvokeModel response: text blocks and
    ``toolUse`` blocks in ``output.message.content``, and ``stopReason``."""
    message = body["output"].get("message")
    blocks = message.get("content") if isinstance(message, dict) else None
    texts: list[str] = []
    tool_input = None
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif tool_input is None and isinstance(block.get("toolUse"), dict):
            tool_input = block["toolUse"].get("input")
    raw = body.get("stopReason")
    return {"text": "".join(texts) if texts else None, "finish_reason": normalise_finish(raw),
            "finish_reason_raw": raw if isinstance(raw, str) else None, "refusal": None,
            "tool_input": tool_input}


def _bedrock_text_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The text answer of a Bedrock model family's own InvokeModel response: Titan's
    ``results[0].outputText`` (``completionReason``), Llama's ``generation``
    (``stop_reason``), Mistral's ``outputs[0].text`` (``stop_reason``); nothing for a body
    of none of these."""
    text: Any = None
    raw: Any = None
    for name, text_key, reason_key in (("results", "outputText", "completionReason"),
                                       ("outputs", "text", "stop_reason")):
        items = body.get(name)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            text, raw = items[0].get(text_key), items[0].get(reason_key)
            break
    else:
        if "generation" in body:
            text, raw = body.get("generation"), body.get("stop_reason")
        else:
            return {}
    return {"text": text if isinstance(text, str) else None,
            "finish_reason": normalise_finish(raw),
            "finish_reason_raw": raw if isinstance(raw, str) else None, "refusal": None}


def _gemini_parts(content: Any) -> tuple[list[str], dict[str, Any] | None]:
    """A candidate's answer texts (not its thoughts) and its first function call."""
    texts: list[str] = []
    call = None
    parts = content.get("parts") if isinstance(content, dict) else None
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
        elif call is None and isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
    return texts, call


def _embedding_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The vector of a one-input embeddings answer (several inputs: null here, all of them
    in the ``response`` column)."""
    data = body.get("data")
    vector: Any = None
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        vector = data[0].get("embedding")
    elif isinstance(body.get("embedding"), dict):  # Gemini: {"embedding": {"values": [...]}}
        vector = body["embedding"].get("values")
    elif isinstance(body.get("embedding"), list):  # Bedrock Titan: {"embedding": [...]}
        vector = body["embedding"]
    elif isinstance(body.get("embeddings"), list) and len(body["embeddings"]) == 1:
        vector = body["embeddings"][0]  # Bedrock Cohere, one text: {"embeddings": [[...]]}
    if isinstance(vector, str):  # encoding_format "base64": little-endian float32
        try:
            raw = base64.b64decode(vector, validate=True)
        except ValueError:
            raw = b"\x00"
        # A length that is not whole float32s is not a vector: null, never cut short.
        vector = list(struct.unpack(f"<{len(raw) // 4}f", raw)) if len(raw) % 4 == 0 else None
    return {"embedding": _finite_floats(vector)}


def _finite_floats(vector: Any) -> list[float] | None:
    """The vector as floats, or None when it is not a list of finite numbers (the
    ``response`` column keeps whatever it was)."""
    if not isinstance(vector, list):
        return None
    floats = []
    for value in vector:
        if type(value) is float:
            number = value
        elif type(value) is int:
            try:
                number = float(value)
            except OverflowError:
                return None
        else:
            return None
        if not math.isfinite(number):
            return None
        floats.append(number)
    return floats


_INT64 = 1 << 63


def _count(value: Any) -> int | None:
    """A count as a column holds it: a whole number from 0 within 64 bits, else None (a
    result line that says -5 or 10**30 tokens says nothing a table or a cost can use)."""
    return value if type(value) is int and 0 <= value < _INT64 else None


#: What :func:`usage_counts` gives, in order (the joined table's token columns, and the
#: input tokens written to a prompt cache, which Anthropic bills apart).
USAGE_FIELDS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens",
                "total_tokens", "cache_write_tokens", "unusable_usage")
#: The counts of :data:`USAGE_FIELDS`, the last a flag: True when the usage gave a count
#: that cannot be used (below 0, past 64 bits, not a number), which stands as None.
UsageCounts = tuple[Any, Any, Any, Any, Any, Any, bool]


def usage_counts(body: Mapping[str, Any]) -> UsageCounts | None:
    """A result body's token counts in :data:`USAGE_FIELDS` order (each an int within 64
    bits, or None), or None when the body reports no usage."""
    usage = body.get("usage")
    if isinstance(usage, dict) and "inputTokens" in usage:
        # Bedrock Converse and Nova: cache reads and writes come apart from inputTokens.
        read = _count(usage.get("cacheReadInputTokens")) or 0
        written = _count(usage.get("cacheWriteInputTokens")) or 0
        uncached = _count(usage.get("inputTokens"))
        return token_counts(None if uncached is None else uncached + read + written,
                            usage.get("outputTokens"),
                            read if "cacheReadInputTokens" in usage else None, None,
                            usage.get("totalTokens"), written or None)
    if isinstance(usage, dict):
        if "prompt_tokens" in usage:  # chat, completions, embeddings (OpenAI-shaped)
            prompt_details = usage.get("prompt_tokens_details")
            completion_details = usage.get("completion_tokens_details")
            return token_counts(usage.get("prompt_tokens"), usage.get("completion_tokens"),
                                prompt_details.get("cached_tokens")
                                if type(prompt_details) is dict else None,
                                completion_details.get("reasoning_tokens")
                                if type(completion_details) is dict else None,
                                usage.get("total_tokens"), None)
        if "cache_read_input_tokens" in usage or body.get("type") == "message":
            # Anthropic: input_tokens excludes cache reads and writes; they are added back.
            read = _count(usage.get("cache_read_input_tokens")) or 0
            written = _count(usage.get("cache_creation_input_tokens")) or 0
            uncached = _count(usage.get("input_tokens"))
            total_input = None if uncached is None else uncached + read + written
            return token_counts(total_input, usage.get("output_tokens"),
                                read if "cache_read_input_tokens" in usage else None, None, None,
                                written)
        return token_counts(usage.get("input_tokens"), usage.get("output_tokens"),
                            _detail(usage, "input_tokens_details", "cached_tokens"),
                            _detail(usage, "output_tokens_details", "reasoning_tokens"),
                            usage.get("total_tokens"), None)
    metadata = body.get("usageMetadata")
    if isinstance(metadata, dict):
        # Gemini: candidates exclude thoughts; both are billed as output.
        candidates = _count(metadata.get("candidatesTokenCount"))
        thoughts = _count(metadata.get("thoughtsTokenCount"))
        output = None if candidates is None and thoughts is None else (
            (candidates or 0) + (thoughts or 0))
        return token_counts(metadata.get("promptTokenCount"), output,
                            metadata.get("cachedContentTokenCount"), thoughts,
                            metadata.get("totalTokenCount"), None)
    if "prompt_token_count" in body:  # Bedrock Llama
        return token_counts(body.get("prompt_token_count"), body.get("generation_token_count"),
                            None, None, None, None)
    if "inputTextTokenCount" in body:  # Bedrock Titan text and embeddings
        results = body.get("results")
        first = results[0] if isinstance(results, list) and results else None
        return token_counts(body.get("inputTextTokenCount"),
                            first.get("tokenCount") if isinstance(first, dict) else None,
                            None, None, None, None)
    token_count = body.get("tokenCount")
    if token_count is not None and "embedding" in body:
        # Gemini's batch embedding answer: its input's tokens, a 64-bit count that JSON
        # carries as a string ("tokenCount": "7"; google-genai SingleEmbedContentResponse).
        if isinstance(token_count, str) and token_count.isdigit():
            token_count = int(token_count)
        return token_counts(token_count, None, None, None, None, None)
    return None


def _detail(usage: Mapping[str, Any], details: str, name: str) -> Any:
    inner = usage.get(details)
    return inner.get(name) if isinstance(inner, dict) else None


def token_counts(input_tokens: Any, output_tokens: Any, cached: Any, reasoning: Any, total: Any,
                 cache_writes: int | None) -> UsageCounts:
    """The counts, each a whole number from 0 within 64 bits or None; one given that is not
    (-5, 2**70, "7") is None and sets the flag (the join counts such lines)."""
    # _count's test written out: this runs for every row of a join.
    high = _INT64
    unusable = False
    if input_tokens is not None and not (type(input_tokens) is int and 0 <= input_tokens < high):
        input_tokens, unusable = None, True
    if output_tokens is not None and not (
            type(output_tokens) is int and 0 <= output_tokens < high):
        output_tokens, unusable = None, True
    if cached is not None and not (type(cached) is int and 0 <= cached < high):
        cached, unusable = None, True
    if reasoning is not None and not (type(reasoning) is int and 0 <= reasoning < high):
        reasoning, unusable = None, True
    if not (type(total) is int and 0 <= total < high):
        unusable = unusable or total is not None
        total = None if input_tokens is None else input_tokens + (output_tokens or 0)
        if total is not None and total >= high:
            # Counts that each fit, summed past 64 bits: no total a column can hold.
            total, unusable = None, True
    return (input_tokens, output_tokens, cached, reasoning, total, cache_writes, unusable)


def usage_of(body: Any) -> tuple[Any, UsageCounts | None]:
    """The model a result body names (None if none) and its :func:`usage_counts`: the part
    of :func:`answer_fields` a join sums for every row."""
    if not isinstance(body, dict):
        return None, None
    return body.get("model") or body.get("modelVersion"), usage_counts(body)


def error_message(error: Any) -> str | None:
    """The message of a result's error object (OpenAI, Anthropic, Gemini or Bedrock
    shaped)."""
    if isinstance(error, dict):
        message = error.get("message", error.get("errorMessage"))
        if isinstance(message, str):
            return message
        inner = error.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return None


__all__ = ["COLUMNS", "COLUMN_NAMES", "USAGE_FIELDS", "FinishReason", "UsageCounts",
           "answer_body", "answer_fields", "error_message", "normalise_finish", "request_body",
           "usage_counts", "usage_of"]
