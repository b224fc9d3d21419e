"""The campaign ledger: rounds recorded in any order give one final table, the status
counts that table, a retry round holds what the policy says, and the ledger survives kills
and concurrent commands."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_join import batch_error, http_failure, write

import batchio
from batchio.campaign import Campaign, outcome_rank
from batchio.cli import main

FATES = ("ok", "invalid_json", "truncated", "failed_retryable", "failed_final", "expired",
         "cancelled", "missing")


def request(custom_id: str, question: str = "q") -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "response_format": {"type": "json_object"},
                     "messages": [{"role": "user", "content": question}]}}


def answer(custom_id: str, content: str, finish: str = "stop") -> dict[str, Any]:
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": f"req_{custom_id}", "body": {
                "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}},
            "error": None}


def result_line(custom_id: str, fate: str) -> dict[str, Any] | None:
    if fate == "ok":
        return answer(custom_id, '{"a": 1}')
    if fate == "invalid_json":
        return answer(custom_id, "not json")
    if fate == "truncated":
        return answer(custom_id, '{"a": ', "length")
    if fate.startswith("failed"):
        return http_failure(custom_id, *((500, "server_error") if fate == "failed_retryable"
                                         else (400, "invalid_value")))
    if fate in ("expired", "cancelled"):
        return batch_error(custom_id, f"batch_{fate}")
    return None


ROUND = st.fixed_dictionaries({
    "ids": st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True),
    "fates": st.lists(st.sampled_from(FATES), min_size=10, max_size=10),
    "changed": st.lists(st.booleans(), min_size=10, max_size=10),
    "duplicated": st.lists(st.booleans(), min_size=10, max_size=10),
})


def write_round(folder: Path, number: int, plan: dict[str, Any], rng: random.Random
                ) -> tuple[Path, list[Path]]:
    """A round's request file and its result files (shuffled, split in two)."""
    ids = [f"r{index}" for index in plan["ids"]]
    requests = write(folder / f"round{number}.jsonl", [
        request(custom_id, "changed" if plan["changed"][index] else "q")
        for index, custom_id in zip(plan["ids"], ids, strict=True)])
    lines = []
    for index, custom_id in zip(plan["ids"], ids, strict=True):
        line = result_line(custom_id, plan["fates"][index])
        if line is not None:
            lines.append(line)
            again = result_line(custom_id, FATES[(FATES.index(plan["fates"][index]) + 1) % 7])
            if plan["duplicated"][index] and again is not None:
                lines.append(again)
    order = list(range(len(lines)))
    rng.shuffle(order)
    half = len(lines) // 2
    first = write(folder / f"round{number}.output.jsonl", [lines[i] for i in order[:half]])
    second = write(folder / f"round{number}.errors.jsonl", [lines[i] for i in order[half:]])
    return requests, [first, second]


def reference(folder: Path, rounds: dict[int, tuple[Path, list[Path]]]
              ) -> dict[int, dict[str, tuple[str, str, bool]]]:
    """Each round's joined rows, by batchio's own join: id -> (status, check, retryable)."""
    joined: dict[int, dict[str, tuple[str, str, bool]]] = {}
    for number, (requests, results) in rounds.items():
        rows = batchio.join(requests, outputs=results, check_outputs=True)
        joined[number] = {row.custom_id: (row.status, row.output_check, row.retryable)
                          for row in rows}
    return joined


def plain_policy(joined: dict[int, dict[str, tuple[str, str, bool]]], policy: str
                 ) -> dict[str, tuple[int, str, str, int]]:
    """The final choice written out plainly: id -> (round, status, check, attempts)."""
    chosen: dict[str, tuple[int, str, str, int]] = {}
    ids = {custom_id for rows in joined.values() for custom_id in rows}
    for custom_id in ids:
        seen = [(number, rows[custom_id]) for number, rows in joined.items()
                if custom_id in rows]

        def goodness(item: tuple[int, tuple[str, str, bool]]) -> tuple[int, int]:
            number, (status, check, retryable) = item
            if policy == "latest":
                return (0 if status != "missing" else 1, -number)
            if status == "succeeded":
                rank = 0 if check in ("ok", "not_checked") else 1
            elif status == "failed":
                rank = 2 if retryable else 4
            elif status in ("expired", "cancelled"):
                rank = 3
            else:
                rank = 5
            return (rank, -number)

        number, (status, check, _) = min(seen, key=goodness)
        chosen[custom_id] = (number, status, check, len(seen))
    return chosen


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(ROUND, min_size=1, max_size=4), seed=st.integers(0, 2**16),
       results_first=st.booleans())
