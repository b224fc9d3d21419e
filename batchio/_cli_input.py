"""What the command line reads besides batch files: sizes, table rows, and rows made into
request bodies.

Owns :func:`parse_size`, :func:`read_rows` (CSV, TSV, JSONL or Parquet rows, numbered),
the checks that a row's prompt and key are text (never ``None`` or an object turned into
text), template checks, and :func:`prompt_body`. Only :mod:`batchio.cli` uses it.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import string
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from .errors import LineError, SourceError, UsageError, import_extra, quote
from .jsonl import (
    DEFAULT_MAX_LINE_BYTES,
    PROGRESS_EVERY,
    read_lines,
    read_small_file,
    reads_once,
    reported,
)
from .providers import Profile

#: The widest field a --template may ask for: a guard against ``{x:>999999999}``.
MAX_TEMPLATE_WIDTH = 100_000


def parse_size(text: str) -> int:
    """A size such as ``200MB``, ``1.5G``, ``50000`` or ``64KiB`` in bytes (MB = 10**6).

    Raises :class:`UsageError` for anything else, and for sizes under one byte.
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if not match:
        raise UsageError(f"not a size: {quote(text, 40)} (try 100MB, 1.5G or 64KiB)")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    power = " KMGT".index(unit.upper() or " ")
    size = int(float(number) * base**power)
    if size < 1:
        raise UsageError(f"a size must be at least one byte, not {quote(text, 40)}")
    return size


#: The row files build reads, for messages.
ROW_FORMATS = ("CSV (.csv, its delimiter sniffed), TSV (.tsv, .tab), JSONL (.jsonl, .ndjson, "
               "compressed too) and Parquet (.parquet, .pq)")
_SNIFFED = ",;\t|"


def row_format(name: str) -> str:
    """What a row file is, by its name: ``csv``, ``tsv``, ``jsonl`` or ``parquet``; a name
    that says none of them, by its first bytes (``{`` JSONL, ``PAR1`` Parquet). Anything
    else is a :class:`UsageError` (``unsupported_row_file``) naming what build reads."""
    lowered = name.lower()
    for suffix in (".gz", ".zst"):
        lowered = lowered.removesuffix(suffix)
    if name == "-" or lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".tsv", ".tab")):
        return "tsv"
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    if reads_once(name):
        # A pipe, a FIFO or a device is not opened to be looked at: what that read took
        # would be missing from the rows (its writer may even be gone, and a second open
        # wait for ever). Read as JSONL, as stdin is.
        return "jsonl"
    try:
        with open(name, "rb") as handle:
            start = handle.read(4)
    except OSError as exc:
        raise SourceError(f"cannot read {name}: {exc.strerror or exc}", path=name,
                          errno=exc.errno) from exc
    if start == b"PAR1":
        return "parquet"
    if start.lstrip()[:1] == b"{":
        return "jsonl"
    raise UsageError(f"unsupported row file {name}: build reads {ROW_FORMATS}",
                     code="unsupported_row_file", path=name)


