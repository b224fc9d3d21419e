"""vLLM's batch runner (``vllm run-batch``): the OpenAI input format, one output file.

Source: vllm-project/vllm ``vllm/entrypoints/launchers/run_batch.py`` at 773dc86d (the
layout of v0.16 and later; ``vllm/entrypoints/openai/run_batch.py`` before). Each line is
dispatched on its own url, so one file may mix endpoints: exactly ``/v1/chat/completions``
and ``/v1/embeddings``, any url ending in ``/score`` or ``/rerank``, and (v0.16 and later)
``/v1/audio/transcriptions`` and ``/v1/audio/translations`` with a ``file_url``.
``/v1/completions`` is not served (its lines get an error). Lines are stripped and blank
lines skipped. A line that fails the runner's own schema stops the whole run, with no
per-line report: what a pre-check is for. ``body.model`` is optional (``model: str | None``);
one run serves one model, and lines naming another fail one by one. Per-request errors are
inline in the output file. The runner has no per-file limits, and does not check that ids
are unique (only a comment asks it): ``tests/entrypoints/launchers/test_run_batch.py``
runs ``INPUT_RERANK_BATCH``, which uses ``request-2`` twice, and expects exit 0 with no
error on any line. A repeated id is a warning.
"""

from collections.abc import Mapping
from typing import Any

from ._profile import IdRule, Limits, Outcome, Profile
from ._results import openai_shape, read_openai_success
from .openai import CANCELLED, EXPIRED, RETRYABLE

_openai_result = openai_shape(EXPIRED, CANCELLED, RETRYABLE)


def vllm_result(line: Mapping[str, Any]) -> Outcome:
    """vLLM's result lines: OpenAI-shaped, or (versions around 0.4) with the completion
    itself as ``response``, no ``status_code``: a success, its body kept."""
    response = line.get("response")
    if isinstance(response, dict) and "status_code" not in response \
            and line.get("error") is None:
        line = {**line, "response": {"status_code": 200, "body": response}}
    return _openai_result(line)


PROFILE = Profile(
    name="vllm",
    title="vLLM batch runner",
    docs_url="https://docs.vllm.ai/en/latest/cli/run-batch.html",
    id_field="custom_id",
    body_field="body",
    carries_url=True,
    endpoints={
        "/v1/chat/completions": "openai/chat-completions",
        "/v1/embeddings": "openai/embeddings",
        "/v1/audio/transcriptions": "vllm/audio",
        "/v1/audio/translations": "vllm/audio",
    },
    endpoint_suffixes={"/score": "openai/any-body", "/rerank": "vllm/rerank"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=None),
    mixed_urls="allowed",
    mixed_models="warning",
    blank_lines="allowed",
    duplicate_ids="warning",
    result_shape="openai",
    classify_result=vllm_result,
    read_success=read_openai_success,
    expired_codes=EXPIRED,
    cancelled_codes=CANCELLED,
    retryable_codes=RETRYABLE,
    result_files=("output",),
)
