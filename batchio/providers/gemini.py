"""Google Gemini Batch API: key/request lines; the model is set on the job.

Sources (read 2026-11): https://ai.google.dev/gemini-api/docs/batch-api ("Input file":
``{"key", "request"}`` lines holding a GenerateContentRequest, and a REST example of bare
GenerateContentRequest lines with no key; input files up to 2 GB; jobs expire after 48
hours), and "Gemini Batch API now supports Embeddings and OpenAI Compatibility"
(developers.googleblog.com, 2025-09-08: embedding lines ``{"key", "request": {"content",
"output_dimensionality", "task_type"}}``, created through a separate embeddings batch call).
Field names may be camelCase or snake_case. No request count limit is documented.
"""

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Profile
from ._results import gemini_shape

# google.rpc codes (by name or number; googleapis google/rpc/code.proto) worth retrying as
# they are: RESOURCE_EXHAUSTED (8), UNAVAILABLE (14), DEADLINE_EXCEEDED (4), INTERNAL (13).
# A request's DEADLINE_EXCEEDED ("the deadline expired before the operation could
# complete") is its expiry, and CANCELLED (1, "the operation was cancelled") its
# cancellation: both resubmitted as they are. The batch docs name no per-request code of
# their own (an expired job has no results at all: its requests are missing).
RETRYABLE = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL",
                       "8", "14", "4", "13"})
EXPIRED = frozenset({"DEADLINE_EXCEEDED", "4"})
CANCELLED = frozenset({"CANCELLED", "1"})


def endpoint_of_body(body: Mapping[str, Any]) -> str:
    """Embedding requests hold one ``content``; generation requests a list of ``contents``."""
    return "embedContent" if "content" in body and "contents" not in body else "generateContent"


# Fields that belong inside generationConfig, or are other APIs' names for it (the API
# refuses an unknown field: "Invalid JSON payload received. Unknown name").
MISPLACED = {"generateContent": {
    "response_format": "generationConfig.responseJsonSchema",
    "responseJsonSchema": "generationConfig.responseJsonSchema",
    "responseSchema": "generationConfig.responseSchema",
    "responseMimeType": "generationConfig.responseMimeType",
    "temperature": "generationConfig.temperature",
    "maxOutputTokens": "generationConfig.maxOutputTokens"}}

PROFILE = Profile(
    name="gemini",
    title="Google Gemini Batch API",
    docs_url="https://ai.google.dev/gemini-api/docs/batch-api",
    id_field="key",
    body_field="request",
    carries_url=False,
    endpoints={"generateContent": "gemini/generate-content",
               "embedContent": "gemini/embed-content"},
    default_endpoint="generateContent",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=2_000_000_000),
    # The model is the job's; a model named in a request is not documented to matter.
    mixed_models="warning",
    blank_lines="warning",
    # A bare request line has no key: accepted, but its result cannot be matched by key.
    id_required=False,
    bare_body=True,
    endpoint_of_body=endpoint_of_body,
    endpoint_keys=frozenset({"content", "contents"}),
    result_shape="gemini",
    classify_result=gemini_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    result_id_field="key",
    result_files=("results",),
    retryable_codes=RETRYABLE,
    misplaced=MISPLACED,
)
