"""The streaming reader and the atomic writer: places, codes, round trips, atomicity."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import kill_when_halfway
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import BatchioError, JsonlWriter, LineError, Problem, read_lines, write_lines
from batchio.errors import CODES, SourceError
from batchio.jsonl import Line, read_range


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def first_problem(data: bytes) -> Problem:
    problems = [item for item in read_lines(io.BytesIO(data), errors="collect")
                if isinstance(item, Problem)]
    assert problems, "expected a problem"
    return problems[0]


def test_lines_carry_number_offset_and_exact_bytes(tmp_path: Path) -> None:
    data = b'{"a": 1}\n{"b": [1, 2]}\n{"c": "\xc3\xa9"}'
    lines = list(read_lines(write(tmp_path / "x.jsonl", data)))
    assert [line.number for line in lines] == [1, 2, 3]
    assert [line.offset for line in lines] == [0, 9, 23]
    assert lines[2].raw == b'{"c": "\xc3\xa9"}'
    assert lines[2].value == {"c": "é"}
    assert b"".join(line.raw for line in lines) == data


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b'{"a": 1}\n{"a": \n', "invalid_json_line", 2),
        (b'{"a": 1}\n[1, 2]\n', "not_an_object", 2),
        (b'"text"\n', "not_an_object", 1),
        (b'{"a": 1}\n{"a": "\xff\xfe"}\n', "invalid_utf8", 2),
        (b'{"a": "\\ud800"}\n', "invalid_utf8", 1),
        (b'\xef\xbb\xbf{"a": 1}\n', "utf8_bom", 1),
        (b'{"a": 1}\n\n{"a": 2}\n', "blank_line", 2),
        (b'{"a": 1}\n   \n{"a": 2}\n', "blank_line", 2),
        (b'{"a": 1}\n{"a": NaN}\n', "non_finite_number", 2),
        (b'{"a": Infinity}\n', "non_finite_number", 1),
        (b'{"a": -Infinity}\n', "non_finite_number", 1),
        (b'{"a": 1e999}\n', "non_finite_number", 1),
        (b'{"a": 1e400}\n', "non_finite_number", 1),
        (b'{"a": -1e400}\n', "non_finite_number", 1),
        (b'{"a": ' + b"9" * 4301 + b'}\n', "integer_out_of_range", 1),
        (b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}\n", "nesting_too_deep", 1),
    ],
)
def test_each_bad_input_has_its_code_and_line(data: bytes, code: str, line: int) -> None:
    problem = first_problem(data)
    assert (problem.code, problem.line) == (code, line)
    assert code in CODES
    with pytest.raises(LineError) as raised:
        list(read_lines(io.BytesIO(data)))
    assert (raised.value.code, raised.value.line) == (code, line)


def test_line_over_the_size_cap_is_reported_and_skipped() -> None:
    data = b'{"a": 1}\n{"a": "' + b"x" * 100 + b'"}\n{"a": 3}\n'
    items = list(read_lines(io.BytesIO(data), errors="collect", max_line_bytes=50))
    assert [type(item).__name__ for item in items] == ["Line", "Problem", "Line"]
    problem = items[1]
    assert isinstance(problem, Problem)
    assert (problem.code, problem.line) == ("line_too_large", 2)


def test_integers_of_any_size_are_read_exactly() -> None:
    data = (b'{"a": 18446744073709551615, "b": -9223372036854775808, "c": "123456789012345678901",'
            b' "d": 123456789012345678901234567890, "e": -9223372036854775809}')
    [line] = list(read_lines(io.BytesIO(data)))
    assert line.value == {"a": 2**64 - 1, "b": -(2**63), "c": "123456789012345678901",
                          "d": 123456789012345678901234567890, "e": -(2**63) - 1}


def test_crlf_is_a_warning_once_and_the_lines_still_parse() -> None:
    data = b'{"a": 1}\r\n{"a": 2}\r\n'
    items = list(read_lines(io.BytesIO(data), errors="collect"))
    warnings = [item for item in items if isinstance(item, Problem)]
    assert [(w.code, w.line, w.severity) for w in warnings] == [("crlf_line_ending", 1, "warning")]
    assert [item.value for item in read_lines(io.BytesIO(data))] == [{"a": 1}, {"a": 2}]


def test_bom_is_reported_and_the_line_still_read_in_collect_mode() -> None:
    items = list(read_lines(io.BytesIO(b'\xef\xbb\xbf{"a": 1}\n'), errors="collect"))
    assert isinstance(items[0], Problem) and items[0].code == "utf8_bom"
    assert items[1].value == {"a": 1}  # type: ignore[union-attr]


def test_missing_final_newline_is_fine() -> None:
    assert [line.value for line in read_lines(io.BytesIO(b'{"a": 1}\n{"b": 2}'))] == [
        {"a": 1}, {"b": 2}]


def test_collect_mode_keeps_going_after_bad_lines() -> None:
    data = b'{"a": 1}\nnot json\n[]\n{"a": 4}\n'
    items = list(read_lines(io.BytesIO(data), errors="collect"))
    kinds = [(type(item).__name__, getattr(item, "code", None)) for item in items]
    assert kinds == [("Line", None), ("Problem", "invalid_json_line"),
                     ("Problem", "not_an_object"), ("Line", None)]


def test_errors_carry_path_and_are_batchio_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", b'{"a": 1}\n{oops}\n')
    with pytest.raises(BatchioError) as raised:
        list(read_lines(path))
    assert raised.value.path == str(path)
    assert str(raised.value).startswith(f"{path}:2: invalid_json_line:")
    assert isinstance(raised.value, ValueError)


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        list(read_lines(tmp_path / "absent.jsonl"))
    assert raised.value.code == "unreadable_file"


def test_iterables_of_bytes_str_and_dicts_are_sources() -> None:
    items: list[bytes | str | dict[str, Any]] = [b'{"a": 1}', '{"b": 2}\n', {"c": 3}]
    assert [line.value for line in read_lines(items)] == [{"a": 1}, {"b": 2}, {"c": 3}]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=st.lists(json_objects, max_size=20))
def test_writer_then_reader_round_trips(tmp_path: Path, objects: list[dict[str, object]]) -> None:
    path = tmp_path / "round.jsonl"
    assert write_lines(path, objects) == len(objects)
    assert [line.value for line in read_lines(path)] == objects
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_round_trip_by_extension_and_magic(tmp_path: Path, suffix: str) -> None:
    objects = [{"custom_id": f"r{i}", "n": i, "text": "é" * i} for i in range(200)]
    path = tmp_path / f"data{suffix}"
    write_lines(path, objects)
    assert [line.value for line in read_lines(path)] == objects
    renamed = tmp_path / "no-extension"
    path.rename(renamed)
    assert [line.value for line in read_lines(renamed)] == objects
    with open(renamed, "rb") as handle:
        assert [line.value for line in read_lines(handle)] == objects


def test_gzip_written_by_others_is_read(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"a": 1}\n{"a": 2}\n')
    assert [line.value for line in read_lines(path)] == [{"a": 1}, {"a": 2}]


def test_corrupt_gzip_is_a_source_error(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.jsonl.gz", gzip.compress(b'{"a": 1}\n' * 100)[:-30])
    with pytest.raises(SourceError):
        list(read_lines(path))


def test_missing_zstd_extra_names_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(SourceError) as raised:
        write_lines(tmp_path / "x.jsonl.zst", [{"a": 1}])
    assert raised.value.code == "missing_extra"
    assert "batchio[zstd]" in raised.value.message


def test_stdin_and_stdout(tmp_path: Path) -> None:
    program = textwrap.dedent("""
        import batchio
        batchio.write_lines("-", (line.value for line in batchio.read_lines("-")))
    """)
    data = b'{"b": 2, "a": [1, "\xc3\xa9"]}\n{"c": null}\n'
    done = subprocess.run([sys.executable, "-c", program], input=data, capture_output=True,
                          check=True)
    assert done.stdout == b'{"b":2,"a":[1,"\xc3\xa9"]}\n{"c":null}\n'


@pytest.mark.parametrize("name", ["copied.jsonl", "copied.jsonl.gz"])
def test_copy_from_writes_the_bytes_of_another_file_between_lines(tmp_path: Path,
                                                                  name: str) -> None:
    # A plain target takes them in the kernel; a compressed one through Python: the same
    # file either way, with the lines written around them in their places.
    source = tmp_path / "spool"
    source.write_bytes(b"".join(b'{"n": %d}\n' % number for number in range(5000)))
    target = tmp_path / name
    with JsonlWriter(target) as writer, open(source, "rb") as handle:
        writer.write({"first": True})
        assert writer.copy_from(handle.fileno(), 10, source.stat().st_size - 10) == \
            source.stat().st_size - 10
        writer.write({"last": True})
        # Past the source's end: fewer bytes, never an error.
        assert writer.copy_from(handle.fileno(), source.stat().st_size - 12, 100) == 12
    written = gzip.decompress(target.read_bytes()) if name.endswith(".gz") \
        else target.read_bytes()
    assert written == (b'{"first":true}\n' + source.read_bytes()[10:] + b'{"last":true}\n'
                       + b'{"n": 4999}\n')


def test_writer_exception_leaves_the_old_file(tmp_path: Path) -> None:
    path = write(tmp_path / "keep.jsonl", b'{"old": true}\n')
    with pytest.raises(RuntimeError), JsonlWriter(path) as writer:
        writer.write({"new": 1})
        raise RuntimeError("boom")
    assert path.read_bytes() == b'{"old": true}\n'
    assert os.listdir(tmp_path) == ["keep.jsonl"]


def test_unserialisable_value_is_a_line_error(tmp_path: Path) -> None:
    with pytest.raises(LineError) as raised:
        write_lines(tmp_path / "x.jsonl", [{"a": 2**70}])
    assert raised.value.code == "integer_out_of_range"
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("existing", [True, False])
def test_sigkill_mid_write_leaves_old_content_or_nothing(tmp_path: Path, existing: bool) -> None:
    target = tmp_path / "target.jsonl"
    if existing:
        target.write_bytes(b'{"old": true}\n')
    program = textwrap.dedent(f"""
        import sys, time, batchio
        with batchio.JsonlWriter({str(target)!r}) as writer:
            for i in range(1_000_000):
                writer.write({{"i": i, "pad": "x" * 200}})
                if i == 2000:
                    print("halfway", flush=True)
                    time.sleep(60)
    """)
    kill_when_halfway(program)
    if existing:
        assert target.read_bytes() == b'{"old": true}\n'
    else:
        assert not target.exists()


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_give_lines_or_batchio_errors_only(data: bytes) -> None:
    started = time.monotonic()
    try:
        for item in read_lines(io.BytesIO(data), errors="collect"):
            assert isinstance(item, Problem) or isinstance(item.value, dict)
    except SourceError:
        pass  # compressed-looking bytes that do not decompress: unreadable, not a crash
    try:
        for _ in read_lines(io.BytesIO(data)):
            pass
    except BatchioError:
        pass
    assert time.monotonic() - started < 5


@settings(max_examples=200, deadline=None)
@given(objects=st.lists(json_objects, min_size=1, max_size=5), noise=st.binary(max_size=40),
       position=st.integers(min_value=0, max_value=1000))
def test_corrupted_json_lines_never_crash_the_reader(
        objects: list[dict[str, object]], noise: bytes, position: int) -> None:
    data = bytearray(b"".join(orjson.dumps(obj) + b"\n" for obj in objects))
    cut = position % (len(data) + 1)
    data[cut:cut] = noise
    try:
        for item in read_lines(io.BytesIO(bytes(data)), errors="collect"):
            assert isinstance(item, Problem) or isinstance(item.value, dict)
    except SourceError:
        # Noise that starts the stream with gzip or zstd magic makes it a corrupt archive.
        assert data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd"))


# Lines for the block-boundary properties: good objects, integers on either side of the 64-bit
# edge (as numbers and inside strings), bad JSON, blank lines and CRLF endings.
line_texts = st.one_of(
    st.builds(lambda n: b'{"n": %d}' % n, st.integers(min_value=-(2**70), max_value=2**70)),
    st.builds(lambda n: b'{"id": "%d", "x": [1, 2]}' % n,
              st.integers(min_value=0, max_value=10**30)),
    st.builds(lambda obj: orjson.dumps(obj), json_objects),
    st.sampled_from([b'{"a": ', b"[1]", b"", b"  ", b'{"a": NaN}', b'{"a": "\xff"}']),
)


def _reference(lines: list[bytes], **options: object) -> list[tuple[object, ...]]:
    """What reading each line on its own gives, renumbered to its place in the file."""
    items: list[tuple[object, ...]] = []
    offset = 0
    for number, raw in enumerate(lines, 1):
        for item in read_lines([raw], errors="collect", **options):  # type: ignore[call-overload]
            if isinstance(item, Problem):
                if item.code != "crlf_line_ending":
                    items.append(("problem", item.code, number,
                                  None if item.code == "blank_line" else offset))
            else:
                items.append(("line", number, offset, item.raw, item.value))
        offset += len(raw)
    return items


def _observed(items: Iterable[object]) -> list[tuple[object, ...]]:
    observed: list[tuple[object, ...]] = []
    for item in items:
        if isinstance(item, Problem):
            if item.code == "blank_line":
                # A run of blank lines within a block is one problem covering its lines.
                assert item.line is not None
                observed += [("problem", "blank_line", item.line + index, None)
                             for index in range(item.lines)]
            elif item.code != "crlf_line_ending":
                observed.append(("problem", item.code, item.line, item.offset))
        else:
            assert isinstance(item, Line)
            observed.append(("line", item.number, item.offset, item.raw, item.value))
    return observed


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(line_texts, min_size=1, max_size=12), crlf=st.booleans(),
       buffer=st.integers(min_value=1, max_value=64), cap=st.sampled_from([30, 10**9]))
def test_reading_in_blocks_matches_reading_line_by_line(
        texts: list[bytes], crlf: bool, buffer: int, cap: int) -> None:
    ending = b"\r\n" if crlf else b"\n"
    lines = [text + ending for text in texts]
    data = b"".join(lines)
    expected = _reference(lines, max_line_bytes=cap)
    # A tiny read buffer puts block boundaries everywhere: inside lines, digit runs, CRLFs.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("batchio.jsonl.READ_BUFFER", buffer)
        items = list(read_lines(io.BytesIO(data), errors="collect", max_line_bytes=cap))
    assert _observed(items) == expected
    warnings = [item for item in items
                if isinstance(item, Problem) and item.code == "crlf_line_ending"]
    # A line over the cap is skipped unread, so only the lines within it can show CRLF.
    assert len(warnings) == (1 if crlf and any(len(line) <= cap for line in lines) else 0)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(line_texts, min_size=1, max_size=12),
       buffer=st.integers(min_value=1, max_value=64),
       cuts=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_read_range_gives_the_lines_that_start_in_the_range(
        tmp_path_factory: pytest.TempPathFactory, texts: list[bytes], buffer: int,
        cuts: tuple[float, float]) -> None:
    lines = [text + b"\n" for text in texts]
    path = tmp_path_factory.mktemp("range") / "x.jsonl"
    path.write_bytes(b"".join(lines))
    starts = [sum(len(raw) for raw in lines[:index]) for index in range(len(lines))]
    first_index = int(cuts[0] * (len(lines) - 1))
    end = int(cuts[1] * path.stat().st_size) + 1
    def start_of(item: tuple[object, ...]) -> int:
        number = item[2] if item[0] == "problem" else item[1]
        assert isinstance(number, int)
        return starts[number - 1]

    expected = [item for item in _reference(lines) if starts[first_index] <= start_of(item) < end]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("batchio.jsonl.READ_BUFFER", buffer)
        items = list(read_range(path, starts[first_index], end, first_line=first_index + 1))
    assert _observed(items) == expected


def test_a_line_longer_than_the_read_buffer_keeps_its_number_and_offset(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batchio.jsonl.READ_BUFFER", 16)
    big = b'{"text": "' + b"x" * 100 + b'", "n": NaN}\n'
    data = b'{"a": 1}\n' + big + b'{"b": 2}\n'
    items = list(read_lines(io.BytesIO(data), errors="collect"))
    assert [(type(item).__name__, getattr(item, "code", None)) for item in items] == [
        ("Line", None), ("Problem", "non_finite_number"), ("Line", None)]
    assert isinstance(items[1], Problem) and items[1].line == 2 and items[1].offset == 9
    assert isinstance(items[2], Line) and (items[2].number, items[2].offset) == (3, 9 + len(big))


def test_background_syncs_leave_the_same_bytes(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batchio.jsonl.SYNC_EVERY", 64)
    synced: list[int] = []
    real = getattr(os, "fdatasync", os.fsync)
    def recording(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", recording, raising=False)
    objects = [{"n": number, "text": "x" * 30} for number in range(200)]
    target = tmp_path / "out.jsonl"
    assert write_lines(target, objects) == 200
    assert target.read_bytes() == b"".join(orjson.dumps(obj) + b"\n" for obj in objects)
    assert synced, "expected background syncs"


def test_a_failed_background_sync_fails_the_write_and_leaves_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batchio.jsonl.SYNC_EVERY", 64)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", broken, raising=False)
    monkeypatch.setattr(os, "fsync", broken)
    target = tmp_path / "out.jsonl"
    target.write_bytes(b'{"old": true}\n')
    with pytest.raises(OSError, match="Input/output error"):
        write_lines(target, ({"n": number, "text": "x" * 30} for number in range(200)))
    assert target.read_bytes() == b'{"old": true}\n'
    assert [path.name for path in tmp_path.iterdir()] == ["out.jsonl"]


def test_lines_from_a_pipe_are_read_as_they_arrive() -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(read_end, "rb")
    sink = os.fdopen(write_end, "wb")
    try:
        sink.write(b'{"n": 1}\n')
        sink.flush()
        lines = read_lines(stream)
        first: list[Line] = []
        arrived = threading.Event()

        def read_first() -> None:
            first.append(next(lines))
            arrived.set()

        threading.Thread(target=read_first, daemon=True).start()
        # The pipe is still open: the first line must not wait for a full buffer or the end.
        assert arrived.wait(timeout=10)
        sink.write(b'{"n": 2}\n')
        sink.close()
        assert [line.value for line in [*first, *lines]] == [{"n": 1}, {"n": 2}]
    finally:
        sink.close()
        stream.close()


# Values of every JSON kind at their edges: integers of any size, every finite float (the
# shortest repr round-trips), -0.0, strings with any unicode and escapes.
exact_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


def _same(a: object, b: object) -> bool:
    """Equal, and of the same type all the way down (1 and 1.0, 0.0 and -0.0 differ)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and str(a) == str(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=300)
