"""xAI Batch API: OpenAI-shaped request lines uploaded as a file; the url picks each line's
endpoint.

Sources (read 2026-12-06): https://docs.x.ai/docs/guides/batch-api (batches are unlimited
in number; one created a second per team; requests a batch "unlimited in theory", with
batches over 100,000 requests possibly throttled; 25 MB per add-requests call) and
https://docs.x.ai/developers/advanced-api-usage/batch-api (50% off, done within 24 hours).
The file mode takes ``custom_id``/``method``/``url``/``body`` lines for chat completions,
Responses and image generation, one file mixing them (LiteLLM's xAI batches page: a third
party, uncertain). No per-file limit is published: none is checked. Result codes of
requests that never ran are not documented: OpenAI's are assumed (uncertain). Detection:
the OpenAI shape stays OpenAI's unless a line names a ``grok-`` model.
"""

from ._profile import IdRule, Limits, Profile
from .openai import MISPLACED, OPENAI_RESULTS

PROFILE = Profile(
    name="xai",
    title="xAI Batch API",
    docs_url="https://docs.x.ai/docs/guides/batch-api",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={"/v1/chat/completions": "openai/chat-completions",
               "/v1/responses": "openai/responses",
               "/v1/images/generations": "openai/images-generations"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=None),
    model_required=frozenset({"/v1/chat/completions", "/v1/responses"}),
    # A file may mix endpoints (a third party says so; xAI does not): warnings.
    mixed_urls="warning",
    mixed_models="warning",
    blank_lines="warning",
    **OPENAI_RESULTS,
    misplaced={url: fields for url, fields in MISPLACED.items()
               if url in ("/v1/chat/completions", "/v1/responses")},
)
