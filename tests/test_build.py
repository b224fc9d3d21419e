"""Building and sharding: unique ids, checked bodies, limits never broken, bytes kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from conftest import kill_when_halfway
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import (
    CallerKeys,
    ContentHashIds,
    DuplicateIdError,
    IdStrategy,
    LimitError,
    LineError,
    Manifest,
    RequestWriter,
    SequenceIds,
    UuidIds,
    estimate_tokens,
    read_lines,
    split,
    validate,
)
from batchio._cli_input import parse_size
from batchio.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def body(text: str = "hi", model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


def lines_of(folder: Path) -> list[bytes]:
    manifest = Manifest.load(folder)
    return [line for shard in manifest.shards
            for line in (folder / shard.path).read_bytes().splitlines(keepends=True)]


def test_writer_to_one_file_makes_valid_requests(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RequestWriter(path, endpoint="/v1/chat/completions") as writer:
        ids = [writer.add(body(f"question {i}")) for i in range(3)]
    assert ids == ["request-0000001", "request-0000002", "request-0000003"]
    assert validate(path).ok
    first = orjson.loads(path.read_bytes().splitlines()[0])
    assert first == {"custom_id": "request-0000001", "method": "POST",
                     "url": "/v1/chat/completions", "body": body("question 0")}


def test_provider_shapes(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "a.jsonl", provider="anthropic") as writer:
        writer.add({"model": "claude", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"}]})
    [line] = list(read_lines(tmp_path / "a.jsonl"))
    assert set(line.value) == {"custom_id", "params"}
    assert validate(tmp_path / "a.jsonl", provider="anthropic").ok


def test_invalid_body_raises_before_writing_and_the_writer_stays_usable(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RequestWriter(path) as writer:
        writer.add(body("one"))
        with pytest.raises(LineError) as raised:
            writer.add({"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]})
        assert (raised.value.code, raised.value.param) == ("invalid_body",
                                                           "body.messages[0].role")
        with pytest.raises(LineError) as raised:
            writer.add({**body("two"), "stream": True})
        assert raised.value.code == "stream_not_supported"
        with pytest.raises(LineError) as raised:
            writer.add(body("three", model="gpt-4o"))
        assert raised.value.code == "model_mismatch"
        writer.add(body("four"))
    assert [line.value["custom_id"] for line in read_lines(path)] == [
        "request-0000001", "request-0000002"]


def test_duplicate_caller_key_names_both_rows(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "r.jsonl", ids=CallerKeys()) as writer:
        writer.add(body(), custom_id="row-a")
        writer.add(body(), custom_id="row-b")
        with pytest.raises(DuplicateIdError) as raised:
            writer.add(body(), custom_id="row-a")
        assert "row 3" in raised.value.message and "row 1" in raised.value.message
        with pytest.raises(LineError):
            writer.add(body())
    assert len(list(read_lines(tmp_path / "r.jsonl"))) == 2


def test_ids_break_the_provider_rules_at_once(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "a.jsonl", provider="anthropic") as writer, \
            pytest.raises(LineError) as raised:
        writer.add({"model": "c", "max_tokens": 5, "messages": [
            {"role": "user", "content": "x"}]}, custom_id="bad id!")
    assert raised.value.code == "custom_id_charset"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.text(alphabet="abc", min_size=1, max_size=3), max_size=30),
       strategy=st.sampled_from(["sequence", "uuid", "hash", "caller"]))
def test_ids_are_unique_under_every_strategy(tmp_path_factory: pytest.TempPathFactory,
                                             keys: list[str], strategy: str) -> None:
    folder = tmp_path_factory.mktemp("ids")
    strategies: dict[str, IdStrategy] = {"sequence": SequenceIds(), "uuid": UuidIds(),
                                         "hash": ContentHashIds(), "caller": CallerKeys()}
    ids = strategies[strategy]
    used: list[str] = []
    with RequestWriter(folder / "r.jsonl", ids=ids) as writer:
        for number, key in enumerate(keys):
            try:
                used.append(writer.add(body(f"{key} {number}" if strategy != "caller" else key),
                                       custom_id=key if strategy == "caller" else None))
            except DuplicateIdError:
                assert strategy == "caller" and key in used
    written = [line.value["custom_id"] for line in read_lines(folder / "r.jsonl")]
    assert written == used
    assert len(set(written)) == len(written)


def test_content_hash_ids_are_stable_across_runs(tmp_path: Path) -> None:
    def run(name: str) -> list[str]:
        with RequestWriter(tmp_path / name, ids=ContentHashIds()) as writer:
            return [writer.add(body(f"q{i}")) for i in range(5)]

    assert run("a.jsonl") == run("b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_shards_roll_over_and_the_manifest_round_trips(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "out", max_requests=4) as writer:
        for i in range(10):
            writer.add(body(f"q{i}"))
    manifest = Manifest.load(tmp_path / "out")
    assert [(s.path, s.requests, s.first_custom_id, s.last_custom_id)
            for s in manifest.shards] == [
        ("requests-00001.jsonl", 4, "request-0000001", "request-0000004"),
        ("requests-00002.jsonl", 4, "request-0000005", "request-0000008"),
        ("requests-00003.jsonl", 2, "request-0000009", "request-0000010")]
    assert manifest.complete and manifest.requests == 10
    assert Manifest.load(tmp_path / "out" / "manifest.json") == manifest
    import hashlib
    for shard in manifest.shards:
        data = (tmp_path / "out" / shard.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard.sha256
        assert len(data) == shard.bytes
        assert validate(tmp_path / "out" / shard.path).ok


def test_lines_written_in_groups_are_all_counted_and_hashed(tmp_path: Path) -> None:
    # More lines than a shard holds back before writing, across several shards.
    with RequestWriter(tmp_path / "out", max_requests=500) as writer:
        ids = [writer.add(body(f"q{i}")) for i in range(1100)]
    manifest = Manifest.load(tmp_path / "out")
    assert [s.requests for s in manifest.shards] == [500, 500, 100]
    import hashlib
    for shard in manifest.shards:
        data = (tmp_path / "out" / shard.path).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (shard.sha256, shard.bytes)
    assert [orjson.loads(line)["custom_id"] for line in lines_of(tmp_path / "out")] == ids


def test_a_shard_that_cannot_be_finished_aborts_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    moves: list[str] = []
    real_replace = os.replace

    def replace_once(source: str, target: str) -> None:
        moves.append(target)
        if len(moves) == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    # Two shard series are open when the writer closes; the second cannot be moved in place.
    writer = RequestWriter(tmp_path / "out", group_by_model=True)
    writer.add(body("a", model="gpt-4o"))
    writer.add(body("b", model="gpt-4o-mini"))
    monkeypatch.setattr(os, "replace", replace_once)
    with pytest.raises(OSError, match="No space left"):
        writer.close()
    manifest = Manifest.load(tmp_path / "out")
    assert not manifest.complete
    assert [s.path for s in manifest.shards] == ["requests-gpt-4o-00001.jsonl"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json", "requests-gpt-4o-00001.jsonl"]


def test_group_by_model_writes_separate_series(tmp_path: Path) -> None:
    with RequestWriter(tmp_path / "out", group_by_model=True) as writer:
        writer.add(body("a", model="gpt-4o"))
        writer.add(body("b", model="gpt-4o-mini"))
        writer.add(body("c", model="gpt-4o"))
    manifest = Manifest.load(tmp_path / "out")
    assert [(s.path, s.model, s.requests) for s in manifest.shards] == [
        ("requests-gpt-4o-00001.jsonl", "gpt-4o", 2),
        ("requests-gpt-4o-mini-00001.jsonl", "gpt-4o-mini", 1)]


def test_token_budget_per_shard(tmp_path: Path) -> None:
    text = "x" * 400  # 404 characters with the role: 101 tokens, plus 4 for the message
    with RequestWriter(tmp_path / "out", max_tokens_per_file=250) as writer:
        for _ in range(5):
            writer.add(body(text))
    assert [s.tokens for s in Manifest.load(tmp_path / "out").shards] == [210, 210, 105]
    assert estimate_tokens(body(text)) == 105


def test_exception_inside_the_writer_keeps_only_whole_shards(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), RequestWriter(tmp_path / "out", max_requests=2) as writer:
        for i in range(5):
            writer.add(body(f"q{i}"))
        raise RuntimeError("pipeline failed")
    manifest = Manifest.load(tmp_path / "out")
    assert not manifest.complete
    assert [s.requests for s in manifest.shards] == [2, 2]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json", "requests-00001.jsonl", "requests-00002.jsonl"]


def test_sigkill_while_sharding_leaves_only_complete_shards(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    program = textwrap.dedent(f"""
        import time, batchio
        with batchio.RequestWriter({str(folder)!r}, max_requests=100) as writer:
            for i in range(100_000):
                writer.add({{"model": "m", "messages": [{{"role": "user", "content": "q"}}]}})
                if i == 350:
                    print("halfway", flush=True)
                    time.sleep(60)
    """)
    kill_when_halfway(program)
    shards = sorted(path for path in folder.iterdir() if path.name.startswith("requests-"))
    assert [path.name for path in shards] == [f"requests-0000{i}.jsonl" for i in (1, 2, 3)]
    for path in shards:
        assert len(list(read_lines(path))) == 100


def request_line(number: int, size: int) -> bytes:
    return orjson.dumps({"custom_id": f"r{number}", "method": "POST",
                         "url": "/v1/chat/completions",
                         "body": {"model": "m", "messages": [{"role": "user",
                                                               "content": "x" * size}]}}) + b"\n"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=40),
       max_requests=st.integers(min_value=1, max_value=10),
       max_bytes=st.integers(min_value=150, max_value=2000))
def test_split_never_breaks_a_limit_and_keeps_every_line_in_order(
        tmp_path_factory: pytest.TempPathFactory, sizes: list[int], max_requests: int,
        max_bytes: int) -> None:
    folder = tmp_path_factory.mktemp("split")
    lines = [request_line(number, size) for number, size in enumerate(sizes, 1)]
    source = folder / "in.jsonl"
    source.write_bytes(b"".join(lines))
    too_big = next((number for number, line in enumerate(lines, 1) if len(line) > max_bytes),
                   None)
    if too_big is not None:
        with pytest.raises(LimitError) as raised:
            split(source, folder / "out", max_requests=max_requests, max_bytes=max_bytes)
        assert f"in.jsonl:{too_big} " in raised.value.message
        # Shards finished before the error stay, listed by an incomplete manifest; with
        # none finished there is no manifest at all.
        if (folder / "out" / "manifest.json").exists():
            manifest = Manifest.load(folder / "out")
            assert not manifest.complete and manifest.shards
            assert sum(s.requests for s in manifest.shards) < too_big
        else:
            assert not [path for path in (folder / "out").iterdir()
                        if path.name.endswith(".jsonl")]
        return
    manifest = split(source, folder / "out", max_requests=max_requests, max_bytes=max_bytes)
    for shard in manifest.shards:
        data = (folder / "out" / shard.path).read_bytes()
        assert 1 <= shard.requests <= max_requests
        assert len(data) == shard.bytes <= max_bytes
    assert lines_of(folder / "out") == lines


def test_split_preserves_bytes_exactly(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    data = (b'{ "custom_id" : "a", "method":"POST","url":"/v1/chat/completions", "body":'
            b'{"model":"m","messages":[{"role":"user","content":"\\u00e9"}]} }\n'
            b'{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":'
            b'{"model":"m","messages":[{"role":"user","content":"2"}]}}')
    source.write_bytes(data)
    split(source, tmp_path / "out", max_requests=1)
    assert b"".join(lines_of(tmp_path / "out")) == data + b"\n"


def test_split_by_model(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
             "body": body("x", model=("a" if i % 2 else "b"))} for i in range(6)]
    source.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    manifest = split(source, tmp_path / "out", by_model=True)
    assert [(s.model, s.requests) for s in manifest.shards] == [("a", 3), ("b", 3)]


def test_parse_size() -> None:
    assert parse_size("200MB") == 200_000_000
    assert parse_size("64KiB") == 65_536
    assert parse_size("1.5G") == 1_500_000_000
    assert parse_size("50000") == 50_000
    with pytest.raises(ValueError):
        parse_size("lots")


def test_split_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["split", str(EXAMPLES / "chat_requests.jsonl"),
                                       "--out-dir", str(tmp_path / "out"),
                                       "--max-requests", "5", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [s["requests"] for s in orjson.loads(result.output)["shards"]] == [5, 5, 2]


def test_build_cli_from_csv(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,question\nq1,What is 2+2?\nq2,Name a colour.\n", encoding="utf-8")
    out = tmp_path / "requests.jsonl"
    result = CliRunner().invoke(main, [
        "build", str(rows), "-o", str(out), "--model", "gpt-4o-mini", "--system", "Be brief.",
        "--template", "Answer: {question}", "--id-field", "id", "--max-tokens", "50"])
    assert result.exit_code == 0, result.output
    lines = [line.value for line in read_lines(out)]
    assert [line["custom_id"] for line in lines] == ["q1", "q2"]
    assert lines[0]["body"] == {"model": "gpt-4o-mini", "max_tokens": 50, "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Answer: What is 2+2?"}]}
    assert validate(out).ok


ROWS = [{"id": "q1", "question": "What is 2+2?", "level": "easy"},
        {"id": "q2", "question": "Name a colour; any colour.", "level": "easy, really"},
        {"id": "q3", "question": 'Say "hi"\non two lines.', "level": "hard"}]


def _row_files(folder: Path, rows: list[dict[str, Any]] = ROWS) -> dict[str, Path]:
    """The same rows as a semicolon CSV (its delimiter sniffed), a comma CSV, TSV, JSONL
    and Parquet."""
    import csv

    import pyarrow
    import pyarrow.parquet

    files = {"semicolon.csv": ";", "comma.csv": ",", "rows.tsv": "\t"}
    paths = {}
    for name, delimiter in files.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]), delimiter=delimiter)
            writer.writeheader()
            writer.writerows(rows)
        paths[name] = folder / name
    paths["rows.jsonl"] = folder / "rows.jsonl"
    paths["rows.jsonl"].write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    paths["rows.parquet"] = folder / "rows.parquet"
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), paths["rows.parquet"])
    return paths


def test_build_reads_every_row_format_to_the_same_request_file(tmp_path: Path) -> None:
    made = {}
    for name, path in _row_files(tmp_path).items():
        out = tmp_path / f"{name}.out.jsonl"
        result = CliRunner().invoke(main, [
            "build", str(path), "-o", str(out), "--model", "gpt-4o-mini",
            "--template", "{question} ({level})", "--id-field", "id"])
        assert result.exit_code == 0, (name, result.output)
        made[name] = out.read_bytes()
    assert len(set(made.values())) == 1, made
    [first] = [line.value for line in read_lines(tmp_path / "rows.tsv.out.jsonl")][:1]
    assert first["body"]["messages"] == [{"role": "user", "content": "What is 2+2? (easy)"}]
    # --delimiter overrides the sniffing; 'tab' names a tab.
    out = tmp_path / "told.jsonl"
    result = CliRunner().invoke(main, ["build", str(tmp_path / "rows.tsv"), "--delimiter",
                                       "tab", "-o", str(out), "--model", "gpt-4o-mini",
                                       "--template", "{question} ({level})", "--id-field",
                                       "id"])
    assert result.exit_code == 0 and out.read_bytes() == made["rows.jsonl"]


def test_build_numbers_rows_one_way_and_refuses_other_formats(tmp_path: Path) -> None:
    # The third row repeats the first's id. A row is named by its line in the file (a
    # CSV's header is line 1, so the third row starts on line 4), a Parquet row by its
    # place from 1; the message says the same number as the place.
    paths = _row_files(tmp_path, [ROWS[0], ROWS[1], {**ROWS[2], "id": "q1"}])
    for name, place in (("semicolon.csv", 4), ("rows.tsv", 4), ("rows.jsonl", 3),
                        ("rows.parquet", 3)):
        result = CliRunner().invoke(main, [
            "build", str(paths[name]), "-o", str(tmp_path / "x.jsonl"), "--model", "m",
            "--id-field", "id", "--prompt-field", "question"])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"batchio: {paths[name]}:{place}: "
                                        "duplicate_custom_id:"), (name, result.output)
        assert not (tmp_path / "x.jsonl").exists()
    sheet = tmp_path / "rows.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not rows")
    result = CliRunner().invoke(main, ["build", str(sheet), "-o", str(tmp_path / "y.jsonl"),
                                       "--model", "m"])
    assert result.exit_code == 2
    assert result.output.startswith(f"batchio: {sheet}: unsupported_row_file: unsupported "
                                    "row file")
    assert not (tmp_path / "y.jsonl").exists()


def test_build_maps_ids_the_provider_refuses(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,prompt\nAB/123.x,Hi\nok_id,There\n", encoding="utf-8")
    out = tmp_path / "anthropic.jsonl"
    result = CliRunner().invoke(main, ["build", str(rows), "--provider", "anthropic",
                                       "--model", "claude-haiku-4-5", "--id-field", "id",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    ids = [line.value["custom_id"] for line in read_lines(out)]
    assert ids[1] == "ok_id" and ids[0].startswith("AB_123_x-")
    assert orjson.loads((tmp_path / "anthropic.jsonl.ids.json").read_bytes()) == {
        ids[0]: "AB/123.x"}
    assert "were replaced by ones it takes" in result.output and validate(out).ok
    # To stdout no mapping file could give it back: refused, naming the rule.
    result = CliRunner().invoke(main, ["build", str(rows), "--provider", "anthropic",
                                       "--model", "claude-haiku-4-5", "--id-field", "id",
                                       "-o", "-"])
    assert result.exit_code == 2 and "custom_id_charset" in result.output
    # Nor to stdout by another name: no mapping file is made beside /dev/stdout.
    done = subprocess.run([sys.executable, "-m", "batchio", "build", str(rows), "--provider",
                           "anthropic", "--model", "claude-haiku-4-5", "--id-field", "id",
                           "-o", "/dev/stdout"], capture_output=True, check=False)
    assert done.returncode == 2
    assert b"custom_id_charset" in done.stderr and b"written to stdout" in done.stderr
    assert not Path("/dev/stdout.ids.json").exists()


def test_build_cli_reports_the_row_of_a_bad_key(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,prompt\na,x\na,y\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(rows), "-o", str(tmp_path / "r.jsonl"),
                                       "--model", "m", "--id-field", "id"])
    assert result.exit_code == 2
    assert f"{rows}:3: duplicate_custom_id" in result.output
    assert not (tmp_path / "r.jsonl").exists()


def test_one_file_over_a_limit_raises_and_keeps_what_fits(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RequestWriter(path, max_requests=2) as writer:
        writer.add(body("a"))
        writer.add(body("b"))
        with pytest.raises(LimitError) as raised:
            writer.add(body("c"))
        assert "row 3" in raised.value.message
    assert len(list(read_lines(path))) == 2


def test_the_writer_refuses_what_json_cannot_carry_with_a_code_and_writes_deep_bodies(
        tmp_path: Path) -> None:
    import batchio

    base: dict[Any, Any] = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    odd: list[dict[Any, Any]] = [{"metadata": {"v": b"a"}}, {1: 2}, {"metadata": {"s": {1, 2}}}]
    with batchio.RequestWriter(tmp_path / "w.jsonl", endpoint="/v1/chat/completions") as writer:
        for extra in odd:
            with pytest.raises(batchio.LineError) as raised:
                writer.add({**base, **extra})
            assert (raised.value.code, raised.value.line) == ("invalid_json_line", 1)
        deep: dict[str, Any] = {}
        inner = deep
        for _ in range(300):  # past orjson's 255 levels, within the reader's 1024
            inner["a"] = {}
            inner = inner["a"]
        writer.add({**base, "metadata_deep": deep})
        too_deep: dict[str, Any] = {}
        inner = too_deep
        for _ in range(3000):
            inner["a"] = {}
            inner = inner["a"]
        with pytest.raises(batchio.LineError) as raised:
            writer.add({**base, "x": too_deep})
        assert raised.value.code == "nesting_too_deep"
    [line] = list(batchio.read_lines(tmp_path / "w.jsonl"))
    assert line.value["body"]["metadata_deep"] == deep


@pytest.mark.parametrize(("text", "code", "place"), [
    # A comma left unquoted cuts the prompt: refused, never a shorter prompt.
    ("id,prompt\na1,Tell me about Paris, France\n", "malformed_row", 2),
    # A quote left open would swallow the rows after it.
    ('id,prompt\na1,"unterminated\na2,ok\n', "unreadable_file", 2),
    # Bytes that are not UTF-8: said with their line.
    ("id,prompt\na1,ok\na2,caf\xe9\n", "invalid_utf8", 3),
    # A prompt of white space asks nothing.
    ("id,prompt\na1,Hi\na2,   \n", "invalid_body", 3),
    # Header only: nothing to write, and no empty file left behind.
    ("id,prompt\n", "empty_file", None),
])
def test_build_refuses_rows_it_would_get_wrong(tmp_path: Path, text: str, code: str,
                                               place: int | None) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_bytes(text.encode("latin-1" if code == "invalid_utf8" else "utf-8"))
    result = CliRunner().invoke(main, ["build", str(rows), "--model", "gpt-4o-mini",
                                       "--id-field", "id", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2, result.output
    where = f"{rows}:{place}: " if place is not None else f"{rows}: "
    assert result.output.startswith(f"batchio: {where}{code}:"), result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_build_takes_a_field_past_the_csv_modules_cap_and_rows_from_a_pipe(
        tmp_path: Path) -> None:
    long = "word " * 40_000  # 200,000 characters: past the csv module's 131,072
    (tmp_path / "long.csv").write_text(f"id,prompt\n1,short\n2,{long}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(tmp_path / "long.csv"), "--model",
                                       "gpt-4o-mini", "-o", str(tmp_path / "long.jsonl")])
    assert result.exit_code == 0, result.output
    lines = [line.value for line in read_lines(tmp_path / "long.jsonl")]
    assert lines[1]["body"]["messages"][0]["content"] == long
    # Lines that end at \r alone (old spreadsheets) are rows as ever.
    (tmp_path / "cr.csv").write_bytes(b"id,prompt\r1,hello\r2,world\r")
    result = CliRunner().invoke(main, ["build", str(tmp_path / "cr.csv"), "--model",
                                       "gpt-4o-mini", "--id-field", "id", "-o",
                                       str(tmp_path / "cr.jsonl")])
    assert result.exit_code == 0, result.output
    assert [line.value["body"]["messages"][0]["content"] for line in read_lines(
        tmp_path / "cr.jsonl")] == ["hello", "world"]
    # A FIFO is read once: a CSV's delimiter sniffed from lines then read again from memory,
    # and a name that says no format read as JSONL, as stdin is.
    for name, text in (("rows.csv", "id;prompt\n1;hello\n2;world\n"),
                       ("rows", '{"id": "1", "prompt": "hello"}\n{"id": "2", "prompt": "x"}\n')):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        writer = threading.Thread(target=fifo.write_text, args=(text,))
        writer.start()
        result = CliRunner().invoke(main, ["build", str(fifo), "--model", "gpt-4o-mini",
                                           "--id-field", "id", "-o", str(tmp_path / "f.jsonl")])
        writer.join(timeout=30)
        assert result.exit_code == 0, result.output
        assert [line.value["custom_id"] for line in read_lines(
            tmp_path / "f.jsonl")] == ["1", "2"]
        fifo.unlink()


def test_build_ids_a_provider_refuses_used_twice_are_refused_and_integer_keys_taken(
        tmp_path: Path) -> None:
    rows = tmp_path / "dup.csv"
    rows.write_text("id,prompt\nAB/1,one\nAB/1,two\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(rows), "--provider", "anthropic",
                                       "--model", "claude-haiku-4-5", "--id-field", "id",
                                       "-o", str(tmp_path / "dup.jsonl")])
    assert result.exit_code == 2
    assert result.output.startswith(f"batchio: {rows}:3: duplicate_custom_id: custom_id "
                                    "'AB/1' of row 3 was already used by row 2")
    assert not (tmp_path / "dup.jsonl").exists()
    keyed = tmp_path / "keys.jsonl"
    keyed.write_bytes(b'{"id": 7, "prompt": "Hi"}\n\n{"id": 8, "prompt": "There"}\n')
    result = CliRunner().invoke(main, ["build", str(keyed), "--model", "gpt-4o-mini",
                                       "--id-field", "id", "-o", str(tmp_path / "k.jsonl")])
    assert result.exit_code == 0, result.output
    assert [line.value["custom_id"] for line in read_lines(tmp_path / "k.jsonl")] == ["7", "8"]
