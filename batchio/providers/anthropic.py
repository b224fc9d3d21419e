"""Anthropic Message Batches: custom_id/params lines; one results file with result.type.

Sources (read 2026-11): the Messages Batches API reference
(https://docs.anthropic.com/en/api/creating-message-batches: ``requests`` holds 1 to
100,000 items; ``custom_id`` matches ``^[a-zA-Z0-9_-]{1,64}$``) and the batch processing
guide (256 MB per batch; "you can mix different types of requests within a single batch";
``max_tokens: 0`` is not supported in a batch). The service takes the requests as one JSON
array; JSONL of request objects is the usual form on disk, so blank lines are batchio's own
question there: a warning.
"""

from ._profile import IdRule, Limits, Profile
from ._results import anthropic_shape

# The result types of requests that never ran, and the error types worth retrying as they
# are (the Message Batches results reference; the API errors page).
EXPIRED = frozenset({"expired"})
CANCELLED = frozenset({"canceled"})
RETRYABLE = frozenset({"overloaded_error", "api_error", "rate_limit_error"})

# Other APIs' names for the structured output the Messages API takes as output_config.format
# (it refuses a field it does not define: "Extra inputs are not permitted").
MISPLACED = {"/v1/messages": {"response_format": "output_config.format",
                              "text": "output_config.format",
                              "json_schema": "output_config.format",
                              "max_completion_tokens": "max_tokens",
                              "max_output_tokens": "max_tokens"}}

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
    limits=Limits(max_requests=100_000, max_file_bytes=256_000_000),
    model_required=frozenset({"/v1/messages"}),
    mixed_models="allowed",
    blank_lines="warning",
    result_shape="anthropic",
    classify_result=anthropic_shape(EXPIRED, CANCELLED, RETRYABLE),
    result_files=("results",),
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
    misplaced=MISPLACED,
)
