"""Files in the shapes providers publish: batchio's verdict is the real service's.

Each request file below follows a provider's own documentation page or its runner's
source (named beside it). Every one must validate with its provider named, and, where the
shape says whose it is, with the provider detected.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from batchio import Batch, BatchHistory, join, load_batches, validate
from batchio.cli import main

CHAT = "/v1/chat/completions"

# (provider, detectable from the lines, lines, where the shape comes from)
PUBLISHED: list[tuple[str, bool, list[dict[str, Any] | bytes], str]] = [
    ("openai", True, [
        {"custom_id": "request-1", "method": "POST", "url": CHAT, "body": {
            "model": "gpt-4o-mini", "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Hello world!"}], "max_tokens": 1000}},
        {"custom_id": "request-2", "method": "POST", "url": CHAT, "body": {
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}],
            # Strict mode refuses an object without additionalProperties: false
            # ("'additionalProperties' is required to be supplied and to be false").
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "Answer", "strict": True, "schema": {
                    "type": "object", "properties": {}, "additionalProperties": False}}}}},
    ], "https://platform.openai.com/docs/guides/batch"),
    ("openai", True, [
        {"custom_id": "r-1", "method": "POST", "url": "/v1/responses", "body": {
            "model": "gpt-4.1-mini", "input": "When was Microsoft founded?",
            "max_output_tokens": 200, "text": {"format": {
                "type": "json_schema", "name": "Ans", "strict": True, "schema": {
                    "type": "object", "properties": {"year": {"type": "integer"}},
                    "required": ["year"], "additionalProperties": False}}}}},
    ], "https://platform.openai.com/docs/api-reference/responses/create"),
    ("openai", True, [
        {"custom_id": "e-1", "method": "POST", "url": "/v1/embeddings", "body": {
            "model": "text-embedding-3-small", "input": ["a", "b", "c"]}},
    ], "https://platform.openai.com/docs/guides/batch"),
    ("azure", True, [
        {"custom_id": "task-1", "method": "POST", "url": "/chat/completions", "body": {
            "model": "my-gpt4o-batch", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What's in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                     "detail": "high"}}]}],
            "max_tokens": 1000}},
    ], "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch"),
    ("azure", False, [
        {"custom_id": "task-2", "method": "POST", "url": "/v1/responses", "body": {
            "model": "my-gpt4o-batch", "input": [{"role": "user", "content": [
                {"type": "input_text", "text": "Describe"},
                {"type": "input_image", "image_url": "https://example.com/a.png",
                 "detail": "low"}]}], "max_output_tokens": 1000}},
    ], "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch (v1 API)"),
    ("anthropic", True, [
        {"custom_id": "doc-001", "params": {"model": "claude-sonnet-4-6", "max_tokens": 1024,
                                            "messages": [{"role": "user", "content": "Hi"}]}},
        # Another model in the same batch: "you can mix different types of requests".
        {"custom_id": "doc_002-b", "params": {
            "model": "claude-haiku-4-5", "max_tokens": 256, "system": "One word.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Japan?"}]}]}},
    ], "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing"),
    ("gemini", True, [
        {"key": "request-1", "request": {"contents": [{"parts": [{"text": "Photosynthesis?"}]}],
                                         "generation_config": {"temperature": 0.7}}},
        {"key": "request-2", "request": {
            "contents": [{"role": "user", "parts": [{"text": "Who won the euro 1998?"}]}],
            "tools": [{"google_search": {}}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]}}},
    ], "https://ai.google.dev/gemini-api/docs/batch-api (input file)"),
    ("gemini", True, [
        {"contents": [{"parts": [{"text": "What is in a Margherita pizza?"}]}],
         "generationConfig": {"temperature": 0.7}},
    ], "https://ai.google.dev/gemini-api/docs/batch-api (REST example, no key)"),
    ("gemini", True, [
        {"key": "emb-1", "request": {"output_dimensionality": 512,
                                     "content": {"parts": [{"text": "Explain GenAI"}]}}},
        {"key": "emb-2", "request": {"content": {"parts": [{"text": "Quantum computing"}]},
                                     "task_type": "RETRIEVAL_DOCUMENT", "title": "QC"}},
    ], "developers.googleblog.com: Gemini Batch API now supports Embeddings (2025-09-08)"),
    ("mistral", True, [
        {"custom_id": "0", "body": {"max_tokens": 100, "messages": [
            {"role": "user", "content": "What is the best French cheese?"}]}},
        {"custom_id": "img-1", "body": {"model": "pixtral-12b-latest", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Describe this"},
                                         {"type": "image_url",
                                          "image_url": "https://example.com/cat.png"}]}]}},
        {"custom_id": "pre-1", "body": {"messages": [
            {"role": "user", "content": "Write a haiku"},
            {"role": "assistant", "content": "Autumn", "prefix": True}]}},
    ], "https://docs.mistral.ai/capabilities/batch/ and client-python ImageURLChunk"),
    # Detected as OpenAI's from the first (chat) line: a Groq file says so only by its audio.
    ("groq", False, [
        {"custom_id": "chat-1", "method": "POST", "url": CHAT, "body": {
            "model": "llama-3.1-8b-instant", "messages": [{"role": "user", "content": "2+2?"}]}},
        {"custom_id": "chat-2", "method": "POST", "url": CHAT, "body": {
            "model": "llama-3.3-70b-versatile", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Explain ML."}]}},
        {"custom_id": "audio-1", "method": "POST", "url": "/v1/audio/transcriptions",
         "body": {"model": "whisper-large-v3", "language": "en",
                  "url": "https://example.com/a.wav", "response_format": "verbose_json",
                  "timestamp_granularities": ["segment"]}},
        {"custom_id": "audio-2", "method": "POST", "url": "/v1/audio/translations",
         "body": {"model": "whisper-large-v3", "language": "en",
                  "url": "https://example.com/zh.wav", "response_format": "json"}},
    ], "https://console.groq.com/docs/batch (the mixed batch)"),
    ("together", False, [
        {"custom_id": "request-1", "body": {
            "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "messages": [{"role": "user", "content": "Hello, world!"}], "max_tokens": 200}},
    ], "https://docs.together.ai/docs/batch-inference"),
    ("vllm", True, [
        {"custom_id": "s1", "method": "POST", "url": "/score", "body": {
            "model": "BAAI/bge-reranker-base", "text_1": "Capital of France?",
            "text_2": ["Paris is the capital.", "Berlin is in Germany."]}},
        {"custom_id": "c1", "method": "POST", "url": CHAT, "body": {
            "model": "Qwen/Qwen2.5-1.5B-Instruct", "messages": [
                {"role": "user", "content": "Hello"}], "max_completion_tokens": 32}},
        b"\n",
        {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings", "body": {
            "model": "intfloat/e5-small", "input": "hello world"}},
        {"custom_id": "r1", "method": "POST", "url": "/v2/rerank", "body": {
            "query": "capital of France", "documents": ["Paris", "Berlin"], "top_n": 1}},
        {"custom_id": "t1", "method": "POST", "url": "/v1/audio/transcriptions", "body": {
            "model": "openai/whisper-large-v3", "file_url": "https://example.com/a.wav",
            "language": "en", "response_format": "json"}},
        b"\n",
    ], "vllm-project/vllm vllm/entrypoints/launchers/run_batch.py at 773dc86d"),
]


def write(path: Path, lines: list[dict[str, Any] | bytes]) -> Path:
    path.write_bytes(b"".join(line if isinstance(line, bytes) else orjson.dumps(line) + b"\n"
                              for line in lines))
    return path


@pytest.mark.parametrize(("provider", "detectable", "lines", "source"), PUBLISHED,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(PUBLISHED)])
def test_published_shapes_validate(tmp_path: Path, provider: str, detectable: bool,
                                   lines: list[dict[str, Any] | bytes], source: str) -> None:
    path = write(tmp_path / "requests.jsonl", lines)
    report = validate(path, provider=provider)
    assert report.ok, (source, report.errors)
    assert report.requests == sum(1 for line in lines if not isinstance(line, bytes))
    assert report.provider == provider and not report.provider_detected
    if detectable:
        detected = validate(path)
        assert (detected.provider, detected.provider_detected, detected.ok) == (
            provider, True, True), (source, detected.errors)


def test_json_output_names_the_provider_and_whether_it_was_detected(tmp_path: Path) -> None:
    vllm = write(tmp_path / "vllm.jsonl", PUBLISHED[12][2])
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(vllm)])
    assert result.exit_code == 0, result.output
    [document] = orjson.loads(result.output)["files"]
    assert (document["provider"], document["provider_detected"]) == ("vllm", True)
    result = CliRunner().invoke(main, ["validate", "--format", "json", "--provider", "vllm",
                                       str(vllm)])
    [document] = orjson.loads(result.output)["files"]
    assert (document["provider"], document["provider_detected"]) == ("vllm", False)


def test_a_url_another_provider_serves_names_it(tmp_path: Path) -> None:
    groq = write(tmp_path / "groq.jsonl", PUBLISHED[10][2])
    report = validate(groq)
    assert report.provider == "openai"
    unsupported = [e for e in report.errors if e.code == "unsupported_url"]
    assert unsupported and "--provider groq" in unsupported[0].message


def test_text_output_says_the_provider_was_detected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", PUBLISHED[5][2])
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert f"{path}: provider anthropic (detected from the first request" in result.output


def test_a_shape_mistral_and_together_share_is_checked_by_the_rules_it_meets(
        tmp_path: Path) -> None:
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    # Two models: Mistral takes one a batch (an error), Together does not say (a warning).
    two_models = write(tmp_path / "t.jsonl", [
        {"custom_id": "a", "body": {"model": "m1", **chat}},
        {"custom_id": "b", "body": {"model": "m2", **chat}}])
    report = validate(two_models)
    assert (report.provider, report.provider_detected, report.ok) == ("together", True, True)
    assert [(w.code, w.line) for w in report.warnings] == [
        ("provider_ambiguous", None), ("model_mismatch", 2)]
    assert report.warnings[0].message == (
        "checked by Together AI batch's rules: the file's shape is also Mistral batch's, "
        "whose rules find 1 error here (the first: line 2: model_mismatch); give "
        "--provider to check against one of them")
    # A body neither takes: the first's errors, naming both.
    neither = write(tmp_path / "n.jsonl", [{"custom_id": "a", "body": {"model": "m"}}])
    report = validate(neither)
    assert (report.provider, report.ok) == ("mistral", False)
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 1)]
    assert report.errors[0].message.endswith(
        "(checked by Mistral batch's rules; lines of this shape are also Together AI "
        "batch or Fireworks batch inference's: try --provider together or --provider "
        "fireworks)")
    # A stream is read once: by the first provider's rules.
    assert validate(two_models.read_bytes().splitlines()).provider == "mistral"


@pytest.mark.parametrize(("body", "endpoint"), [
    ({"model": "mistral-ocr-latest", "document": {"type": "document_url",
                                                  "document_url": "https://x/a.pdf"}},
     "/v1/ocr"),
    ({"model": "mistral-embed", "input": ["a", "b"]}, "/v1/embeddings"),
    ({"model": "codestral-latest", "prompt": "def f(", "suffix": "return 1"},
     "/v1/fim/completions"),
    ({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "hi"}]},
     "/v1/chat/completions"),
])
def test_a_mistral_lines_endpoint_is_read_off_its_body(tmp_path: Path, body: dict[str, Any],
                                                       endpoint: str) -> None:
    path = write(tmp_path / "x.jsonl", [{"custom_id": "a", "body": body}])
    for report in (validate(path, provider="mistral"), validate(path)):
        assert (report.ok, report.provider, list(report.endpoints)) == (
            True, "mistral", [endpoint]), report.errors


def test_vllm_runs_a_file_that_repeats_an_id_or_names_two_models(tmp_path: Path) -> None:
    # vLLM's own tests run these files to exit 0 (tests/entrypoints/launchers/
    # test_run_batch.py, INPUT_RERANK_BATCH and INPUT_EMBEDDING_BATCH).
    rerank = {"method": "POST", "url": "/v1/rerank", "body": {
        "model": "BAAI/bge-reranker-v2-m3", "query": "q", "documents": ["a", "b"]}}
    path = write(tmp_path / "r.jsonl", [{"custom_id": "request-1", **rerank},
                                        {"custom_id": "request-2", **rerank},
                                        {"custom_id": "request-2", **rerank}])
    report = validate(path)
    assert (report.provider, report.ok) == ("vllm", True)
    assert [(w.code, w.line, w.severity) for w in report.warnings] == [
        ("duplicate_custom_id", 3, "warning")]
    embed = {"method": "POST", "url": "/v1/embeddings"}
    path = write(tmp_path / "e.jsonl", [
        {"custom_id": "request-1", **embed, "body": {
            "model": "intfloat/multilingual-e5-small", "input": "Hello world!"}},
        {"custom_id": "request-2", **embed, "body": {
            "model": "NonExistModel", "input": "Hello world!"}}])
    report = validate(path)
    assert (report.provider, report.provider_detected, report.ok) == ("vllm", True, True)
    assert [(w.code, w.line) for w in report.warnings] == [("model_mismatch", 2)]
    # The same file under OpenAI's rules: one model a file.
    assert [e.code for e in validate(path, provider="openai").errors] == ["model_mismatch"]


def test_a_line_of_another_providers_shape_says_so(tmp_path: Path) -> None:
    openai_line, anthropic_line = PUBLISHED[0][2][0], PUBLISHED[5][2][0]
    report = validate(write(tmp_path / "x.jsonl", [openai_line, anthropic_line]))
    assert [(e.code, e.line) for e in report.errors] == [("mixed_shapes", 2)]
    assert "Anthropic Message Batches" in report.errors[0].message


@pytest.mark.parametrize(("url", "field", "hint"), [
    ("/v1/responses", "response_format", "text.format"),
    ("/v1/responses", "max_tokens", "max_output_tokens"),
    ("/v1/responses", "messages", "input"),
    (CHAT, "max_output_tokens", "max_completion_tokens"),
    (CHAT, "input", "messages"),
    (CHAT, "text", "response_format"),
])
def test_a_sibling_endpoints_parameter_is_unsupported(tmp_path: Path, url: str, field: str,
                                                      hint: str) -> None:
    body: dict[str, Any] = ({"model": "m", "input": "hi"} if url == "/v1/responses" else
                            {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    good = {"custom_id": "a", "method": "POST", "url": url, "body": body}
    bad = {"custom_id": "b", "method": "POST", "url": url,
           "body": {**body, field: {"type": "json_object"} if field != "messages" else []}}
    report = validate(write(tmp_path / "x.jsonl", [good, bad]), provider="openai")
    found = [(e.code, e.line, e.param) for e in report.errors
             if e.code == "unsupported_parameter"]
    assert found == [("unsupported_parameter", 2, f"body.{field}")]
    assert hint in report.errors[0].message


def test_vllm_does_not_serve_completions(tmp_path: Path) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/completions",
            "body": {"model": "m", "prompt": "hi"}}
    report = validate(write(tmp_path / "x.jsonl", [line]), provider="vllm")
    assert [(e.code, e.line, e.param) for e in report.errors] == [("unsupported_url", 1, "url")]


def test_vllm_audio_needs_file_url(tmp_path: Path) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/audio/transcriptions",
            "body": {"model": "m", "file": "https://example.com/a.wav"}}
    report = validate(write(tmp_path / "x.jsonl", [line]), provider="vllm")
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 1)]


def test_groq_audio_needs_the_audio_url(tmp_path: Path) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/audio/translations",
            "body": {"model": "whisper-large-v3"}}
    report = validate(write(tmp_path / "x.jsonl", [line]), provider="groq")
    assert [(e.code, e.line, e.param) for e in report.errors] == [
        ("invalid_body", 1, "body")]
    assert "'url'" in report.errors[0].message


def test_mistral_ocr_needs_a_document(tmp_path: Path) -> None:
    line = {"custom_id": "a", "body": {"model": "mistral-ocr-latest", "pages": [0]}}
    report = validate(write(tmp_path / "x.jsonl", [line]), provider="mistral",
                      endpoint="/v1/ocr")
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 1)]
    good = {"custom_id": "b", "body": {"document": {"type": "document_url",
                                                    "document_url": "https://x/a.pdf"}}}
    assert validate(write(tmp_path / "y.jsonl", [good]), provider="mistral",
                    endpoint="/v1/ocr").ok


def test_a_gemini_file_mixing_embeddings_and_generation_is_an_error(tmp_path: Path) -> None:
    lines = [PUBLISHED[6][2][0], PUBLISHED[8][2][0]]
    report = validate(write(tmp_path / "x.jsonl", lines), provider="gemini")
    assert [(e.code, e.line) for e in report.errors] == [("url_mismatch", 2)]


chat_bodies = st.builds(
    lambda model, text: {"model": model, "messages": [{"role": "user", "content": text}]},
    st.sampled_from(["llama-3.1-8b-instant", "llama-3.3-70b-versatile"]), st.text(max_size=20))
audio_bodies = st.builds(lambda model: {"model": model, "url": "https://example.com/a.wav"},
                         st.sampled_from(["whisper-large-v3", "distil-whisper-large-v3-en"]))
groq_lines = st.one_of(
    st.tuples(st.just(CHAT), chat_bodies),
    st.tuples(st.sampled_from(["/v1/audio/transcriptions", "/v1/audio/translations"]),
              audio_bodies))


@settings(max_examples=60)
@given(lines=st.lists(groq_lines, min_size=1, max_size=12))
def test_a_provider_that_allows_mixing_checks_each_line_by_its_own_url(
        tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, dict[str, Any]]]
) -> None:
    rows = [{"custom_id": f"r{index}", "method": "POST", "url": url, "body": body}
            for index, (url, body) in enumerate(lines)]
    path = write(tmp_path_factory.mktemp("groq") / "mixed.jsonl", list(rows))
    report = validate(path, provider="groq")
    assert report.ok, report.errors
    assert report.endpoints == {url: sum(1 for u, _ in lines if u == url)
                                for url in dict.fromkeys(url for url, _ in lines)}


@settings(max_examples=60)
@given(urls=st.lists(st.sampled_from([CHAT, "/v1/embeddings", "/v1/responses"]), min_size=1,
                     max_size=12))
def test_a_provider_that_does_not_allow_mixing_flags_each_differing_line_once(
        tmp_path_factory: pytest.TempPathFactory, urls: list[str]) -> None:
    bodies = {CHAT: {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
              "/v1/embeddings": {"model": "m", "input": "hi"},
              "/v1/responses": {"model": "m", "input": "hi"}}
    rows = [{"custom_id": f"r{index}", "method": "POST", "url": url, "body": bodies[url]}
            for index, url in enumerate(urls)]
    report = validate(write(tmp_path_factory.mktemp("openai") / "x.jsonl", list(rows)),
                      provider="openai")
    expected = [("url_mismatch", index + 1) for index, url in enumerate(urls)
                if url != urls[0]]
    assert [(e.code, e.line) for e in report.errors] == expected


big_values = st.one_of(
    st.text(min_size=300, max_size=3000),
    st.lists(st.text(max_size=50), min_size=50, max_size=300),
    st.dictionaries(st.text(max_size=30), st.text(max_size=100), min_size=20, max_size=60),
    st.integers(min_value=10**30, max_value=10**60))
places = st.sampled_from(["messages", "temperature", "model", "stop", "n", "tool_choice",
                          "response_format", "metadata", "messages.0", "messages.0.role",
                          "messages.0.content"])


@settings(max_examples=150)
@given(value=big_values, place=places, custom_id=st.text(min_size=1, max_size=2000))
def test_no_message_is_longer_than_300_characters(value: Any, place: str,
                                                  custom_id: str) -> None:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    target: Any = body
    *parents, last = place.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    line = {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}
    report = validate([line, {**line, "custom_id": custom_id}], provider="openai")
    for problem in report.errors + report.warnings:
        assert len(problem.message) <= 300, problem.message
        assert "\n" not in problem.describe() and "\x1b" not in problem.describe()


def test_a_long_value_is_quoted_short_with_its_size() -> None:
    image = "data:image/jpeg;base64,/9j/4AAQ" + "A" * 412_300
    line = {"custom_id": "a", "method": "POST", "url": CHAT, "body": {
        "model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": image}]}]}}
    [error] = validate([line], provider="openai").errors
    assert error.param == "body.messages[0].content[0].image_url"
    assert "'data:image/jpeg;base64,/9j/4AAQ" in error.message
    assert f"({len(image):,} characters)" in error.message
    assert len(error.message) < 200


def test_sizes_are_said_in_words() -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "m", "input": ["x"] * 20_000}}
    [error] = validate([line], provider="openai").errors
    assert error.message == "body.input has 20,000 items; at most 2,048"


def test_the_cli_lists_100_errors_then_a_count_per_code(tmp_path: Path) -> None:
    rows = [{"custom_id": f"r{i}", "params": {"model": "c", "max_tokens": 5, "messages": []}}
            for i in range(250)]
    path = write(tmp_path / "wrong.jsonl", list(rows))
    result = CliRunner().invoke(main, ["validate", "--provider", "openai", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    listed = [line for line in lines if line.startswith(f"{path}:") and ": ... and" not in line
              and "provider" not in line and not line.startswith(f"{path}: ")]
    assert len(listed) == 100
    assert any(line.startswith(f"{path}: ... and 150 more (mixed_shapes 150)")
               for line in lines), lines[-3:]
    everything = CliRunner().invoke(main, ["validate", "--provider", "openai",
                                           "--max-errors", "0", str(path)])
    assert sum(1 for line in everything.output.splitlines() if ": mixed_shapes:" in line) == 250


def test_old_vllm_results_join_as_succeeded(tmp_path: Path) -> None:
    requests = write(tmp_path / "in.jsonl", [PUBLISHED[12][2][1]])
    completion = {"id": "cmpl-1", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"},
         "finish_reason": "stop"}]}
    output = write(tmp_path / "out.jsonl", [
        {"id": "vllm-1", "custom_id": "c1", "response": completion, "error": None}])
    joined = join(requests, outputs=output, provider="vllm")
    [row] = list(joined)
    assert row.status == "succeeded"
    assert row.response["body"] == completion


def test_together_and_mistral_jobs_map_onto_the_lifecycle(tmp_path: Path) -> None:
    together = {"id": "b-1", "status": "IN_PROGRESS", "progress": 42.0,
                "created_at": "2026-11-20T10:00:00Z", "job_deadline": "2026-11-21T10:00:00Z",
                "endpoint": CHAT, "input_file_id": "file-1", "model_id": "llama"}
    mistral = {"id": "job-1", "object": "batch", "status": "SUCCESS", "endpoint": CHAT,
               "created_at": 1_700_000_000, "started_at": 1_700_000_060,
               "completed_at": 1_700_000_600, "total_requests": 10,
               "succeeded_requests": 9, "failed_requests": 1, "model": "mistral-small",
               "output_file": "file-out", "error_file": "file-err"}
    batch = Batch.from_together(together)
    deadline = int(datetime(2026, 11, 21, 10, tzinfo=timezone.utc).timestamp())
    assert (batch.status.value, batch.expires_at, batch.request_counts) == (
        "in_progress", deadline, None)
    assert batch.to_dict()["together"] == together
    done = Batch.from_mistral(mistral)
    assert (done.status.value, done.completed_at) == ("completed", 1_700_000_600)
    assert done.request_counts is not None and (
        done.request_counts.total, done.request_counts.completed,
        done.request_counts.failed) == (10, 9, 1)
    for document, provider in ((together, "together"), (mistral, "mistral")):
        path = tmp_path / f"{provider}.json"
        path.write_bytes(orjson.dumps(document))
        assert load_batches(path)[0].extra[provider] == document
        result = CliRunner().invoke(main, ["status", str(path)])
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(main, ["status", "--provider", provider, str(path)])
        assert result.exit_code == 0, result.output
    timeout = Batch.from_mistral({**mistral, "status": "TIMEOUT_EXCEEDED"})
    assert timeout.status.value == "expired"


def test_zero_of_zero_requests_is_progress_unknown() -> None:
    batch = {"id": "batch_1", "object": "batch", "endpoint": CHAT, "status": "in_progress",
             "created_at": 1, "in_progress_at": 2,
             "request_counts": {"total": 0, "completed": 0, "failed": 0}}
    progress = BatchHistory([batch]).progress()
    assert progress is not None and progress.percent is None
    assert progress.eta_seconds is None


def test_a_shared_shape_with_an_endpoint_or_no_listed_problems(tmp_path: Path) -> None:
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    two_models = write(tmp_path / "t.jsonl", [
        {"custom_id": "a", "body": {"model": "m1", **chat}},
        {"custom_id": "b", "body": {"model": "m2", **chat}}])
    report = validate(two_models, max_errors=0)
    assert (report.provider, report.ok, report.warnings) == ("together", True, [])
    assert report.counts == {"model_mismatch": 1, "provider_ambiguous": 1}
    # Together serves /v1/completions, Mistral does not: Together's rules alone.
    prompts = write(tmp_path / "p.jsonl", [
        {"custom_id": "a", "body": {"model": "m", "prompt": "Once upon"}}])
    report = validate(prompts, endpoint="/v1/completions")
    assert (report.provider, report.ok, report.warnings) == ("together", True, [])
    result = CliRunner().invoke(main, ["validate", "--endpoint", "/v1/completions",
                                       str(prompts)])
    assert result.exit_code == 0, result.output


def test_a_shared_shape_read_once_says_whose_rules_checked_it(tmp_path: Path) -> None:
    lines = [orjson.dumps({"custom_id": c, "body": {"model": m, "messages": [
        {"role": "user", "content": "hi"}]}}) for c, m in (("a", "m1"), ("b", "m2"))]
    report = validate(lines)
    assert (report.provider, report.ok) == ("mistral", False)
    assert report.errors[0].message.endswith(
        "(checked by Mistral batch's rules only, the input being read once; lines of this "
        "shape are also Together AI batch or Fireworks batch inference's: try --provider "
        "together or --provider fireworks)")


def test_a_shared_shape_read_from_a_stream_gets_the_files_verdict(tmp_path: Path) -> None:
    import io

    chat = {"messages": [{"role": "user", "content": "hi"}]}
    path = write(tmp_path / "t.jsonl", [{"custom_id": "a", "body": {"model": "m1", **chat}},
                                        {"custom_id": "b", "body": {"model": "m2", **chat}}])
    from_file = validate(path)
    from_stream = validate(io.BytesIO(path.read_bytes()))
    assert (from_stream.provider, from_stream.ok) == (from_file.provider, from_file.ok) == (
        "together", True)
    assert [(w.code, w.line, w.message) for w in from_stream.warnings] == [
        (w.code, w.line, w.message) for w in from_file.warnings]
    assert {w.path for w in from_stream.warnings} == {"<stream>"}
    result = CliRunner().invoke(main, ["validate", "-", "--format", "json"],
                                input=path.read_bytes())
    assert result.exit_code == 0, result.output
    [document] = orjson.loads(result.stdout)["files"]
    assert (document["path"], document["provider"], document["ok"]) == (
        "<stdin>", "together", True)


def test_gemini_takes_one_object_where_a_list_is_expected(tmp_path: Path) -> None:
    # Google's JSON reader takes a single object for a repeated field: the cookbook's
    # System_instructions_REST notebook sends these bodies and gets answers.
    lines: list[dict[str, Any] | bytes] = [{"key": "a", "request": {
        "system_instruction": {"parts": {"text": "You are a cat."}},
        "contents": {"parts": {"text": "Hello there"}}}},
        {"key": "b", "request": {"systemInstruction": {"parts": {"text": "Be brief."}},
                                 "contents": [{"role": "user", "parts": {"text": "Hi"}}]}}]
    report = validate(write(tmp_path / "g.jsonl", lines), provider="gemini")
    assert report.errors == [], report.errors
    embed: list[dict[str, Any] | bytes] = [
        {"key": "c", "request": {"content": {"parts": {"text": "embed me"}}}}]
    assert validate(write(tmp_path / "e.jsonl", embed), provider="gemini").ok
    broken: list[dict[str, Any] | bytes] = [{"key": "a", "request": {"contents": "Hi"}}]
    report = validate(write(tmp_path / "b.jsonl", broken), provider="gemini")
    assert [(e.code, e.line) for e in report.errors] == [("invalid_body", 1)]
