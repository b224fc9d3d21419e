"""The Batch object: parsing, lifecycle, self-checks, file cross-checks, the status command."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from batchio import Batch, BatchHistory, BatchObjectError, BatchStatus, load_batches
from batchio.batch import TRANSITIONS, reachable
from batchio.cli import main
from batchio.schemas import load_schemas, schema_id

T0 = 1_767_225_600


def sdk_shaped(**fields: Any) -> dict[str, Any]:
    """A Batch as the official SDK serialises it: every optional field present, null."""
    data: dict[str, Any] = {
        "id": "batch_abc", "object": "batch", "endpoint": "/v1/chat/completions",
        "errors": None, "input_file_id": "file-in", "completion_window": "24h",
        "status": "validating", "output_file_id": None, "error_file_id": None,
        "created_at": T0, "in_progress_at": None, "expires_at": T0 + 86400,
        "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
        "cancelling_at": None, "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": None, "model": None, "usage": None,
    }
    data.update(fields)
    return data


def completed(**fields: Any) -> dict[str, Any]:
    return sdk_shaped(**{"status": "completed", "in_progress_at": T0 + 60,
                         "finalizing_at": T0 + 660, "completed_at": T0 + 700,
                         "output_file_id": "file-out", "error_file_id": "file-err",
                         "request_counts": {"total": 10, "completed": 8, "failed": 2},
                         **fields})


@pytest.mark.parametrize("status", [s.value for s in BatchStatus])
def test_every_status_parses(status: str) -> None:
    batch = Batch.from_dict(sdk_shaped(status=status))
    assert batch.status is BatchStatus(status)
    assert batch.status.is_terminal == (status in {"failed", "completed", "expired",
                                                   "cancelled"})


LEGAL = {("validating", "in_progress"), ("validating", "failed"),
         ("validating", "cancelling"), ("in_progress", "finalizing"),
         ("in_progress", "cancelling"), ("in_progress", "expired"),
         ("finalizing", "completed"), ("finalizing", "expired"), ("cancelling", "cancelled")}


@pytest.mark.parametrize(("before", "after"),
                         list(itertools.product([s.value for s in BatchStatus], repeat=2)))
def test_each_transition_is_legal_or_not(before: str, after: str) -> None:
    assert BatchStatus(before).can_become(BatchStatus(after)) == ((before, after) in LEGAL)


def test_terminal_statuses_go_nowhere() -> None:
    assert all(not TRANSITIONS[status] for status in BatchStatus if status.is_terminal)


def test_sdk_shape_round_trips_and_gives_datetimes() -> None:
    data = completed(errors={"object": "list", "data": [
        {"code": "invalid_json_line", "message": "bad", "param": None, "line": 3}]})
    batch = Batch.from_dict(data)
    assert batch.to_dict() == data
    created = batch.time("created_at")
    assert created is not None and created.tzinfo is not None
    assert created.timestamp() == T0
    assert batch.time("failed_at") is None
    assert batch.errors is not None and batch.errors[0].line == 3


def test_json_string_and_model_dump_objects_parse() -> None:
    class FakeSdkBatch:
        def model_dump(self) -> dict[str, Any]:
            return completed()

    assert Batch.from_dict(orjson.dumps(completed())) == Batch.from_dict(completed())
    assert Batch.from_dict(FakeSdkBatch()).status is BatchStatus.COMPLETED


@pytest.mark.parametrize(("field", "value"), [
    ("status", "done"), ("created_at", "yesterday"), ("completed_at", 1.5),
    ("request_counts", {"total": -1, "completed": 0, "failed": 0}), ("metadata", {"a": 1}),
    ("output_file_id", 7), ("id", ""),
])
def test_wrong_types_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(BatchObjectError) as raised:
        Batch.from_dict(completed(**{field: value}))
    assert field in str(raised.value)


extra_fields = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(lambda k: k not in sdk_shaped()),
    st.none() | st.booleans() | st.integers() | st.text(max_size=10), max_size=5)


@given(extra=extra_fields, status=st.sampled_from([s.value for s in BatchStatus]),
       metadata=st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=5),
                                            max_size=3))
def test_from_dict_to_dict_round_trips_with_unknown_fields(
        extra: dict[str, Any], status: str, metadata: dict[str, str] | None) -> None:
    data = {**sdk_shaped(status=status, metadata=metadata), **extra}
    batch = Batch.from_dict(data)
    assert batch.to_dict() == data
    assert Batch.from_dict(batch.to_dict()) == batch


def test_to_dict_passes_the_batch_schema() -> None:
    validator = jsonschema.Draft202012Validator(load_schemas()[schema_id("batch")])
    for data in (sdk_shaped(), completed(metadata={"job": "nightly"})):
        assert list(validator.iter_errors(Batch.from_dict(data).to_dict())) == []


def findings(data: dict[str, Any]) -> list[str | None]:
    return [problem.param for problem in Batch.from_dict(data).check()]


def test_a_consistent_batch_has_no_findings() -> None:
    assert findings(completed()) == []
    assert findings(sdk_shaped()) == []


@pytest.mark.parametrize(("data", "param"), [
    (sdk_shaped(status="in_progress", in_progress_at=T0 + 5, completed_at=T0 + 9),
     "completed_at"),
    (completed(finalizing_at=T0 + 800), "completed_at"),
    (completed(request_counts={"total": 5, "completed": 4, "failed": 2}), "request_counts"),
    (completed(completed_at=None), "completed_at"),
    (completed(output_file_id=None, error_file_id=None), "output_file_id"),
    (completed(metadata={f"k{i}": "v" for i in range(17)}), "metadata"),
    (completed(metadata={"k" * 65: "v"}), "metadata." + "k" * 65),
    (completed(metadata={"k": "v" * 513}), "metadata.k"),
    (sdk_shaped(status="failed", failed_at=T0 - 10), "failed_at"),
])
def test_each_check_finding(data: dict[str, Any], param: str) -> None:
    assert param in findings(data)


def test_history_accepts_skipped_polls_and_rejects_going_back() -> None:
    polls = [sdk_shaped(), sdk_shaped(status="in_progress", in_progress_at=T0 + 60),
             completed()]
    assert BatchHistory(polls).check() == []
    assert BatchHistory([polls[0], polls[2]]).check() == []
    [problem] = BatchHistory([polls[2], polls[1]]).check()
    assert (problem.code, problem.line) == ("illegal_transition", 2)
    assert BatchStatus.IN_PROGRESS not in reachable(BatchStatus.FINALIZING)


def test_history_progress() -> None:
    running = sdk_shaped(status="in_progress", in_progress_at=T0,
                         request_counts={"total": 1000, "completed": 240, "failed": 10})
    progress = BatchHistory([running]).progress(now=T0 + 100)
    assert progress is not None
    assert (progress.done, progress.percent) == (250, 25.0)
    assert progress.requests_per_second == 2.5
    assert progress.eta_seconds == 300.0


def results_file(path: Path, succeeded: int, failed: int) -> Path:
    lines = [{"custom_id": f"s{i}", "error": None,
              "response": {"status_code": 200, "request_id": "r", "body": {}}}
             for i in range(succeeded)]
    lines += [{"custom_id": f"f{i}", "response": None,
               "error": {"code": "batch_expired", "message": "x"}} for i in range(failed)]
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_reconcile_finds_a_count_mismatch(tmp_path: Path) -> None:
    batch = Batch.from_dict(completed())
    output = results_file(tmp_path / "out.jsonl", 7, 0)
    errors = results_file(tmp_path / "err.jsonl", 0, 2)
    cross = batch.reconcile(output=output, errors=errors)
    assert (cross.succeeded_lines, cross.failed_lines) == (7, 2)
    assert [p.param for p in cross.problems] == ["request_counts.completed"]
    assert "8 completed but the files hold 7" in cross.problems[0].message
    good = batch.reconcile(output=results_file(tmp_path / "ok.jsonl", 8, 0), errors=errors)
    assert good.ok


def test_status_command(tmp_path: Path) -> None:
    log = tmp_path / "polls.jsonl"
    log.write_bytes(orjson.dumps(sdk_shaped()) + b"\n" + orjson.dumps(completed()) + b"\n")
    result = CliRunner().invoke(main, ["status", str(log)])
    assert result.exit_code == 0, result.output
    assert "batch_abc  completed" in result.output
    assert "8 completed, 2 failed of 10" in result.output
    assert "queued 1m00s, running 10m00s, finalizing 0m40s" in result.output
    output = results_file(tmp_path / "out.jsonl", 7, 0)
    result = CliRunner().invoke(main, ["status", str(log), "--results", str(output),
                                       "--format", "json"])
    assert result.exit_code == 1
    document = orjson.loads(result.output)
    assert document["ok"] is False
    assert document["problems"][0]["param"] == "request_counts.completed"


def test_status_unreadable_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "b", "status": "paused", "created_at": 1}')
    result = CliRunner().invoke(main, ["status", str(bad)])
    assert result.exit_code == 2
    assert "status" in result.output


def anthropic_batch(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "msgbatch_01", "type": "message_batch", "processing_status": "ended",
        "request_counts": {"processing": 0, "succeeded": 7, "errored": 2, "canceled": 0,
                           "expired": 0},
        "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z",
        "ended_at": "2026-01-01T01:00:00Z", "cancel_initiated_at": None,
        "archived_at": None, "results_url": "https://example.invalid/results"}
    data.update(fields)
    return data


@pytest.mark.parametrize(("fields", "status"), [
    ({}, "completed"),
    ({"processing_status": "in_progress", "ended_at": None}, "in_progress"),
    ({"processing_status": "canceling", "ended_at": None,
      "cancel_initiated_at": "2026-01-01T00:30:00Z"}, "cancelling"),
    ({"cancel_initiated_at": "2026-01-01T00:30:00Z"}, "cancelled"),
    ({"request_counts": {"processing": 0, "succeeded": 7, "errored": 0, "canceled": 0,
                         "expired": 3}}, "expired"),
])
def test_anthropic_message_batches_map_onto_the_lifecycle(fields: dict[str, Any],
                                                          status: str) -> None:
    from batchio import Batch

    data = anthropic_batch(**fields)
    batch = Batch.from_anthropic(data)
    assert batch.status is BatchStatus(status)
    assert batch.check() == []
    assert batch.to_dict()["anthropic"] == data
    assert batch.created_at == T0


def test_anthropic_sdk_batch_objects_parse() -> None:
    types = pytest.importorskip("anthropic.types.messages")
    from batchio import Batch

    sdk_batch = types.MessageBatch.model_validate(anthropic_batch())
    batch = Batch.from_anthropic(sdk_batch)
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed,
            batch.request_counts.failed) == (9, 7, 2)
    assert batch.completed_at == T0 + 3600


def test_status_of_an_anthropic_batch_cross_checks_its_results(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in [
        {"custom_id": f"r{i}", "result": {"type": "succeeded", "message": {}}}
        for i in range(7)] + [
        {"custom_id": f"e{i}", "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "api_error", "message": "x"}}}}
        for i in range(1)]))
    path = tmp_path / "batch.json"
    path.write_bytes(orjson.dumps(anthropic_batch()))
    result = CliRunner().invoke(main, ["status", str(path), "--provider", "anthropic",
                                       "--results", str(results)])
    assert result.exit_code == 1, result.output
    assert "the server says 2 failed but the files hold 1 failed lines" in result.output
    assert "7 completed, 2 failed of 9" in result.output


# The operation the Gemini REST API's batches.get returns (ai.google.dev batch-mode guide).
GEMINI_OPERATION = {
    "name": "batches/abc123",
    "metadata": {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        "model": "models/gemini-2.5-flash", "displayName": "my batch",
        "inputConfig": {"fileName": "files/in1"},
        "output": {"responsesFile": "files/batch-abc123"},
        "createTime": "2026-01-06T11:09:11.943530657Z",
        "endTime": "2026-01-06T11:10:19.736868930Z",
        "batchStats": {"requestCount": "3", "successfulRequestCount": "2",
                       "failedRequestCount": "1"},
        "state": "BATCH_STATE_SUCCEEDED", "name": "batches/abc123"},
    "done": True}


def test_a_gemini_batch_operation_maps_onto_the_lifecycle(tmp_path: Path) -> None:
    batch = Batch.from_gemini(GEMINI_OPERATION)
    assert (batch.id, batch.status, batch.endpoint, batch.model) == (
        "batches/abc123", "completed", "generateContent", "models/gemini-2.5-flash")
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed,
            batch.request_counts.failed) == (3, 2, 1)
    assert (batch.created_at, batch.completed_at) == (1767697751, 1767697819)
    assert batch.output_file_id == "files/batch-abc123"
    assert batch.check() == []
    path = tmp_path / "batch.json"
    path.write_bytes(orjson.dumps(GEMINI_OPERATION))
    result = CliRunner().invoke(main, ["status", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == [
        "batches/abc123", "completed", "generateContent", "models/gemini-2.5-flash"]


@pytest.mark.parametrize(("state", "status"), [
    ("JOB_STATE_PENDING", "validating"), ("JOB_STATE_RUNNING", "in_progress"),
    ("JOB_STATE_SUCCEEDED", "completed"), ("JOB_STATE_PARTIALLY_SUCCEEDED", "completed"),
    ("JOB_STATE_FAILED", "failed"), ("JOB_STATE_CANCELLED", "cancelled"),
    ("JOB_STATE_EXPIRED", "expired"), ("BATCH_STATE_RUNNING", "in_progress")])
def test_a_gemini_sdk_batch_job_maps_its_state(state: str, status: str) -> None:
    # google-genai's BatchJob, as model_dump(mode="json") writes it (snake_case).
    job = {"name": "batches/x", "display_name": "d", "state": state,
           "create_time": "2026-01-06T11:09:11Z", "start_time": "2026-01-06T11:09:20Z",
           "end_time": "2026-01-06T11:10:19Z" if status in (
               "completed", "failed", "cancelled", "expired") else None,
           "model": "models/gemini-2.5-flash", "dest": {"file_name": "files/out"}}
    batch = Batch.from_gemini(job)
    assert (batch.status, batch.output_file_id) == (status, "files/out")
    assert batch.to_dict()["gemini"] == job


def test_an_unknown_gemini_state_is_one_error() -> None:
    with pytest.raises(BatchObjectError, match="is not a known Gemini batch state: "
                       "'JOB_STATE_UNSPECIFIED'"):
        Batch.from_gemini({"name": "batches/x", "state": "JOB_STATE_UNSPECIFIED"})


def test_status_says_a_running_batch_past_its_deadline_is_an_old_snapshot(
        tmp_path: Path) -> None:
    anthropic = {"id": "msgbatch_01", "type": "message_batch",
                 "processing_status": "in_progress",
                 "request_counts": {"processing": 3, "succeeded": 0, "errored": 0,
                                    "canceled": 0, "expired": 0},
                 "created_at": "2024-10-24T10:00:00Z", "expires_at": "2024-10-25T10:00:00Z",
                 "ended_at": None, "cancel_initiated_at": None, "results_url": None}
    path = tmp_path / "batch.json"
    path.write_bytes(orjson.dumps(anthropic))
    result = CliRunner().invoke(main, ["status", str(path)])
    assert result.exit_code == 0, result.output
    [line] = [text for text in result.output.splitlines() if "expires_at" in text]
    assert line.startswith("  past its expires_at by ")
    assert line.endswith(": this is an old snapshot; the batch has ended since (poll it again)")


def test_a_completed_batch_that_leaves_requests_uncounted_is_inconsistent() -> None:
    batch = Batch.from_dict({
        "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
        "status": "completed", "created_at": 1, "in_progress_at": 2, "finalizing_at": 3,
        "completed_at": 4, "output_file_id": "file-o",
        "request_counts": {"total": 300, "completed": 280, "failed": 5}})
    assert [(p.param, p.message) for p in batch.check()] == [
        ("request_counts", "a completed batch counts 285 of its 300 requests as completed "
                           "or failed")]


def test_a_pretty_printed_batch_object_that_is_not_json_is_said_at_its_line(
        tmp_path: Path) -> None:
    batch = {"id": "batch_1", "object": "batch", "status": "completed", "created_at": 1,
             "completed_at": 2, "output_file_id": "file-1"}
    pretty = json.dumps(batch, indent=2)
    (tmp_path / "inf.json").write_text(pretty.replace('"created_at": 1,',
                                                      '"created_at": 1e400,'))
    with pytest.raises(BatchObjectError) as raised:
        load_batches(tmp_path / "inf.json")
    assert (raised.value.code, raised.value.line) == ("invalid_json_line", 5)
    assert "infinity" in str(raised.value)
    (tmp_path / "utf8.json").write_bytes(pretty.encode().replace(b"batch_1", b"batch_\xff"))
    with pytest.raises(BatchObjectError) as raised:
        load_batches(tmp_path / "utf8.json")
    assert (raised.value.code, raised.value.line) == ("invalid_utf8", 2)
    (tmp_path / "empty.json").write_bytes(b"")
    with pytest.raises(BatchObjectError) as raised:
        load_batches(tmp_path / "empty.json")
    assert raised.value.code == "empty_file"
    assert raised.value.path == str(tmp_path / "empty.json")
    # A polling log of one-line objects is still read line by line.
    (tmp_path / "log.jsonl").write_text(json.dumps(batch) + "\n" + json.dumps(batch) + "\n")
    assert len(load_batches(tmp_path / "log.jsonl")) == 2
    (tmp_path / "ok.json").write_text(pretty)
    assert load_batches(tmp_path / "ok.json")[0].id == "batch_1"
