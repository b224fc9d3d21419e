"""Together batch: OpenAI-like custom_id/body lines; the endpoint is set on the job.

Limits are not firmly documented (uncertain): 50,000 requests and 100 MB per file.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape
from .openai import CANCELLED, EXPIRED, RETRYABLE

PROFILE = Profile(
    name="together",
    title="Together AI batch",
    docs_url="https://docs.together.ai/docs/batch-inference",
    id_field="custom_id",
    body_field="body",
    carries_url=False,
    endpoints={"/v1/chat/completions": "openai/chat-completions",
               "/v1/completions": "openai/completions"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=50_000, max_file_bytes=100_000_000,
                  uncertain=("max_requests", "max_file_bytes")),
    model_required=frozenset({"/v1/chat/completions", "/v1/completions"}),
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
)
