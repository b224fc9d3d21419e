"""Joining results back to inputs: every input exactly once, with the right status."""

from __future__ import annotations

import gzip
import random
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchio
from batchio import (
    DuplicateIdError,
    JoinError,
    RetryWriter,
    SourceError,
    UsageError,
    join,
    should_retry,
    write_retry,
)
from batchio.cli import main
from batchio.reconcile import DEFAULT_RETRY_STATUSES, retry_choices

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def request(custom_id: str, content: str = "hi") -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}}


def succeeded(custom_id: str) -> dict[str, Any]:
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": f"req_{custom_id}", "body": {
                "id": "chatcmpl-1", "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                             "finish_reason": "stop"}]}},
            "error": None}


def http_failure(custom_id: str, status_code: int, code: str) -> dict[str, Any]:
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": status_code, "request_id": f"req_{custom_id}",
                         "body": {"error": {"message": "bad", "type": "invalid_request_error",
                                            "param": None, "code": code}}},
            "error": None}


def batch_error(custom_id: str, code: str) -> dict[str, Any]:
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": None,
            "error": {"code": code, "message": f"This request was {code}."}}


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_statuses_from_the_content_of_each_line(tmp_path: Path) -> None:
    ids = [f"r{i}" for i in range(7)]
    inputs = write(tmp_path / "in.jsonl", [request(i) for i in ids])
    output = write(tmp_path / "out.jsonl", [
        succeeded("r3"), http_failure("r1", 400, "invalid_value"), succeeded("r0")])
    errors = write(tmp_path / "err.jsonl", [
        batch_error("r2", "batch_expired"), batch_error("r4", "batch_cancelled"),
        http_failure("r5", 500, "server_error")])
    result = join(inputs, outputs=output, errors=errors)
    rows = list(result)
    assert [(row.custom_id, row.status) for row in rows] == [
        ("r0", "succeeded"), ("r1", "failed"), ("r2", "expired"), ("r3", "succeeded"),
        ("r4", "cancelled"), ("r5", "failed"), ("r6", "missing")]
    assert rows[1].error_code == "invalid_value" and not rows[1].retryable
    assert rows[5].retryable
    assert (rows[3].result_path, rows[3].result_line) == (str(output), 1)
    assert rows[0].response["status_code"] == 200
    assert rows[6].response is None and rows[6].result_path is None
    summary = result.summary.to_dict()
    assert {key: summary[key] for key in ("inputs", "succeeded", "failed", "expired",
                                          "cancelled", "missing", "orphans", "duplicates")} == {
        "inputs": 7, "succeeded": 2, "failed": 2, "expired": 1, "cancelled": 1, "missing": 1,
        "orphans": 0, "duplicates": 0}
    assert summary["error_codes"] == {"batch_cancelled": 1, "batch_expired": 1,
                                      "invalid_value": 1, "server_error": 1}


def test_http_400_inside_the_output_file_counts_as_failed(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    output = write(tmp_path / "out.jsonl", [http_failure("a", 400, "invalid_value")])
    [row] = list(join(inputs, outputs=output))
    assert (row.status, row.error["code"]) == ("failed", "invalid_value")


def test_expired_batch_with_partial_output(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(4)])
    output = write(tmp_path / "out.jsonl", [succeeded("r2"), succeeded("r0")])
    errors = write(tmp_path / "err.jsonl", [batch_error("r3", "batch_expired"),
                                           batch_error("r1", "batch_expired")])
    result = join(inputs, outputs=output, errors=errors)
    assert [row.status for row in result] == ["succeeded", "expired", "succeeded", "expired"]


