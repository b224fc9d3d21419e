"""Anthropic Message Batches: custom_id/params lines; one results file with result.type.

custom_id: 1 to 64 characters of [a-zA-Z0-9_-]. Limits: 100,000 requests or 256 MB per
batch (uncertain for current limits). A batch may mix models.
"""

from ._profile import IdRule, Limits, Profile
from ._results import anthropic_shape

PROFILE = Profile(
    name="anthropic",
    title="Anthropic Message Batches",
    docs_url="https://docs.anthropic.com/en/api/creating-message-batches",
    id_field="custom_id",
    body_field="params",
    carries_url=False,
    endpoints={"/v1/messages": "anthropic/messages"},
    default_endpoint="/v1/messages",
    ids=IdRule(max_length=64, pattern=r"[a-zA-Z0-9_-]{1,64}",
               description="1 to 64 characters of [a-zA-Z0-9_-]"),
    limits=Limits(max_requests=100_000, max_file_bytes=256_000_000,
                  uncertain=("max_requests", "max_file_bytes")),
    model_required=frozenset({"/v1/messages"}),
    one_model_per_file=False,
    result_shape="anthropic",
    classify_result=anthropic_shape,
    result_files=("results",),
    expired_codes=frozenset({"expired"}),
    cancelled_codes=frozenset({"canceled"}),
    retryable_codes=frozenset({"overloaded_error", "api_error", "rate_limit_error"}),
)
