"""Groq batch: the OpenAI line format; 50,000 lines and 200 MB per file (uncertain).

The completion window runs from 24 hours up to 7 days.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape
from .openai import CANCELLED, EXPIRED, RETRYABLE

PROFILE = Profile(
    name="groq",
    title="Groq batch",
    docs_url="https://console.groq.com/docs/batch",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={"/v1/chat/completions": "openai/chat-completions"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=50_000, max_file_bytes=200_000_000,
                  uncertain=("max_requests", "max_file_bytes")),
    model_required=frozenset({"/v1/chat/completions"}),
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
)
