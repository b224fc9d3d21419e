"""AWS Bedrock batch inference and Google Vertex AI batch prediction: request and result
lines in each documented shape, limits at their edges, the join's columns, job objects in
every state, detection, simulated jobs, and the join by the request a result repeats."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchio
from batchio import BatchObjectError, BatchStatus, convert, join, load_batches, validate
from batchio.batch import read_batch
from batchio.cli import main
from batchio.ids import echo_key
from batchio.kinds import inspect, line_kind
from batchio.providers import Limits, detect_provider, get_profile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


# --- Bedrock request bodies, one per family, each as its model parameters page shows it --

BEDROCK_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    # model-parameters-anthropic-claude-messages-request-response.html
    "anthropic.claude": ("anthropic.claude-3-5-haiku-20241022-v1:0", {
        "anthropic_version": "bedrock-2023-05-31", "max_tokens": 200, "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "temperature": 0.5, "top_k": 250, "stop_sequences": ["END"]}),
    # docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
    "amazon.nova": ("us.amazon.nova-lite-v1:0", {
        "schemaVersion": "messages-v1", "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 200, "temperature": 0.7, "topP": 0.9, "topK": 20}}),
    # model-parameters-titan-text.html
    "amazon.titan-text": ("amazon.titan-text-express-v1", {
        "inputText": "Hi", "textGenerationConfig": {"maxTokenCount": 200, "temperature": 0,
                                                   "topP": 0.9, "stopSequences": []}}),
    # model-parameters-titan-embed-text.html (V2)
    "amazon.titan-embed-text": ("amazon.titan-embed-text-v2:0", {
        "inputText": "Hi", "dimensions": 512, "normalize": True}),
    # model-parameters-titan-embed-mm.html
    "amazon.titan-embed-image": ("amazon.titan-embed-image-v1", {
        "inputText": "Hi", "embeddingConfig": {"outputEmbeddingLength": 384}}),
    # model-parameters-embed.html
    "cohere.embed": ("cohere.embed-english-v3", {
        "texts": ["Hi", "there"], "input_type": "search_document", "truncate": "END"}),
    # model-parameters-meta.html
    "meta.llama": ("meta.llama3-1-70b-instruct-v1:0", {
        "prompt": "<|begin_of_text|>Hi", "max_gen_len": 200, "temperature": 0.5,
        "top_p": 0.9}),
    # model-parameters-mistral-text-completion.html
    "mistral": ("mistral.mistral-7b-instruct-v0:2", {
        "prompt": "<s>[INST] Hi [/INST]", "max_tokens": 200, "top_k": 50, "stop": ["</s>"]}),
}

# Each family's body broken one way, with the code and param the validator gives it.
BEDROCK_BROKEN: dict[str, tuple[dict[str, Any], str, str]] = {
    "anthropic.claude": ({"anthropic_version": "bedrock-2023-05-31",
                          "messages": [{"role": "user", "content": "Hi"}]},
                         "invalid_body", "modelInput"),
    "amazon.nova": ({"messages": [{"role": "user", "content": "Hi"}]}, "invalid_body",
                    "modelInput.messages[0].content"),
    "amazon.titan-text": ({"inputText": "Hi", "textGenerationConfig": {"maxTokenCount": "x"}},
                          "invalid_body", "modelInput.textGenerationConfig.maxTokenCount"),
    "amazon.titan-embed-text": ({"inputText": "Hi", "dimensions": 300}, "invalid_body",
                                "modelInput.dimensions"),
    "amazon.titan-embed-image": ({"embeddingConfig": {"outputEmbeddingLength": 384}},
                                 "invalid_body", "modelInput"),
    "cohere.embed": ({"texts": ["Hi"], "input_type": "query"}, "invalid_body",
                     "modelInput.input_type"),
    "meta.llama": ({"max_gen_len": 200}, "invalid_body", "modelInput"),
    "mistral": ({"prompt": "Hi", "top_k": -1}, "invalid_body", "modelInput.top_k"),
}


@pytest.mark.parametrize("family", list(BEDROCK_BODIES))
def test_each_bedrock_family_passes_by_its_shape_and_by_its_model(tmp_path: Path,
                                                                  family: str) -> None:
    model, body = BEDROCK_BODIES[family]
    path = write(tmp_path / "in.jsonl", [{"recordId": f"CALL{n:07d}", "modelInput": body}
                                         for n in range(1, 4)])
    by_shape = validate(path)
    assert (by_shape.provider, by_shape.ok) == ("bedrock", True), by_shape.errors
    # The body's own fields name its family (a Nova body also reads as Converse's).
    assert list(by_shape.endpoints) in ([family], ["converse"])
    by_model = validate(path, model=model)
    assert by_model.ok and by_model.endpoints == {family: 3}
    assert [w.code for w in by_model.warnings] == ["too_few_requests"]


@pytest.mark.parametrize("family", list(BEDROCK_BROKEN))
def test_each_bedrock_family_refuses_a_broken_body_at_its_line(tmp_path: Path,
                                                               family: str) -> None:
    model, body = BEDROCK_BODIES[family]
    broken, code, param = BEDROCK_BROKEN[family]
    path = write(tmp_path / "in.jsonl", [{"recordId": "a", "modelInput": body},
                                         {"recordId": "b", "modelInput": broken}])
    report = validate(path, model=model)
    assert [(e.code, e.line, e.param, e.custom_id) for e in report.errors] == [
        (code, 2, param, "b")]
    cli = CliRunner().invoke(main, ["validate", str(path), "--model", model])
    assert cli.exit_code == 1 and f"in.jsonl:2: {code}:" in cli.stdout


def test_bedrock_record_rules(tmp_path: Path) -> None:
    _, claude = BEDROCK_BODIES["anthropic.claude"]
    path = write(tmp_path / "in.jsonl", [
        {"recordId": "CALL0000001", "modelInput": claude},
        # Bedrock adds a recordId where one is missing: a warning, the join matches it by
        # the modelInput its output repeats.
        {"modelInput": {**claude, "max_tokens": 10}},
        # The model is the job's: a body naming one fails at run time.
        {"recordId": "CALL0000003", "modelInput": {**claude, "model": "claude"}},
        {"recordId": "CALL0000001", "modelInput": claude},
        # A Titan body in a Claude job.
        {"recordId": "CALL0000005", "modelInput": BEDROCK_BODIES["amazon.titan-text"][1]},
        {"recordId": "CALL0000006", "modelInput": {"whatever": 1}},
    ])
    report = validate(path)
    assert [(e.code, e.line) for e in report.errors] == [
        ("unsupported_parameter", 3), ("url_mismatch", 5)]
    assert [(w.code, w.line) for w in report.warnings] == [
        ("missing_custom_id", 2), ("duplicate_custom_id", 4), ("model_family_unknown", 6),
        ("too_few_requests", None)]
    assert "Bedrock adds" not in report.warnings[0].message
    assert "matched back to it by the body the result repeats (modelInput)" in \
        report.warnings[0].message
    # With the job's model named, every body is checked as that family's.
    named = validate(path, model="anthropic.claude-3-haiku-20240307-v1:0")
    assert ("invalid_body", 5) in [(e.code, e.line) for e in named.errors]
    assert ("invalid_body", 6) in [(e.code, e.line) for e in named.errors]


def test_bedrock_limits_at_and_over_each_edge(tmp_path: Path) -> None:
    # Default quotas an account may raise (AWS's quota table): warnings, never errors.
    body = orjson.dumps({"inputText": "x", "dimensions": 256})
    for count, codes in ((99, ["too_few_requests"]), (100, []), (50_000, []),
                         (50_001, ["too_many_tasks"])):
        path = tmp_path / f"{count}.jsonl"
        path.write_bytes(b"".join(b'{"recordId":"r%d","modelInput":%s}\n' % (n, body)
                                  for n in range(count)))
        report = validate(path)
        assert report.ok and report.requests == count
        assert [w.code for w in report.warnings] == codes
        if count == 50_001:
            [over] = report.warnings
            assert over.line == 50_001 and "quota your account may have raised" in over.message
    # 1 GB a file is not adjustable: an error past it (a smaller cap stands in for it).
    profile = get_profile("bedrock")
    size = (tmp_path / "100.jsonl").stat().st_size
    for cap, errors in ((size, []), (size - 1, ["file_too_large"])):
        capped = replace(profile, limits=Limits(max_requests=None, max_file_bytes=cap))
        report = validate(tmp_path / "100.jsonl", provider=capped)
        assert [e.code for e in report.errors] == errors


def test_vertex_limits_at_and_over_each_edge(tmp_path: Path) -> None:
    # 200,000 requests a job (batch-prediction-gemini): an error past it.
    line = b'{"custom_id":"a","request":{"contents":[{"parts":[{"text":"x"}]}]}}\n'
    for count, codes in ((200_000, []), (200_001, ["too_many_tasks"])):
        path = tmp_path / f"{count}.jsonl"
        path.write_bytes(line * count)
        report = validate(path, provider="vertex")
        assert [(e.code, e.line) for e in report.errors] == [
            (code, 200_001) for code in codes]


# --- Vertex AI request lines -----------------------------------------------------------

GEMINI_REQUEST = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
                  "generationConfig": {"temperature": 0.4, "maxOutputTokens": 100}}
# cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude-batch
VERTEX_CLAUDE = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 50,
                 "messages": [{"role": "user", "content": "Hi"}]}


def test_vertex_request_lines(tmp_path: Path) -> None:
    # batch-prediction-from-cloud-storage: {"request": ...}, no id.
    gemini = write(tmp_path / "gemini.jsonl", [{"request": GEMINI_REQUEST},
                                               {"request": {**GEMINI_REQUEST,
                                                            "contents": []}}])
    report = validate(gemini)
    assert (report.provider, report.endpoints) == ("vertex", {"gemini": 2})
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 2)]
    assert not report.warnings  # a Gemini line carries no id: its own shape
    claude = write(tmp_path / "claude.jsonl", [
        {"custom_id": "request-1", "request": VERTEX_CLAUDE},
        {"custom_id": "request-2", "request": {**VERTEX_CLAUDE,
                                               "anthropic_version": "bedrock-2023-05-31"}},
        {"custom_id": "request-3", "request": {"messages": [{"role": "user", "content": "x"}],
                                               "max_tokens": 5}}])
    report = validate(claude)
    assert report.endpoints == {"claude": 3}
    assert [(e.code, e.line, e.param) for e in report.errors] == [
        ("invalid_body", 2, "request.anthropic_version"), ("invalid_body", 3, "request")]
    mixed = write(tmp_path / "mixed.jsonl", [{"request": GEMINI_REQUEST},
                                             {"custom_id": "c", "request": VERTEX_CLAUDE}])
    assert [(e.code, e.line) for e in validate(mixed).errors] == [("url_mismatch", 2)]


@pytest.mark.parametrize(("line", "kind", "provider"), [
    ({"recordId": "CALL0000001", "modelInput": {}}, "requests", "bedrock"),
    ({"modelInput": {}}, "requests", "bedrock"),
    ({"recordId": "a", "modelInput": {}, "modelOutput": {}}, "results", "bedrock"),
    ({"recordId": "a", "modelInput": {}, "error": {"errorCode": 400}}, "results", "bedrock"),
    ({"jobArn": "arn:aws:bedrock:x", "status": "Completed"}, "batch", "bedrock"),
    ({"totalRecordCount": 3, "successRecordCount": 3}, "batch", "bedrock"),
    ({"request": GEMINI_REQUEST}, "requests", "vertex"),
    ({"custom_id": "a", "request": VERTEX_CLAUDE}, "requests", "vertex"),
    ({"status": "", "processed_time": "t", "request": {}, "response": {}}, "results",
     "vertex"),
    ({"status": "Bad Request: {}", "processed_time": "t", "request": {}}, "results",
     "vertex"),
    ({"name": "projects/1/locations/us/batchPredictionJobs/2", "state": "JOB_STATE_RUNNING"},
     "batch", "vertex"),
])
def test_each_cloud_shape_is_named(line: dict[str, Any], kind: str, provider: str) -> None:
    assert line_kind(line) == (kind, provider)
    if kind == "requests":
        assert detect_provider(line).provider == provider


# --- result lines and the joined table -------------------------------------------------

BEDROCK_OUTPUTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # family -> (modelOutput as the family's response docs show it, the row's columns)
    "anthropic.claude": ({"id": "msg_1", "type": "message", "role": "assistant",
                          "model": "claude-3-5-haiku-20241022",
                          "content": [{"type": "text", "text": "Hello!"}],
                          "stop_reason": "end_turn", "stop_sequence": None,
                          "usage": {"input_tokens": 12, "output_tokens": 4}},
                         {"text": "Hello!", "finish_reason": "stop", "input_tokens": 12,
                          "output_tokens": 4, "model": "claude-3-5-haiku-20241022"}),
    "amazon.nova": ({"output": {"message": {"role": "assistant",
                                            "content": [{"text": "Hello!"}]}},
                     "stopReason": "max_tokens",
                     "usage": {"inputTokens": 7, "outputTokens": 200, "totalTokens": 207}},
                    {"text": "Hello!", "finish_reason": "length", "input_tokens": 7,
                     "output_tokens": 200, "total_tokens": 207}),
    "amazon.titan-text": ({"inputTextTokenCount": 8, "results": [
        {"tokenCount": 3, "outputText": "blue\n", "completionReason": "FINISH"}]},
        {"text": "blue\n", "finish_reason": "stop", "input_tokens": 8, "output_tokens": 3}),
    "amazon.titan-embed-text": ({"embedding": [0.5, -0.25], "inputTextTokenCount": 2},
                                {"embedding": [0.5, -0.25], "input_tokens": 2}),
    "cohere.embed": ({"id": "e1", "response_type": "embeddings_floats", "texts": ["hi"],
                      "embeddings": [[0.125, 0.5]]}, {"embedding": [0.125, 0.5]}),
    "meta.llama": ({"generation": "Hello!", "prompt_token_count": 9,
                    "generation_token_count": 3, "stop_reason": "stop"},
                   {"text": "Hello!", "finish_reason": "stop", "input_tokens": 9,
                    "output_tokens": 3}),
    "mistral": ({"outputs": [{"text": "Hello!", "stop_reason": "length"}]},
                {"text": "Hello!", "finish_reason": "length"}),
}


def test_bedrock_output_lines_fill_the_table(tmp_path: Path) -> None:
    families = list(BEDROCK_OUTPUTS)
    inputs = [{"recordId": f"r{n}", "modelInput": BEDROCK_BODIES[family][1]}
              for n, family in enumerate(families)]
    inputs += [{"recordId": "bad", "modelInput": BEDROCK_BODIES["meta.llama"][1]},
               {"recordId": "busy", "modelInput": BEDROCK_BODIES["meta.llama"][1]},
               {"recordId": "never", "modelInput": BEDROCK_BODIES["meta.llama"][1]}]
    # batch-inference-results.html: modelOutput, or an error object in its place.
    outputs = [{**line, "modelOutput": BEDROCK_OUTPUTS[family][0]}
               for line, family in zip(inputs, families, strict=False)]
    outputs += [{**inputs[-3], "error": {"errorCode": 400, "errorMessage": "bad request"}},
                {**inputs[-2], "error": {"errorCode": 429, "errorMessage": "Too many"}}]
    random.Random(1).shuffle(outputs)
    write(tmp_path / "in.jsonl", inputs)
    # The job's output folder: one .jsonl.out a file, and the manifest.
    (tmp_path / "out").mkdir()
    write(tmp_path / "out" / "in.jsonl.out", outputs)
    (tmp_path / "out" / "manifest.json.out").write_text(
        '{"totalRecordCount": 10, "processedRecordCount": 9, "successRecordCount": 7, '
        '"errorRecordCount": 2, "inputTokenCount": 40, "outputTokenCount": 213}')
    joined = join(tmp_path / "in.jsonl", results=tmp_path / "out")
    rows = {row.custom_id: row.to_dict() for row in joined}
    for number, family in enumerate(families):
        row = rows[f"r{number}"]
        assert row["status"] == "succeeded"
        for column, value in BEDROCK_OUTPUTS[family][1].items():
            assert row[column] == value, (family, column)
    assert (rows["bad"]["status"], rows["bad"]["error_code"], rows["bad"]["error_message"],
            rows["bad"]["retryable"]) == ("failed", "400", "bad request", False)
    assert (rows["busy"]["error_code"], rows["busy"]["retryable"]) == ("429", True)
    assert rows["never"]["status"] == "missing"
    assert joined.summary.counts == {"succeeded": 7, "failed": 2, "expired": 0,
                                     "cancelled": 0, "missing": 1}
    # The manifest is the job's record counts, read by status against the files.
    [manifest] = load_batches(tmp_path / "out" / "manifest.json.out")
    assert manifest.request_counts is not None
    assert (manifest.provider, manifest.request_counts.total,
            manifest.request_counts.completed) == ("bedrock", 10, 7)
    cross = manifest.reconcile(results=[tmp_path / "out" / "in.jsonl.out"],
                               inputs=tmp_path / "in.jsonl", provider="bedrock")
    assert cross.succeeded_lines == 7 and cross.failed_lines == 2


def test_a_bedrock_record_without_a_record_id_is_matched_by_its_model_input(
        tmp_path: Path) -> None:
    _, claude = BEDROCK_BODIES["anthropic.claude"]
    first = {**claude, "messages": [{"role": "user", "content": "first"}]}
    second = {**claude, "messages": [{"role": "user", "content": "second"}]}
    write(tmp_path / "in.jsonl", [{"modelInput": first}, {"recordId": "mine",
                                                          "modelInput": second}])
    message = BEDROCK_OUTPUTS["anthropic.claude"][0]
    # Bedrock named the first record itself; the output repeats each modelInput.
    write(tmp_path / "in.jsonl.out", [
        {"recordId": "mine", "modelInput": second, "modelOutput": message},
        {"recordId": "BEDROCK0001", "modelInput": first, "modelOutput": message}])
    joined = join(tmp_path / "in.jsonl", outputs=tmp_path / "in.jsonl.out")
    rows = [(row.custom_id, row.status, row.result_line) for row in joined]
    # Its row's id is made of its request: the same in the next round, where Bedrock's
    # own would be another.
    assert rows == [(f"request-{echo_key(first).hex()[:16]}", "succeeded", 2),
                    ("mine", "succeeded", 1)]
    assert not joined.summary.orphans


def test_vertex_prediction_lines_fill_the_table(tmp_path: Path) -> None:
    requests = [{"request": {**GEMINI_REQUEST, "contents": [
        {"role": "user", "parts": [{"text": f"question {n}"}]}]}} for n in range(3)]
    write(tmp_path / "in.jsonl", requests)
    # The service writes each request again: camelCase turned snake_case, unset fields
    # as null (the published outputs), so the match is by a normal form.
    echoed = [{"contents": [{"role": "user", "parts": [
        {"text": f"question {n}", "file_data": None}]}],
        "generation_config": {"temperature": 0.4, "max_output_tokens": 100.0}}
        for n in range(3)]
    response = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Four."}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2,
                                  "totalTokenCount": 7},
                "modelVersion": "gemini-2.5-flash-001"}
    write(tmp_path / "predictions.jsonl", [
        {"status": "Bad Request: {\"error\": {\"code\": 400, \"message\": \"Invalid\", "
                   "\"status\": \"INVALID_ARGUMENT\"}}",
         "processed_time": "2025-08-14T16:27:27.775+00:00", "request": echoed[2]},
        {"status": "", "processed_time": "2025-08-14T16:27:27.775+00:00",
         "request": echoed[0], "response": response}])
    joined = join(tmp_path / "in.jsonl", outputs=tmp_path / "predictions.jsonl")
    rows = [row.to_dict() for row in joined]
    assert [(row["status"], row["text"], row["input_tokens"], row["model"],
             row["error_code"], row["error_message"], row["result_line"]) for row in rows] == [
        ("succeeded", "Four.", 5, "gemini-2.5-flash-001", None, None, 2),
        ("missing", None, None, None, None, None, None),
        ("failed", None, None, None, "INVALID_ARGUMENT", "Invalid", 1)]
    # A row's id is its request's key: the same in a later round that asks it again.
    assert rows[0]["custom_id"] == f"request-{echo_key(requests[0]['request']).hex()[:16]}"
    # Claude on Vertex names its requests, and its results name them back.
    write(tmp_path / "claude.jsonl", [{"custom_id": "c1", "request": VERTEX_CLAUDE}])
    write(tmp_path / "claude_out.jsonl", [{"custom_id": "c1", "status": "",
                                           "processed_time": "t", "request": VERTEX_CLAUDE,
                                           "response": BEDROCK_OUTPUTS["anthropic.claude"][0]}])
    [row] = join(tmp_path / "claude.jsonl", outputs=tmp_path / "claude_out.jsonl")
    assert (row.custom_id, row.status, row.to_dict()["text"]) == ("c1", "succeeded", "Hello!")


# --- job objects -----------------------------------------------------------------------

BEDROCK_STATES = {"Submitted": "validating", "Validating": "validating",
                  "Scheduled": "validating", "InProgress": "in_progress",
                  "Completed": "completed", "PartiallyCompleted": "completed",
                  "Failed": "failed", "Stopping": "cancelling", "Stopped": "cancelled",
                  "Expired": "expired"}
VERTEX_STATES = {"JOB_STATE_QUEUED": "validating", "JOB_STATE_PENDING": "validating",
                 "JOB_STATE_RUNNING": "in_progress", "JOB_STATE_PAUSED": "in_progress",
                 "JOB_STATE_UPDATING": "in_progress", "JOB_STATE_SUCCEEDED": "completed",
                 "JOB_STATE_PARTIALLY_SUCCEEDED": "completed", "JOB_STATE_FAILED": "failed",
                 "JOB_STATE_CANCELLING": "cancelling", "JOB_STATE_CANCELLED": "cancelled",
                 "JOB_STATE_EXPIRED": "expired"}


@pytest.mark.parametrize(("state", "status"), list(BEDROCK_STATES.items()))
def test_bedrock_job_in_every_state(state: str, status: str) -> None:
    # GetModelInvocationJob's response (its ModelInvocationJobStatus values).
    job = {"jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456",
           "jobName": "job-1", "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
           "status": state, "submitTime": "2026-12-01T10:00:00Z",
           "lastModifiedTime": "2026-12-01T11:00:00Z",
           "jobExpirationTime": "2026-12-02T10:00:00Z",
           "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}}}
    if status in ("completed", "failed", "cancelled", "expired"):
        job["endTime"] = "2026-12-01T11:00:00Z"
    batch = read_batch(job)
    assert (batch.provider, batch.status, batch.model) == (
        "bedrock", BatchStatus(status), "anthropic.claude-3-haiku-20240307-v1:0")
    assert batch.output_file_id == "s3://b/out/"
    assert batch.to_dict()["bedrock"] == job


@pytest.mark.parametrize(("state", "status"), list(VERTEX_STATES.items()))
def test_vertex_job_in_every_state(state: str, status: str) -> None:
    job = {"name": "projects/1/locations/us-central1/batchPredictionJobs/42",
           "displayName": "job", "model": "publishers/google/models/gemini-2.5-flash",
           "state": state, "createTime": "2026-12-01T10:00:00Z",
           "completionStats": {"successfulCount": "7", "failedCount": "2",
                               "incompleteCount": "1"}}
    if status in ("completed", "failed", "cancelled", "expired"):
        job["endTime"] = "2026-12-01T11:00:00Z"
    batch = read_batch(job)
    assert (batch.provider, batch.status) == ("vertex", BatchStatus(status))
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed,
            batch.request_counts.failed) == (10, 7, 2)


def test_job_objects_that_are_not_jobs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BatchObjectError, match="JOB_STATE_UNSPECIFIED"):
        read_batch({"name": "projects/1/locations/x/batchPredictionJobs/1",
                    "state": "JOB_STATE_UNSPECIFIED"})
    with pytest.raises(BatchObjectError, match="Bedrock status"):
        read_batch({"jobArn": "arn", "status": "Sleeping", "submitTime": None})
    job = tmp_path / "job.json"
    job.write_text(orjson.dumps({"jobArn": "arn:aws:bedrock:x", "status": "Completed",
                                 "submitTime": "2026-12-01T10:00:00Z",
                                 "endTime": "2026-12-01T11:00:00Z",
                                 "outputDataConfig": {"s3OutputDataConfig": {
                                     "s3Uri": "s3://b/"}}}).decode())
    done = CliRunner().invoke(main, ["status", str(job)])
    assert done.exit_code == 0, done.output
    assert "completed" in done.stdout


# --- simulated jobs --------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "lines"), [
    ("bedrock", [{"recordId": f"CALL{n:07d}", "modelInput": BEDROCK_BODIES[family][1]}
                 for n, family in enumerate(list(BEDROCK_BODIES) * 10)]),
    ("bedrock", [{"modelInput": {**BEDROCK_BODIES["anthropic.claude"][1],
                                 "messages": [{"role": "user", "content": f"q{n}"}]}}
                 for n in range(60)]),
    ("vertex", [{"request": {**GEMINI_REQUEST, "contents": [
        {"role": "user", "parts": [{"text": f"q{n % 40}"}]}]}} for n in range(60)]),
    ("vertex", [{"custom_id": f"c{n}", "request": VERTEX_CLAUDE} for n in range(60)]),
])
def test_a_simulated_job_joins_every_request(tmp_path: Path, provider: str,
                                             lines: list[dict[str, Any]]) -> None:
    write(tmp_path / "in.jsonl", lines)
    done = CliRunner().invoke(main, ["simulate", str(tmp_path / "in.jsonl"), "--provider",
                                     provider, "--out-dir", str(tmp_path / "sim"), "--fail",
                                     "0.2", "--missing", "0.1", "--seed", "4"])
    assert done.exit_code == 0, done.output
    [results] = [path for path in (tmp_path / "sim").iterdir() if "batch" not in path.name]
    simulated = Counter(line.get("status") or ("failed" if "error" in line else "succeeded")
                        for line in map(orjson.loads, results.read_bytes().splitlines()))
    joined = join(tmp_path / "in.jsonl", outputs=results, provider=provider)
    rows = list(joined)
    assert len(rows) == len(lines)
    counts = joined.summary.counts
    assert sum(counts.values()) == len(lines)
    assert counts["succeeded"] + counts["failed"] == sum(simulated.values())
    assert counts["failed"] == sum(count for status, count in simulated.items()
                                   if status not in ("", "succeeded"))
    assert not joined.summary.orphans and not joined.summary.problems
    [batch] = load_batches(next((tmp_path / "sim").glob("*.batch.json")))
    assert batch.provider == provider


# --- the join by the request a result repeats: a property ------------------------------

@st.composite
def vertex_jobs(draw: Any) -> tuple[list[int], list[tuple[int, str]], list[bool]]:
    """Requests (each a prompt number, repeats allowed), the results the service wrote
    (the request's index, and its fate) in a shuffled order, and for each result whether
    the service wrote its echo again in the other spelling with nulls."""
    prompts = draw(st.lists(st.integers(0, 6), min_size=1, max_size=25))
    results = []
    for index in range(len(prompts)):
        fate = draw(st.sampled_from(["ok", "ok", "failed", "missing"]))
        if fate != "missing":
            results.append((index, fate))
    order = draw(st.permutations(results))
    rewritten = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return prompts, list(order), rewritten


def _rewritten(request: dict[str, Any]) -> dict[str, Any]:
    """A request as the service writes it back: snake_case names, nulls for unset fields,
    a whole number as a float."""
    return {"contents": [{"role": "user", "parts": [
        {"text": part["text"], "inline_data": None} for part in content["parts"]]}
        for content in request["contents"]],
        "generation_config": {"temperature": 0.5, "max_output_tokens": 64.0}}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(job=vertex_jobs())
def test_vertex_join_by_echo_equals_the_join_by_id(tmp_path: Path, job: Any) -> None:
    prompts, results, rewritten = job
    requests = [{"contents": [{"role": "user", "parts": [{"text": f"prompt {p}"}]}],
                 "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64}}
                for p in prompts]

    def line(index: int, fate: str, echo: bool, with_id: bool) -> dict[str, Any]:
        request = _rewritten(requests[index]) if echo else requests[index]
        out: dict[str, Any] = {"custom_id": f"id{index}"} if with_id else {}
        if fate == "ok":
            out.update(status="", processed_time="t", request=request, response={
                "candidates": [{"content": {"parts": [{"text": f"answer {index}"}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": index}})
        else:
            out.update(status=f"Bad Request: {{\"error\": {{\"code\": 400, \"message\": "
                              f"\"no {index}\", \"status\": \"INVALID_ARGUMENT\"}}}}",
                       processed_time="t", request=request)
        return out

    by_id_in = write(tmp_path / "ids.jsonl", [{"custom_id": f"id{n}", "request": request}
                                              for n, request in enumerate(requests)])
    by_id_out = write(tmp_path / "ids_out.jsonl", [
        line(index, fate, echo, True) for (index, fate), echo in zip(results, rewritten,
                                                                      strict=True)])
    echo_in = write(tmp_path / "echo.jsonl", [{"request": request} for request in requests])
    echo_out = write(tmp_path / "echo_out.jsonl", [
        line(index, fate, echo, False) for (index, fate), echo in zip(results, rewritten,
                                                                       strict=True)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        by_echo = list(join(echo_in, outputs=echo_out))
    # Identical requests are said (ambiguous_match), and nothing else is.
    assert [w.message.code for w in caught
            if isinstance(w.message, batchio.BatchioWarning)
            and w.message.code != "most_results_orphans"] == (
        ["ambiguous_match"] if len(set(prompts)) < len(prompts) else [])
    by_id = list(join(by_id_in, outputs=by_id_out))
    # Every request exactly once, in input order.
    assert [row.request_line for row in by_echo] == list(range(1, len(prompts) + 1))
    assert len({row.result_line for row in by_echo if row.result_line}) == len(results)

    def outcome(row: batchio.JoinedRow) -> tuple[Any, ...]:
        columns = row.to_dict()
        return (row.status, columns["text"], columns["error_message"],
                columns["output_tokens"])

    # Identical requests are one match group: within it, results are given in file
    # order, so the group's outcomes (not which of its rows has which) equal the join by
    # id's; a request asked once gets exactly its own result.
    groups: dict[int, tuple[Counter[Any], Counter[Any]]] = {}
    for prompt, echo_row, id_row in zip(prompts, by_echo, by_id, strict=True):
        echo_seen, id_seen = groups.setdefault(prompt, (Counter(), Counter()))
        echo_seen[outcome(echo_row)] += 1
        id_seen[outcome(id_row)] += 1
        if prompts.count(prompt) == 1:
            assert outcome(echo_row) == outcome(id_row)
    for echo_seen, id_seen in groups.values():
        assert echo_seen == id_seen
    # The missing ones' rows carry the ids of their requests' keys, distinct in the file.
    assert len({row.custom_id for row in by_echo}) == len(prompts)


# --- conversion ------------------------------------------------------------------------

def test_openai_chat_to_bedrock_claude_and_back_is_exact(tmp_path: Path) -> None:
    body = {"model": "gpt-4o-mini", "max_tokens": 300, "temperature": 0.2, "top_p": 0.9,
            "stop": ["END", "STOP"], "user": "u-1",
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Weather in Paris?"},
                         {"role": "assistant", "content": "Let me check."},
                         {"role": "user", "content": "Thanks"}],
            "tools": [{"type": "function", "function": {
                "name": "weather", "description": "The weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}}}
    source = write(tmp_path / "chat.jsonl", [
        {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions", "body": body},
        {"custom_id": "q2", "method": "POST", "url": "/v1/chat/completions",
         "body": {**body, "n": 2}},
        {"custom_id": "q3", "method": "POST", "url": "/v1/chat/completions",
         "body": {**body, "temperature": 1.5}}])
    model = "anthropic.claude-3-5-haiku-20241022-v1:0"
    there = convert(source, tmp_path / "bedrock.jsonl", to_provider="bedrock", model=model)
    assert there.converted == 1
    # What Claude lacks is reported with its line and param, and left out.
    assert [(p.code, p.line, p.param, p.custom_id) for p in there.skipped] == [
        ("unconvertible_request", 2, "body.n", "q2"),
        ("unconvertible_request", 3, "body.temperature", "q3")]
    [line] = [orjson.loads(raw) for raw in (tmp_path / "bedrock.jsonl").read_bytes().splitlines()]
    assert line["recordId"] == "q1"
    assert line["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"
    assert "model" not in line["modelInput"]
    assert validate(tmp_path / "bedrock.jsonl", model=model).ok
    back = convert(tmp_path / "bedrock.jsonl", tmp_path / "back.jsonl", to_provider="openai",
                   model="gpt-4o-mini")
    assert back.converted == 1 and not back.skipped
    [again] = [orjson.loads(raw) for raw in (tmp_path / "back.jsonl").read_bytes().splitlines()]
    assert again == {"custom_id": "q1", "method": "POST", "url": "/v1/chat/completions",
                     "body": body}


def test_openai_chat_to_nova_and_back_and_what_does_not_convert(tmp_path: Path) -> None:
    body = {"model": "gpt-4o-mini", "max_tokens": 64, "temperature": 0.3,
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Hi"}]}
    source = write(tmp_path / "chat.jsonl", [
        {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body},
        {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions",
         "body": {**body, "messages": [{"role": "user", "content": [
             {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}}])
    there = convert(source, tmp_path / "nova.jsonl", to_provider="bedrock",
                    model="amazon.nova-lite-v1:0")
    assert there.converted == 1
    assert [(p.line, p.param) for p in there.skipped] == [(2, "body.messages[0].content")]
    back = convert(tmp_path / "nova.jsonl", tmp_path / "back.jsonl", to_provider="openai",
                   model="gpt-4o-mini")
    [again] = [orjson.loads(raw) for raw in (tmp_path / "back.jsonl").read_bytes().splitlines()]
    assert back.converted == 1 and again["body"] == body
    # Without the job's model, the target's body family is not known: said, not guessed.
    done = CliRunner().invoke(main, ["convert", str(source), "--to", "bedrock", "-o",
                                     str(tmp_path / "x.jsonl")])
    assert done.exit_code == 2 and "sets the model on the job" in done.output
    # With the job's model named, a family whose body batchio does not write is said so.
    done = CliRunner().invoke(main, ["convert", str(source), "--to", "bedrock", "--model",
                                     "meta.llama3-1-70b-instruct-v1:0", "-o",
                                     str(tmp_path / "x.jsonl")])
    assert done.exit_code == 2 and "sets the model on the job" not in done.output
    assert done.stderr == (
        f"batchio: {source}: unconvertible_request: batchio cannot convert requests from "
        "openai to bedrock's meta.llama (the body of model 'meta.llama3-1-70b-instruct-v1:0'); "
        "it writes the anthropic.claude, amazon.nova, converse bodies\n")


def test_inspect_names_cloud_files(tmp_path: Path) -> None:
    batchio.simulate(write(tmp_path / "in.jsonl", [
        {"recordId": "a", "modelInput": BEDROCK_BODIES["meta.llama"][1]}]),
        output=tmp_path / "in.jsonl.out", provider="bedrock", failure_rate=0,
        expire_rate=0, missing_rate=0, batch_json=tmp_path / "job.json")
    assert (inspect(tmp_path / "in.jsonl.out").kind,
            inspect(tmp_path / "in.jsonl.out").provider) == ("results", "bedrock")
    assert (inspect(tmp_path / "job.json").kind, inspect(tmp_path / "job.json").provider) == (
        "batch", "bedrock")


# --- OpenAI-compatible services ---------------------------------------------------------

def chat_line(custom_id: str, model: str, url: str = "/v1/chat/completions"
              ) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": url,
            "body": {"model": model, "messages": [{"role": "user", "content": "Hi"}]}}


@pytest.mark.parametrize(("line", "provider", "alternatives"), [
    (chat_line("a", "gpt-4o-mini"), "openai", ()),
    # docs.x.ai batch-api: OpenAI-shaped lines naming xAI's models.
    (chat_line("a", "grok-4-fast"), "xai", ("openai",)),
    # Model Studio: qwen models, and the free test endpoint.
    (chat_line("a", "qwen-plus"), "dashscope", ("openai",)),
    (chat_line("a", "batch-test-model", "/v1/chat/ds-test"), "dashscope", ()),
    # docs.fireworks.ai batch-inference: custom_id and body, the model the job's.
    ({"custom_id": "a", "body": {"messages": [{"role": "user", "content": "Hi"}]}},
     "mistral", ("together", "fireworks")),
])
def test_openai_compatible_services_are_detected(line: dict[str, Any], provider: str,
                                                 alternatives: tuple[str, ...]) -> None:
    detection = detect_provider(line)
    assert (detection.provider, detection.alternatives) == (provider, alternatives)


def test_openai_compatible_services_rules(tmp_path: Path) -> None:
    # DashScope: 50,000 requests a file, one model, the test endpoint for its test model.
    lines = [chat_line(f"r{n}", "qwen-plus") for n in range(50_001)]
    path = write(tmp_path / "qwen.jsonl", lines)
    report = validate(path)
    assert (report.provider, [(e.code, e.line) for e in report.errors]) == (
        "dashscope", [("too_many_tasks", 50_001)])
    mixed = write(tmp_path / "mixed.jsonl", [chat_line("a", "qwen-plus"),
                                             chat_line("b", "qwen-max")])
    assert [(e.code, e.line) for e in validate(mixed).errors] == [("model_mismatch", 2)]
    test = write(tmp_path / "test.jsonl", [chat_line("a", "batch-test-model",
                                                     "/v1/chat/ds-test")])
    assert validate(test).ok and validate(test).provider == "dashscope"
    # xAI: a Responses line beside chat lines is a warning (not documented either way).
    xai = write(tmp_path / "xai.jsonl", [chat_line("a", "grok-4-fast"), {
        "custom_id": "b", "method": "POST", "url": "/v1/responses",
        "body": {"model": "grok-4-fast", "input": "Hi"}}])
    report = validate(xai)
    assert (report.provider, report.ok) == ("xai", True)
    assert [(w.code, w.line) for w in report.warnings] == [("url_mismatch", 2)]
    # Fireworks: no model in the body (the job's), custom_id required.
    fireworks = write(tmp_path / "fw.jsonl", [
        {"custom_id": "a", "body": {"messages": [{"role": "user", "content": "Hi"}]}},
        {"body": {"messages": [{"role": "user", "content": "Hi"}]}}])
    report = validate(fireworks, provider="fireworks")
    assert [(e.code, e.line) for e in report.errors] == [("missing_custom_id", 2)]


# --- campaigns of requests without ids ---------------------------------------------------

def _prediction(request: dict[str, Any], ok: bool) -> dict[str, Any]:
    if ok:
        return {"status": "", "processed_time": "t", "request": request, "response": {
            "candidates": [{"content": {"parts": [{"text": "yes"}]}, "finishReason": "STOP"}]}}
    return {"status": "Bad Request: {\"error\": {\"code\": 503, \"message\": \"busy\", "
                      "\"status\": \"UNAVAILABLE\"}}", "processed_time": "t",
            "request": request}


def test_a_campaign_of_vertex_requests_without_ids_over_rounds(tmp_path: Path) -> None:
    ledger = batchio.Campaign(tmp_path / "job.ledger")
    same = {"contents": [{"role": "user", "parts": [{"text": "same"}]}]}
    other = {"contents": [{"role": "user", "parts": [{"text": "other"}]}]}
    # Round 1: three identical requests and one other; the first copy answered, the
    # second failed (retryable), the third missing; the other answered.
    write(tmp_path / "r1.jsonl", [{"request": same}, {"request": same}, {"request": same},
                                  {"request": other}])
    write(tmp_path / "r1_out.jsonl", [_prediction(same, True), _prediction(same, False),
                                      _prediction(other, True)])
    ledger.record(1, requests=tmp_path / "r1.jsonl", results=tmp_path / "r1_out.jsonl")
    assert ledger.status().total["owed"] == 2
    # The retry holds two copies of the same request, byte for byte.
    retry = ledger.retry(tmp_path / "round2")
    assert retry.requests == 2
    [shard] = retry.manifest.shards
    lines = (tmp_path / "round2" / shard.path).read_bytes().splitlines()
    assert lines == [orjson.dumps({"request": same})] * 2
    # Round 2 answers both: every request is answered once, none twice.
    write(tmp_path / "r2_out.jsonl", [_prediction(same, True), _prediction(same, True)])
    ledger.record(2, requests=tmp_path / "round2", results=tmp_path / "r2_out.jsonl")
    status = ledger.status()
    assert (status.total["requests"], status.total["owed"]) == (4, 0)
    assert not [w for w in status.warnings if w["code"] == "already_answered"]
    rows = list(ledger.final())
    assert sorted((row.custom_id, row.status, extra[0]) for row, extra in rows) == sorted([
        (f"request-{echo_key(same).hex()[:16]}", "succeeded", 1),
        (f"request-{echo_key(same).hex()[:16]}-2", "succeeded", 2),
        (f"request-{echo_key(same).hex()[:16]}-3", "succeeded", 2),
        (f"request-{echo_key(other).hex()[:16]}", "succeeded", 1)])


def test_a_campaign_of_bedrock_records_without_ids_lines_up_its_rounds(
        tmp_path: Path) -> None:
    ledger = batchio.Campaign(tmp_path / "job.ledger")
    bodies = [{**BEDROCK_BODIES["meta.llama"][1], "prompt": f"q{n}"} for n in range(3)]
    write(tmp_path / "r1.jsonl", [{"modelInput": body} for body in bodies])
    answer = BEDROCK_OUTPUTS["meta.llama"][0]
    # Bedrock names each record itself, anew in every job.
    write(tmp_path / "r1.jsonl.out", [
        {"recordId": "AAA0000001", "modelInput": bodies[0], "modelOutput": answer},
        {"recordId": "AAA0000002", "modelInput": bodies[1],
         "error": {"errorCode": 429, "errorMessage": "Too many requests"}}])
    ledger.record(1, requests=tmp_path / "r1.jsonl", results=tmp_path / "r1.jsonl.out")
    retry = ledger.retry(tmp_path / "round2")
    assert retry.requests == 2
    write(tmp_path / "r2.jsonl.out", [
        {"recordId": "BBB0000001", "modelInput": bodies[1], "modelOutput": answer},
        {"recordId": "BBB0000002", "modelInput": bodies[2], "modelOutput": answer}])
    ledger.record(2, requests=tmp_path / "round2", results=tmp_path / "r2.jsonl.out")
    status = ledger.status()
    assert (status.total["requests"], status.total["owed"]) == (3, 0)


def test_the_join_refuses_another_jobs_results_under_the_same_ids(tmp_path: Path) -> None:
    _, claude = BEDROCK_BODIES["anthropic.claude"]
    mine = [{"recordId": f"CALL{n:07d}", "modelInput": {
        **claude, "messages": [{"role": "user", "content": f"Explain {n}"}]}}
        for n in range(30)]
    theirs = [{"recordId": line["recordId"], "modelInput": {
        **claude, "messages": [{"role": "user", "content": f"Describe {n}"}]},
        "modelOutput": BEDROCK_OUTPUTS["anthropic.claude"][0]} for n, line in enumerate(mine)]
    write(tmp_path / "mine.jsonl", mine)
    write(tmp_path / "theirs.jsonl.out", theirs)
    with pytest.raises(batchio.JoinError, match="another job's results under the same ids"):
        list(join(tmp_path / "mine.jsonl", outputs=tmp_path / "theirs.jsonl.out"))
    # One result of another request among right ones: a warning naming it.
    theirs = [{**line, "modelInput": mine[n]["modelInput"]} for n, line in enumerate(theirs)]
    theirs[5]["modelInput"] = {**claude, "messages": [{"role": "user", "content": "x"}]}
    write(tmp_path / "mixed.jsonl.out", theirs)
    with pytest.warns(batchio.BatchioWarning, match="1 results named by their input's id "
                      "repeat another request.*CALL0000005"):
        rows = list(join(tmp_path / "mine.jsonl", outputs=tmp_path / "mixed.jsonl.out"))
    assert all(row.status == "succeeded" for row in rows)


def test_cloud_results_as_downloaded_and_without_their_ids(tmp_path: Path) -> None:
    # Vertex AI writes predictions.jsonl into a folder of the job; its Gemini results may
    # come back without the custom_id the request had: matched by the request repeated.
    bodies: list[dict[str, Any]] = [{"contents": [
        {"role": "user", "parts": [{"text": f"q{n}"}]}]} for n in range(3)]
    write(tmp_path / "in.jsonl", [{"custom_id": f"c{n}", "request": body}
                                  for n, body in enumerate(bodies)])
    job = tmp_path / "out" / "prediction-model-2026-12-01T10:00:00.000000Z"
    job.mkdir(parents=True)
    write(job / "predictions.jsonl", [_prediction(body, n != 1)
                                      for n, body in enumerate(bodies)][::-1])
    rows = list(join(tmp_path / "in.jsonl", results=tmp_path / "out"))
    assert [(row.custom_id, row.status) for row in rows] == [
        ("c0", "succeeded"), ("c1", "failed"), ("c2", "succeeded")]
    done = CliRunner().invoke(main, ["join", str(tmp_path / "in.jsonl"), "--results",
                                     str(tmp_path / "out")])
    assert done.exit_code == 0 and "2 succeeded, 1 failed (1 retryable)" in done.output


def test_cloud_edges_a_user_meets(tmp_path: Path) -> None:
    # A 65-bit integer in a request without an id: kept, matched, simulated.
    big = tmp_path / "big.jsonl"
    big.write_text('{"request": {"contents": [{"parts": [{"text": "x"}]}], '
                   f'"generationConfig": {{"maxOutputTokens": {2 ** 70}}}}}}}\n')
    assert validate(big).ok
    simulated = batchio.simulate(big, output=tmp_path / "big_out.jsonl", failure_rate=0,
                                 expire_rate=0, missing_rate=0)
    assert [row.status for row in join(big, outputs=simulated.output)] == ["succeeded"]
    # Converting lines without ids: each gets the id a join would give it.
    converted = convert(EXAMPLES / "vertex_requests.jsonl", tmp_path / "chat.jsonl",
                        to_provider="openai", model="gpt-4o-mini")
    assert converted.converted == 6
    ids = [orjson.loads(line)["custom_id"]
           for line in (tmp_path / "chat.jsonl").read_bytes().splitlines()]
    assert ids[5] == ids[0] + "-2" and len(set(ids)) == 6
    # Building for Vertex AI names no model in the request (the job's), and passes.
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt\nHi\n")
    done = CliRunner().invoke(main, ["build", str(rows), "--provider", "vertex", "--model",
                                     "gemini-2.5-flash", "-o", str(tmp_path / "v.jsonl")])
    assert done.exit_code == 0, done.output
    [line] = (tmp_path / "v.jsonl").read_bytes().splitlines()
    assert b"gemini-2.5-flash" not in line
    report = validate(tmp_path / "v.jsonl")
    assert report.ok and not report.warnings
    # A consistent manifest.json.out is consistent.
    write(tmp_path / "r.jsonl", [{"recordId": "a", "modelInput": BEDROCK_BODIES[
        "meta.llama"][1]}])
    (tmp_path / "out").mkdir()
    write(tmp_path / "out" / "r.jsonl.out", [{"recordId": "a", "modelInput": BEDROCK_BODIES[
        "meta.llama"][1], "modelOutput": BEDROCK_OUTPUTS["meta.llama"][0]}])
    (tmp_path / "out" / "manifest.json.out").write_text(
        '{"totalRecordCount": 1, "processedRecordCount": 1, "successRecordCount": 1, '
        '"errorRecordCount": 0, "inputTokenCount": 9, "outputTokenCount": 3}')
    done = CliRunner().invoke(main, ["status", str(tmp_path / "out" / "manifest.json.out"),
                                     "--results", str(tmp_path / "out"), "--requests",
                                     str(tmp_path / "r.jsonl")])
    assert done.exit_code == 0 and "consistent" in done.stdout, done.output


@st.composite
def bedrock_jobs(draw: Any) -> tuple[list[tuple[int, bool]], list[tuple[int, str]]]:
    """Records (a prompt number, repeats allowed, and whether it has a recordId) and the
    results Bedrock wrote (the record's index and its fate), in a shuffled order."""
    records = draw(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1,
                            max_size=20))
    results = [(index, fate) for index in range(len(records))
               if (fate := draw(st.sampled_from(["ok", "ok", "error", "missing"])))
               != "missing"]
    return records, list(draw(st.permutations(results)))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(job=bedrock_jobs())
def test_bedrock_records_with_and_without_ids_are_each_accounted_once(
        tmp_path: Path, job: Any) -> None:
    records, results = job
    bodies = [{**BEDROCK_BODIES["meta.llama"][1], "prompt": f"p{prompt}"}
              for prompt, _ in records]
    lines = [{"recordId": f"MINE{n:07d}", "modelInput": body} if with_id
             else {"modelInput": body} for n, (body, (_, with_id)) in enumerate(
                 zip(bodies, records, strict=True))]
    write(tmp_path / "in.jsonl", lines)
    answer = BEDROCK_OUTPUTS["meta.llama"][0]
    out = []
    for number, (index, fate) in enumerate(results):
        # Bedrock names a record that had no recordId itself.
        record_id = lines[index].get("recordId", f"BEDROCK{number:04d}")
        line = {"recordId": record_id, "modelInput": bodies[index]}
        line.update(modelOutput=answer) if fate == "ok" else line.update(
            error={"errorCode": 400, "errorMessage": f"no {index}"})
        out.append(line)
    write(tmp_path / "in.jsonl.out", out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joined = join(tmp_path / "in.jsonl", outputs=tmp_path / "in.jsonl.out")
        rows = list(joined)
    assert [row.request_line for row in rows] == list(range(1, len(lines) + 1))
    # Every result given to one request at most, none left over: each request asked
    # once has exactly its own fate.
    used = [row.result_line for row in rows if row.result_line is not None]
    assert len(used) == len(set(used)) == len(results)
    assert not joined.summary.orphans
    fate_of = {index: fate for index, fate in results}
    for index, row in enumerate(rows):
        with_id = records[index][1]
        alone = [prompt for prompt, _ in records].count(records[index][0]) == 1
        if with_id or alone:
            expected = {"ok": "succeeded", "error": "failed"}.get(
                fate_of.get(index, ""), "missing")
            assert row.status == expected, (index, row.status)
        if with_id:
            assert row.custom_id == f"MINE{index:07d}"


def test_hostile_cloud_inputs_a_second_look(tmp_path: Path) -> None:
    # Requests that differ only in a JSON Schema's property names are two requests.
    def asking(name: str) -> dict[str, Any]:
        return {"contents": [{"parts": [{"text": "who?"}]}], "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "properties": {name: {"type": "string"}},
                                   "required": [name]}}}

    first, second = asking("firstName"), asking("first_name")
    assert echo_key(first) != echo_key(second)
    write(tmp_path / "in.jsonl", [{"request": first}, {"request": second}])
    assert not validate(tmp_path / "in.jsonl").warnings
    answer = {"candidates": [{"content": {"parts": [{"text": '{"first_name": "Bo"}'}]},
                              "finishReason": "STOP"}]}
    write(tmp_path / "out.jsonl", [
        {"status": "", "processed_time": "t", "request": second, "response": answer},
        {"status": "", "processed_time": "t", "request": first, "response": {
            "candidates": [{"content": {"parts": [{"text": '{"firstName": "Al"}'}]},
                            "finishReason": "STOP"}]}}])
    rows = list(join(tmp_path / "in.jsonl", outputs=tmp_path / "out.jsonl",
                     check_outputs=True))
    assert [(row.output_check, row.to_dict()["output_json"]) for row in rows] == [
        ("ok", '{"firstName":"Al"}'), ("ok", '{"first_name":"Bo"}')]
    # A request nested within the reader's limit is matched, not a crash.
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(1000):
        inner["x"] = [{}]
        inner = inner["x"][0]
    assert len(echo_key({"contents": [deep]})) == 16
    # Records without ids read from a pipe are still matched by their modelInput.
    bodies = [{**BEDROCK_BODIES["meta.llama"][1], "prompt": f"q{n}"} for n in range(3)]
    write(tmp_path / "b.jsonl", [{"recordId": "MINE1", "modelInput": bodies[0]},
                                 {"modelInput": bodies[1]}, {"modelInput": bodies[2]}])
    (tmp_path / "bout").mkdir()
    write(tmp_path / "bout" / "b.jsonl.out", [
        {"recordId": "MINE1", "modelInput": bodies[0], "modelOutput": {"generation": "a"}},
        {"recordId": "BR2", "modelInput": bodies[1], "modelOutput": {"generation": "b"}},
        {"recordId": "BR3", "modelInput": bodies[2], "modelOutput": {"generation": "c"}}])
    done = subprocess.run([sys.executable, "-m", "batchio", "join", "-", "--provider",
                           "bedrock", "--results", str(tmp_path / "bout"), "--retry",
                           str(tmp_path / "retry.jsonl")],
                          input=(tmp_path / "b.jsonl").read_bytes(), capture_output=True)
    assert done.returncode == 0, done.stderr
    assert b"3 succeeded" in done.stdout and b"0 orphans" in done.stdout
    assert (tmp_path / "retry.jsonl").read_bytes() == b""
    # A strict join refuses a result that repeats another request than its input's.
    write(tmp_path / "bout" / "b.jsonl.out", [
        {"recordId": "MINE1", "modelInput": bodies[2], "modelOutput": {"generation": "a"}},
        {"recordId": "BR2", "modelInput": bodies[1], "modelOutput": {"generation": "b"}}])
    with pytest.raises(batchio.JoinError, match="repeats another request"):
        list(join(tmp_path / "b.jsonl", results=tmp_path / "bout", strict=True))


