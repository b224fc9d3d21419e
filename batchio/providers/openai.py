"""OpenAI Batch API: custom_id/method/url/body lines; output and error files.

Limits: 50,000 requests and 200 MB per file; 50,000 embedding inputs per file.
Source: OpenAI's Batch API reference and openai-python's ``BatchCreateParams``.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape

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
EXPIRED = frozenset({"batch_expired"})
CANCELLED = frozenset({"batch_cancelled"})
RETRYABLE = frozenset({"rate_limit_exceeded", "server_error", "timeout", "internal_error"})

PROFILE = Profile(
    name="openai",
    title="OpenAI Batch API",
    docs_url="https://platform.openai.com/docs/api-reference/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints=ENDPOINTS,
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    # Decimal megabytes, the smaller reading of "200 MB", so a file batchio passes is never
    # over the server's limit whichever unit it counts in.
    limits=Limits(max_requests=50_000, max_file_bytes=200_000_000, max_embedding_inputs=50_000),
    model_required=MODEL_REQUIRED,
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
)