def test_any_recording_order_gives_the_policys_final_table(
        tmp_path_factory: pytest.TempPathFactory, plans: list[dict[str, Any]], seed: int,
        results_first: bool) -> None:
    folder = tmp_path_factory.mktemp("campaign")
    rng = random.Random(seed)
    rounds = {number: write_round(folder, number, plan, rng)
              for number, plan in enumerate(plans, 1)}
    joined = reference(folder, rounds)
    steps = [(number, kind) for number in rounds for kind in ("requests", "results")]
    rng.shuffle(steps)
    if results_first:
        steps.sort(key=lambda step: step[1] != "results")
    with Campaign(folder / "ledger.sqlite") as campaign:
        for number, kind in steps:
            requests, results = rounds[number]
            if kind == "requests":
                campaign.record(number, requests=[requests], check_outputs=True)
            else:
                campaign.record(number, results=results, check_outputs=True)
        for policy in ("best", "latest"):
            expected = plain_policy(joined, policy)
            table = campaign.final(policy).to_arrow().to_pylist()
            got = {row["custom_id"]: (row["round"], row["status"], row["output_check"],
                                      row["attempts"]) for row in table}
            assert len(table) == len(got) == len(expected)
            assert got == expected, policy
        best = plain_policy(joined, "best")
        status = campaign.status()
        statuses = [status for _, status, _, _ in best.values()]
        assert status.total["requests"] == len(best)
        for name in ("succeeded", "failed", "expired", "cancelled", "missing"):
            assert status.total[name] == statuses.count(name), name
        assert status.total["output_check_failed"] == sum(
            1 for _, state, check, _ in best.values()
            if state == "succeeded" and check not in ("ok", "not_checked"))
        assert status.total["owed"] == sum(
            1 for _, state, check, _ in best.values()
            if not (state == "succeeded" and check in ("ok", "not_checked")))
        retried = campaign.retry(folder / "next", overwrite=True)
        shards = [line for shard in sorted((folder / "next").glob("requests-*.jsonl"))
                  for line in shard.read_bytes().splitlines()]
        def worth(state: str, retryable: bool) -> bool:
            return state in ("expired", "cancelled", "missing") or (
                state == "failed" and retryable)

        # Retried: its best outcome is no answer, and its latest is worth resubmitting (one
        # that last failed for good would fail again).
        wanted = set()
        for custom_id, (round_number, state, _, _) in best.items():
            latest_round = max(number for number, rows in joined.items() if custom_id in rows)
            last_state, _, last_retryable = joined[latest_round][custom_id]
            if worth(state, joined[round_number][custom_id][2]) and worth(last_state,
                                                                          last_retryable):
                wanted.add(custom_id)
        assert {orjson.loads(line)["custom_id"] for line in shards} == wanted
        assert retried.requests == len(wanted)
        # status counts what retry writes, by the same rule.
        assert campaign.status().total["to_retry"] == len(wanted)
        # Each retried line is the latest round's request line, byte for byte.
        for line in shards:
            custom_id = orjson.loads(line)["custom_id"]
            latest = max(number for number, rows in joined.items() if custom_id in rows)
            assert line in rounds[latest][0].read_bytes().splitlines()


def test_outcome_rank_orders_outcomes_as_documented() -> None:
    ranked = [("succeeded", "ok", False), ("succeeded", "not_checked", False),
              ("succeeded", "schema_violation", False), ("failed", "not_checked", True),
              ("expired", "not_checked", True), ("cancelled", "not_checked", True),
              ("failed", "not_checked", False), ("missing", "not_checked", True)]
    assert [outcome_rank(*item) for item in ranked] == [0, 0, 1, 2, 3, 3, 4, 5]