def test_a_failed_cloud_job_says_why(tmp_path: Path) -> None:
    failed = read_batch({"jobArn": "arn:aws:bedrock:x", "status": "Failed",
                         "message": "Invalid input file: modelInput is not valid JSON",
                         "submitTime": "2026-12-01T10:00:00Z",
                         "endTime": "2026-12-01T10:05:00Z"})
    assert failed.check() == []
    assert failed.errors is not None and str(failed.errors[0].message).startswith("Invalid")
    vertex = read_batch({"name": "projects/1/locations/x/batchPredictionJobs/9",
                         "state": "JOB_STATE_FAILED", "createTime": "2026-12-01T10:00:00Z",
                         "endTime": "2026-12-01T10:05:00Z",
                         "error": {"code": 3, "message": "Bad request file"}})
    assert vertex.errors is not None and vertex.errors[0].message == "Bad request file"
    # The google-genai SDK's BatchJob (snake_case, its destination in dest).
    sdk = read_batch({"name": "projects/1/locations/x/batchPredictionJobs/9",
                      "state": "JOB_STATE_SUCCEEDED", "create_time": "2026-12-01T10:00:00Z",
                      "end_time": "2026-12-01T11:00:00Z",
                      "dest": {"gcs_uri": "gs://bucket/out"},
                      "completion_stats": {"successful_count": "3", "failed_count": "0",
                                           "incomplete_count": "0"}})
    assert (sdk.provider, sdk.output_file_id, sdk.check()) == ("vertex", "gs://bucket/out", [])


