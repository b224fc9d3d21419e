"""Azure OpenAI global batch: the OpenAI line format; ``body.model`` is the deployment name.

Sources (read 2026-11): https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch
(examples use /chat/completions, /v1/chat/completions and /v1/responses; "the same global
batch deployment name must be present on each line"), and the Azure OpenAI quotas and
limits table (100,000 requests and 200 MB per input file; 1 GB with your own Blob storage).
"""

from ._profile import IdRule, Limits, Profile
from .openai import MISPLACED, OPENAI_RESULTS

# Chat completions and responses are in Microsoft's batch examples; embeddings and
# completions are listed by the v1 REST reference only (uncertain), so they are accepted.
_BODIES = {
    "chat/completions": "openai/chat-completions",
    "responses": "openai/responses",
    "embeddings": "openai/embeddings",
    "completions": "openai/completions",
}

PROFILE = Profile(
    name="azure",
    title="Azure OpenAI batch",
    docs_url="https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={
        **{f"/{path}": schema for path, schema in _BODIES.items()},
        **{f"/v1/{path}": schema for path, schema in _BODIES.items()},
    },
    default_endpoint="/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=100_000, max_file_bytes=200_000_000),
    model_required=frozenset(f"{prefix}/{path}" for prefix in ("", "/v1") for path in _BODIES),
    mixed_urls="error",
    mixed_models="error",
    blank_lines="warning",
    misplaced={**MISPLACED, "/responses": MISPLACED["/v1/responses"],
               "/chat/completions": MISPLACED["/v1/chat/completions"]},
    **OPENAI_RESULTS,
    notes="model is the name of a global-batch deployment, not a model name.",
)