def read_rows(source: str | os.PathLike[str], delimiter: str | None = None,
              on_progress: Callable[[int], None] | None = None
              ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a row file (:func:`row_format`), each with its number: its line in the file
    for text files (a CSV's header is line 1; a row written over several lines is numbered
    by its first), its place from 1 in a Parquet file. Every message about a row names
    it by that number. ``delimiter`` is a CSV's field separator (default: sniffed from its
    start among ``, ; tab |``; a TSV's is a tab). ``on_progress`` is told the bytes read
    so far now and then."""
    name = os.fspath(source)
    kind = row_format(name)
    if kind == "jsonl":
        for line in reported(read_lines(source, blank_lines="skip"), on_progress):
            yield line.number, line.value
    elif kind == "parquet":
        yield from _parquet_rows(name, on_progress)
    else:
        yield from _delimited_rows(name, "\t" if kind == "tsv" and delimiter is None
                                   else delimiter, on_progress)


def _delimited_rows(name: str, delimiter: str | None,
                    on_progress: Callable[[int], None] | None = None
                    ) -> Iterator[tuple[int, dict[str, Any]]]:
    # A field may be as long as a line may (a long document to summarise): the csv
    # module's own cap, 128 KiB, refused such rows. Raised for the process, never lowered.
    csv.field_size_limit(max(csv.field_size_limit(), DEFAULT_MAX_LINE_BYTES))
    end = 0  # the line the last row read ended on
    try:
        # newline="": lines end at \n, \r\n or \r, and the csv module sees them as they are.
        with open(name, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig",
                                                       newline="") as handle:
            seekable = raw.seekable()
            lines: Iterable[str] = handle
            if delimiter is None:
                # Sniffed from the first lines, which are then read again from memory (a
                # pipe gives its bytes once).
                sample: list[str] = []
                size = 0
                for line in handle:
                    sample.append(line)
                    size += len(line)
                    if size >= 64 << 10:
                        break
                delimiter = _sniffed_delimiter("".join(sample))
                lines = itertools.chain(sample, handle)
            # strict: a quote left open is an error, not the rest of the file in one field.
            reader = csv.DictReader(lines, delimiter=delimiter, strict=True)
            end = 1
            for count, row in enumerate(reader, 1):
                # The line the row starts on: the one after the previous row ended.
                start, end = end + 1, reader.line_num
                if None in row:
                    # More fields than the header names: a delimiter inside a field left
                    # unquoted, whose text would be cut off.
                    raise LineError(
                        f"row {start} has {len(reader.fieldnames or ()) + len(row[None]):,} "
                        f"fields where the header names {len(reader.fieldnames or ()):,} "
                        f"(a {_delimiter_name(delimiter)} inside a field that is not quoted?)",
                        line=start, path=name, code="malformed_row")
                if on_progress is not None and not count % PROGRESS_EVERY and seekable:
                    on_progress(raw.tell())  # read ahead by the text layer's buffer
                yield start, dict(row)
            if on_progress is not None and seekable:
                on_progress(raw.tell())
    except UnicodeDecodeError as exc:
        # Decoded a buffer at a time: the line is found by reading the file again.
        bad = _first_line_not_utf8(name)
        raise LineError(f"{'the file' if bad is None else f'line {bad}'} is not UTF-8 "
                        f"({exc.reason})", line=bad, path=name,
                        code="invalid_utf8") from exc
    except OSError as exc:
        raise SourceError(f"cannot read {name}: {exc.strerror or exc}", path=name,
                          errno=exc.errno) from exc
    except csv.Error as exc:
        # The row that could not be read starts after the last one read.
        raise SourceError(f"cannot read {name} as CSV: row {end + 1}: {exc}", path=name,
                          line=end + 1) from exc


def _first_line_not_utf8(name: str) -> int | None:
    """The first line of a file that is not UTF-8 (lines counted at \\n), None where it
    cannot be read again (a pipe)."""
    if reads_once(name):
        return None
    try:
        with open(name, "rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(
        delimiter, repr(delimiter))


def _sniffed_delimiter(sample: str) -> str:
    """The delimiter of a CSV's first lines (a comma where they do not say)."""
    if "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SNIFFED).delimiter
    except csv.Error:
        return ","


def _parquet_rows(name: str, on_progress: Callable[[int], None] | None = None
                  ) -> Iterator[tuple[int, dict[str, Any]]]:
    """A Parquet file's rows, a record batch at a time (the ``[arrow]`` extra); progress
    is the file's share of rows read, in bytes."""
    parquet = import_extra("pyarrow.parquet", f"reading the Parquet file {name}",
                           '"batchio[arrow]"')
    try:
        table = parquet.ParquetFile(name)
        rows = max(table.metadata.num_rows, 1)
        size = os.path.getsize(name)
        number = 0
        for batch in table.iter_batches(batch_size=PROGRESS_EVERY):
            for row in batch.to_pylist():
                number += 1
                yield number, row
            if on_progress is not None:
                on_progress(size * number // rows)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise SourceError(f"cannot read {name} as Parquet: {exc}", path=name) from exc


def check_template(template: str, option: str = "--template") -> list[str]:
    """The fields a --template names; raises :class:`UsageError` for one that cannot be
    used (bad syntax, a positional field, a width past :data:`MAX_TEMPLATE_WIDTH`)."""
    fields: list[str] = []
    try:
        for _, name, spec, _ in string.Formatter().parse(template):
            if name is None:
                continue
            if not name or name.isdigit() or any(mark in name for mark in ".["):
                raise UsageError(f"{option} fields must name a row field, not {{{name}}}")
            if "{" in (spec or ""):
                # A width or precision taken from a row could be any size.
                raise UsageError(f"{option} field {{{name}}} takes its format from another "
                                 "field; write the format out")
            widths = [int(width) for width in re.findall(r"[0-9]+", spec or "")]
            if any(width > MAX_TEMPLATE_WIDTH for width in widths):
                raise UsageError(f"{option} field {{{name}}} asks for a width over "
                                 f"{MAX_TEMPLATE_WIDTH:,}")
            fields.append(name)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"{option} is not a format string: {exc}") from exc
    return fields


def read_json_file(path: str, what: str) -> Any:
    """A JSON file named by an option (a schema, a body template), or the error naming it."""
    data = read_small_file(path, MAX_OPTION_FILE, what)
    if len(data) > MAX_OPTION_FILE:
        raise UsageError(f"{what} {path} is larger than {MAX_OPTION_FILE:,} bytes",
                         code="file_too_large", path=path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{what} {path} is not JSON: {exc}", code="invalid_json_line",
                         path=path) from exc


#: The largest schema or body template read from a file.
MAX_OPTION_FILE = 16 << 20


class BodyTemplate:
    """A JSON body with ``{field}`` slots in its strings, filled from each row: the slots
    are filled inside the parsed strings, so a row's text can never change the body's
    structure (no text pasting into JSON)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.body = read_json_file(path, "the body template")
        if not isinstance(self.body, dict):
            raise UsageError(f"the body template {path} must be a JSON object",
                             code="body_not_object", path=path)
        self.fields: list[str] = []
        for text in _strings(self.body):
            for name in check_template(text, "--body-template"):
                if name not in self.fields:
                    self.fields.append(name)

    def fill(self, row: dict[str, Any], number: int, path: str) -> dict[str, Any]:
        values = {name: row_text(row, name, number, path, "template") for name in self.fields}
        try:
            filled = _fill(self.body, values)
        except (ValueError, IndexError, KeyError) as exc:
            raise LineError(f"row {number}: --body-template cannot be filled: {exc}",
                            line=number, path=path, code="invalid_body") from exc
        assert isinstance(filled, dict)
        return filled


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values) if "{" in value else value
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def row_text(row: dict[str, Any], field: str, number: int, path: str, what: str) -> str:
    """A row's field as text; raises :class:`LineError` naming the row and the field when
    it is missing, null or not a string (an id may be a whole number: a table's integer
    key)."""
    if field not in row:
        fields = ", ".join(quote(name, 30) for name in list(row)[:12])
        raise LineError(f"row {number} has no {what} field {quote(field, 40)} (its fields: "
                        f"{fields or 'none'})", line=number, path=path, code="missing_body")
    value = row[field]
    if value is None:
        raise LineError(f"row {number}: {what} field {quote(field, 40)} is empty (null)",
                        line=number, path=path, code="missing_body")
    if what == "id" and type(value) is int:
        return str(value)
    if not isinstance(value, str):
        raise LineError(f"row {number}: {what} field {quote(field, 40)} is "
                        f"{quote(value, 40)}, not text", line=number, path=path,
                        code="invalid_body")
    return value


def row_prompt(row: dict[str, Any], number: int, path: str, *, prompt_field: str,
               template: str | None, template_fields: list[str]) -> str:
    """The prompt of a row: its ``prompt_field``, or ``template`` filled with its fields;
    a prompt of nothing but white space is refused (no provider answers it)."""
    if template is None:
        prompt = row_text(row, prompt_field, number, path, "prompt")
    else:
        values = {name: row_text(row, name, number, path, "template")
                  for name in template_fields}
        try:
            prompt = template.format(**values)
        except (ValueError, IndexError, KeyError) as exc:
            raise LineError(f"row {number}: --template cannot be filled: {exc}",
                            line=number, path=path, code="invalid_body") from exc
    if not prompt.strip():
        raise LineError(f"row {number}: the prompt is empty", line=number, path=path,
                        code="invalid_body")
    return prompt


def prompt_body(
    profile: Profile,
    endpoint: str,
    *,
    model: str | None,
    prompt: str,
    system: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> dict[str, Any]:
    """The request body that asks ``prompt`` of ``model`` on an endpoint of a provider.

    Chat endpoints get a system and a user message, embeddings get ``input``, Responses
    gets ``input`` and ``instructions``, Anthropic gets ``system`` and the ``max_tokens``
    it requires (1024 unless given), Gemini gets ``contents`` (``content`` to embed), each
    Bedrock family its own InvokeModel body (Claude's where the family is not known). Where
    the job sets the model (Bedrock, Vertex AI), the body names none.
    """
    # Where the job sets the model (Bedrock, Vertex AI), a body naming one is refused.
    named = model is not None and "model" not in profile.misplaced.get(endpoint, {})
    body: dict[str, Any] = {"model": model} if named else {}
    fill = _PROMPT_FIELDS.get(profile.endpoints.get(endpoint) or "", _chat_fields)
    body.update(fill(prompt, system, max_tokens, temperature))
    return body


# One function per body shape: the fields that ask a prompt (with an optional system text,
# output cap and temperature) of a model.

def _embedding_fields(prompt: str, system: str | None, max_tokens: int | None,
                      temperature: float | None) -> dict[str, Any]:
    return {"input": prompt}


def _gemini_fields(prompt: str, system: str | None, max_tokens: int | None,
                   temperature: float | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if system:
        fields["systemInstruction"] = {"parts": [{"text": system}]}
    config = _present(maxOutputTokens=max_tokens, temperature=temperature)
    if config:
        fields["generationConfig"] = config
    return fields


def _gemini_embedding_fields(prompt: str, system: str | None, max_tokens: int | None,
                             temperature: float | None) -> dict[str, Any]:
    # An embedContent request embeds one Content (Gemini's embedding batch lines).
    return {"content": {"parts": [{"text": prompt}]}}


def _responses_fields(prompt: str, system: str | None, max_tokens: int | None,
                      temperature: float | None) -> dict[str, Any]:
    return _present(input=prompt, instructions=system or None, max_output_tokens=max_tokens,
                    temperature=temperature)


def _completion_fields(prompt: str, system: str | None, max_tokens: int | None,
                       temperature: float | None) -> dict[str, Any]:
    return _present(prompt=prompt if not system else f"{system}\n\n{prompt}",
                    max_tokens=max_tokens, temperature=temperature)


def _messages_fields(prompt: str, system: str | None, max_tokens: int | None,
                     temperature: float | None) -> dict[str, Any]:
    # Anthropic requires max_tokens.
    return _present(max_tokens=max_tokens or 1024, system=system or None,
                    messages=[{"role": "user", "content": prompt}], temperature=temperature)


def _bedrock_claude_fields(prompt: str, system: str | None, max_tokens: int | None,
                          temperature: float | None) -> dict[str, Any]:
    return {"anthropic_version": "bedrock-2023-05-31",
            **_messages_fields(prompt, system, max_tokens, temperature)}


def _vertex_claude_fields(prompt: str, system: str | None, max_tokens: int | None,
                          temperature: float | None) -> dict[str, Any]:
    return {"anthropic_version": "vertex-2023-10-16",
            **_messages_fields(prompt, system, max_tokens, temperature)}


def _converse_fields(prompt: str, system: str | None, max_tokens: int | None,
                     temperature: float | None) -> dict[str, Any]:
    # Amazon Nova's InvokeModel body and a Converse request: text blocks, inferenceConfig.
    config = _present(maxTokens=max_tokens, temperature=temperature)
    return _present(system=[{"text": system}] if system else None,
                    messages=[{"role": "user", "content": [{"text": prompt}]}],
                    inferenceConfig=config or None)


def _titan_text_fields(prompt: str, system: str | None, max_tokens: int | None,
                       temperature: float | None) -> dict[str, Any]:
    config = _present(maxTokenCount=max_tokens, temperature=temperature)
    return _present(inputText=prompt if not system else f"{system}\n\n{prompt}",
                    textGenerationConfig=config or None)


def _llama_fields(prompt: str, system: str | None, max_tokens: int | None,
                  temperature: float | None) -> dict[str, Any]:
    return _present(prompt=prompt if not system else f"{system}\n\n{prompt}",
                    max_gen_len=max_tokens, temperature=temperature)


def _chat_fields(prompt: str, system: str | None, max_tokens: int | None,
                 temperature: float | None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return _present(messages=[*messages, {"role": "user", "content": prompt}],
                    max_tokens=max_tokens, temperature=temperature)


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value, in order."""
    return {name: value for name, value in fields.items() if value is not None}


_PROMPT_FIELDS: dict[str, Callable[[str, str | None, int | None, float | None],
                                   dict[str, Any]]] = {
    "openai/embeddings": _embedding_fields,
    "gemini/generate-content": _gemini_fields,
    "gemini/embed-content": _gemini_embedding_fields,
    "openai/responses": _responses_fields,
    "openai/completions": _completion_fields,
    "anthropic/messages": _messages_fields,
    "bedrock/anthropic-claude": _bedrock_claude_fields,
    "vertex/claude": _vertex_claude_fields,
    "bedrock/amazon-nova": _converse_fields,
    "bedrock/converse": _converse_fields,
    "bedrock/titan-text": _titan_text_fields,
    "bedrock/titan-embed-text": lambda prompt, *_: {"inputText": prompt},
    "bedrock/titan-embed-image": lambda prompt, *_: {"inputText": prompt},
    "bedrock/cohere-embed": lambda prompt, *_: {"texts": [prompt],
                                                "input_type": "search_document"},
    "bedrock/meta-llama": _llama_fields,
    "bedrock/mistral": _completion_fields,
    "bedrock/model-input": _bedrock_claude_fields,
}

