"""vLLM's batch runner (``vllm run-batch``): the OpenAI input format, one output file.

Per-request errors are inline in the output file, with ``error`` set and no body. The
runner has no per-file limits of its own; a file may mix models only if the server does.
"""

from ._profile import IdRule, Limits, Profile
from ._results import openai_shape
from .openai import CANCELLED, EXPIRED, RETRYABLE

PROFILE = Profile(
    name="vllm",
    title="vLLM batch runner",
    docs_url="https://docs.vllm.ai/en/latest/",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={
        "/v1/chat/completions": "openai/chat-completions",
        "/v1/embeddings": "openai/embeddings",
        "/v1/completions": "openai/completions",
        "/v1/score": "openai/any-body",
        "/v1/rerank": "openai/any-body",
    },
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=None),
    model_required=frozenset({"/v1/chat/completions", "/v1/embeddings", "/v1/completions"}),
    one_model_per_file=False,
    result_shape="openai",
    classify_result=openai_shape(EXPIRED, CANCELLED, RETRYABLE),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
    result_files=("output",),
)
