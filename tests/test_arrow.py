"""The Arrow kernels: the lines schema read by batchio's reader, and the id column."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchio
from batchio.arrow import lines_schema, read_batches, with_ids

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
