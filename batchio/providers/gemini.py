"""Google Gemini Batch API: key/request lines (a GenerateContentRequest each).

The model is set on the job, not per line. Limits are not firmly documented (uncertain):
an input file of up to 2 GB.
"""

from ._profile import IdRule, Limits, Profile
from ._results import gemini_shape

PROFILE = Profile(
    name="gemini",
    title="Google Gemini Batch API",
    docs_url="https://ai.google.dev/gemini-api/docs/batch-mode",
    id_field="key",
    body_field="request",
    carries_url=False,
    endpoints={"generateContent": "gemini/generate-content"},
    default_endpoint="generateContent",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=2_000_000_000,
                  uncertain=("max_file_bytes",)),
    one_model_per_file=True,
    result_shape="gemini",
    classify_result=gemini_shape,
    result_id_field="key",
    result_files=("results",),
    retryable_codes=frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED"}),
)