@given(objects=st.lists(st.dictionaries(st.text(max_size=8), exact_values, max_size=5),
                        min_size=1, max_size=5),
       ensure_ascii=st.booleans())
def test_every_number_and_string_comes_back_exactly(
        objects: list[dict[str, object]], ensure_ascii: bool) -> None:
    import json

    data = b"".join(json.dumps(obj, ensure_ascii=ensure_ascii).encode() + b"\n"
                    for obj in objects)
    values = [line.value for line in read_lines(io.BytesIO(data))]
    assert len(values) == len(objects)
    assert all(map(_same, values, objects))


@pytest.mark.parametrize(("data", "column"), [
    (b'{"a": 1,}\n', 8),
    (b'{"custom_id\r\n', 12),
    (b'{"a": tru}\n', 7),
])
def test_invalid_json_names_the_column_where_it_goes_wrong(data: bytes, column: int) -> None:
    problem = first_problem(data)
    assert (problem.code, problem.column) == ("invalid_json_line", column)


def test_nesting_is_judged_by_depth_alone_whatever_the_stack() -> None:
    deep_ok = b'{"a": ' + b"[" * 1023 + b"]" * 1023 + b"}\n"
    too_deep = b'{"a": ' + b"[" * 1024 + b"]" * 1024 + b"}\n"

    def nested(levels: int) -> list[object]:
        if levels:
            return nested(levels - 1)
        return list(read_lines(io.BytesIO(deep_ok + too_deep), errors="collect"))

    # Deep in a call stack, msgspec alone would refuse the first line too.
    for items in (nested(0), nested(sys.getrecursionlimit() // 2)):
        assert isinstance(items[0], Line)
        assert isinstance(items[1], Problem) and items[1].code == "nesting_too_deep"