def test_a_gemini_request_in_snake_case_converts_as_in_camel_case(tmp_path: Path) -> None:
    camel = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
             "systemInstruction": {"parts": [{"text": "Be brief."}]},
             "generationConfig": {"maxOutputTokens": 50, "temperature": 0.2}}
    snake = {"contents": camel["contents"],
             "system_instruction": camel["systemInstruction"],
             "generation_config": {"max_output_tokens": 50, "temperature": 0.2}}
    made = []
    for name, request in (("camel", camel), ("snake", snake)):
        write(tmp_path / f"{name}.jsonl", [{"request": request}])
        result = convert(tmp_path / f"{name}.jsonl", tmp_path / f"{name}_chat.jsonl",
                         to_provider="openai", model="gpt-4o-mini")
        assert result.converted == 1, result.skipped
        made.append(orjson.loads((tmp_path / f"{name}_chat.jsonl").read_bytes())["body"])
    assert made[0] == made[1]
    assert made[0]["messages"][0] == {"role": "system", "content": "Be brief."}


FIREWORKS_STATES = {"JOB_STATE_VALIDATING": "validating", "JOB_STATE_PENDING": "validating",
                    "JOB_STATE_CREATING": "validating", "JOB_STATE_RUNNING": "in_progress",
                    "JOB_STATE_WRITING_RESULTS": "finalizing",
                    "JOB_STATE_COMPLETED": "completed", "JOB_STATE_FAILED": "failed",
                    "JOB_STATE_EXPIRED": "expired", "JOB_STATE_CANCELLED": "cancelled"}


