"""Mistral batch: custom_id/body lines; the endpoint and model are set on the job.

Sources (read 2026-11): https://docs.mistral.ai/capabilities/batch/ and mistralai/client-python
``APIEndpoint`` (the ten batch endpoints), ``BatchRequest`` (``custom_id`` optional,
``body`` required), ``ImageURLChunk`` (an image_url part may be a string) and
``AssistantMessage`` (``prefix``). Results come back OpenAI-shaped (``response.status_code``
and ``body``); codes of requests that never ran are not documented, so OpenAI's are assumed
(uncertain). 1,000,000 requests per batch is reported by third parties (uncertain); no
per-file size limit is documented.
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
        "/v1/chat/completions": "mistral/chat-completions",
        "/v1/embeddings": "mistral/input-body",
        "/v1/fim/completions": "mistral/fim-completions",
        "/v1/moderations": "mistral/input-body",
        "/v1/chat/moderations": "mistral/input-body",
        "/v1/ocr": "mistral/ocr",
        "/v1/classifications": "mistral/input-body",
        "/v1/chat/classifications": "mistral/input-body",
        "/v1/conversations": "openai/any-body",
        "/v1/audio/transcriptions": "openai/any-body",
    },
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=1_000_000, max_file_bytes=None, uncertain=("max_requests",)),
    # "Only one model per batch" (the guide); the model is set on the job.
    mixed_models="error",
    blank_lines="warning",
    id_required=False,
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    result_files=("output", "errors"),
    retryable_codes=RETRYABLE,
)
