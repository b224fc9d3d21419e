"""Mistral batch: custom_id/body lines; the endpoint and model are set on the job.

Sources (read 2026-11): https://docs.mistral.ai/capabilities/batch/ and mistralai/client-python
``APIEndpoint`` (the ten batch endpoints), ``BatchRequest`` (``custom_id`` optional,
``body`` required), ``ImageURLChunk`` (an image_url part may be a string) and
``AssistantMessage`` (``prefix``). Results come back OpenAI-shaped (``response.status_code``
and ``body``); codes of requests that never ran are not documented, so OpenAI's are assumed
(uncertain). 1,000,000 requests per batch is reported by third parties (uncertain); no
per-file size limit is documented. The endpoint is a parameter of the job
(``batch.jobs.create(endpoint=...)``, client-python's ``examples/mistral/jobs``), so a
line's endpoint is read off its body (:func:`endpoint_of_body`) unless one is given.
"""

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Profile
from .openai import OPENAI_RESULTS


def endpoint_of_body(body: Mapping[str, Any]) -> str | None:
    """The endpoint a body is for, read off the field its endpoint requires (the file does
    not say: the endpoint is set on the job): ``document`` OCR, ``messages`` chat, ``prompt``
    FIM, ``inputs`` conversations, ``input`` embeddings (moderations and classifications
    take the same body), a ``file_url``, ``file`` or ``file_id`` audio; else None (chat)."""
    for field_name, endpoint in _ENDPOINT_BY_FIELD:
        if field_name in body:
            return endpoint
    return None


# In order: a chat body may also hold ``prompt``-like fields of its own, so ``messages``
# decides before ``prompt``.
_ENDPOINT_BY_FIELD = (("document", "/v1/ocr"), ("messages", "/v1/chat/completions"),
                      ("prompt", "/v1/fim/completions"), ("inputs", "/v1/conversations"),
                      ("input", "/v1/embeddings"), ("file_url", "/v1/audio/transcriptions"),
                      ("file", "/v1/audio/transcriptions"),
                      ("file_id", "/v1/audio/transcriptions"))


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
    endpoint_of_body=endpoint_of_body,
    endpoint_keys=frozenset(name for name, _ in _ENDPOINT_BY_FIELD),
    result_files=("output", "errors"),
    **OPENAI_RESULTS,
)