@pytest.mark.parametrize(("state", "status"), list(FIREWORKS_STATES.items()))
def test_fireworks_job_in_every_state(state: str, status: str) -> None:
    # docs.fireworks.ai/api-reference/get-batch-inference-job: state and jobProgress.
    job = {"name": "accounts/me/batchInferenceJobs/job-1", "state": state,
           "model": "accounts/fireworks/models/llama-v3p1-8b-instruct",
           "createTime": "2026-12-01T10:00:00Z", "updateTime": "2026-12-01T11:00:00Z",
           "inputDatasetId": "accounts/me/datasets/in",
           "outputDatasetId": "accounts/me/datasets/out",
           "jobProgress": {"totalInputRequests": 10, "successfullyProcessedRequests": 8,
                           "failedRequests": 2}}
    batch = read_batch(job)
    assert (batch.provider, batch.status) == ("fireworks", BatchStatus(status))
    assert batch.request_counts is not None and batch.request_counts.completed == 8
    assert line_kind(job) == ("batch", "fireworks")


@pytest.mark.parametrize(("counts", "status"), [
    ({"num_requests": 4, "num_pending": 2, "num_success": 2, "num_error": 0,
      "num_cancelled": 0}, "in_progress"),
    ({"num_requests": 4, "num_pending": 0, "num_success": 3, "num_error": 1,
      "num_cancelled": 0}, "completed"),
    ({"num_requests": 4, "num_pending": 0, "num_success": 1, "num_error": 0,
      "num_cancelled": 3}, "cancelled"),
])
def test_xai_batch_in_every_state(counts: dict[str, int], status: str) -> None:
    batch = read_batch({"batch_id": "batch_1", "name": "job", "create_time":
                        "2026-12-01T10:00:00Z", "state": counts})
    assert (batch.provider, batch.status) == ("xai", BatchStatus(status))
    assert batch.request_counts is not None
    assert batch.request_counts.total == 4 and batch.check() == []


