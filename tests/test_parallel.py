"""Checking a file in two processes gives exactly the report one pass gives."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import SourceError, validate, validate_files
from batchio.cli import main
from batchio.providers import Limits, get_profile


def line(custom_id: str, content: str = "hi", model: str = "gpt-4o-mini",
         **extra: Any) -> bytes:
    return orjson.dumps({"custom_id": custom_id, "method": "POST",
                         "url": "/v1/chat/completions",
                         "body": {"model": model, "messages": [
                             {"role": "user", "content": content}]}, **extra}) + b"\n"


DEFECTS = ["none", "duplicate", "bad_json", "blank", "crlf", "array", "model", "role",
           "unknown_field", "big_int", "url", "stream", "no_id"]


def defective(kind: str, number: int, earlier: list[str]) -> bytes:
    custom_id = f"id-{number}"
    if kind == "duplicate" and earlier:
        return line(earlier[number % len(earlier)])
    if kind == "bad_json":
        return line(custom_id)[:-5] + b"\n"
    if kind == "blank":
        return b"\n"
    if kind == "crlf":
        return line(custom_id)[:-1] + b"\r\n"
    if kind == "array":
        return b"[1, 2]\n"
    if kind == "model":
        return line(custom_id, model="gpt-4o")
    if kind == "role":
        return line(custom_id).replace(b'"user"', b'"robot"')
    if kind == "unknown_field":
        return line(custom_id, note="x")
    if kind == "big_int":
        return line(custom_id)[:-2] + b', "n": 123456789012345678901234}\n'
    if kind == "url":
        return line(custom_id).replace(b"/v1/chat/completions", b"/v1/completions")
    if kind == "stream":
        return line(custom_id).replace(b'"messages"', b'"stream":true,"messages"')
    if kind == "no_id":
        return line(custom_id).replace(b'"custom_id"', b'"customid"')
    return line(custom_id, content="x" * (number % 7))


def as_dict(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = report.to_dict()
    data["errors"] = report.errors
    data["warnings"] = report.warnings
    data["models"] = report.models
    return data


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(DEFECTS), min_size=2, max_size=40),
       max_errors=st.none() | st.integers(min_value=0, max_value=6),
       max_requests=st.none() | st.integers(min_value=1, max_value=30),
       final_newline=st.booleans(), workers=st.integers(min_value=2, max_value=4))
def test_n_ranges_report_what_one_pass_reports(
        tmp_path_factory: pytest.TempPathFactory, kinds: list[str], max_errors: int | None,
        max_requests: int | None, final_newline: bool, workers: int) -> None:
    path = tmp_path_factory.mktemp("halves") / "requests.jsonl"
    earlier: list[str] = []
    data = line("id-first")
    for number, kind in enumerate(kinds):
        data += defective(kind, number, earlier or ["id-first"])
        earlier.append(f"id-{number}")
    if not final_newline:
        data = data.rstrip(b"\n")
    path.write_bytes(data)
    profile = dataclasses.replace(get_profile("openai"), limits=Limits(
        max_requests=max_requests, max_file_bytes=4_000))
    one = validate(path, provider=profile, max_errors=max_errors, workers=1)
    several = validate(path, provider=profile, max_errors=max_errors, workers=workers)
    assert as_dict(several) == as_dict(one)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(st.sampled_from(DEFECTS), min_size=1, max_size=12),
                      min_size=1, max_size=5),
       workers=st.integers(min_value=1, max_value=4))
def test_many_files_in_parallel_report_what_each_file_reports(
        tmp_path_factory: pytest.TempPathFactory, files: list[list[str]], workers: int
        ) -> None:
    folder = tmp_path_factory.mktemp("files")
    paths = []
    for index, kinds in enumerate(files):
        earlier: list[str] = []
        data = line("id-first")
        for number, kind in enumerate(kinds):
            data += defective(kind, number, earlier or ["id-first"])
            earlier.append(f"id-{number}")
        path = folder / f"requests-{index}.jsonl"
        path.write_bytes(data)
        paths.append(path)
    reports = validate_files(paths, workers=workers, max_errors=3)
    assert [as_dict(report) for report in reports] == [
        as_dict(validate(path, workers=1, max_errors=3)) for path in paths]


def test_an_unreadable_file_among_many_is_one_line_and_the_others_are_checked(
        tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(line("a") + line("a"))
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(SourceError) as raised:
        validate_files([good, missing, good], workers=2)
    assert raised.value.path == str(missing)
    result = CliRunner().invoke(main, ["validate", str(good), str(missing), str(good),
                                       "--jobs", "2"])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines.count(f"{good}:2: duplicate_custom_id: custom_id 'a' was already used on "
                       "line 1 [custom_id] (custom_id=a)") == 2
    assert [text for text in lines if "missing.jsonl" in text] == [
        f"batchio: {missing}: unreadable_file: cannot open {missing}: No such file or "
        "directory"]


def test_duplicates_across_the_halves_name_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"".join(line(f"id-{i}") for i in range(100)) + line("id-3") + line("id-3"))
    two = validate(path, workers=2)
    assert [(e.code, e.line, e.message) for e in two.errors] == [
        ("duplicate_custom_id", 101, "custom_id 'id-3' was already used on line 4"),
        ("duplicate_custom_id", 102, "custom_id 'id-3' was already used on line 4")]
    assert two.errors == validate(path, workers=1).errors


def test_files_that_cannot_be_halved_are_checked_whole(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"not json\n" + b"".join(line(f"id-{i}") for i in range(10)))
    assert validate(path, workers=2).to_dict() == validate(path, workers=1).to_dict()


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_files_are_checked_whole(tmp_path: Path, suffix: str) -> None:
    from batchio import write_lines

    rows = [orjson.loads(line(f"id-{i}")) for i in range(50)] + [orjson.loads(line("id-7"))]
    path = tmp_path / f"requests{suffix}"
    write_lines(path, rows)
    two = validate(path, workers=2)
    assert [(e.code, e.line) for e in two.errors] == [("duplicate_custom_id", 51)]
    assert two.to_dict() == validate(path, workers=1).to_dict()


def test_a_run_of_blank_lines_cut_by_a_range_boundary_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    # The middle of the file, where two ranges meet, is inside the run.
    path.write_bytes(line("a") + b"\n" * 300 + line("b", note="x"))
    one = validate(path, provider="openai", workers=1)
    for workers in (2, 3):
        several = validate(path, provider="openai", workers=workers)
        assert [(p.code, p.line, p.lines) for p in several.warnings] == [
            ("blank_line", 2, 300), ("unknown_field", 302, 1)]
        assert as_dict(several) == as_dict(one)


def id_pairs(seen: Any) -> tuple[list[str], Any]:
    """Every id of an IdLines and its line."""
    ids, lines, runs = seen.export()
    for first, count in runs:
        lines.extend(range(first, first + count))
    return ids, lines


def test_id_lines_keep_each_ids_first_line_whether_taken_in_blocks_or_one_by_one() -> None:
    from array import array

    from batchio.validation import IdLines
    seen = IdLines()
    assert seen.setdefault("a", 1) == 1
    assert seen.add_block(["b", "c"], 2)
    assert not seen.add_block(["d", "a"], 4)  # repeats an id taken one by one
    assert not seen.add_block(["d", "c"], 4)  # repeats an id of a block
    assert not seen.add_block(["d", "e", "d"], 4)  # repeats itself
    assert ("d" in seen, "c" in seen, len(seen)) == (False, True, 3)
    assert seen.add_block(["d", "e"], 4)
    assert seen.setdefault("c", 9) == 3  # its block's lines made
    assert seen.setdefault("e", 9) == 5 and seen.setdefault("f", 9) == 9
    assert len(seen) == 6
    assert id_pairs(seen) == (list("abcdef"), array("q", [1, 2, 3, 4, 5, 9]))
    assert seen.add_block(["g"], 10) and id_pairs(seen)[0] == list("abcdefg")
    other = IdLines({"a": 1, "x": 2})
    assert other.add_block(["g", "f", "y"], 3)
    assert seen.common(other) == other.common(seen) == {"a", "f", "g"}
    back = IdLines.restore(*seen.export())
    assert (id_pairs(back), len(back), back["g"]) == (id_pairs(seen), 7, 10)
    with pytest.raises(KeyError):
        seen["h"]
    seen.clear()
    assert (len(seen), id_pairs(seen)) == (0, ([], array("q")))


@pytest.mark.parametrize("ids", [["a", "b\n", "é"], ["a", "\ud800"]])
def test_a_range_result_crosses_processes_with_its_ids(ids: list[str]) -> None:
    """A worker's ids go back as msgpack, or pickled where one is not UTF-8."""
    from array import array

    from batchio.validation import IdLines, Report, _RangeResult
    seen = IdLines({ids[0]: 1})
    assert seen.add_block(ids[1:], 2)
    result = _RangeResult(Report(path="x", provider="openai"), seen, array("q", [1]),
                          array("q"), array("q"), 2)
    back = pickle.loads(pickle.dumps(result))
    lines = list(range(1, len(ids) + 1))
    assert id_pairs(back.seen) == id_pairs(result.seen) == (ids, array("q", lines))
    assert [back.seen[custom_id] for custom_id in ids] == lines
    assert back.lines_read == 2 and list(back.request_lines) == [1]
