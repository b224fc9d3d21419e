"""Simulated results: provider-shaped, deterministic, and consistent with the Batch object."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import (
    PROVIDERS,
    Batch,
    RequestWriter,
    get_profile,
    join,
    load_batches,
    read_lines,
    simulate,
    write_retry,
)
from batchio._cli_input import prompt_body
from batchio.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHAT = EXAMPLES / "chat_requests.jsonl"


def test_bodies_are_shaped_like_the_endpoint(tmp_path: Path) -> None:
    result = simulate(CHAT, output=tmp_path / "out.jsonl", errors=tmp_path / "err.jsonl",
                      failure_rate=0.0)
    lines = [line.value for line in read_lines(tmp_path / "out.jsonl")]
    assert len(lines) == 12 and result.counts["succeeded"] == 12
    body = lines[0]["response"]["body"]
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert lines[0]["error"] is None and lines[0]["id"].startswith("batch_req_")


def test_embeddings_have_the_models_dimension(tmp_path: Path) -> None:
    simulate(EXAMPLES / "embeddings_requests.jsonl", output=tmp_path / "out.jsonl",
             errors=tmp_path / "err.jsonl", failure_rate=0.0, shuffle=False)
    first, second = [line.value for line in read_lines(tmp_path / "out.jsonl")][:2]
    assert [len(item["embedding"]) for item in first["response"]["body"]["data"]] == [
        1536, 1536]
    assert len(second["response"]["body"]["data"]) == 1


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    def run(name: str) -> bytes:
        simulate(CHAT, output=tmp_path / f"{name}-out.jsonl", errors=tmp_path / f"{name}.jsonl",
                 seed=42, failure_rate=0.3, expire_rate=0.2)
        return (tmp_path / f"{name}-out.jsonl").read_bytes() + (
            tmp_path / f"{name}.jsonl").read_bytes()

    assert run("a") == run("b")


def test_anthropic_writes_one_results_file(tmp_path: Path) -> None:
    result = simulate(EXAMPLES / "anthropic_requests.jsonl", output=tmp_path / "results.jsonl",
                      provider="anthropic", failure_rate=0.5, seed=3)
    assert result.errors is None
    types = {line.value["result"]["type"] for line in read_lines(tmp_path / "results.jsonl")}
    assert types <= {"succeeded", "errored"} and "errored" in types
    rows = list(join(EXAMPLES / "anthropic_requests.jsonl", outputs=tmp_path / "results.jsonl",
                     provider="anthropic"))
    assert sum(row.status == "failed" for row in rows) == result.counts["failed"]


def test_rates_over_one_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        simulate(CHAT, output=tmp_path / "o.jsonl", failure_rate=0.7, expire_rate=0.5)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**31),
       rates=st.lists(st.floats(min_value=0, max_value=0.25), min_size=4, max_size=4))
def test_join_accounts_for_every_simulated_request(
        tmp_path_factory: pytest.TempPathFactory, seed: int, rates: list[float]) -> None:
    folder = tmp_path_factory.mktemp("sim")
    fail, expire, cancel, missing = rates
    result = simulate(CHAT, output=folder / "out.jsonl", errors=folder / "err.jsonl",
                      seed=seed, failure_rate=fail, expire_rate=expire, cancel_rate=cancel,
                      missing_rate=missing, batch_json=folder / "batch.json")
    joined = join(CHAT, outputs=folder / "out.jsonl", errors=folder / "err.jsonl")
    rows = list(joined)
    assert len(rows) == len({row.custom_id for row in rows}) == 12
    summary = joined.summary
    assert summary.counts == result.counts
    assert not summary.orphans and not summary.duplicates
    batch = Batch.from_dict((folder / "batch.json").read_bytes())
    assert batch.request_counts is not None
    assert batch.request_counts.total == summary.inputs
    # A missing request is one the server counted whose line is not in the files.
    assert batch.request_counts.completed == (summary.counts["succeeded"]
                                              + summary.counts["missing"])
    assert batch.request_counts.failed == (summary.counts["failed"] + summary.counts["expired"]
                                           + summary.counts["cancelled"])
    assert batch.check() == []
    cross = batch.reconcile(output=folder / "out.jsonl", errors=folder / "err.jsonl")
    assert cross.ok == (summary.counts["missing"] == 0)
    assert [p.param for p in cross.problems] == (
        ["request_counts.completed"] if summary.counts["missing"] else [])


def test_simulate_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "simulate", str(CHAT), "-o", str(tmp_path / "out.jsonl"), "--errors",
        str(tmp_path / "err.jsonl"), "--seed", "1", "--fail", "0.25", "--expire", "0",
        "--batch-json", str(tmp_path / "batch.json"), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    assert result.stderr == ("batchio: warning: simulate --errors is now --out-dir, which "
                             "names the output and error files\n")
    assert document["warnings"] == [{"code": "deprecated_option", "message": (
        "simulate --errors is now --out-dir, which names the output and error files")}]
    assert sum(document["counts"].values()) == 12
    assert document["batch"]["status"] == "completed"
    bad = CliRunner().invoke(main, ["simulate", str(CHAT), "-o", str(tmp_path / "o"),
                                    "--fail", "0.9", "--expire", "0.9"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_simulated_joins_and_reads_back_its_own_batch_object(
        tmp_path: Path, provider: str) -> None:
    profile = get_profile(provider)
    requests = tmp_path / "in.jsonl"
    with RequestWriter(requests, provider=provider) as writer:
        for number in range(200):
            writer.add(prompt_body(profile, profile.default_endpoint, model="model-a",
                                   prompt=f"question {number}", system=None,
                                   max_tokens=20))
    errors = tmp_path / "err.jsonl" if not profile.one_result_file else None
    result = simulate(requests, output=tmp_path / "out.jsonl", errors=errors, seed=3,
                      failure_rate=0.2, expire_rate=0.2, cancel_rate=0.2, missing_rate=0.1,
                      batch_json=tmp_path / "batch.json", provider=provider)
    joined = join(requests, outputs=tmp_path / "out.jsonl", errors=errors or (),
                  provider=provider)
    retry = write_retry(joined, tmp_path / "retry.jsonl")
    assert joined.summary.counts == result.counts
    assert retry >= result.counts["expired"] + result.counts["cancelled"] + \
        result.counts["missing"]
    [batch] = load_batches(tmp_path / "batch.json")
    assert batch.status == result.batch.status and batch.check() == []
    status = CliRunner().invoke(main, ["status", str(tmp_path / "batch.json")])
    assert status.exit_code == 0, status.output