def test_vertex_lines_without_ids_get_the_same_verdicts_in_either_lane(tmp_path: Path) -> None:
    # After the first clean line, lines like it take the validator's fast lane: repeats
    # and broken bodies are still found there, at their lines.
    same = {"request": GEMINI_REQUEST}
    other = {"request": {**GEMINI_REQUEST, "contents": [{"parts": [{"text": "other"}]}]}}
    broken = {"request": {**GEMINI_REQUEST, "contents": []}}
    report = validate(write(tmp_path / "v.jsonl", [same, other, same, broken, same]))
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 4)]
    assert [(w.code, w.line, w.message.split(" and ")[0]) for w in report.warnings] == [
        ("ambiguous_match", 3, "this request repeats line 1 exactly"),
        ("ambiguous_match", 5, "this request repeats line 1 exactly")]
    assert report.requests == 5 and report.endpoints == {"gemini": 5}


def test_a_join_given_the_wrong_cloud_says_so_at_the_first_line(tmp_path: Path) -> None:
    write(tmp_path / "in.jsonl", [{"recordId": "a", "modelInput": BEDROCK_BODIES[
        "meta.llama"][1]}])
    write(tmp_path / "in.jsonl.out", [{"recordId": "a", "modelInput": BEDROCK_BODIES[
        "meta.llama"][1], "modelOutput": BEDROCK_OUTPUTS["meta.llama"][0]}])
    with pytest.raises(batchio.LineError, match="not a request line of Google Vertex AI") \
            as raised:
        list(join(tmp_path / "in.jsonl", outputs=tmp_path / "in.jsonl.out",
                  provider="vertex"))
    assert (raised.value.line, raised.value.code) == (1, "missing_custom_id")


