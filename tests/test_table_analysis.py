"""The joined table built for analysis: which file each request came from, what each
answer cost, integers that stay integers, the columns asked for, and structured answers
as typed columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas
import pytest

import batchio
from batchio.structured import structured_output

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "price", "stock", "tags", "sale"],
    "properties": {"name": {"type": "string"}, "price": {"type": "number"},
                   "stock": {"type": "integer"}, "sale": {"type": "boolean"},
                   "tags": {"type": "array", "items": {"type": "string"}}}}


def structured_job(folder: Path, shards: int = 2, per_shard: int = 30,
                   schema: dict[str, Any] = SCHEMA, prefix: str = "s"
                   ) -> tuple[list[Path], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(shards):
        path = folder / f"requests-{shard}.jsonl"
        with batchio.RequestWriter(path) as writer:
            for number in range(per_shard):
                writer.add({"model": "gpt-4o-mini",
                            "messages": [{"role": "user", "content": f"product {number}"}],
                            **structured_output(schema)},
                           custom_id=f"{prefix}{shard}-{number}")
        batchio.simulate(path, output=folder / f"out-{shard}.jsonl",
                         errors=folder / f"err-{shard}.jsonl", seed=shard, failure_rate=0.2)
        paths.append(path)
    return paths, folder


def results(folder: Path) -> list[Path]:
    return sorted(folder.glob("out-*.jsonl")) + sorted(folder.glob("err-*.jsonl"))


def test_each_row_names_its_input_file_and_costs_what_its_tokens_cost(tmp_path: Path
                                                                       ) -> None:
    paths, folder = structured_job(tmp_path / "job")
    joined = batchio.join(paths, outputs=results(folder))
    rows = [row.to_dict() for row in joined]
    assert [row["input_file"] for row in rows] == [str(paths[0])] * 30 + [str(paths[1])] * 30
    price = batchio.load_prices().find("openai", "gpt-4o-mini")
    assert price is not None
    for row in rows:
        if row["input_tokens"] is None:
            assert row["cost_usd"] is None
            continue
        hand = (row["input_tokens"] - (row["cached_tokens"] or 0)) * price.batch_input
        hand += (row["cached_tokens"] or 0) * (price.batch_cached_input or price.batch_input)
        hand += row["output_tokens"] * (price.batch_output or 0)
        assert row["cost_usd"] == pytest.approx(hand / 1_000_000)
    # The summary's total is the same prices on the same tokens (rounded to 6 places).
    assert sum(row["cost_usd"] or 0 for row in rows) == pytest.approx(
        joined.summary.cost()["total"], abs=1e-6)


def test_integers_stay_integers_and_columns_are_chosen(tmp_path: Path) -> None:
    paths, folder = structured_job(tmp_path / "job")
    frame = batchio.join(paths, outputs=results(folder)).to_pandas()
    for name in ("input_tokens", "output_tokens", "http_status", "input_line",
                 "result_line"):
        assert str(frame[name].dtype) == "Int64", name
    assert str(frame["retryable"].dtype) == "boolean"
    assert frame["input_tokens"].isna().any()  # failures: no tokens, still integers
    small = batchio.join(paths, outputs=results(folder)).to_pandas(
        columns=["custom_id", "status", "cost_usd"])
    assert list(small.columns) == ["custom_id", "status", "cost_usd"]
    assert small.equals(frame[["custom_id", "status", "cost_usd"]])
    batches = list(batchio.join(paths, outputs=results(folder)).iter_batches(
        10, columns=["custom_id"]))
    assert [batch.schema.names for batch in batches] == [["custom_id"]] * 6
    with pytest.raises(batchio.UsageError, match="no column 'nope'"):
        batchio.join(paths, outputs=results(folder)).to_arrow(columns=["nope"])


def test_expand_output_gives_typed_columns_equal_to_parsing_the_text(tmp_path: Path
                                                                     ) -> None:
    paths, folder = structured_job(tmp_path / "job")
    frame = batchio.join(paths, outputs=results(folder)).to_pandas(expand_output=True)
    expected_columns = [f"output.{name}" for name in SCHEMA["properties"]]
    assert list(frame.columns[-5:]) == expected_columns
    assert str(frame["output.stock"].dtype) == "Int64"
    assert str(frame["output.price"].dtype) == "float64"
    assert str(frame["output.sale"].dtype) == "boolean"
    for index in frame.index:
        if frame.at[index, "status"] != "succeeded":
            assert pandas.isna(frame.at[index, "output.name"])
            assert pandas.isna(frame.at[index, "output_json"])
            continue
        parsed = orjson.loads(frame.at[index, "text"])
        assert frame.at[index, "output_json"] == orjson.dumps(parsed).decode()
        assert frame.at[index, "output.name"] == parsed["name"]
        assert frame.at[index, "output.price"] == pytest.approx(parsed["price"])
        assert frame.at[index, "output.stock"] == parsed["stock"]
        assert bool(frame.at[index, "output.sale"]) == parsed["sale"]
        assert orjson.loads(frame.at[index, "output.tags"]) == parsed["tags"]


def test_expand_output_refuses_answers_to_several_schemas(tmp_path: Path) -> None:
    first, _ = structured_job(tmp_path / "one", shards=1)
    other = {**SCHEMA, "properties": {**SCHEMA["properties"], "extra": {"type": "string"}},
             "required": [*SCHEMA["required"], "extra"]}
    second, _ = structured_job(tmp_path / "two", shards=1, schema=other, prefix="t")
    joined = batchio.join([*first, *second], outputs=[
        *results(tmp_path / "one"), *results(tmp_path / "two")])
    with pytest.raises(batchio.UsageError, match="several schemas"):
        joined.to_arrow(expand_output=True)


def test_free_text_answers_have_no_output_json(tmp_path: Path) -> None:
    chat = Path(__file__).resolve().parent.parent / "examples" / "chat_requests.jsonl"
    batchio.simulate(chat, output=tmp_path / "out.jsonl", seed=1)
    rows = [row.to_dict() for row in batchio.join(chat, outputs=tmp_path / "out.jsonl")]
    assert {row["output_json"] for row in rows} == {None}


def test_simulated_answers_differ_from_row_to_row_and_keep_the_schema(tmp_path: Path
                                                                      ) -> None:
    paths, folder = structured_job(tmp_path / "job", shards=1, per_shard=200)
    rows = [row for row in batchio.join(paths, outputs=results(folder), check_outputs=True)
            if row.status == "succeeded"]
    answers = [orjson.loads(row.to_dict()["output_json"]) for row in rows]
    assert {row.output_check for row in rows} == {"ok"}
    assert len({answer["name"] for answer in answers}) > len(answers) // 4
    assert len({answer["price"] for answer in answers}) > len(answers) // 2
    assert {answer["sale"] for answer in answers} == {True, False}
    assert len({len(answer["tags"]) for answer in answers}) > 1


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_join_writes_only_the_columns_asked_for(tmp_path: Path, suffix: str, jobs: str
                                                ) -> None:
    from click.testing import CliRunner

    from batchio.cli import main

    paths, folder = structured_job(tmp_path / "job")
    target = tmp_path / f"joined.{suffix}"
    given = [part for path in results(folder) for part in ("--results", str(path))]
    args = ["join", *map(str, paths), *given, "-o", str(target),
            "--columns", "custom_id,status,cost_usd,input_file", "--jobs", jobs]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    if suffix == "jsonl":
        rows = [orjson.loads(line) for line in target.read_bytes().splitlines()]
        assert [list(row) for row in rows] == [["custom_id", "status", "cost_usd",
                                                "input_file"]] * 60
    else:
        import pyarrow.csv
        import pyarrow.parquet

        table = (pyarrow.parquet.read_table(target) if suffix == "parquet"
                 else pyarrow.csv.read_csv(target))
        assert table.schema.names == ["custom_id", "status", "cost_usd", "input_file"]
        assert table.num_rows == 60
    bad = CliRunner().invoke(main, [*args[:-4], "--columns", "custom_id,nope"])
    assert bad.exit_code == 2 and "no column 'nope'" in bad.stderr


def test_a_join_read_to_the_end_can_be_read_again(tmp_path: Path) -> None:
    paths, folder = structured_job(tmp_path / "job")
    joined = batchio.join(paths, outputs=results(folder), check_outputs=True)
    frame = joined.to_pandas()
    first = joined.summary.to_dict()
    # The same Join gives the retry file next: its files are read again.
    retried = frame["status"].isin(["expired", "cancelled", "missing"]) | (
        (frame["status"] == "failed") & frame["retryable"].fillna(False))
    assert batchio.write_retry(joined, tmp_path / "retry.jsonl") == int(retried.sum()) > 0
    assert [orjson.loads(line)["custom_id"] for line in
            (tmp_path / "retry.jsonl").read_bytes().splitlines()] == list(
        frame["custom_id"][retried])
    assert joined.summary.to_dict() == first
    again = joined.to_pandas()
    assert again.equals(frame)


def test_a_join_of_input_read_once_is_not_read_again(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    paths, folder = structured_job(tmp_path / "job", shards=1)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(paths[0].read_bytes())))
    once = batchio.join("-", outputs=results(folder), provider="openai")
    assert len(list(once)) == 30
    with pytest.raises(batchio.JoinError, match="can be read only once") as raised:
        list(once)
    assert raised.value.code == "join_not_read"
