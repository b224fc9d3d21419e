"""Mistral batch: custom_id/body lines; model and endpoint are set on the job.

Results come back OpenAI-shaped (``response.status_code`` and ``body``); the codes of
expired and cancelled requests are taken to be OpenAI's (uncertain). Limits are not firmly
documented (uncertain): 1,000,000 requests per batch.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape
from .openai import CANCELLED, EXPIRED, RETRYABLE

PROFILE = Profile(
    name="mistral",
    title="Mistral batch",
    docs_url="https://docs.mistral.ai/capabilities/batch/",
    id_field="custom_id",
    body_field="body",
    carries_url=False,
    endpoints={
        "/v1/chat/completions": "openai/chat-completions",
        "/v1/embeddings": "openai/embeddings",
        "/v1/moderations": "openai/moderations",
    },
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=1_000_000, max_file_bytes=None, uncertain=("max_requests",)),
    one_model_per_file=True,
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    result_files=("output", "errors"),
    retryable_codes=RETRYABLE,
)