def test_two_jobs_results_in_one_folder_count_the_success_whichever_is_read_first(
        tmp_path: Path) -> None:
    """A request failed in one job and answered in the job that retried it, both downloaded
    into one results folder: the answer counts, and the failure is the duplicate, whatever
    the folders are named (Vertex AI names them by time, Bedrock by job id)."""
    same = {"contents": [{"role": "user", "parts": [{"text": "overloaded"}]}]}
    other = {"contents": [{"role": "user", "parts": [{"text": "other"}]}]}
    write(tmp_path / "vertex.jsonl", [{"request": same}, {"request": other}])
    for first, second in (("prediction-model-2026-01-15", "prediction-model-2026-01-16"),
                          ("prediction-model-2026-01-16", "prediction-model-2026-01-15")):
        folder = tmp_path / f"out-{first[-2:]}"
        (folder / first).mkdir(parents=True)
        (folder / second).mkdir(parents=True)
        write(folder / first / "predictions.jsonl",
              [_prediction(same, False), _prediction(other, True)])
        write(folder / second / "predictions.jsonl", [_prediction(same, True)])
        joined = join(tmp_path / "vertex.jsonl", results=folder)
        assert [row.status for row in joined] == ["succeeded", "succeeded"]
        assert len(joined.summary.orphans) == 1  # the failure no request is left to take
    _, llama = BEDROCK_BODIES["meta.llama"]
    answer = BEDROCK_OUTPUTS["meta.llama"][0]
    write(tmp_path / "bedrock.jsonl", [{"recordId": f"CALL{n:07d}", "modelInput": llama}
                                       for n in range(1, 3)])
    for job in ("a2job", "z2job"):
        folder = tmp_path / f"bedrock-{job}"
        (folder / "r1job").mkdir(parents=True)
        (folder / job).mkdir()
        write(folder / "r1job" / "bedrock.jsonl.out", [
            {"recordId": "CALL0000001", "modelInput": llama, "modelOutput": answer},
            {"recordId": "CALL0000002", "modelInput": llama,
             "error": {"errorCode": 429, "errorMessage": "Too many requests"}}])
        write(folder / job / "retry.jsonl.out", [
            {"recordId": "CALL0000002", "modelInput": llama, "modelOutput": answer}])
        done = CliRunner().invoke(main, [
            "join", str(tmp_path / "bedrock.jsonl"), "--results", str(folder), "--retry",
            str(folder / "retry.jsonl"), "--format", "json"])
        document = orjson.loads(done.stdout)
        assert (document["succeeded"], document["failed"], document["duplicates"]) == (2, 0, 1)
        assert (folder / "retry.jsonl").read_bytes() == b""


