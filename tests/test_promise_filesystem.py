"""Promise 4: no surprises on the filesystem: devices stay devices, links are followed,
modes follow the umask, temporary files never outlive a run, signals clean up."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promises import BATCHIO, leftovers, one_line_error, requests, run

from batchio import JsonlWriter, Manifest, write_lines


def test_o_dev_null_keeps_the_device(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (tmp_path / "in.jsonl").write_bytes(requests(5))
    for args in (["convert", "in.jsonl", "-o", device],
                 ["simulate", "in.jsonl", "-o", device],
                 ["join", "in.jsonl", "--results", "/dev/null", "-o", device]):
        result = run(*args, cwd=tmp_path)
        assert result.returncode in (0, 1), result.stderr
        assert stat.S_ISCHR(device.stat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_lines(fifo, [{"a": 1}, {"b": 2}])
    output, _ = reader.communicate(timeout=30)
    assert output == b'{"a":1}\n{"b":2}\n'
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_bytes(b'{"old": 1}\n')
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    write_lines(link, [{"new": 2}])
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b'{"new":2}\n'


def test_written_files_get_the_umask_mode_and_replaced_files_keep_theirs(
        tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_lines(tmp_path / "new.jsonl", [{"a": 1}])
        assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o644
        kept = tmp_path / "kept.jsonl"
        kept.write_bytes(b"{}\n")
        kept.chmod(0o640)
        write_lines(kept, [{"a": 1}])
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(previous)


def test_temporary_names_are_unique_and_a_planted_link_is_harmless(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".manifest.json.tmp").symlink_to(victim)
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    result = run("split", "in.jsonl", "--out-dir", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "keep me"
    assert not (out / "manifest.json").is_symlink()
    assert Manifest.load(out).complete


def test_build_o_is_always_one_file(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_bytes(b'{"prompt": "hi"}\n')
    for name in ("out.jsonl.gz", "out.zst", "no-suffix"):
        result = run("build", "rows.jsonl", "-o", name, "--model", "m", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / name).is_file()
    stdout = run("build", "rows.jsonl", "-o", "-", "--model", "m", cwd=tmp_path)
    assert stdout.stdout.startswith('{"custom_id":"request-0000001"')


def test_over_the_providers_limit_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_bytes(b'{"prompt": "hi"}\n')
    result = run("build", "rows.jsonl", "--out-dir", "out", "--model", "m",
                 "--max-requests", "60000", cwd=tmp_path)
    assert result.returncode == 0
    assert "--max-requests 60,000 is over OpenAI Batch API's 50,000" in result.stderr


def test_concurrent_runs_into_one_folder_one_wins_whole(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(20_000))
    runs = [subprocess.Popen([*BATCHIO, "split", "in.jsonl", "--out-dir", "out",
                              "--max-requests", "1000"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = [(process.wait(timeout=300), process.stderr.read() if process.stderr else "")
                for process in runs]
    assert sorted(code for code, _ in outcomes) == [0, 2], outcomes
    loser = next(text for code, text in outcomes if code == 2)
    assert "another batchio run is writing there" in loser or "target_exists" in loser
    manifest = Manifest.load(tmp_path / "out")
    assert manifest.complete and manifest.requests == 20_000
    assert leftovers(tmp_path) == []


@settings(max_examples=6, deadline=None)
@given(delay=st.floats(min_value=0.0, max_value=1.0),
       how=st.sampled_from([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]))
def test_a_signal_at_any_moment_leaves_whole_shards_or_no_complete_manifest(
        tmp_path_factory: pytest.TempPathFactory, delay: float, how: signal.Signals) -> None:
    import hashlib

    folder = tmp_path_factory.mktemp("signal")
    (folder / "in.jsonl").write_bytes(requests(40_000))
    process = subprocess.Popen([*BATCHIO, "split", "in.jsonl", "--out-dir", "out",
                                "--max-requests", "2000"], cwd=folder,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The moment is chosen once the run is underway (its folder claimed), not while the
    # interpreter is still starting.
    deadline = time.monotonic() + 60
    while not (folder / "out").exists() and process.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    process.send_signal(how)
    code = process.wait(timeout=120)
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in stderr
    if code != 0:
        expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[how]
        assert code == expected, stderr
    out = folder / "out"
    if how != signal.SIGKILL:
        assert leftovers(folder) == []
    if (out / "manifest.json").exists():
        manifest = Manifest.load(out)
        for shard in manifest.shards:
            data = (out / shard.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == shard.sha256
        listed = {shard.path for shard in manifest.shards}
        on_disk = {path.name for path in out.glob("requests-*.jsonl")}
        if how == signal.SIGKILL and on_disk != listed:
            # Killed between a shard's rename and the manifest's: that one shard is whole
            # but unlisted, and the manifest says the run did not finish.
            assert listed < on_disk and len(on_disk - listed) == 1
            assert not manifest.complete
        else:
            assert on_disk == listed
        if manifest.complete:
            assert manifest.requests == 40_000


def test_a_writer_killed_halfway_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    target.write_bytes(b'{"old": true}\n')
    program = (f"import batchio, sys\nw = batchio.JsonlWriter({str(target)!r})\n"
               "for i in range(10**6):\n    w.write({'n': i})\n"
               "    if i == 1000: print('halfway', flush=True)\n")
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().strip() == b"halfway"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert target.read_bytes() == b'{"old": true}\n'


def test_the_writer_refuses_a_folder(tmp_path: Path) -> None:
    from batchio import SourceError

    with pytest.raises(SourceError) as raised:
        JsonlWriter(tmp_path)
    assert raised.value.code == "unwritable_file"
    assert one_line_error(run("convert", "x", "-o", tmp_path, cwd=tmp_path))


def test_o_dev_stdout_writes_to_a_pipe_and_to_a_redirected_file(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(3))
    model = ["--model", "claude-haiku-4-5"]
    piped = run("convert", "in.jsonl", "-o", "/dev/stdout", *model, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 3
    with open(tmp_path / "captured.txt", "wb") as captured:
        done = subprocess.run([*BATCHIO, "convert", "in.jsonl", "-o", "/dev/stdout", *model],
                              cwd=tmp_path, stdout=captured, stderr=subprocess.PIPE)
    assert done.returncode == 0
    assert len((tmp_path / "captured.txt").read_bytes().splitlines()) == 3
    assert os.path.islink("/dev/stdout")


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(requests(20_000))
    done = subprocess.run(f"{sys.executable} -m batchio join in.jsonl --errors in.jsonl "
                          "| head -c 10", shell=True, cwd=tmp_path, capture_output=True,
                          text=True, executable="/bin/bash")
    assert "unwritable" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_whole_group_ends_validate_jobs_with_one_line(
        tmp_path: Path, how: signal.Signals) -> None:
    # As `timeout` or a terminal's Ctrl-C do: the command and its worker processes at once,
    # the workers idle or busy. A FIFO that nothing writes to yet holds the run open.
    (tmp_path / "a.jsonl").write_bytes(requests(2000))
    (tmp_path / "b.jsonl").write_bytes(requests(2000))
    os.mkfifo(tmp_path / "late.fifo")
    process = subprocess.Popen(
        [*BATCHIO, "validate", "--jobs", "2", "a.jsonl", "b.jsonl", "late.fifo"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    time.sleep(2)
    os.killpg(process.pid, how)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[how]
    assert stderr.splitlines() == [
        {signal.SIGTERM: "batchio: terminated", signal.SIGINT: "batchio: interrupted"}[how]]
