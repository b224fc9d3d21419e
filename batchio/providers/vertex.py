"""Google Vertex AI batch prediction: request lines of Gemini or Claude; the model is the job's.

Sources (Google's own pages, read 2026-12-06):

- Gemini from Cloud Storage
  (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage):
  one JSONL file a job, each line ``{"request": <GenerateContentRequest>}``; up to 200,000
  requests a job and 1 GB a file (batch-prediction-gemini). No id is documented for a
  Gemini line: "For succeeded rows, model responses are stored in the response field.
  Otherwise error details are stored in the status field". Output ``predictions.jsonl``
  lines echo the request: ``{"status": "", "processed_time", "request", "response"}``, a
  failure a non-empty ``status`` text (``"Bad Request: {"error": {...}}"``) and no
  ``response``. Lines come back in no set order, and the echo is written again by the
  service (null for unset fields, either spelling of field names): a result is matched to
  its request by the request's normal form (:func:`batchio.reconcile.echo_key`), and a
  line's extra top-level fields (a ``custom_id``) come back with it, so a line that has one
  is matched by it.
- Claude on Vertex (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude-batch):
  ``{"custom_id", "request": {"anthropic_version": "vertex-2023-10-16", "messages",
  "max_tokens"}}``, ``custom_id`` "to match the input with the output"; the output lines
  hold ``custom_id``, ``status`` and ``response`` (an Anthropic Message). No request or
  size limit is published for it: Gemini's are used (uncertain).
- The job (BatchPredictionJob, aiplatform v1): ``state`` ``JOB_STATE_*`` and
  ``completionStats`` (``successfulCount``, ``failedCount``, ``incompleteCount``):
  :func:`batchio.batch.from_vertex`.

The open models Vertex serves in batch take OpenAI-shaped lines (``custom_id``, ``method``,
``url``, ``body``): those are checked as OpenAI's (``--provider openai``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Profile
from ._results import vertex_shape
from .gemini import MISPLACED as GEMINI_MISPLACED
from .gemini import RETRYABLE as GEMINI_RETRYABLE


def endpoint_of_body(body: Mapping[str, Any]) -> str:
    """``claude`` for a body with ``anthropic_version`` (or Anthropic's ``max_tokens`` and
    ``messages``), else ``gemini``."""
    if "anthropic_version" in body or ("messages" in body and "contents" not in body):
        return "claude"
    return "gemini"


def endpoint_of_model(model: str) -> str | None:
    """The publisher of a Vertex model name (``publishers/anthropic/models/claude-...``,
    ``claude-sonnet-4@...``, ``gemini-2.5-flash``)."""
    name = model.rsplit("/", 1)[-1]
    if name.startswith("claude") or "/anthropic/" in model:
        return "claude"
    if name.startswith("gemini") or "/google/" in model:
        return "gemini"
    return None


# google.rpc codes worth resubmitting (as Gemini's), and HTTP statuses by number.
RETRYABLE = GEMINI_RETRYABLE | frozenset({"overloaded_error", "api_error",
                                          "rate_limit_error"})

PROFILE = Profile(
    name="vertex",
    title="Google Vertex AI batch prediction",
    docs_url="https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/"
             "batch-prediction-from-cloud-storage",
    id_field="custom_id",
    body_field="request",
    carries_url=False,
    endpoints={"gemini": "gemini/generate-content", "claude": "vertex/claude"},
    default_endpoint="gemini",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=200_000, max_file_bytes=1_000_000_000),
    # The model is the job's: Gemini and Claude requests cannot share one.
    mixed_urls="error",
    mixed_models="allowed",
    blank_lines="warning",
    # Not documented either way for Claude's custom_id; a Gemini line needs none.
    duplicate_ids="warning",
    id_required=False,
    missing_id_warns=False,
    endpoint_of_body=endpoint_of_body,
    endpoint_keys=frozenset({"anthropic_version", "messages", "contents"}),
    endpoint_of_model=endpoint_of_model,
    misplaced={"gemini": {**GEMINI_MISPLACED["generateContent"],
                          "model": "the job's model (the model is set on the job)"},
               "claude": {"model": "the job's model (the model is set on the job)",
                          "response_format": "output_config.format"}},
    result_shape="vertex",
    classify_result=vertex_shape(RETRYABLE),
    result_id_field="custom_id",
    echo_field="request",
    result_files=("results",),
    retryable_codes=RETRYABLE,
    notes="Results without a custom_id are matched by their echoed request.",
)