def test_a_claude_failure_on_vertex_is_read_by_its_anthropic_error_type(tmp_path: Path
                                                                        ) -> None:
    claude = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 10,
              "messages": [{"role": "user", "content": "Hi"}]}
    write(tmp_path / "in.jsonl", [{"custom_id": f"c{n}", "request": claude} for n in range(3)])
    failures = [("Internal Server Error", "overloaded_error", True),
                ("Too Many Requests", "rate_limit_error", True),
                ("Bad Request", "invalid_request_error", False)]
    write(tmp_path / "predictions.jsonl", [
        {"custom_id": f"c{n}", "request": claude, "processed_time": "t", "status":
         f"{label}: " + orjson.dumps({"type": "error", "error": {
             "type": kind, "message": "no"}}).decode()}
        for n, (label, kind, _) in enumerate(failures)])
    rows = list(join(tmp_path / "in.jsonl", outputs=tmp_path / "predictions.jsonl",
                     provider="vertex"))
    assert [(row.status, row.error_code, row.retryable) for row in rows] == [
        ("failed", kind, retryable) for _, kind, retryable in failures]


def test_a_vertex_job_that_ran_then_failed_or_ended_partly_done_is_consistent() -> None:
    job = {"name": "projects/1/locations/us-central1/batchPredictionJobs/42",
           "model": "publishers/google/models/gemini-2.5-flash",
           "createTime": "2026-12-01T10:00:00Z", "startTime": "2026-12-01T10:05:00Z",
           "endTime": "2026-12-01T11:00:00Z",
           "outputInfo": {"gcsOutputDirectory": "gs://b/out/prediction-model-1"}}
    failed = read_batch({**job, "state": "JOB_STATE_FAILED",
                         "error": {"code": 3, "message": "quota"},
                         "completionStats": {"incompleteCount": "-1"}})
    assert failed.status is BatchStatus.FAILED and failed.check() == []
    partly = read_batch({**job, "state": "JOB_STATE_PARTIALLY_SUCCEEDED", "completionStats": {
        "successfulCount": "3", "failedCount": "0", "incompleteCount": "1"}})
    assert partly.status is BatchStatus.COMPLETED and partly.check() == []
    # A job that says it succeeded counts every request still.
    whole = read_batch({**job, "state": "JOB_STATE_SUCCEEDED", "completionStats": {
        "successfulCount": "3", "failedCount": "0", "incompleteCount": "1"}})
    assert [problem.param for problem in whole.check()] == ["request_counts"]
    # OpenAI's failed batch is one whose file did not validate: it never ran.
    openai = batchio.Batch.from_dict({"id": "batch_1", "object": "batch", "status": "failed",
                                      "created_at": 1, "in_progress_at": 2, "failed_at": 3})
    assert [problem.param for problem in openai.check()] == ["in_progress_at"]


