"""Together batch: custom_id/body lines; the endpoint and model are set on the job.

Sources (read 2026-11): https://docs.together.ai/docs/batch-inference and its tutorial
(custom_id at most 64 characters; at most 50,000 requests and 100 MB per input file);
together-py ``BatchCreateParams.endpoint`` (chat completions and the two audio endpoints)
and the older together-python ``BatchEndpoint`` (completions). Whether one file may name
two models is not documented: a warning.
"""

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Profile
from .openai import OPENAI_RESULTS


def endpoint_of_body(body: Mapping[str, Any]) -> str | None:
    """The endpoint is set on the job: a ``prompt`` body without ``messages`` is for
    completions, else chat completions (None)."""
    return "/v1/completions" if "prompt" in body and "messages" not in body else None


PROFILE = Profile(
    name="together",
    title="Together AI batch",
    docs_url="https://docs.together.ai/docs/batch-inference",
    id_field="custom_id",
    body_field="body",
    carries_url=False,
    endpoints={"/v1/chat/completions": "openai/chat-completions",
               "/v1/completions": "openai/completions",
               # Body fields of audio batch requests are not documented (uncertain).
               "/v1/audio/transcriptions": "openai/any-body",
               "/v1/audio/translations": "openai/any-body"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(max_length=64, description="at most 64 characters"),
    limits=Limits(max_requests=50_000, max_file_bytes=100_000_000),
    model_required=frozenset({"/v1/chat/completions", "/v1/completions"}),
    mixed_models="warning",
    blank_lines="warning",
    endpoint_of_body=endpoint_of_body,
    endpoint_keys=frozenset({"prompt", "messages"}),
    batch_counts=False,
    # Result codes for expired and cancelled requests are not documented (uncertain).
    **OPENAI_RESULTS,
)