def simulated_round(folder: Path, name: str, count: int, seed: int = 1,
                    **rates: Any) -> tuple[Path, Path]:
    requests = write(folder / f"{name}.jsonl", [request(f"id{i}") for i in range(count)])
    out = folder / name
    out.mkdir()
    batchio.simulate(requests, output=out / "out.jsonl", errors=out / "err.jsonl",
                     seed=seed, batch_json=out / "batch.json", **rates)
    return requests, out


def ledger_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(),
                              key=repr)
                for table in ("rounds", "files", "outcomes", "batches")}


def cli(*args: Any, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "batchio", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_recording_another_jobs_results_is_refused_with_nothing_recorded(tmp_path: Path
                                                                         ) -> None:
    requests, results = simulated_round(tmp_path, "one", 20)
    other = write(tmp_path / "other.jsonl", [request(f"x{i}") for i in range(20)])
    ledger = tmp_path / "job.ledger"
    assert cli("campaign", "record", ledger, "--round", "1", "--requests", requests,
               "--results", results).returncode == 0
    before = ledger_tables(ledger)
    # The first job's results folder, downloaded again under another name.
    copied = tmp_path / "downloads"
    shutil.copytree(results, copied)
    done = cli("campaign", "record", ledger, "--round", "2", "--requests", other,
               "--results", copied)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "results_do_not_match" in done.stderr
    assert ledger_tables(ledger) == before
    joined = cli("join", other, "--results", results, "-o", tmp_path / "j.jsonl", "--retry",
                 tmp_path / "retry.jsonl")
    assert joined.returncode == 1
    assert not (tmp_path / "j.jsonl").exists() and not (tmp_path / "retry.jsonl").exists()


def test_a_changed_file_is_refused_unless_replaced(tmp_path: Path) -> None:
    requests, results = simulated_round(tmp_path, "one", 10, failure_rate=0.5)
    ledger = tmp_path / "job.ledger"
    with Campaign(ledger) as campaign:
        first = campaign.record(1, requests=requests, results=results)
        assert first.joined and len(first.added) == 3
        again = campaign.record(1, requests=requests, results=results)
        assert not again.joined and len(again.unchanged) == 3 and not again.added
    write(results / "out.jsonl", [answer(f"id{i}", "{}") for i in range(10)])
    write(results / "err.jsonl", [])
    refused = cli("campaign", "record", ledger, "--round", "1", "--results", results)
    assert refused.returncode == 2
    assert "changed_file" in refused.stderr and str(results / "err.jsonl") in refused.stderr
    replaced = cli("campaign", "record", ledger, "--round", "1", "--results", results,
                   "--replace", "--format", "json")
    assert replaced.returncode == 0, replaced.stderr
    document = orjson.loads(replaced.stdout)
    assert document["command"] == "campaign record"
    assert document["status"]["succeeded"] == 10
    # A recorded request file that changed is refused by what reads it again.
    requests.write_bytes(requests.read_bytes() + orjson.dumps(request("late")) + b"\n")
    final = cli("campaign", "final", ledger, "-o", tmp_path / "final.jsonl")
    assert final.returncode == 2 and "changed_file" in final.stderr
    assert not (tmp_path / "final.jsonl").exists()


def test_status_warns_of_answers_paid_twice_and_changed_requests(tmp_path: Path) -> None:
    first, results = simulated_round(tmp_path, "one", 6, failure_rate=0, expire_rate=0,
                                     missing_rate=0)
    second = write(tmp_path / "two.jsonl", [request("id0"), request("id1", "other")])
    with Campaign(tmp_path / "job.ledger") as campaign:
        campaign.record(1, requests=first, results=results, batches=[results / "batch.json"])
        campaign.record(2, requests=second)
        warnings = {item["code"]: item for item in campaign.status().warnings}
        assert warnings["already_answered"]["count"] == 2
        assert warnings["changed_request"]["count"] == 1
        assert warnings["awaiting_results"]["count"] == 2
        # The ids of a round with no results are not retried yet: they may be answered.
        with pytest.warns(batchio.BatchioWarning, match="no results recorded yet"):
            retried = campaign.retry(tmp_path / "next", statuses="+succeeded")
        assert retried.awaiting_results == 2 and retried.requests == 4
    status = cli("campaign", "status", tmp_path / "job.ledger")
    assert status.returncode == 0
    assert status.stdout.splitlines()[0].startswith("6 requests: 6 succeeded")
    assert "already_answered: 2 requests answered usably" in status.stderr


def test_the_final_table_has_the_answers_cost_and_the_sum_of_attempts(tmp_path: Path
                                                                      ) -> None:
    requests, results = simulated_round(tmp_path, "one", 40, failure_rate=0.5, seed=3)
    ledger = tmp_path / "job.ledger"
    with Campaign(ledger) as campaign:
        campaign.record(1, requests=requests, results=results)
        campaign.retry(tmp_path / "two", statuses="failed")
        shard = tmp_path / "two" / "requests-00001.jsonl"
        batchio.simulate(shard, output=tmp_path / "two.out.jsonl", seed=4, failure_rate=0,
                         expire_rate=0, missing_rate=0)
        campaign.record(2, requests=tmp_path / "two", results=tmp_path / "two.out.jsonl")
        frame = campaign.final().to_pandas()
        rows = campaign.final().to_arrow().to_pylist()
    assert len(frame) == 40 and frame["custom_id"].is_unique
    assert set(frame["status"]) == {"succeeded"}
    first = {row.custom_id: row for row in batchio.join(requests, results=results)}
    price = batchio.load_prices().find("openai", "gpt-4o-mini")
    assert price is not None
    for row in rows:
        usage = batchio.TokenUsage()
        usage.add(row["input_tokens"], row["cached_tokens"], row["output_tokens"],
                  row["reasoning_tokens"])
        assert row["cost_usd"] == pytest.approx(price.cost(usage)[0])
        assert row["attempts"] == (2 if first[row["custom_id"]].status == "failed" else 1)
        assert row["total_cost_usd"] >= row["cost_usd"]
    for name in ("final.parquet", "final.csv", "final.jsonl"):
        done = cli("campaign", "final", ledger, "-o", tmp_path / name)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"wrote {tmp_path / name} (40 rows, {name[6:]}, policy best)\n"
    lines = [orjson.loads(line) for line in (tmp_path / "final.jsonl").read_bytes().splitlines()]
    assert [line["custom_id"] for line in lines] == list(frame["custom_id"])
    assert [line["round"] for line in lines] == list(frame["round"])


def _record_round(ledger: Path, number: int, requests: Path, results: Path
                  ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "batchio", "campaign", "record",
                             str(ledger), "--round", str(number), "--requests", str(requests),
                             "--results", str(results)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def big_round(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("big")
    requests, results = simulated_round(folder, "one", 60_000, failure_rate=0.2)
    simulated_round(folder, "two", 3_000)  # round two: ids of round one asked again
    return requests, results, folder


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delay=st.floats(0.05, 2.5))
def test_a_killed_record_leaves_the_ledger_as_before_or_complete(
        big_round: tuple[Path, Path, Path], tmp_path_factory: pytest.TempPathFactory,
        delay: float) -> None:
    requests, results, folder = big_round
    ledger = tmp_path_factory.mktemp("kill") / "job.ledger"
    with Campaign(ledger) as campaign:
        campaign.record(2, requests=folder / "two.jsonl", results=folder / "two")
    before = ledger_tables(ledger)
    process = _record_round(ledger, 1, requests, results)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after = ledger_tables(ledger)
    round_one = [row for row in after["outcomes"] if row[0] == 1]
    if after == before:
        return
    assert len(round_one) == 60_000
    assert sorted(row[2] for row in after["files"] if row[1] == 1) == [
        "requests", "results", "results"]
    with Campaign(ledger) as campaign:
        assert campaign.status().total["requests"] == 60_000


def test_two_records_at_once_are_serialised(big_round: tuple[Path, Path, Path],
                                            tmp_path: Path) -> None:
    requests, results, folder = big_round
    ledger = tmp_path / "job.ledger"
    first = _record_round(ledger, 1, requests, results)
    time.sleep(0.2)
    second = _record_round(ledger, 2, folder / "two.jsonl", folder / "two")
    outcomes = [(process.wait(120), process.stderr.read().decode())  # type: ignore[union-attr]
                for process in (first, second)]
    for status, stderr in outcomes:
        assert status == 0 or (status == 2 and "ledger_busy" in stderr), stderr
    with Campaign(ledger, create=False) as campaign:
        report = campaign.status()
    counts = {item.round: item.counts["requests"] for item in report.rounds}
    assert counts == {number: size for number, size, (status, _) in
                      zip((1, 2), (60_000, 3_000), outcomes, strict=True) if status == 0}
    # Round two asks again for ids of round one (id0 to id2999).
    assert report.total["requests"] == (60_000 if outcomes[0][0] == 0 else 3_000)


def test_a_file_that_is_no_ledger_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    done = cli("campaign", "status", tmp_path / "notes.txt")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a campaign ledger" in done.stderr
    absent = cli("campaign", "status", tmp_path / "absent.ledger")
    assert absent.returncode == 2 and "no campaign ledger" in absent.stderr
    assert not (tmp_path / "absent.ledger").exists()
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_record_needs_something_to_record(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["campaign", "record", str(tmp_path / "l"), "--round",
                                       "1"])
    assert result.exit_code == 2
    assert "nothing to record" in result.stderr
    assert not (tmp_path / "l").exists()


def test_results_read_by_the_wrong_provider_are_refused_not_recorded_as_failures(
        tmp_path: Path) -> None:
    requests, results = simulated_round(tmp_path, "one", 10)
    ledger = tmp_path / "job.ledger"
    done = cli("campaign", "record", ledger, "--round", "1", "--requests", requests,
               "--results", results, "--provider", "anthropic")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "none of the 10 result lines of " in done.stderr
    assert " could be read as Anthropic" in done.stderr
    assert "nothing is recorded for round 1: are they another provider's?" in done.stderr
    with Campaign(ledger) as campaign:
        assert campaign.rounds() == [] and campaign.status().total["requests"] == 0


def test_a_ledger_that_cannot_be_written_is_one_line_and_exit_3(tmp_path: Path) -> None:
    from promises import small_filesystem

    requests, results = simulated_round(tmp_path, "one", 10)
    second, second_results = simulated_round(tmp_path, "two", 10, seed=2)
    with small_filesystem("4m") as disk:
        ledger = disk / "job.ledger"
        done = cli("campaign", "record", ledger, "--round", "1", "--requests", requests,
                   "--results", results)
        assert done.returncode == 0, done.stderr
        before = ledger_tables(ledger)
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        done = cli("campaign", "record", ledger, "--round", "2", "--requests", second,
                   "--results", second_results, "--format", "json")
        assert done.returncode == 3, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
        assert done.stderr.startswith(f"batchio: {ledger}: unwritable_file: ")
        assert orjson.loads(done.stdout)["error"]["code"] == "unwritable_file"
        made = cli("campaign", "record", disk / "new.ledger", "--round", "1", "--requests",
                   requests)
        assert made.returncode == 3 and ": unwritable_file: cannot make the campaign " \
            "ledger" in made.stderr
        assert subprocess.run(["mount", "-o", "remount,rw", str(disk)]).returncode == 0
        assert ledger_tables(ledger) == before


def test_commands_making_one_new_ledger_at_once_all_record(tmp_path: Path) -> None:
    rounds = [simulated_round(tmp_path, f"r{n}", 5, seed=n) for n in range(1, 5)]
    for attempt in range(3):
        ledger = tmp_path / f"job{attempt}.ledger"
        running = [subprocess.Popen(
            [sys.executable, "-m", "batchio", "campaign", "record", str(ledger), "--round",
             str(n), "--requests", str(requests), "--results", str(results)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n, (requests, results) in enumerate(rounds, 1)]
        for process in running:
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr
        with Campaign(ledger) as campaign:
            assert campaign.rounds() == [1, 2, 3, 4]


def test_retry_never_replaces_or_removes_a_file_the_ledger_records(tmp_path: Path) -> None:
    batchio.split(write(tmp_path / "all.jsonl", [request(f"id{i}") for i in range(30)]),
                  tmp_path / "round1", max_requests=10)
    batchio.simulate(tmp_path / "round1" / "requests-00001.jsonl",
                     output=tmp_path / "out.jsonl", seed=3, failure_rate=0.5)
    ledger = tmp_path / "job.ledger"
    done = cli("campaign", "record", ledger, "--round", "1", "--requests",
               tmp_path / "round1", "--results", tmp_path / "out.jsonl")
    assert done.returncode == 0, done.stderr
    # Round 2 asks again what round 1 left: the next retry reads round 2's files only.
    assert cli("campaign", "retry", ledger, "--out-dir", tmp_path / "round2").returncode == 0
    assert cli("campaign", "record", ledger, "--round", "2", "--requests",
               tmp_path / "round2").returncode == 0
    shards = {path.name: path.read_bytes() for path in (tmp_path / "round1").iterdir()}
    done = cli("campaign", "retry", ledger, "--out-dir", tmp_path / "round1", "--overwrite")
    assert done.returncode == 2
    assert ": same_file: " in done.stderr and done.stderr.count("\n") == 1
    assert {path.name: path.read_bytes() for path in (tmp_path / "round1").iterdir()} == shards


def test_a_result_file_edited_in_place_is_refused_by_final_and_retry(tmp_path: Path) -> None:
    requests, results = simulated_round(tmp_path, "one", 20, failure_rate=0.3,
                                        expire_rate=0.0, missing_rate=0.0)
    ledger = tmp_path / "job.ledger"
    assert cli("campaign", "record", ledger, "--round", "1", "--requests", requests,
               "--results", results).returncode == 0
    # Touched, not changed: still the file recorded.
    os.utime(results / "out.jsonl")
    os.utime(requests)
    assert cli("campaign", "final", ledger, "-o", tmp_path / "final.jsonl").returncode == 0
    # The same size, another answer: a success turned into a server error.
    output = results / "out.jsonl"
    output.write_bytes(output.read_bytes().replace(b'"status_code":200', b'"status_code":500',
                                                   1))
    done = cli("campaign", "final", ledger, "-o", tmp_path / "final2.jsonl")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"batchio: {output}: changed_file: {output} changed since it was "
                           "recorded (its bytes, not its size): record it again with "
                           "--replace\n")
    assert not (tmp_path / "final2.jsonl").exists()
    # Request files are checked before retry reads them.
    assert cli("campaign", "retry", ledger, "--out-dir", tmp_path / "round2").returncode == 0
    requests.write_bytes(requests.read_bytes().replace(b'"id0"', b'"ix0"', 1))
    done = cli("campaign", "retry", ledger, "--out-dir", tmp_path / "round3")
    assert done.returncode == 2 and done.stderr == (
        f"batchio: {requests}: changed_file: {requests} changed since it was recorded (its "
        "bytes, not its size): record it again with --replace\n")


def test_a_round_of_two_providers_is_refused_not_recorded_as_failures(tmp_path: Path
                                                                      ) -> None:
    """Half a round sent to Anthropic: its results, read as OpenAI's, would be failed for
    good (answers paid for, never counted, never retried). Refused, naming the file."""
    openai = write(tmp_path / "a.jsonl", [request(f"a{i}") for i in range(20)])
    other = write(tmp_path / "b_openai.jsonl", [
        {**request(f"b{i}"), "body": {"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "q"}]}} for i in range(20)])
    batchio.convert(other, tmp_path / "b.jsonl", to_provider="anthropic",
                    model="claude-haiku-4-5")
    results = tmp_path / "res"
    results.mkdir()
    batchio.simulate(openai, output=results / "a.output.jsonl", seed=1)
    batchio.simulate(tmp_path / "b.jsonl", output=results / "b.results.jsonl", seed=2,
                     provider="anthropic")
    ledger = tmp_path / "job.ledger"
    done = cli("campaign", "record", ledger, "--round", "1", "--requests", openai,
               "--requests", tmp_path / "b.jsonl", "--results", results)
    assert done.returncode == 1, done.stderr
    assert f"none of the 20 result lines of {results / 'b.results.jsonl'} could be read as " \
           "OpenAI Batch API results" in done.stderr
    with Campaign(ledger) as campaign:
        assert campaign.rounds() == []
    joined = cli("join", openai, tmp_path / "b.jsonl", "--results", results, "-o",
                 tmp_path / "j.jsonl", "--retry", tmp_path / "retry.jsonl")
    assert joined.returncode == 1 and ": results_do_not_match: " in joined.stderr
    assert not (tmp_path / "j.jsonl").exists() and not (tmp_path / "retry.jsonl").exists()


def _running(batch_json: Path, target: Path) -> Path:
    """The Batch object of ``batch_json`` as it was while it ran."""
    batch = orjson.loads(batch_json.read_bytes())
    batch.update(status="in_progress", output_file_id=None, error_file_id=None,
                 completed_at=None, finalizing_at=None, expired_at=None)
    batch["request_counts"].update(completed=0, failed=0)
    target.write_bytes(orjson.dumps(batch))
    return target


def test_requests_of_a_batch_still_running_are_not_retried(tmp_path: Path) -> None:
    first, first_results = simulated_round(tmp_path, "one", 20, failure_rate=0.3)
    second = write(tmp_path / "two.jsonl", [request(f"other{i}") for i in range(20)])
    second_results = tmp_path / "two"
    second_results.mkdir()
    batchio.simulate(second, output=second_results / "out.jsonl",
                     errors=second_results / "err.jsonl", seed=2, failure_rate=0.3,
                     batch_json=second_results / "batch.json")
    early = _running(second_results / "batch.json", tmp_path / "two-running.json")
    ledger = tmp_path / "job.ledger"
    with Campaign(ledger) as campaign:
        # Batch two still runs: only batch one's results are downloaded.
        campaign.record(1, requests=[first, second],
                        results=[first_results / "out.jsonl", first_results / "err.jsonl"],
                        batches=[first_results / "batch.json", early])
        with pytest.warns(batchio.BatchioWarning, match="20 requests are left out: .* a batch "
                          "still running") as said:
            retry = campaign.retry(tmp_path / "round2")
        assert [w.message.code for w in said
                if isinstance(w.message, batchio.BatchioWarning)] == ["awaiting_results"]
        # What batch one left is retried; nothing of batch two.
        retried = {orjson.loads(line)["custom_id"] for path in (tmp_path / "round2").glob(
            "requests-*.jsonl") for line in path.read_bytes().splitlines()}
        assert retry.requests == len(retried) > 0
        assert all(custom_id.startswith("id") for custom_id in retried)
        assert any(w["code"] == "awaiting_results" and "still running" in w["message"]
                   for w in campaign.status().warnings)
        # Batch two ends: its results, and its Batch object given before the earlier look.
        campaign.record(1, results=[second_results / "out.jsonl", second_results / "err.jsonl"],
                        batches=[second_results / "batch.json", early])
        assert [batch["status"] for batch in campaign.status().rounds[0].batches] == [
            "completed", "completed"]
        with warnings.catch_warnings():
            warnings.simplefilter("error", batchio.BatchioWarning)
            campaign.retry(tmp_path / "round2b")


def test_a_request_with_a_number_past_64_bits_is_recorded(tmp_path: Path) -> None:
    line = request("big")
    line["body"]["max_tokens"] = 0
    requests = tmp_path / "big.jsonl"
    requests.write_bytes(orjson.dumps(line).replace(b'"max_tokens":0', b'"max_tokens":' + b"9" * 30)
                         + b"\n")
    done = cli("campaign", "record", tmp_path / "job.ledger", "--round", "1", "--requests",
               requests, "--format", "json")
    assert done.returncode == 0, done.stderr
    with Campaign(tmp_path / "job.ledger") as campaign:
        assert campaign.status().total["requests"] == 1


def test_a_request_file_that_gives_its_lines_once_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "requests.jsonl"
    os.mkfifo(fifo)
    with Campaign(tmp_path / "job.ledger") as campaign:
        with pytest.raises(batchio.UsageError, match="gives its lines once"):
            campaign.record(1, requests=fifo)
        assert campaign.rounds() == []


def test_status_reads_one_state_of_the_ledger_while_another_command_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, first_results = simulated_round(tmp_path, "one", 20)
    second = write(tmp_path / "two.jsonl", [request(f"other{i}") for i in range(30)])
    ledger = tmp_path / "job.ledger"
    with Campaign(ledger) as campaign:
        campaign.record(1, requests=first, results=first_results)
    reading = Campaign(ledger)
    real = Campaign._round_status
    recorded: list[int] = []

    def round_status(self: Campaign, round: int) -> Any:
        if not recorded:
            # Another command records round 2 while this one reads round 1.
            recorded.append(2)
            with Campaign(ledger) as other:
                other.record(2, requests=second)
        return real(self, round)

    monkeypatch.setattr(Campaign, "_round_status", round_status)
    with reading:
        report = reading.status()
    assert recorded == [2]
    assert [item.round for item in report.rounds] == [1]
    assert report.total["requests"] == 20 and report.total["attempts"] == 20
    with Campaign(ledger) as campaign:
        assert campaign.status().total["requests"] == 50


def test_a_retry_over_rounds_of_two_request_shapes_is_refused(tmp_path: Path) -> None:
    """Round 2 sent what round 1 left to Anthropic: what both still owe cannot go in one
    shard."""
    plain = [{**request(f"id{i}"), "body": {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "q"}]}} for i in range(20)]
    first = write(tmp_path / "one.jsonl", plain)
    batchio.simulate(first, output=tmp_path / "one.out.jsonl", seed=1, failure_rate=0.0,
                     expire_rate=0.5, missing_rate=0.0)
    with Campaign(tmp_path / "job.ledger") as campaign:
        campaign.record(1, requests=first, results=tmp_path / "one.out.jsonl")
        owed = campaign.retry(tmp_path / "round2")
        assert 0 < owed.requests < 20
        [shard] = owed.manifest.shards
        batchio.convert(tmp_path / "round2" / shard.path, tmp_path / "two.jsonl",
                        to_provider="anthropic", model="claude-haiku-4-5")
        # Round 2 sends one of them to Anthropic; the others are still round 1's to ask.
        converted = (tmp_path / "two.jsonl").read_bytes().splitlines(keepends=True)
        (tmp_path / "two.jsonl").write_bytes(converted[0])
        campaign.record(2, requests=tmp_path / "two.jsonl", results=write(
            tmp_path / "two.out.jsonl", []))
        with pytest.raises(batchio.UsageError, match="last asked in rounds of Anthropic "
                           "Message Batches and OpenAI Batch API, whose request lines "
                           "differ"):
            campaign.retry(tmp_path / "round3")
        assert not (tmp_path / "round3").exists()


def test_a_folder_given_as_batch_objects_stands_for_those_in_it(tmp_path: Path) -> None:
    batchio.split(write(tmp_path / "all.jsonl", [request(f"id{i}") for i in range(30)]),
                  tmp_path / "shards", max_requests=10)
    simulated = CliRunner().invoke(main, ["simulate", str(tmp_path / "shards"), "--out-dir",
                                          str(tmp_path / "results")])
    assert simulated.exit_code == 0, simulated.output
    ledger = tmp_path / "job.ledger"
    done = cli("campaign", "record", ledger, "--round", "1", "--requests",
               tmp_path / "shards", "--results", tmp_path / "results", "--batch",
               tmp_path / "results")
    assert done.returncode == 0, done.stderr
    with Campaign(ledger) as campaign:
        batches = campaign.status().rounds[0].batches
        assert len(batches) == 3 and {batch["status"] for batch in batches} == {"completed"}
    (tmp_path / "none").mkdir()
    done = cli("campaign", "record", ledger, "--round", "1", "--batch", tmp_path / "none")
    assert done.returncode == 2
    assert done.stderr == (f"batchio: {tmp_path / 'none'}: invalid_argument: no Batch object "
                           f"(*.batch.json, manifest.json.out) in {tmp_path / 'none'}\n")
