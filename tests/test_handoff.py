"""Results from the providers' SDKs written as result files: the join reads them as it
reads the provider's own file (real SDK types, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from anthropic.types.messages import MessageBatchIndividualResponse

import batchio


def anthropic_request(custom_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "params": {"model": "claude-haiku-4-5", "max_tokens": 64,
                                               "messages": [{"role": "user", "content": "hi"}]}}


#: One result line of each type, as Anthropic's results file holds them.
LINES: list[dict[str, Any]] = [
    {"custom_id": "a", "result": {"type": "succeeded", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hello there"}], "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 11, "output_tokens": 7, "cache_read_input_tokens": 2,
                  "cache_creation_input_tokens": 0}}}},
    {"custom_id": "b", "result": {"type": "errored", "error": {
        "type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}}},
    {"custom_id": "c", "result": {"type": "errored", "error": {
        "type": "error", "error": {"type": "overloaded_error", "message": "busy"}}}},
    {"custom_id": "d", "result": {"type": "canceled"}},
    {"custom_id": "e", "result": {"type": "expired"}},
]


def joined(requests: Path, results: Path) -> list[tuple[Any, ...]]:
    return [(row.custom_id, row.status, row.error_code, row.retryable, row.to_dict()["text"],
             row.to_dict()["input_tokens"], row.to_dict()["output_tokens"])
            for row in batchio.join(requests, outputs=results, provider="anthropic")]


def test_anthropic_sdk_results_join_as_the_file_does(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(b"".join(orjson.dumps(anthropic_request(line["custom_id"])) + b"\n"
                                  for line in LINES))
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in LINES))
    objects = [MessageBatchIndividualResponse.model_validate(line) for line in LINES]
    assert {type(item.result).__name__ for item in objects} == {
        "MessageBatchSucceededResult", "MessageBatchErroredResult",
        "MessageBatchCanceledResult", "MessageBatchExpiredResult"}
    written = tmp_path / "sdk.jsonl"
    assert batchio.write_results(iter(objects), written, provider="anthropic") == 5
    # The lines are the file's own, not the SDK's filled-in nulls.
    assert [orjson.loads(line) for line in written.read_bytes().splitlines()] == LINES
    expected = joined(requests, plain)
    assert joined(requests, written) == expected
    assert [row[1] for row in expected] == ["succeeded", "failed", "failed", "cancelled",
                                            "expired"]
    assert expected[0][4:] == ("Hello there", 13, 7)
    assert expected[2][3] is True  # overloaded: worth retrying
    # Dicts (model_dump()'s) are taken as well.
    again = tmp_path / "dicts.jsonl"
    batchio.write_results([item.model_dump(mode="json") for item in objects], again,
                          provider="anthropic")
    assert joined(requests, again) == expected


def test_gemini_inline_responses_take_their_requests_keys(tmp_path: Path) -> None:
    inline = [{"response": {"candidates": [{"content": {"role": "model", "parts": [
                  {"text": "Bonjour"}]}, "finishReason": "STOP"}],
                  "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2,
                                    "totalTokenCount": 6}, "modelVersion": "gemini-2.5-flash"}},
              {"error": {"code": 429, "message": "Resource exhausted", "details": []}}]
    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(b"".join(orjson.dumps({"key": key, "request": {"contents": [
        {"role": "user", "parts": [{"text": "hi"}]}]}}) + b"\n" for key in ("k1", "k2")))
    target = tmp_path / "results.jsonl"
    assert batchio.write_results(inline, target, provider="gemini", keys=["k1", "k2"]) == 2
    rows = list(batchio.join(requests, outputs=target, provider="gemini"))
    assert [(row.custom_id, row.status) for row in rows] == [("k1", "succeeded"),
                                                             ("k2", "failed")]
    assert rows[0].to_dict()["text"] == "Bonjour"
    with pytest.raises(batchio.UsageError, match="2 keys for 1 results"):
        batchio.write_results(inline[:1], tmp_path / "short.jsonl", provider="gemini",
                              keys=["k1", "k2"])
    assert not (tmp_path / "short.jsonl").exists()


def test_a_result_without_its_id_is_refused_with_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(batchio.LineError, match="result 2 has no custom_id"):
        batchio.write_results([LINES[0], {"result": {"type": "expired"}}],
                              tmp_path / "out.jsonl", provider="anthropic")
    assert not (tmp_path / "out.jsonl").exists()