def test_completed_batch_with_an_empty_output_file(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b")])
    output = write(tmp_path / "out.jsonl", [])
    errors = write(tmp_path / "err.jsonl", [http_failure("b", 429, "rate_limit_exceeded"),
                                           http_failure("a", 400, "invalid_value")])
    result = join(inputs, outputs=output, errors=errors)
    assert [(row.status, row.retryable) for row in result] == [("failed", False),
                                                               ("failed", True)]
    assert result.summary.retryable == 1


def test_orphans_and_duplicates_are_reported_not_counted(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b")])
    output = write(tmp_path / "out.jsonl", [succeeded("a"), succeeded("zzz"), succeeded("a")])
    result = join(inputs, outputs=output)
    assert [row.status for row in result] == ["succeeded", "missing"]
    assert [(ref.custom_id, ref.line) for ref in result.summary.orphans] == [("zzz", 2)]
    assert [(ref.custom_id, ref.line) for ref in result.summary.duplicates] == [("a", 3)]
    assert not result.summary.clean


def test_strict_mode_raises_on_orphans(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    output = write(tmp_path / "out.jsonl", [succeeded("a"), succeeded("ghost")])
    with pytest.raises(JoinError) as raised:
        list(join(inputs, outputs=output, strict=True))
    error = raised.value
    assert (error.code, error.path, error.line, error.custom_id) == (
        "orphan_result", str(output), 2, "ghost")


def test_duplicate_input_ids_raise_naming_both_lines(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b"), request("a")])
    with pytest.raises(DuplicateIdError) as raised:
        list(join(inputs))
    assert f"{inputs}:1" in raised.value.message and f"{inputs}:3" in raised.value.message


def test_bad_result_lines_are_reported_with_their_place(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    output = tmp_path / "out.jsonl"
    output.write_bytes(orjson.dumps(succeeded("a")) + b"\n{broken\n" + b'{"no": "id"}\n')
    result = join(inputs, outputs=output)
    assert [row.status for row in result] == ["succeeded"]
    assert [(p.code, p.line) for p in result.summary.problems] == [
        ("invalid_json_line", 2), ("invalid_result_line", 3)]


def test_compressed_and_sharded_files(tmp_path: Path) -> None:
    first = write(tmp_path / "in-1.jsonl", [request("a"), request("b")])
    second = tmp_path / "in-2.jsonl.gz"
    second.write_bytes(gzip.compress(orjson.dumps(request("c")) + b"\n"))
    output = tmp_path / "out.jsonl.gz"
    output.write_bytes(gzip.compress(b"".join(
        orjson.dumps(row) + b"\n" for row in [succeeded("c"), succeeded("a")])))
    rows = list(join([first, second], outputs=[output]))
    assert [(row.custom_id, row.status, row.request_line) for row in rows] == [
        ("a", "succeeded", 1), ("b", "missing", 2), ("c", "succeeded", 1)]


def test_anthropic_results_give_the_same_statuses(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [
        {"custom_id": f"r{i}", "params": {"model": "claude", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"}]}} for i in range(5)])
    results = write(tmp_path / "results.jsonl", [
        {"custom_id": "r3", "result": {"type": "canceled"}},
        {"custom_id": "r0", "result": {"type": "succeeded", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "content": []}}},
        {"custom_id": "r1", "result": {"type": "errored", "error": {
            "type": "error", "error": {"type": "overloaded_error", "message": "busy"}}}},
        {"custom_id": "r2", "result": {"type": "expired"}},
    ])
    result = join(inputs, outputs=results, provider="anthropic")
    rows = list(result)
    assert [row.status for row in rows] == ["succeeded", "failed", "expired", "cancelled",
                                            "missing"]
    assert (rows[1].error_code, rows[1].retryable) == ("overloaded_error", True)


def test_sqlite_index_gives_identical_results(tmp_path: Path) -> None:
    rng = random.Random(7)
    ids = [f"r{i}" for i in range(300)]
    inputs = write(tmp_path / "in.jsonl", [request(i) for i in ids])
    answered = [succeeded(i) if rng.random() < 0.8 else batch_error(i, "batch_expired")
                for i in ids if rng.random() < 0.9]
    rng.shuffle(answered)
    output = write(tmp_path / "out.jsonl", [*answered, succeeded("orphan")])

    def run(**options: Any) -> tuple[list[Any], dict[str, Any]]:
        result = join(inputs, outputs=output, **options)
        return [row.to_dict() for row in result], result.summary.to_dict()

    memory = run(index="memory")
    assert run(index="sqlite") == memory
    assert run(index="auto", spill_threshold=50) == memory


def test_retry_file_holds_the_original_bytes(tmp_path: Path) -> None:
    raw_lines = [b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", '
                 b'"body": {"model": "m", "messages": []}}\n',
                 b'{ "custom_id":"b","method":"POST","url":"/v1/chat/completions",'
                 b'"body":{"model":"m","messages":[]} }\n']
    inputs = tmp_path / "in.jsonl"
    inputs.write_bytes(b"".join(raw_lines))
    output = write(tmp_path / "out.jsonl", [succeeded("a")])
    retry = tmp_path / "retry.jsonl"
    assert write_retry(join(inputs, outputs=output), retry) == 1
    assert retry.read_bytes() == raw_lines[1]


STATUS_MAKERS = {
    "succeeded": lambda cid: succeeded(cid),
    "failed_http": lambda cid: http_failure(cid, 400, "invalid_value"),
    "failed_retryable": lambda cid: http_failure(cid, 503, "server_error"),
    "failed_error": lambda cid: batch_error(cid, "invalid_request"),
    "expired": lambda cid: batch_error(cid, "batch_expired"),
    "cancelled": lambda cid: batch_error(cid, "batch_cancelled"),
}
#: The documented order of outcomes, best first: which of an id's results counts.
RANK = {"succeeded": 0, "failed_retryable": 2, "expired": 3, "cancelled": 3, "failed_http": 4,
        "failed_error": 4}
EXPECTED = {"succeeded": "succeeded", "failed_http": "failed", "failed_retryable": "failed",
            "failed_error": "failed", "expired": "expired", "cancelled": "cancelled",
            "missing": "missing"}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fates=st.lists(st.sampled_from([*STATUS_MAKERS, "missing"]), min_size=1, max_size=60),
    seed=st.integers(min_value=0, max_value=2**32),
    files=st.integers(min_value=1, max_value=4),
    orphans=st.integers(min_value=0, max_value=3),
    duplicates=st.integers(min_value=0, max_value=3),
    index=st.sampled_from(["memory", "sqlite"]),
)
def test_every_input_is_accounted_for_exactly_once(
        tmp_path_factory: pytest.TempPathFactory, fates: list[str], seed: int, files: int,
        orphans: int, duplicates: int, index: str) -> None:
    folder = tmp_path_factory.mktemp("join")
    rng = random.Random(seed)
    ids = [f"req-{i}" for i in range(len(fates))]
    inputs_a = write(folder / "in-a.jsonl", [request(i) for i in ids[: len(ids) // 2]])
    inputs_b = write(folder / "in-b.jsonl", [request(i) for i in ids[len(ids) // 2:]])
    answered = [cid for cid, fate in zip(ids, fates, strict=True) if fate != "missing"]
    results = [STATUS_MAKERS[fates[ids.index(cid)]](cid) for cid in answered]
    results += [succeeded(f"orphan-{i}") for i in range(orphans)]
    rng.shuffle(results)
    shards = [results[i::files] for i in range(files)]
    outputs = [write(folder / f"out-{i}.jsonl", shard) for i, shard in enumerate(shards[::2])]
    errors = [write(folder / f"err-{i}.jsonl", shard) for i, shard in enumerate(shards[1::2])]
    # More results for some ids, in a file read last: the better outcome counts (the
    # first read where they are as good), the others are duplicates, never counted.
    duplicate_ids = [rng.choice(answered) for _ in range(duplicates)] if answered else []
    late_fates = [rng.choice(list(STATUS_MAKERS)) for _ in duplicate_ids]
    errors.append(write(folder / "late.jsonl", [
        STATUS_MAKERS[fate](cid) for cid, fate in zip(duplicate_ids, late_fates, strict=True)]))
    counted = dict(zip(ids, fates, strict=True))
    for cid, fate in zip(duplicate_ids, late_fates, strict=True):
        if RANK[fate] < RANK[counted[cid]]:
            counted[cid] = fate

    result = join([inputs_a, inputs_b], outputs=outputs, errors=errors, index=index)
    retry = folder / "retry.jsonl"
    if not answered and orphans:
        # Results that answer none of the inputs are another job's: refused, no retry file.
        with pytest.raises(JoinError) as raised, RetryWriter(retry) as retry_writer:
            for row in result:
                retry_writer.add(row)
        assert raised.value.code == "results_do_not_match"
        assert not retry.exists()
        return
    with RetryWriter(retry) as retry_writer:
        rows = [row for row in result if retry_writer.add(row) or True]

    assert [row.custom_id for row in rows] == ids
    assert [row.status for row in rows] == [EXPECTED[counted[cid]] for cid in ids]
    assert [row.error_code for row in rows] == [
        None if counted[cid] in ("succeeded", "missing") else
        {"failed_http": "invalid_value", "failed_retryable": "server_error",
         "failed_error": "invalid_request", "expired": "batch_expired",
         "cancelled": "batch_cancelled"}[counted[cid]] for cid in ids]
    summary = result.summary
    assert sum(summary.counts.values()) == summary.inputs == len(ids)
    assert sorted(ref.custom_id for ref in summary.orphans) == [
        f"orphan-{i}" for i in range(orphans)]
    assert len(summary.duplicates) == len(duplicate_ids)
    input_bytes = {line.split(b'"custom_id":"')[1].split(b'"')[0].decode(): line
                   for path in (inputs_a, inputs_b) for line in path.read_bytes().splitlines(True)}
    assert retry.read_bytes() == b"".join(
        input_bytes[row.custom_id] for row in rows if should_retry(row))


def test_a_result_line_broken_after_its_id_fails_its_request(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b")])
    output = tmp_path / "out.jsonl"
    output.write_bytes(b'{"id": "batch_req_1", "custom_id": "a", "response": {"status_c\n'
                       + orjson.dumps(succeeded("b")) + b"\n"
                       + b'{"custom_id": "ghost", "result": [\n')
    result = join(inputs, outputs=output)
    rows = list(result)
    assert [(row.status, row.error_code) for row in rows] == [
        ("failed", "invalid_result_line"), ("succeeded", None)]
    assert [(p.code, p.line, p.custom_id) for p in result.summary.problems] == [
        ("invalid_result_line", 1, "a")]
    assert [(ref.custom_id, ref.line) for ref in result.summary.orphans] == [("ghost", 3)]


scalars = st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(max_size=8)
result_lines = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda key: key != "custom_id"),
    scalars | st.dictionaries(st.text(max_size=9), scalars, max_size=3), max_size=4)


@given(fields=result_lines, custom_id=st.text(max_size=12), position=st.integers(0, 4),
       spaced=st.booleans())
def test_the_id_read_off_the_line_start_is_the_parsed_id(
        fields: dict[str, Any], custom_id: str, position: int, spaced: bool) -> None:
    import json

    from batchio.reconcile import id_reader

    items = list(fields.items())
    items.insert(min(position, len(items)), ("custom_id", custom_id))
    line = dict(items)
    raw = (json.dumps(line) if spaced else orjson.dumps(line).decode()).encode() + b"\n"
    assert id_reader("custom_id")(raw) == orjson.loads(raw)["custom_id"]


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"custom_id": "a", "x": 1, "custom_id": "b"}', "b"),  # the parser keeps the last
    (b'{"custom_id": 5, "response": null}', None),
    (b'["custom_id", "a"]', None),
    (b'{"custom_id": "a", "response": {"body": [1, 2,}}', "a"),  # broken after its id
    (b'{"response": {"body": [1, 2,}}, "custom_id": "a"}', None),
    (b'{"custom_id": "\\u00e9t\\u00e9"}', "\u00e9t\u00e9"),
    (b'{"custom_id": "\\ud800"}', None),
    (b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b', "custom_id": "deep"}', None),
])
def test_the_id_of_a_result_line(raw: bytes, expected: str | None) -> None:
    from batchio.reconcile import id_reader

    assert id_reader("custom_id")(raw) == expected


def test_a_result_file_named_twice_is_refused_as_read_twice(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    (tmp_path / "res").mkdir()
    output = write(tmp_path / "res" / "out.jsonl", [succeeded("a")])
    for kwargs in ({"outputs": output, "errors": tmp_path / "res" / ".." / "res" / "out.jsonl"},
                   {"outputs": output, "results": tmp_path / "res"}):
        with pytest.raises(UsageError) as raised:
            join(inputs, **kwargs)  # type: ignore[arg-type]
        assert raised.value.code == "same_file"
        assert "is named twice as a result file" in raised.value.message
        assert "its lines would be read twice" in raised.value.message


def test_a_quota_error_is_not_worth_retrying_though_it_is_a_429(tmp_path: Path) -> None:
    # OpenAI answers an account out of credits or over a spend limit with HTTP 429, like a
    # rate limit; resubmitting fails the same way until the billing is fixed.
    quota = http_failure("b", 429, "insufficient_quota")
    quota["response"]["body"]["error"]["type"] = "insufficient_quota"
    spend = http_failure("c", 429, "project_spend_limit_exceeded")
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b"), request("c")])
    output = write(tmp_path / "out.jsonl", [http_failure("a", 429, "rate_limit_exceeded"),
                                            quota, spend])
    result = join(inputs, outputs=output)
    assert [(row.error_code, row.retryable) for row in result] == [
        ("rate_limit_exceeded", True), ("insufficient_quota", False),
        ("project_spend_limit_exceeded", False)]
    assert result.summary.retryable == 1
    assert write_retry(join(inputs, outputs=output), tmp_path / "retry.jsonl") == 1


def test_join_says_a_missing_file_when_called_not_when_first_read(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",'
                         b' "body": {"model": "gpt-4o-mini", "messages": []}}\n')
    missing = tmp_path / "nope.jsonl"
    for outputs, errors in ((missing, ()), ((), missing)):
        with pytest.raises(SourceError) as raised:
            join(requests, outputs=outputs, errors=errors)
        assert (raised.value.code, raised.value.errno) == ("unreadable_file", 2)
        assert str(missing) in str(raised.value)
    with pytest.raises(SourceError, match="cannot open"):
        join(tmp_path / "missing.jsonl", outputs=requests)


def test_taking_failed_away_takes_every_failure_and_nothing_left_is_refused() -> None:
    assert retry_choices("-failed") == DEFAULT_RETRY_STATUSES - {"retryable"}
    assert retry_choices("+failed,-failed") == DEFAULT_RETRY_STATUSES - {"retryable"}
    with pytest.raises(UsageError, match="choose nothing"):
        retry_choices("default,-default")
    result = CliRunner().invoke(main, ["join", str(EXAMPLES / "chat_requests.jsonl"),
                                       "--results", str(EXAMPLES / "chat_requests.jsonl"),
                                       "--retry-status", "default,-default"])
    assert result.exit_code == 2
    assert result.stderr.startswith("batchio: join --retry-status: invalid_argument: the "
                                    "retry statuses default,-default choose nothing")


@pytest.mark.parametrize("jobs", [1, 2])
def test_answers_from_another_model_than_asked_are_noted(tmp_path: Path, jobs: int) -> None:
    """Another job's results under the same ids (build's default ids are the same in every
    job) answer with another model: noted (other_model), not taken silently."""
    inputs = write(tmp_path / "in.jsonl", [request(f"request-{n:05d}") for n in range(40)])

    def answered_by(model: str) -> Path:
        lines = []
        for n in range(40):
            line = succeeded(f"request-{n:05d}")
            line["response"]["body"]["model"] = model
            lines.append(line)
        return write(tmp_path / f"{model}.jsonl", lines)

    with pytest.warns(batchio.BatchioWarning, match="40 of the 40 answers compared come from "
                      "another model than their request asked for .first: 'request-00000' "
                      "asked 'gpt-4o-mini', answered by 'gpt-4.1-2025-04-14'") as said:
        joined = join(inputs, outputs=answered_by("gpt-4.1-2025-04-14"))
        batchio.write_join(joined, tmp_path / "j.jsonl", workers=jobs)
    assert [w.message.code for w in said if isinstance(w.message, batchio.BatchioWarning)] \
        == ["other_model"]
    # A dated snapshot of the model asked for is that model.
    with warnings.catch_warnings():
        warnings.simplefilter("error", batchio.BatchioWarning)
        joined = join(inputs, outputs=answered_by("gpt-4o-mini-2024-07-18"))
        batchio.write_join(joined, tmp_path / "k.jsonl", workers=jobs)
        assert joined.summary.models_compared == 40 and joined.summary.other_models == 0


@pytest.mark.parametrize("other_name", ["a-other.jsonl", "z-other.jsonl"])
def test_a_file_of_another_providers_results_is_refused_even_where_its_ids_overlap(
        tmp_path: Path, other_name: str) -> None:
    """Lines of a file none of which is a result count against it whether they answer an
    id alone or a second time (read before or after the good file)."""
    inputs = write(tmp_path / "in.jsonl", [request(f"r{n}") for n in range(12)])
    results = tmp_path / "results"
    results.mkdir()
    write(results / "m-good.jsonl", [succeeded(f"r{n}") for n in range(6)])
    write(results / other_name, [{"custom_id": f"r{n}", "result": {"type": "succeeded"}}
                                 for n in range(12)])
    joined = join(inputs, results=results)
    with pytest.raises(JoinError) as raised:
        batchio.write_join(joined, tmp_path / "j.jsonl", retry=tmp_path / "retry.jsonl")
    assert raised.value.code == "results_do_not_match"
    assert joined.summary.unreadable_file == str(results / other_name)
    assert f"none of the 12 result lines of {results / other_name}" in str(raised.value)
    assert not (tmp_path / "j.jsonl").exists() and not (tmp_path / "retry.jsonl").exists()