def test_status_cross_checks_a_job_of_several_input_files(tmp_path: Path) -> None:
    """Bedrock writes one .out file for each input file of a job, and counts the records of
    them all (totalRecordCount)."""
    body = BEDROCK_BODIES["meta.llama"][1]
    answer = BEDROCK_OUTPUTS["meta.llama"][0]
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    for name in ("a", "b"):
        records = [{"recordId": f"CALL000000{n}", "modelInput": body} for n in (1, 2)]
        write(tmp_path / "in" / f"{name}.jsonl", records)
        write(tmp_path / "out" / f"{name}.jsonl.out",
              [{**record, "modelOutput": answer} for record in records])
    (tmp_path / "out" / "manifest.json.out").write_text(
        '{"totalRecordCount": 4, "processedRecordCount": 4, "successRecordCount": 4, '
        '"errorRecordCount": 0}')
    manifest = str(tmp_path / "out" / "manifest.json.out")
    for requests in (["--requests", str(tmp_path / "in" / "a.jsonl"), "--requests",
                      str(tmp_path / "in" / "b.jsonl")], ["--requests", str(tmp_path / "in")]):
        done = CliRunner().invoke(main, ["status", manifest, "--results",
                                         str(tmp_path / "out"), *requests])
        assert done.exit_code == 0, done.output
        assert "4 inputs" in done.stdout and done.stdout.endswith("consistent\n")
    one = CliRunner().invoke(main, ["status", manifest, "--requests",
                                    str(tmp_path / "in" / "a.jsonl")])
    assert one.exit_code == 1 and "the server says 4 requests but the input file has 2 " \
        "lines" in one.stdout


def test_inspect_finds_a_cloud_jobs_results_a_folder_down_as_join_does(tmp_path: Path
                                                                        ) -> None:
    requests = write(tmp_path / "in.jsonl", [{"request": {"contents": [
        {"role": "user", "parts": [{"text": "q"}]}]}}])
    job = tmp_path / "out" / "prediction-model-2026-12-01T10:00:00.000000Z"
    job.mkdir(parents=True)
    batchio.simulate(requests, output=job / "predictions.jsonl", provider="vertex")
    found = inspect(tmp_path / "out")
    assert (found.kind, found.records, found.statuses) == ("folder", 1, {"results": 1})
    assert [row.status for row in join(requests, results=tmp_path / "out")] == ["succeeded"]
