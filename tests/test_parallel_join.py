"""The join in several processes writes what one pass writes: rows, retry lines, summary, and
the same error where one pass fails."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_join import batch_error, http_failure, request, succeeded, write

import batchio
from batchio import BatchioError, DuplicateIdError, write_join
from batchio.cli import main

MAKERS = {
    "succeeded": succeeded,
    "failed": lambda cid: http_failure(cid, 500, "server_error"),
    "expired": lambda cid: batch_error(cid, "batch_expired"),
}


def answered_with_usage(custom_id: str) -> dict[str, Any]:
    line = succeeded(custom_id)
    line["response"]["body"]["usage"] = {"prompt_tokens": 7, "completion_tokens": 3,
                                         "total_tokens": 10}
    line["response"]["body"]["model"] = "gpt-4o-mini-2024-07-18"
    return line


def outcome(folder: Path, inputs: list[Path], outputs: list[Path], errors: list[Path],
            kind: str, workers: int, columns: list[str] | None = None) -> tuple[Any, ...]:
    """What write_join leaves: the joined file, the retry file and the summary; or the
    error it raised (and that no file was left)."""
    target = folder / f"joined-{workers}.{kind}"
    retry = folder / f"retry-{workers}.jsonl"
    result = batchio.join(inputs, outputs=outputs, errors=errors, check_outputs=True)
    try:
        rows = write_join(result, target, retry=retry, workers=workers, columns=columns)
    except BatchioError as exc:
        assert not target.exists() and not retry.exists()
        return ("error", type(exc).__name__, exc.code, str(exc))
    if kind == "parquet":
        written: Any = pq.read_table(target).to_pylist()
    else:
        written = target.read_bytes()
    return rows, written, retry.read_bytes(), result.summary.to_dict(), [
        problem.to_dict() for problem in result.summary.problems]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fates=st.lists(st.sampled_from([*MAKERS, "usage", "missing", "unreadable"]), min_size=1,
                   max_size=40),
    files=st.integers(min_value=1, max_value=3),
    repeated=st.none() | st.tuples(st.integers(0, 39), st.integers(0, 39)),
    blank_every=st.integers(min_value=0, max_value=7),
    orphans=st.integers(min_value=0, max_value=2),
    workers=st.integers(min_value=2, max_value=4),
    # .gz: the workers' lines are copied through Python, not by the kernel.
    kind=st.sampled_from(["jsonl", "parquet", "jsonl.gz"]),
    columns=st.none() | st.just(["status", "custom_id", "request_line", "response"]),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_join_in_ranges_writes_what_one_pass_writes(
        tmp_path_factory: pytest.TempPathFactory, fates: list[str], files: int,
        repeated: tuple[int, int] | None, blank_every: int, orphans: int, workers: int,
        kind: str, columns: list[str] | None, seed: int) -> None:
    folder = tmp_path_factory.mktemp("ranges")
    rng = random.Random(seed)
    ids = [f"req-{i}" for i in range(len(fates))]
    if repeated is not None and max(repeated) < len(ids) and repeated[0] != repeated[1]:
        ids[repeated[1]] = ids[repeated[0]]  # one id used by two inputs
    lines = [orjson.dumps(request(cid, "x" * rng.randint(0, 300))) + b"\n" for cid in ids]
    if blank_every:
        lines = [line + (b"\n" if i % blank_every == 0 else b"") for i, line in
                 enumerate(lines)]
    inputs = []
    for number in range(files):
        path = folder / f"in-{number}.jsonl"
        path.write_bytes(b"".join(lines[number::files]))
        inputs.append(path)
    results: list[bytes] = []
    for cid, fate in zip(ids, fates, strict=True):
        if fate == "missing":
            continue
        if fate == "unreadable":
            results.append(b'{"custom_id": "' + cid.encode() + b'", "response": {"status\n')
        else:
            maker = answered_with_usage if fate == "usage" else MAKERS[fate]
            results.append(orjson.dumps(maker(cid)) + b"\n")
    results += [orjson.dumps(succeeded(f"orphan-{i}")) + b"\n" for i in range(orphans)]
    rng.shuffle(results)
    output = folder / "output.jsonl"
    output.write_bytes(b"".join(results))

    one = outcome(folder, inputs, [output], [], kind, 1, columns)
    many = outcome(folder, inputs, [output], [], kind, workers, columns)
    assert many == one


def test_a_spool_copied_short_is_an_error_not_a_shorter_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The joined lines are copied without being read: the bytes copied must be the bytes
    # the worker says it spooled, or the join fails and leaves no file.
    ids = [f"req-{i}" for i in range(300)]
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids])
    copy_lines = batchio.table.JoinedSink.copy_lines

    def one_byte_short(sink: Any, source: int, start: int, length: int) -> int:
        return int(copy_lines(sink, source, start, length - 1)) if length > 1 else 0

    monkeypatch.setattr(batchio.table.JoinedSink, "copy_lines", one_byte_short)
    result = batchio.join(inputs, outputs=[output])
    with pytest.raises(BatchioError) as raised:
        write_join(result, tmp_path / "joined.jsonl", workers=2)
    assert raised.value.code == "worker_failed"
    assert "bytes" in str(raised.value)
    assert not (tmp_path / "joined.jsonl").exists()


def test_an_id_used_in_two_ranges_is_the_error_one_pass_raises(tmp_path: Path) -> None:
    ids = [f"req-{i}" for i in range(200)]
    ids[150] = ids[20]  # answered: the second use claims a claimed result
    ids[180] = "never"
    ids[190] = "never"  # unanswered twice, in the last range
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids if cid != "never"])
    messages = []
    for workers in (1, 2, 3):
        result = batchio.join(inputs, outputs=[output])
        with pytest.raises(DuplicateIdError) as raised:
            write_join(result, tmp_path / "joined.jsonl", workers=workers)
        messages.append((str(raised.value), raised.value.line))
        assert not (tmp_path / "joined.jsonl").exists()
    assert messages[0][1] == 151
    assert messages == [messages[0]] * 3


def test_the_workers_leave_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    ids = [f"req-{i}" for i in range(300)]
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids[:250]])
    result = batchio.join(inputs, outputs=[output])
    assert write_join(result, tmp_path / "joined.parquet", workers=3) == 300
    assert result.summary.counts["missing"] == 50
    assert list(spool.iterdir()) == []
    # A bad input line in the last range: the error, and still nothing left.
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(inputs.read_bytes() + b'{"custom_id": "req-x", "body": \n')
    with pytest.raises(batchio.LineError) as raised:
        write_join(batchio.join(broken, outputs=[output]), tmp_path / "b.parquet", workers=3)
    assert (raised.value.code, raised.value.line) == ("invalid_json_line", 301)
    assert list(spool.iterdir()) == []
    assert not (tmp_path / "b.parquet").exists()


def test_join_jobs_on_the_command_line(tmp_path: Path) -> None:
    ids = [f"req-{i}" for i in range(500)]
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids[::2]])
    written = {}
    for jobs in ("1", "2"):
        done = CliRunner().invoke(main, [
            "join", str(inputs), "--results", str(output), "-o",
            str(tmp_path / f"joined-{jobs}.jsonl"), "--retry", str(tmp_path / f"r-{jobs}.jsonl"),
            "--jobs", jobs, "--format", "json"])
        assert done.exit_code == 0, done.output
        summary = orjson.loads(done.output)
        assert (summary["inputs"], summary["succeeded"], summary["missing"]) == (500, 250, 250)
        written[jobs] = ((tmp_path / f"joined-{jobs}.jsonl").read_bytes(),
                         (tmp_path / f"r-{jobs}.jsonl").read_bytes())
    assert written["1"] == written["2"]
    assert written["2"][1].count(b"\n") == 250
    done = CliRunner().invoke(main, ["join", str(inputs), "--results", str(output), "--jobs",
                                     "0"])
    assert done.exit_code == 2
    assert "--jobs" in done.output


def test_workers_must_be_a_whole_number(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a")])
    output = write(tmp_path / "out.jsonl", [succeeded("a")])
    with pytest.raises(batchio.UsageError, match="workers must be a whole number"):
        write_join(batchio.join(inputs, outputs=[output]), tmp_path / "j.jsonl", workers=0)


@pytest.mark.parametrize(("signal_number", "times"), [
    (signal.SIGTERM, 1), (signal.SIGINT, 1),
    # A shell's Ctrl-C, or timeout, signals the process group as well as batchio: a second
    # signal while the first one's cleanup runs must not leave the spools behind.
    (signal.SIGINT, 2), (signal.SIGTERM, 2)])
def test_a_signal_mid_join_leaves_no_file_no_worker_no_traceback(
        tmp_path: Path, signal_number: signal.Signals, times: int) -> None:
    rng = random.Random(7)
    ids = [f"req-{i}" for i in range(120_000)]
    inputs = tmp_path / "in.jsonl"
    inputs.write_bytes(b"".join(orjson.dumps(request(cid, "y" * rng.randint(50, 400))) + b"\n"
                                for cid in ids))
    rng.shuffle(ids)
    output = tmp_path / "out.jsonl"
    output.write_bytes(b"".join(orjson.dumps(succeeded(cid)) + b"\n" for cid in ids))
    spool = tmp_path / "spool"
    spool.mkdir()
    target = tmp_path / "joined.parquet"
    process = subprocess.Popen(
        [sys.executable, "-m", "batchio", "join", str(inputs), "--results", str(output), "-o",
         str(target), "--jobs", "2", "--check-outputs"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(spool)})
    # Signalled once the workers have started (their spool folder is there: not any entry,
    # since finding the temporary folder writes and removes a probe file in it first).
    deadline = time.monotonic() + 120

    def spooling() -> bool:
        return any(path.name.startswith("batchio-join-parts-") for path in spool.iterdir())

    while not spooling() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if not spooling():
        # Say why, where it recurs: the join ended early (its exit status and message),
        # or is still reading (none).
        ended = process.poll()
        process.kill()
        _, stderr = process.communicate(timeout=60)
        raise AssertionError(f"the join did not start its workers: exit {ended}, "
                             f"{stderr.decode(errors='replace')[-2000:]}")
    time.sleep(0.3)
    for _ in range(times):
        process.send_signal(signal_number)
        time.sleep(0.005)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[signal_number]
    assert b"Traceback" not in stderr
    assert not target.exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("joined")] == []
    assert list(spool.iterdir()) == []


def test_estimate_by_several_processes_is_the_same_report(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    batchio.split(examples / "chat_requests.jsonl", tmp_path / "shards", max_requests=3)
    paths = [tmp_path / "shards", examples / "embeddings_requests.jsonl",
             examples / "anthropic_requests.jsonl"]
    one = batchio.estimate(paths, workers=1)
    assert len(one.files) == 6
    assert batchio.estimate(paths, workers=3).to_dict() == one.to_dict()
    outputs = [CliRunner().invoke(main, ["estimate", *map(str, paths), "--jobs", jobs,
                                         "--format", "json"]).output for jobs in ("1", "2")]
    assert outputs[0] == outputs[1]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"custom_id": "a", "body": {}}\n{not json\n')
    failed = [CliRunner().invoke(main, ["estimate", *map(str, paths), str(bad), "--jobs",
                                        jobs]) for jobs in ("1", "2")]
    assert [result.exit_code for result in failed] == [2, 2]
    assert failed[0].output == failed[1].output
    assert failed[0].output.startswith(f"batchio: {bad}:2: invalid_json_line:")


def test_a_spool_that_appears_and_ends_between_two_looks_is_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # This process is held up right after seeing no spool yet, long enough for the worker
    # to write its whole range and its part: the spool must still be read, every row.
    ids = [f"req-{i}" for i in range(200)]
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids])
    parent, exists = os.getpid(), os.path.exists

    def late(path: Any) -> bool:
        found = exists(path)
        if not found and str(path).endswith(".rows") and os.getpid() == parent:
            time.sleep(0.3)
        return found

    monkeypatch.setattr(os.path, "exists", late)
    for kind in ("jsonl", "parquet"):
        result = batchio.join(inputs, outputs=[output])
        target = tmp_path / f"joined.{kind}"
        assert write_join(result, target, workers=2) == 200
        assert result.summary.inputs == 200
        rows = (target.read_bytes().count(b"\n") if kind == "jsonl"
                else pq.read_table(target).num_rows)
        assert rows == 200


def test_write_join_refuses_what_would_lose_data(tmp_path: Path) -> None:
    ids = [f"req-{i}" for i in range(20)]
    inputs = write(tmp_path / "in.jsonl", [request(cid) for cid in ids])
    output = write(tmp_path / "out.jsonl", [succeeded(cid) for cid in ids])
    before = (inputs.read_bytes(), output.read_bytes())
    for target, retry in ((inputs, None), (tmp_path / "j.jsonl", output),
                          (output, tmp_path / "r.jsonl")):
        for workers in (1, 2):
            with pytest.raises(batchio.UsageError) as raised:
                write_join(batchio.join(inputs, outputs=[output]), target, retry=retry,
                           workers=workers)
            assert raised.value.code == "same_file"
    assert (inputs.read_bytes(), output.read_bytes()) == before
    # A Join some of whose rows were read is refused, not written short.
    partly = batchio.join(inputs, outputs=[output])
    next(iter(partly))
    with pytest.raises(batchio.JoinError) as refused:
        write_join(partly, tmp_path / "short.jsonl", workers=2)
    assert refused.value.code == "join_not_read"
    assert not (tmp_path / "short.jsonl").exists()
    with pytest.raises(batchio.UsageError):
        batchio.join(inputs, results=[tmp_path])  # type: ignore[arg-type]


def test_a_result_id_that_is_not_utf8_is_a_reported_line(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in.jsonl", [request("a"), request("b")])
    output = tmp_path / "out.jsonl"
    output.write_bytes(orjson.dumps(succeeded("a")) + b"\n"
                       + orjson.dumps(succeeded("b")).replace(b'"b"', b'"\xff b"', 1) + b"\n")
    for workers in (1, 2):
        result = batchio.join(inputs, outputs=[output])
        write_join(result, tmp_path / f"j{workers}.jsonl", workers=workers)
        assert [(p.code, p.line) for p in result.summary.problems] == [("invalid_utf8", 2)]
        assert result.summary.counts["missing"] == 1
