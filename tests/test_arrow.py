"""The Arrow kernels: the lines schema read by batchio's reader, and the id column."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchio
from batchio.arrow import (
    RESULT_COLUMNS,
    WHOLE_FILE_CODES,
    FileStats,
    check,
    classify,
    lines_schema,
    read_batches,
    with_ids,
)

line_kinds = st.one_of(
    st.builds(lambda cid: orjson.dumps({"custom_id": cid, "body": {"n": 1}}) + b"\n",
              st.text(max_size=10)),
    st.just(b"\n"), st.just(b"  \r\n"), st.just(b"[1, 2]\n"), st.just(b'{"custom_id": 7}\n'),
    st.just(b'{"custom_id": "x", "body": {\n'),
    st.builds(lambda n: b'{"custom_id": "long", "pad": "' + b"p" * n + b'"}\n',
              st.integers(100, 400)),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_kinds, max_size=40), rows=st.integers(1, 7),
       compressed=st.booleans(), final_newline=st.booleans())
def test_the_lines_are_the_readers_lines(tmp_path_factory: pytest.TempPathFactory,
                                         lines: list[bytes], rows: int, compressed: bool,
                                         final_newline: bool) -> None:
    folder = tmp_path_factory.mktemp("lines")
    data = b"".join(lines)
    if not final_newline and data.endswith(b"\n"):
        data = data[:-1]
    path = folder / ("in.jsonl.gz" if compressed else "in.jsonl")
    path.write_bytes(gzip.compress(data) if compressed else data)
    cap = 200
    batches = list(read_batches(path, rows=rows, max_line_bytes=cap))
    assert all(batch.schema == lines_schema() and batch.num_rows <= rows for batch in batches)
    table = [row for batch in batches for row in batch.to_pylist()]
    # Every line, numbered from 1, its offset the sum of the lengths before it.
    expected = data.splitlines(keepends=True)
    assert [row["line"] for row in table] == list(range(1, len(expected) + 1))
    offsets = [sum(len(raw) for raw in expected[:i]) for i in range(len(expected))]
    assert [row["offset"] for row in table] == offsets
    assert [row["raw"] for row in table] == [raw if len(raw) <= cap else None
                                             for raw in expected]
    assert {row["path"] for row in table} <= {str(path)}
    # The reader's own line numbers and offsets for the lines it parses.
    parsed = [(line.number, line.offset, line.raw) for line in batchio.read_lines(
        path, errors="collect", blank_lines="warning", max_line_bytes=cap)
        if isinstance(line, batchio.Line)]
    rows_by_place = {(row["line"], row["offset"]): row["raw"] for row in table}
    assert all(rows_by_place[number, offset] == raw for number, offset, raw in parsed)


def test_the_ids_as_the_join_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"custom_id": "a", "x": 1}\n\n[1]\n{"custom_id": 5}\n'
                     b'{"custom_id": "a", "custom_id": "b"}\n{"custom_id": "c", "x": [\n')
    (batch,) = read_batches(path)
    assert with_ids(batch).column("custom_id").to_pylist() == ["a", None, None, None, "b",
                                                                "c"]
    gemini = tmp_path / "gemini.jsonl"
    gemini.write_bytes(b'{"key": "k1", "request": {}}\n')
    (batch,) = read_batches(gemini)
    assert with_ids(batch, provider="gemini").column("custom_id").to_pylist() == ["k1"]


def test_an_empty_file_is_one_empty_batch_and_bad_arguments_are_usage_errors(
        tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    (batch,) = read_batches(path)
    assert batch.num_rows == 0 and batch.schema == lines_schema()
    with pytest.raises(batchio.UsageError):
        list(read_batches(path, rows=0))
    with pytest.raises(batchio.SourceError):
        list(read_batches(tmp_path / "missing.jsonl"))


def chat(custom_id: Any, model: Any = "gpt-4o-mini", url: str = "/v1/chat/completions"
         ) -> bytes:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hello there"}]}
    if model is not None:
        body["model"] = model
    return orjson.dumps({"custom_id": custom_id, "method": "POST", "url": url,
                         "body": body}) + b"\n"


request_lines = st.one_of(
    st.builds(chat, st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])),
    st.builds(chat, st.sampled_from(["h", "i"]), st.sampled_from(["gpt-4o", None, 7])),
    st.builds(chat, st.sampled_from(["j", 5, None, ""])),
    st.builds(chat, st.just("k"), url=st.sampled_from(["/v1/embeddings", "/v1/nope"])),
    st.just(b"[1]\n"), st.just(b'{"custom_id": "x", "body": \n'), st.just(b"\n"),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(request_lines, min_size=1, max_size=30), rows=st.integers(1, 8))
def test_each_lines_problems_are_the_validators_whatever_the_batches(
        tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], rows: int) -> None:
    # Runs of blank lines are one problem in a file: one blank line at a time here.
    lines = [line for number, line in enumerate(lines)
             if not (line == b"\n" and number and lines[number - 1] == b"\n")]
    path = tmp_path_factory.mktemp("check") / "requests.jsonl"
    path.write_bytes(b"".join(lines))
    checked = [check(batch, provider="openai") for batch in read_batches(path, rows=rows)]
    found = sorted((row["line"], problem["code"], problem["severity"])
                   for batch in checked for row in batch.to_pylist()
                   for problem in row["problems"])
    report = batchio.validate(path, provider="openai", max_errors=None)
    expected = sorted((problem.line, problem.code, problem.severity)
                      for problem in report.errors + report.warnings
                      if problem.code not in WHOLE_FILE_CODES)
    assert found == expected
    # The file's totals from merged batch stats are the validator's, whatever the grouping.
    stats = [FileStats.of(batch) for batch in checked]
    merged = functools.reduce(FileStats.merge, stats)
    assert (merged.requests, merged.bytes, merged.embedding_inputs) == (
        report.requests, report.bytes, report.embedding_inputs)
    assert merged.urls == report.endpoints
    if len(stats) >= 3:
        left = stats[0].merge(stats[1]).merge(stats[2])
        right = stats[0].merge(stats[1].merge(stats[2]))
        assert left == right
    assert list(merged.models) == [model for model in report.models]


def test_the_typed_columns_and_the_file_level_findings(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(chat("a") + chat("b", model="gpt-4o") + b"[1]\n"
                     + orjson.dumps({"custom_id": "e", "method": "POST",
                                     "url": "/v1/embeddings",
                                     "body": {"model": "text-embedding-3-small",
                                              "input": ["x", "y", "z"]}}) + b"\n")
    (batch,) = read_batches(path)
    checked = check(batch, provider="openai")
    rows = checked.to_pylist()
    assert [row["request"] for row in rows] == [True, True, False, True]
    assert [row["custom_id"] for row in rows] == ["a", "b", None, "e"]
    assert [row["model"] for row in rows] == ["gpt-4o-mini", "gpt-4o", None,
                                              "text-embedding-3-small"]
    assert [row["url"] for row in rows] == ["/v1/chat/completions"] * 2 + [
        None, "/v1/embeddings"]
    assert [row["n_bytes"] for row in rows] == [len(line) for line in
                                                path.read_bytes().splitlines(True)]
    assert [row["embedding_inputs"] for row in rows] == [0, 0, 0, 3]
    assert rows[0]["input_tokens_estimate"] > 0
    assert [problem["code"] for problem in rows[2]["problems"]] == ["not_an_object"]
    stats = FileStats.of(checked)
    assert (stats.requests, stats.embedding_inputs) == (3, 3)
    assert [(problem.code, problem.severity) for problem in stats.problems("openai")] == [
        ("model_mismatch", "error"), ("url_mismatch", "error")]
    over = FileStats(path="big.jsonl", requests=50_001, bytes=10)
    assert [problem.code for problem in over.problems("openai")] == ["too_many_tasks"]
    assert [problem.code for problem in FileStats(path="e.jsonl").problems("openai")] == [
        "empty_file"]


@pytest.mark.parametrize(("requests", "provider"), [
    ("chat_requests.jsonl", "openai"), ("anthropic_requests.jsonl", "anthropic"),
    ("embeddings_requests.jsonl", "openai")])
def test_result_lines_classified_as_the_join_reads_them(tmp_path: Path, requests: str,
                                                         provider: str) -> None:
    source = Path(__file__).resolve().parent.parent / "examples" / requests
    output, errors = tmp_path / "output.jsonl", tmp_path / "errors.jsonl"
    batchio.simulate(source, output=output, errors=None if provider == "anthropic" else errors,
                     seed=5, failure_rate=0.3, expire_rate=0.2, provider=provider)
    with open(output, "ab") as handle:
        handle.write(b'{"custom_id": "broken", "response": {"status\n\n')
    joined = {(row["result_file"], row["result_line"]): row
              for row in batchio.join(source, outputs=[output],
                                      errors=[errors] if errors.exists() else [],
                                      provider=provider).to_arrow().to_pylist()}
    classified = [row for path in (output, errors) if path.exists()
                  for batch in read_batches(path)
                  for row in classify(batch, provider=provider).to_pylist()]
    assert len(classified) >= len(joined)
    for row in classified:
        if row["raw"].isspace():
            assert row["status"] is None
            continue
        if row["raw"].startswith(b'{"custom_id": "broken"'):
            assert (row["status"], row["error_code"]) == ("failed", "invalid_result_line")
            continue
        expected = joined[(row["path"], row["line"])]
        names = [name for name in RESULT_COLUMNS
                 if name != "model" or expected["status"] == "succeeded"]
        assert {name: row[name] for name in names} == {name: expected[name] for name in names}


def test_a_line_that_is_not_utf8_is_its_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(chat("a") + chat("b").replace(b"hello", b"h\xffllo"))
    (batch,) = read_batches(path)
    rows = check(batch, provider="openai").to_pylist()
    assert [problem["code"] for problem in rows[1]["problems"]] == ["invalid_utf8"]
    assert (rows[1]["request"], rows[1]["custom_id"]) == (False, None)


@pytest.mark.parametrize("kernel", [with_ids, check, classify])
def test_a_batch_that_is_not_of_the_lines_schema_is_a_usage_error(kernel: Any) -> None:
    import pyarrow as pa

    no_raw = pa.record_batch({"path": ["p"], "line": [1], "offset": [0], "text": ["{}"]})
    with pytest.raises(batchio.UsageError, match=r"^invalid_argument: the batch has no "
                       r"'raw' column \(it has path, line, offset, text\)"):
        kernel(no_raw)
    text_raw = no_raw.rename_columns(["path", "line", "offset", "raw"])
    with pytest.raises(batchio.UsageError, match=r"^invalid_argument: the batch's 'raw' "
                       r"column is string, not the lines schema's binary$"):
        kernel(text_raw)
    with pytest.raises(batchio.UsageError, match=r"not list$"):
        kernel([b"{}\n"])


def test_a_kernel_run_twice_replaces_its_columns() -> None:
    import pyarrow as pa

    batch = pa.record_batch({"path": ["p"], "line": [1], "offset": [0],
                             "raw": [b'{"custom_id": "a", "body": {}}\n']})
    for kernel in (with_ids, check, classify):
        once = kernel(batch)
        assert kernel(once).schema.names == once.schema.names
        assert kernel(once).to_pylist() == once.to_pylist()
