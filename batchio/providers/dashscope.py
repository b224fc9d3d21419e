"""Alibaba Cloud Model Studio (DashScope) batch, OpenAI-compatible: OpenAI-shaped lines.

Source (read 2026-12-06):
https://www.alibabacloud.com/help/en/model-studio/batch-interfaces-compatible-with-openai:
UTF-8 JSONL of ``custom_id``/``method``/``url``/``body`` lines; at most 50,000 requests and
500 MB a file (an older Chinese page says 100 MB), each line at most 6 MB; "all requests
in a file must use the same model"; ``custom_id`` unique in the file (no length given);
endpoints ``/v1/chat/completions``, ``/v1/embeddings``, and ``/v1/chat/ds-test`` for the
free ``batch-test-model`` (at most 100 lines and 1 MB); the job's endpoint must match each
line's url. Results come back OpenAI-shaped in an output and an error file (their ids are
not ``batch_req_...``; a result ``message`` may lack ``role``). Detection: ``ds-test``
lines, and lines naming a ``qwen`` model, are checked by these rules first.
"""

from ._profile import IdRule, Limits, Profile
from .openai import OPENAI_RESULTS

PROFILE = Profile(
    name="dashscope",
    title="Alibaba Cloud Model Studio batch",
    docs_url="https://www.alibabacloud.com/help/en/model-studio/"
             "batch-interfaces-compatible-with-openai",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={"/v1/chat/completions": "openai/chat-completions",
               "/v1/embeddings": "openai/embeddings",
               "/v1/chat/ds-test": "openai/chat-completions"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=50_000, max_file_bytes=500_000_000),
    model_required=frozenset({"/v1/chat/completions", "/v1/embeddings",
                              "/v1/chat/ds-test"}),
    mixed_urls="error",
    mixed_models="error",
    blank_lines="warning",
    **OPENAI_RESULTS,
)
