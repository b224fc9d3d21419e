"""Promise 2: every failure is one line and a documented exit status, never a traceback;
real faults (a full or read-only filesystem, a file-size limit) included."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promises import leftovers, one_line_error, request, requests, run, small_filesystem

import batchio

COMMANDS = {
    "validate": ["validate", "{in}"],
    "split": ["split", "{in}", "--out-dir", "{out}/shards"],
    "join": ["join", "{in}", "--results", "/dev/null", "-o", "{out}/joined.jsonl"],
    "simulate": ["simulate", "{in}", "-o", "{out}/o.jsonl",
                 "--batch-json", "{out}/batch.json"],
    "convert": ["convert", "{in}", "-o", "{out}/c.jsonl", "--model", "claude-haiku-4-5"],
    "build": ["build", "{in}", "-o", "{out}/b.jsonl", "--model", "m",
              "--prompt-field", "custom_id"],
    "status": ["status", "{in}"],
}


def command(name: str, source: Path, out: Path) -> list[str]:
    return [part.format(**{"in": source, "out": out}) for part in COMMANDS[name]]


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("damage", ["corrupt-gzip", "truncated-gzip", "not-gzip",
                                    "no-permission", "a-folder", "missing"])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, name: str,
                                                 damage: str) -> None:
    if damage == "no-permission" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    source = tmp_path / "in.jsonl.gz"
    packed = gzip.compress(requests(200))
    if damage == "corrupt-gzip":
        source.write_bytes(packed[:40] + b"\x00" * 40 + packed[80:])
    elif damage == "truncated-gzip":
        source.write_bytes(packed[:-20])
    elif damage == "not-gzip":
        source.write_bytes(b"\x1f\x8b" + b"nonsense" * 10)
    elif damage == "no-permission":
        source.write_bytes(packed)
        source.chmod(0)
    elif damage == "a-folder":
        source.mkdir()
    result = run(*command(name, source, tmp_path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert one_line_error(result)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("read_only", "lines", "reason"), [
    (False, 2000, "No space left on device"),   # a full disk
    (True, 20, "Read-only file system"),
])
def test_an_unwritable_filesystem_is_exit_3_and_leaves_nothing_half_written(
        read_only: bool, lines: int, reason: str) -> None:
    with small_filesystem("64k", read_only=read_only) as disk:
        source = disk.parent / f"{disk.name}-in.jsonl"
        source.write_bytes(requests(lines))
        try:
            for name in ("split", "join", "simulate", "convert", "build"):
                result = run(*command(name, source, disk))
                assert result.returncode == 3, (name, result.stderr)
                line = one_line_error(result)
                assert reason in line and "unwritable_file" in line
                assert leftovers(disk) == [], name
        finally:
            source.unlink()


@pytest.mark.parametrize("name", ["split", "join", "simulate", "convert", "build"])
def test_a_file_size_limit_is_exit_3_and_the_target_is_not_replaced(
        tmp_path: Path, name: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(requests(3000))
    result = run(*command(name, source, tmp_path), file_size=200_000)
    assert result.returncode == 3, result.stderr
    assert "File too large" in one_line_error(result)
    assert leftovers(tmp_path) == []


def test_an_existing_file_as_out_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    (tmp_path / "out").write_text("a file")
    result = run("split", "in.jsonl", "--out-dir", "out", cwd=tmp_path)
    assert result.returncode == 3
    assert "it is a file, not a folder" in one_line_error(result)
    assert (tmp_path / "out").read_text() == "a file"


@pytest.mark.parametrize("body", [
    {"model": "m", "messages": ["hello"]},
    {"model": "m", "messages": "hello"},
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
])
def test_convert_leaves_out_malformed_bodies(tmp_path: Path, body: dict[str, object]) -> None:
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps({
        "custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body}) + b"\n")
    result = run("convert", "in.jsonl", "-o", "c.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "in.jsonl:1: unconvertible_request: the body is not a valid request" in result.stderr


@pytest.mark.parametrize("args", [
    ["simulate", "in.jsonl", "-o", "o.jsonl", "--dimensions", "100000000"],
    ["split", "in.jsonl", "--out-dir", "o", "--max-bytes", "0"],
    ["split", "in.jsonl", "--out-dir", "o", "--max-bytes", "0.5"],
    ["split", "in.jsonl", "--out-dir", "o", "--max-requests", "0"],
    ["build", "in.jsonl", "-o", "b.jsonl", "--template", "{custom_id:>999999999}"],
    ["build", "in.jsonl", "-o", "b.jsonl", "--template", "{custom_id.__class__}"],
    ["build", "in.jsonl", "-o", "b.jsonl", "--template", "{custom_id:{custom_id}}"],
    ["validate", "in.jsonl", "--endpoint", "/v1/bogus"],
    ["join", "in.jsonl", "--results", "in.jsonl", "--retry-status", "bogus"],
])
def test_absurd_options_are_refused_up_front(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(2))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("invalid_argument") <= 1  # one message, not one inside another
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl"]


lines = st.one_of(
    st.builds(lambda cid: request(cid), st.text(max_size=30)),
    st.binary(max_size=60).map(lambda raw: raw + b"\n"),
    st.sampled_from([b"\n", b"[1]\n", b'{"custom_id": 1}\n', b'{"params": {}}\n',
                     b'{"key": "k", "request": []}\n', b'{"a": NaN}\n',
                     b'{"custom_id":"\\u001b[2J","body":{"messages":["x"]}}\n']),
)
options = st.sampled_from([[], ["--provider", "anthropic"], ["--provider", "gemini"],
                           ["--provider", "vllm"], ["--format", "json"], ["--max-errors", "1"]])


@settings(max_examples=25, deadline=None)
@given(content=st.lists(lines, max_size=6), name=st.sampled_from(sorted(COMMANDS)),
       extra=options)
def test_no_input_and_no_option_ends_in_a_traceback(
        tmp_path_factory: pytest.TempPathFactory, content: list[bytes], name: str,
        extra: list[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    source = folder / "in.jsonl"
    source.write_bytes(b"".join(content))
    args = command(name, source, folder)
    if name in ("split", "convert") or "--max-errors" not in extra or name == "validate":
        args += [option for option in extra
                 if name in ("validate", "join", "split", "simulate", "status")
                 or (option != "--provider" and not option.startswith(("anthropic", "gemini",
                                                                       "vllm")))]
    result = run(*args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), (args, result.stderr)
    assert stat.S_ISDIR(folder.stat().st_mode)


EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "chat_requests.jsonl")
#: The package, untyped: these calls pass what its types refuse, as a caller may.
api: Any = batchio


@pytest.mark.parametrize(("call", "message"), [
    (lambda: api.join(b"in.jsonl"), "the request files to join must be a path or a list "
     "of paths (str or os.PathLike), not bytes"),
    (lambda: api.join(None), "not NoneType"),
    (lambda: api.join(5), "not int"),
    (lambda: api.join(EXAMPLE, outputs=None), "outputs must be a path or a list of "
     "paths (str or os.PathLike), not NoneType"),
    (lambda: api.join(EXAMPLE, errors=[5]), "errors must be paths (str or os.PathLike), "
     "not int"),
    (lambda: api.join(EXAMPLE, spill_threshold="x"), "spill_threshold must be a whole "
     "number of at least 0, not 'x'"),
    (lambda: api.validate(None), "a source of lines is a path (str or os.PathLike), a "
     "binary file or an iterable of lines, not NoneType"),
    (lambda: api.validate(b"in.jsonl"), "not bytes: for content in memory, pass "
     "io.BytesIO(data) or data.splitlines()"),
    (lambda: api.validate(EXAMPLE, workers="2"), "workers must be a whole number of at "
     "least 1, not '2'"),
    (lambda: api.validate_files(EXAMPLE, workers=0), "workers must be a whole number of "
     "at least 1, not 0"),
    (lambda: list(api.read_lines(7)), "not int"),
    (lambda: api.split(None, "out"), "not NoneType"),
    (lambda: api.split(EXAMPLE, ""), "out_dir must be a path (str or os.PathLike), not ''"),
    (lambda: api.simulate(5, output="o.jsonl"), "not int"),
    (lambda: api.convert(EXAMPLE, None), "target must be a path (str or os.PathLike), not "
     "NoneType"),
    (lambda: api.write_lines(None, [{}]), "the file to write must be a path (str or "
     "os.PathLike), not NoneType"),
    (lambda: api.write_lines("never.jsonl", b"ab"), "objects must be an iterable of JSON "
     "objects, not bytes"),
    (lambda: api.write_lines("never.jsonl", {"a": 1}), "not dict"),
])
def test_odd_arguments_to_the_python_api_are_usage_errors(call: Any, message: str) -> None:
    with pytest.raises(batchio.UsageError) as raised:
        call()
    assert raised.value.code == "invalid_argument"
    assert raised.value.message.endswith(message)
