"""AWS Bedrock batch inference: recordId/modelInput lines; the model is set on the job.

Sources (AWS's own pages, read 2026-12-06):

- Input (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html):
  lines ``{"recordId": "...", "modelInput": {...}}`` in ``.jsonl`` files; "If you omit the
  recordId field, Amazon Bedrock adds it in the output"; no character rule or length is
  published for ``recordId`` (AWS's examples are 11 characters: ``CALL0000001``). The
  ``modelInput`` is the model's InvokeModel body, or a Converse request for a job created
  with ``modelInvocationType: Converse``; Bedrock's own validation "doesn't check if the
  modelInput value matches the request body for the model", so a wrong body fails each
  record at run time: what checking it here saves.
- Bodies per family (the model parameter pages): Anthropic Claude Messages
  (model-parameters-anthropic-claude-messages-request-response.html: ``anthropic_version``
  ``bedrock-2023-05-31``, ``max_tokens``, ``messages``), Amazon Nova
  (docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html), Titan Text
  (model-parameters-titan-text.html), Titan Text Embeddings (model-parameters-titan-embed-
  text.html), Titan Multimodal Embeddings (model-parameters-titan-embed-mm.html), Cohere
  Embed (model-parameters-embed.html), Meta Llama (model-parameters-meta.html), Mistral
  text and chat completion (model-parameters-mistral-text-completion.html and
  -chat-completion.html), the Converse API (ConverseRequest).
- Results (batch-inference-results.html): one output file per input file, each line
  ``{"recordId", "modelInput", "modelOutput"}``, or ``"error": {"errorCode": 400,
  "errorMessage": "..."}`` in place of ``modelOutput``; no separate error file; "the order
  of records in the output JSONL file is not guaranteed to match the order of records in
  the input" (older copies said the opposite: records are matched by ``recordId``, never by
  position). ``manifest.json.out`` holds ``totalRecordCount``, ``processedRecordCount``,
  ``successRecordCount``, ``errorRecordCount``, ``inputTokenCount``, ``outputTokenCount``.
- Quotas ("Minimum number of records per batch inference job", "Records per input file per
  batch inference job", "Batch inference input file size"): AWS names them on the batch
  pages and gives the figures in the General Reference quota table, per model and per
  account: 100 records at least per job, 50,000 records per file (adjustable), 1 GB per
  file (not adjustable), read from a June 2025 copy of that table. Uncertain: the records
  limits are warnings, since an account may have them raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Profile
from ._results import bedrock_shape

#: The model families whose InvokeModel bodies batchio checks, each by its own schema, and
#: the Converse request of a Converse job; "any-model" is a body whose family its shape
#: does not say (only its being an object is checked, with a warning).
FAMILIES = {
    "anthropic.claude": "bedrock/anthropic-claude",
    "amazon.nova": "bedrock/amazon-nova",
    "amazon.titan-text": "bedrock/titan-text",
    "amazon.titan-embed-text": "bedrock/titan-embed-text",
    "amazon.titan-embed-image": "bedrock/titan-embed-image",
    "cohere.embed": "bedrock/cohere-embed",
    "meta.llama": "bedrock/meta-llama",
    "mistral": "bedrock/mistral",
    "converse": "bedrock/converse",
    "any-model": "bedrock/model-input",
}

# Model id prefixes (after a cross-region inference profile's "us.", "eu."... and an ARN's
# path) -> family. Titan's first text models are "amazon.titan-tg1-*", its first embedding
# model "amazon.titan-embed-g1-text-*".
_MODEL_PREFIXES = (("anthropic.claude", "anthropic.claude"), ("amazon.nova", "amazon.nova"),
                   ("amazon.titan-text", "amazon.titan-text"),
                   ("amazon.titan-tg1", "amazon.titan-text"),
                   ("amazon.titan-embed-text", "amazon.titan-embed-text"),
                   ("amazon.titan-embed-g1-text", "amazon.titan-embed-text"),
                   ("amazon.titan-embed-image", "amazon.titan-embed-image"),
                   ("cohere.embed", "cohere.embed"), ("meta.llama", "meta.llama"),
                   ("mistral.", "mistral"))


def family_of_model(model: str) -> str | None:
    """The body family of a Bedrock model id, inference profile or ARN (None for a model
    batchio has no body schema for)."""
    name = model.rsplit("/", 1)[-1]
    for _ in range(2):  # "us.anthropic...", "us-gov.meta...", "global.anthropic..."
        for prefix, family in _MODEL_PREFIXES:
            if name.startswith(prefix):
                return family
        name = name.split(".", 1)[-1]
    return None


def _content_blocks(messages: Any) -> list[Mapping[str, Any]]:
    blocks: list[Mapping[str, Any]] = []
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            blocks.extend(block for block in content if isinstance(block, dict))
    return blocks


def family_of_body(body: Mapping[str, Any]) -> str:
    """The family a body's shape names where only one family's bodies have it; else
    ``any-model`` (``validate --model`` names the job's model, and with it the family).

    Claude carries ``anthropic_version`` (and typed content blocks); Nova a
    ``schemaVersion`` or untyped ``{"text": ...}`` blocks with ``maxTokens``-style
    ``inferenceConfig`` (as Converse does: a Converse job's body is read as Converse,
    which takes Nova's fields); Titan ``inputText`` with ``textGenerationConfig`` (text) or
    ``dimensions``/``normalize``/``embeddingTypes`` (embeddings) or ``inputImage``; Cohere
    ``texts``; Llama ``prompt`` with ``max_gen_len``, Mistral ``prompt`` with ``max_tokens``,
    ``top_k`` or ``stop``.
    """
    if "anthropic_version" in body:
        return "anthropic.claude"
    if "schemaVersion" in body:
        return "amazon.nova"
    if "messages" in body:
        blocks = _content_blocks(body.get("messages"))
        if any("type" in block for block in blocks):
            return "anthropic.claude"
        if "inferenceConfig" in body or "toolConfig" in body or (
                blocks and not any("type" in block for block in blocks)):
            return "converse"
        return "any-model"
    if "inputText" in body or "inputImage" in body:
        if "textGenerationConfig" in body:
            return "amazon.titan-text"
        if "inputImage" in body or "embeddingConfig" in body:
            return "amazon.titan-embed-image"
        if {"dimensions", "normalize", "embeddingTypes"} & body.keys():
            return "amazon.titan-embed-text"
        return "any-model"
    if "texts" in body or "input_type" in body:
        return "cohere.embed"
    if "prompt" in body:
        if "max_gen_len" in body:
            return "meta.llama"
        if {"max_tokens", "top_k", "stop"} & body.keys():
            return "mistral"
    return "any-model"


# HTTP-style codes (errorCode) and exception names worth resubmitting as they are: throttled,
# timed out, or the service's fault (the Bedrock runtime API's errors: ThrottlingException
# 429, ModelTimeoutException 408, ServiceUnavailableException 503, InternalServerException
# 500, ModelNotReadyException 429).
RETRYABLE = frozenset({"408", "429", "500", "502", "503", "504", "ThrottlingException",
                       "ModelTimeoutException", "ServiceUnavailableException",
                       "InternalServerException", "ModelNotReadyException"})

PROFILE = Profile(
    name="bedrock",
    title="AWS Bedrock batch inference",
    docs_url="https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html",
    id_field="recordId",
    body_field="modelInput",
    carries_url=False,
    endpoints=FAMILIES,
    default_endpoint="any-model",
    default_is_guess=True,
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=50_000, max_file_bytes=1_000_000_000, min_requests=100,
                  uncertain=("max_requests", "min_requests"),
                  adjustable=("max_requests", "min_requests")),
    # The model is the job's (CreateModelInvocationJob modelId): a body names none.
    mixed_models="allowed",
    blank_lines="warning",
    # Not documented either way: both records run, and their results cannot be told apart.
    duplicate_ids="warning",
    id_required=False,
    endpoint_of_body=family_of_body,
    endpoint_of_model=family_of_model,
    misplaced={family: {"model": "the job's modelId (the model is set on the job)"}
               for family in FAMILIES},
    batch_counts=False,
    result_shape="bedrock",
    classify_result=bedrock_shape(RETRYABLE),
    result_id_field="recordId",
    echo_field="modelInput",
    result_files=("output",),
    result_file_name="{stem}.jsonl.out",
    retryable_codes=RETRYABLE,
    notes="The model is set on the job; give it as --model to check each body by its "
          "family.",
)
