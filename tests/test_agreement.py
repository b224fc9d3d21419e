"""One rule, one verdict: the validator, the request writer, the sharder and ``split`` agree.

Each rule family is decided in one place (ids by ``IdRule.problem``, bodies by the compiled
schemas and ``explain_body``, sizes by ``ShardLimits.admit``); these properties throw random
lines at every path that applies the family and ask for the same verdict and code.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchio import (
    BatchioError,
    LimitError,
    LineError,
    Manifest,
    RequestWriter,
    get_profile,
    split,
    validate,
)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

BODIES: dict[str, dict[str, Any]] = {
    "openai": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    "anthropic": {"model": "claude-haiku-4-5", "max_tokens": 64,
                  "messages": [{"role": "user", "content": "hi"}]},
    "together": {"model": "meta-llama/Llama-3-8b", "messages": [{"role": "user",
                                                                 "content": "hi"}]},
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
}


def request_line(provider: str, custom_id: Any, body: Any) -> bytes:
    profile = get_profile(provider)
    line: dict[str, Any] = {profile.id_field: custom_id}
    if profile.carries_url:
        line.update(method="POST", url=profile.default_endpoint)
    line[profile.body_field] = body
    return orjson.dumps(line) + b"\n"


def validator_errors(path: Path, provider: str) -> list[str]:
    report = validate(path, provider=provider, max_errors=None, workers=1)
    return [problem.code for problem in report.errors]


def writer_verdict(folder: Path, provider: str, custom_id: str, body: Any) -> str | None:
    target = folder / "written.jsonl"
    try:
        with RequestWriter(target, provider=provider) as writer:
            writer.add(body, custom_id=custom_id)
    except LineError as exc:
        return exc.code
    return None


def split_verdict(source: Path, out: Path, provider: str) -> str | None:
    try:
        split(source, out, provider=provider, overwrite=True)
    except BatchioError as exc:
        return exc.code
    return None


def fresh(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


ids = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True),
    st.text(alphabet="abc-_ .é\u200b/", min_size=1, max_size=70),
)


@SETTINGS
@given(provider=st.sampled_from(sorted(BODIES)), custom_id=ids)
def test_ids_have_one_verdict_in_the_validator_the_writer_and_split(
        tmp_path: Path, provider: str, custom_id: str) -> None:
    folder = fresh(tmp_path, "ids")
    source = folder / "in.jsonl"
    source.write_bytes(request_line(provider, custom_id, BODIES[provider]))
    errors = validator_errors(source, provider)
    written = writer_verdict(folder, provider, custom_id, BODIES[provider])
    copied = split_verdict(source, folder / "shards", provider)
    assert (written is None) == (copied is None) == (not errors), (errors, written, copied)
    if errors:
        assert written == copied == errors[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300_000) | st.floats(-3, 3, allow_nan=False)
    | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["role", "content", "type", "text", "x"]), children,
                      max_size=3),
    max_leaves=6)

chat_keys = ["model", "messages", "max_tokens", "max_completion_tokens", "temperature",
             "stream", "n", "response_format", "top_p", "tools", "seed", "user"]


@st.composite
def mutated_chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = dict(BODIES["openai"])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(chat_keys))
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(json_values)
    return body


@SETTINGS
@given(body=mutated_chat_bodies())
def test_bodies_have_one_verdict_in_the_validator_and_the_writer(
        tmp_path: Path, body: dict[str, Any]) -> None:
    folder = fresh(tmp_path, "bodies")
    source = folder / "in.jsonl"
    source.write_bytes(request_line("openai", "r1", body))
    errors = validator_errors(source, "openai")
    written = writer_verdict(folder, "openai", "r1", body)
    assert (written is None) == (not errors), (errors, written)
    if errors:
        assert written == errors[0]


@SETTINGS
@given(sizes=st.lists(st.integers(1, 400), min_size=1, max_size=40),
       max_requests=st.integers(1, 12), max_bytes=st.integers(300, 3000))
def test_limits_have_one_verdict_in_the_validator_the_writer_and_the_sharder(
        tmp_path: Path, sizes: list[int], max_requests: int, max_bytes: int) -> None:
    folder = fresh(tmp_path, "limits")
    lines = [request_line("openai", f"r{index}", {
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * size}]})
        for index, size in enumerate(sizes)]
    source = folder / "in.jsonl"
    source.write_bytes(b"".join(lines))
    limited = dataclasses.replace(get_profile("openai"), limits=dataclasses.replace(
        get_profile("openai").limits, max_requests=max_requests, max_file_bytes=max_bytes))
    report = validate(source, provider=limited, max_errors=None, workers=1)
    over_limit = {problem.code for problem in report.errors}

    # One file: the writer refuses the first row the limits do not admit.
    refused_at = None
    try:
        with RequestWriter(folder / "one.jsonl", max_requests=max_requests,
                           max_bytes=max_bytes) as writer:
            for index, size in enumerate(sizes):
                refused_at = index + 1
                writer.add({"model": "gpt-4o-mini",
                            "messages": [{"role": "user", "content": "x" * size}]},
                           custom_id=f"r{index}")
            refused_at = None
    except LimitError:
        pass
    assert (refused_at is None) == (not over_limit), (over_limit, refused_at)

    # Shards: split and the writer in folder mode roll over at the same lines, and every
    # shard passes the validator's limits.
    too_big = any(len(line) > max_bytes for line in lines)
    try:
        manifest = split(source, folder / "split", max_requests=max_requests,
                         max_bytes=max_bytes)
    except LimitError:
        assert too_big
        return
    assert not too_big
    with RequestWriter(folder / "built", max_requests=max_requests,
                       max_bytes=max_bytes) as writer:
        for index, size in enumerate(sizes):
            writer.add({"model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": "x" * size}]},
                       custom_id=f"r{index}")
    built = Manifest.load(folder / "built")
    assert [shard.requests for shard in manifest.shards] == \
        [shard.requests for shard in built.shards]
    for shard in manifest.shards:
        shard_report = validate(folder / "split" / shard.path, provider=limited, workers=1)
        assert not shard_report.errors, shard_report.errors
    if refused_at is not None:
        assert manifest.shards[0].requests == refused_at - 1


def test_a_rejection_the_explaining_engine_cannot_explain_is_still_a_problem(
        tmp_path: Path) -> None:
    # The compiled engine and the explaining one agree on the shipped schemas; a body they
    # would disagree on still gets a problem in both paths (never a silent pass), which
    # the code paths share through explain_body.
    from batchio.bodies import explain_body
    from batchio.schemas import compiled

    schema = compiled("openai/chat-completions")
    assert explain_body(schema, dict(BODIES["openai"]), "body", "invalid_body") is None
    bad = {"model": "gpt-4o-mini", "messages": "not a list"}
    problem = explain_body(schema, bad, "body", "invalid_body")
    assert problem is not None and problem.code == "invalid_body"
    assert problem.param == "body.messages"


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
