"""Azure OpenAI global batch: the OpenAI line format; ``body.model`` is the deployment name.

URLs are accepted with or without the ``/v1`` prefix. The limits are not firmly documented
(uncertain): 100,000 requests and 200 MB per file.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape
from .openai import CANCELLED, EXPIRED, RETRYABLE

_BODIES = {
    "chat/completions": "openai/chat-completions",
    "responses": "openai/responses",
    "embeddings": "openai/embeddings",
    "completions": "openai/completions",
}

PROFILE = Profile(
    name="azure",
    title="Azure OpenAI batch",
    docs_url="https://learn.microsoft.com/azure/ai-services/openai/how-to/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={
        **{f"/{path}": schema for path, schema in _BODIES.items()},
        **{f"/v1/{path}": schema for path, schema in _BODIES.items()},
    },
    default_endpoint="/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=100_000, max_file_bytes=200_000_000,
                  uncertain=("max_requests", "max_file_bytes")),
    model_required=frozenset(f"{prefix}/{path}" for prefix in ("", "/v1") for path in _BODIES),
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
    notes="model is the name of a global-batch deployment, not a model name.",
)
