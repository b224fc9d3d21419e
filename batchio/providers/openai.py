"""OpenAI Batch API: custom_id/method/url/body lines; output and error files.

Sources (read 2026-11): the Batch API reference, https://platform.openai.com/docs/api-reference/batch
and the guide https://platform.openai.com/docs/guides/batch; openai-python's
``BatchCreateParams.endpoint`` (v1.x/2.x) for the endpoint list. docs/formats.md has the
reasoning behind each rule.
"""

from typing import Any

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape, read_openai_success

# BatchCreateParams.endpoint: the endpoints a batch may be created for.
ENDPOINTS = {
    "/v1/responses": "openai/responses",
    "/v1/chat/completions": "openai/chat-completions",
    "/v1/embeddings": "openai/embeddings",
    "/v1/completions": "openai/completions",
    "/v1/moderations": "openai/moderations",
    "/v1/images/generations": "openai/images-generations",
    "/v1/images/edits": "openai/images-edits",
    "/v1/videos": "openai/videos",
}
MODEL_REQUIRED = frozenset(
    {"/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/videos"})
# The error-file codes of requests that never ran (Batch API guide, "Batch expiration").
EXPIRED = frozenset({"batch_expired"})
CANCELLED = frozenset({"batch_cancelled"})
RETRYABLE = frozenset({"rate_limit_exceeded", "server_error", "timeout", "internal_error"})

# Parameters of the sibling endpoint: the file uploads, but every such request fails with
# HTTP 400 unsupported_parameter at run time (published error files; the Responses API
# reference lists text.format, max_output_tokens and input where chat has response_format,
# max_tokens/max_completion_tokens and messages).
MISPLACED = {
    "/v1/responses": {
        "response_format": "text.format",
        "max_tokens": "max_output_tokens",
        "max_completion_tokens": "max_output_tokens",
        "messages": "input",
    },
    "/v1/chat/completions": {
        "max_output_tokens": "max_completion_tokens",
        "input": "messages",
        "text": "response_format",
        "instructions": "a system or developer message",
    },
}

#: The result fields of a profile whose results are OpenAI's output and error lines with
#: OpenAI's codes (the OpenAI-compatible services, where theirs are not documented apart).
OPENAI_RESULTS: dict[str, Any] = {
    "result_shape": "openai",
    "classify_result": openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    "read_success": read_openai_success,
    "expired_codes": EXPIRED,
    "cancelled_codes": CANCELLED,
    "retryable_codes": RETRYABLE,
}

PROFILE = Profile(
    name="openai",
    title="OpenAI Batch API",
    # The chat completion object's model: "The model used for the chat completion", the
    # snapshot an alias resolves to (API reference, chat object; read 2026-12).
    answers_name_their_model=True,
    docs_url="https://platform.openai.com/docs/api-reference/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints=ENDPOINTS,
    default_endpoint="/v1/chat/completions",
    # No length or character rule for custom_id is documented; only uniqueness.
    ids=IdRule(description="any non-empty string"),
    # 50,000 requests, 200 MB and 50,000 embedding inputs per file (Batch API guide, "Rate
    # limits"). Decimal megabytes, the smaller reading of "200 MB", so a file batchio passes
    # is never over the server's limit whichever unit it counts in.
    limits=Limits(max_requests=50_000, max_file_bytes=200_000_000, max_embedding_inputs=50_000),
    model_required=MODEL_REQUIRED,
    # One endpoint and one model per batch: url_mismatch and model_mismatch are the server's
    # own validation codes (Batch API reference, Batch.errors).
    mixed_urls="error",
    mixed_models="error",
    # Undocumented: JSON Lines has no blank lines, and a gateway has failed a file ending in
    # "\n\n"; whether OpenAI's server skips them is not known, so a warning.
    blank_lines="warning",
    misplaced=MISPLACED,
    **OPENAI_RESULTS,
)
