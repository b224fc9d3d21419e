"""Fireworks batch inference: custom_id/body lines; the model is set on the job.

Sources (read 2026-12-06): https://docs.fireworks.ai/guides/batch-inference: lines
``{"custom_id": <unique>, "body": {"messages": [...], ...}}`` with no method, url or model
(the model is a parameter of the job); input "under 500MB" on that page and "under 1GB" on
its markdown copy (the larger stands, uncertain: batchio never rejects what the service may
take); no line count published; the output dataset holds a results file and an error file,
each line naming its ``custom_id`` (their shape is not published: OpenAI's is assumed,
uncertain); a job that expires keeps its completed rows. Job states are ``JOB_STATE_*``
(its API reference).
"""

from ._profile import IdRule, Limits, Profile
from .openai import OPENAI_RESULTS

PROFILE = Profile(
    name="fireworks",
    title="Fireworks batch inference",
    docs_url="https://docs.fireworks.ai/guides/batch-inference",
    id_field="custom_id",
    body_field="body",
    carries_url=False,
    endpoints={"/v1/chat/completions": "openai/chat-completions"},
    default_endpoint="/v1/chat/completions",
    ids=IdRule(description="any non-empty string"),
    limits=Limits(max_requests=None, max_file_bytes=1_000_000_000,
                  uncertain=("max_file_bytes",)),
    # The model is the job's: a body that names one is not documented to matter.
    mixed_models="warning",
    blank_lines="warning",
    **OPENAI_RESULTS,
)
