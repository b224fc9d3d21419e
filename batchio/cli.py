"""The ``batchio`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function, formats the value it
returns, and sets the exit status. What every command shares (the option vocabulary, one
line per error, the ``--format json`` envelope, the exit statuses) is in
:mod:`batchio._cli_base`:

- 0: all is well; 1: problems were found and reported (validate, ``join --strict``, an
  inconsistent ``status``, requests ``convert`` left out, results that answer none of the
  requests);
- 2: a usage error, or input that cannot be read as what it should be (a file that cannot
  be opened, read or decompressed, a bad line where a command needs good ones);
- 3: an output cannot be written (read-only, disk full, file too large, no permission);
- 130: interrupted (Ctrl-C); 143: terminated (SIGTERM). Files being written are removed
  first, so a target is left as it was.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from . import __version__
from ._cli_base import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Command,
    Commands,
    Terminated,
    count,
    dollars,
    echo,
    exit_status,
    finish,
    format_option,
    hidden_option,
    jobs_option,
    json_mode,
    max_errors_option,
    note,
    on_sigterm,
    one_line,
    out_dir_option,
    out_option,
    overwrite_option,
    progress,
    provider_option,
    quiet_option,
    total_size,
    warn,
    writes_stdout,
)
from ._cli_input import (
    BodyTemplate,
    check_template,
    parse_size,
    prompt_body,
    read_json_file,
    read_rows,
    row_prompt,
    row_text,
)
from .batch import Batch, BatchHistory, CrossCheck, Progress, load_batches
from .bodies import TokenCounter
from .building import RequestWriter
from .campaign import POLICIES, Campaign, Policy, RoundStatus
from .conversion import convert, convert_results
from .errors import (
    BatchioError,
    DuplicateIdError,
    Problem,
    SourceError,
    UsageError,
    escape,
    quote,
)
from .estimating import Calibration, Estimate, calibrate, estimate
from .ids import MAPPING_SUFFIX, ContentHashIds, SequenceIds, UuidIds, valid_id
from .jsonl import check_distinct_paths, is_stdout, reads_once, write_file_atomically
from .kinds import inspect
from .outputs import OUTPUT_CHECKS
from .parallel_join import write_join
from .pricing import load_prices
from .providers import PROVIDERS, STATUSES, Profile, get_profile, profile_for
from .reconcile import JoinSummary, join, retry_choices
from .sharding import MANIFEST_NAME, Manifest, request_files, result_files, split
from .simulation import MAX_DIMENSIONS, simulate
from .structured import SCHEMA_NAME, structured_output, with_structured_output
from .table import TableFormat, require_pyarrow, table_format
from .validation import Report, validate_each

__all__ = ["EXIT_INTERRUPTED", "EXIT_PROBLEMS", "EXIT_TERMINATED", "EXIT_USAGE",
           "estimate_lines", "exit_status", "main", "run"]


def run() -> None:
    """The ``batchio`` program: the command group, with SIGTERM handled from the first
    command to the last byte written, and SIGINT and SIGTERM ignored once the process is
    only exiting (its work done or ended), so that a late signal cannot turn a finished
    run's status into a kill. One that lands as the command returns still exits 130 or
    143, never with a traceback."""
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            main(standalone_mode=True)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except Terminated:
        sys.exit(EXIT_TERMINATED)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"],
                                             "max_content_width": 100})
@click.version_option(__version__, prog_name="batchio")
def main() -> None:
    """Build, check, shard, estimate, simulate and join the JSONL files of LLM batch APIs,
    offline and with no API key.

    batchio does not submit batches: upload, create, poll and download them with the
    provider's SDK or console, and hand the files to batchio before and after.
    """


# --- build ----------------------------------------------------------------------------------

ID_STRATEGIES = {"sequence": SequenceIds, "uuid": UuidIds, "hash": ContentHashIds}


T = TypeVar("T")


def _parsed(value: str | None, parse: Callable[[str], T], flag: str) -> T | None:
    """An option's value read by ``parse`` (None where it is not given); one it cannot
    read is that option's usage error (``<command> <flag>: invalid_argument``)."""
    if value is None:
        return None
    try:
        return parse(value)
    except UsageError as exc:
        raise click.BadParameter(exc.message, param_hint=flag) from exc


def _size(value: str | None) -> int | None:
    return _parsed(value, parse_size, "--max-bytes")


def _note_detected(providers: Iterable[str], flag: str = "--provider") -> None:
    """Say once which provider the files were read as, where the command was not told: as
    one where they agree, each where they differ."""
    found = sorted(set(providers))
    if len(found) == 1:
        note(f"provider {found[0]} (detected from the first request; {flag} to choose)")
    elif found:
        note(f"providers {', '.join(found)} (detected from each file's first request; "
             f"{flag} to choose)")


def _build_provider(provider: str | None, model: str | None) -> tuple[Profile, str | None]:
    """The provider a build writes for: the one named, else the one that serves the model
    (by the price table's lists), else OpenAI's shape; with why, unless it was named."""
    if provider is not None:
        return get_profile(provider), None
    serving = [] if model is None else load_prices().providers_of(model)
    chosen = "openai" if not serving or "openai" in serving else serving[0]
    reason = f"model {model} is served by it" if serving else (
        "assumed: no --model names a provider" if model is None
        else f"assumed: model {model} is in no provider's price list")
    return get_profile(chosen), f"provider {chosen}: {reason}; --provider to choose"


@main.command("build", cls=Command, short_help="Turn the rows of a CSV, TSV, JSONL or "
              "Parquet file into request lines (one file, or shards within the provider's "
              "limits).",
              examples=["batchio build examples/pipeline/questions.csv --model gpt-4o-mini "
                        "--template 'Explain {topic} to {audience}.' --id-field question_id "
                        "-o requests.jsonl"])
@click.argument("rows_path", metavar="ROWS")
@click.option("--delimiter", metavar="CHAR", help="A CSV's field separator (default: "
              "sniffed among , ; tab |; a .tsv's is a tab; 'tab' for a tab).")
@out_option("The one request file to write (- for stdout; .gz and .zst compress).")
@out_dir_option("A folder for shards and manifest.json.")
@click.option("--model", metavar="NAME", help="The model every request names.")
@click.option("--endpoint", metavar="URL",
              help="The endpoint (default: the provider's chat endpoint).")
@click.option("--system", metavar="TEXT", help="A system prompt for every request.")
@click.option("--prompt-field", default="prompt", show_default=True, metavar="FIELD",
              help="The row field holding the prompt.")
@click.option("--template", metavar="TEXT", help="A Python format string over the row's "
              "fields, e.g. 'Summarise: {text}' (instead of --prompt-field).")
@click.option("--body-template", metavar="FILE", help="A JSON request body whose strings "
              "hold {field} slots, filled from each row inside the parsed strings (instead "
              "of --template and --system; --model still applies).")
@click.option("--json-schema", "json_schema", metavar="FILE", help="Ask for a JSON answer "
              "keeping this JSON Schema, in the provider's own form (response_format, "
              "text.format, output_config.format or generationConfig.responseJsonSchema).")
@click.option("--schema-name", metavar="NAME", help="The schema's name where the provider's "
              "form has one (default: the schema file's name, else 'answer').")
@click.option("--strict/--no-strict", "strict_schema", default=True, show_default=True,
              help="OpenAI-shaped strict mode: the answer keeps the schema exactly.")
@click.option("--id-field", metavar="FIELD",
              help="A row field to use as custom_id (the caller's own key).")
@click.option("--ids", "id_strategy", type=click.Choice(sorted(ID_STRATEGIES)),
              default="sequence", show_default=True, help="How to make custom_ids.")
@click.option("--max-tokens", type=click.IntRange(min=1), metavar="N",
              help="max_tokens of each request.")
@click.option("--temperature", type=click.FloatRange(0, 2), metavar="T")
@click.option("--max-requests", type=click.IntRange(min=1), metavar="N",
              help="Requests per shard.")
@click.option("--max-bytes", metavar="SIZE", help="Bytes per shard, e.g. 100MB.")
@overwrite_option()
@provider_option("The batch API to write for (default: the one that serves --model, else "
                 "openai).")
@format_option
@quiet_option
def build_command(rows_path: str, delimiter: str | None, out: str | None,
                  out_dir: str | None, model: str | None,
                  endpoint: str | None, system: str | None, prompt_field: str,
                  template: str | None, body_template: str | None,
                  json_schema: str | None, schema_name: str | None, strict_schema: bool,
                  id_field: str | None, id_strategy: str,
                  max_tokens: int | None, temperature: float | None,
                  max_requests: int | None, max_bytes: str | None, overwrite: bool,
                  provider: str | None, output_format: str, quiet: bool) -> None:
    """Turn the rows of ROWS into request lines: one file (-o) or shards within the
    provider's limits with a manifest (--out-dir). ROWS is CSV with a header (.csv, its
    delimiter sniffed), TSV (.tsv), JSONL or Parquet (.parquet, the [arrow] extra); every
    message names a row by its line in the file (a Parquet file's rows from 1). Ids
    (--id-field) the provider refuses are replaced by ones it takes, with OUT.ids.json
    mapping each back."""
    on_stdout = writes_stdout(out)
    if delimiter is not None:
        delimiter = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
        if len(delimiter) != 1:
            raise click.BadParameter("one character, or 'tab'", param_hint="--delimiter")
    if (out is None) == (out_dir is None):
        raise click.UsageError("give exactly one of -o PATH or --out-dir DIR")
    if body_template is not None and (template is not None or system is not None):
        raise click.UsageError("--body-template is the whole body: give it without "
                               "--template and --system")
    template_fields = [] if template is None else check_template(template)
    shaped = None if body_template is None else BodyTemplate(body_template)
    profile, chosen = _build_provider(provider, model)
    fragment = None
    if json_schema is not None:
        name = schema_name or Path(json_schema).name.split(".")[0]
        try:
            fragment = structured_output(
                read_json_file(json_schema, "the JSON Schema"), provider=profile,
                endpoint=endpoint, name=name if SCHEMA_NAME.fullmatch(name) or schema_name
                else "answer", strict=strict_schema)
        except UsageError as exc:
            # Said at the schema's file, which the message is about.
            exc.path = exc.path or json_schema
            raise
    limit = profile.limits.max_requests
    if max_requests is not None and limit is not None and max_requests > limit:
        warn(f"--max-requests {max_requests:,} is over {profile.title}'s {limit:,} "
              "requests per file", "over_limit")
    target = out_dir if out_dir is not None else out or ""
    # The rows, the schema and the body template are read, never written over.
    check_distinct_paths([rows_path, json_schema, body_template], [out])
    with progress(total_size([rows_path]), f"building from {rows_path}") as on_progress:
        rows = read_rows(rows_path, delimiter, on_progress)
        # Ids the provider refuses (AB/123.x for Anthropic) become ones it takes, and a mapping
        # file beside the output gives each back, as convert's does.
        remapped: dict[str, str] = {}
        originals: dict[str, int] = {}
        used: set[str] = set()
        with RequestWriter(target, endpoint=profile.endpoint_named(endpoint, model),
                           provider=profile,
                           ids=ID_STRATEGIES[id_strategy](), max_requests=max_requests,
                           max_bytes=_size(max_bytes), folder=out_dir is not None,
                           overwrite=overwrite) as writer:
            for number, row in rows:
                if shaped is not None:
                    body = shaped.fill(row, number, rows_path)
                    if model is not None and "model" not in profile.misplaced.get(
                            writer.endpoint, {}):
                        body["model"] = model
                else:
                    prompt = row_prompt(row, number, rows_path, prompt_field=prompt_field,
                                        template=template, template_fields=template_fields)
                    body = prompt_body(profile, writer.endpoint, model=model, prompt=prompt,
                                       system=system, max_tokens=max_tokens,
                                       temperature=temperature)
                if fragment is not None:
                    body = with_structured_output(body, fragment)
                key = None if id_field is None else row_text(row, id_field, number, rows_path,
                                                             "id")
                try:
                    if key is not None:
                        key = _mapped_id(key, profile, used, remapped, originals, target,
                                         number)
                    writer.add(body, custom_id=key, row=number)
                except BatchioError as exc:
                    exc.path, exc.line = rows_path, number
                    raise
            if not writer.count:
                # Nothing to upload: no empty file where an upload script would find one.
                writer.abort()
                raise UsageError(f"{rows_path} holds no rows: nothing was written",
                                 code="empty_file", path=rows_path)
    why = "" if chosen is None or quiet else f" ({chosen})"
    mapping = None
    if remapped:
        mapping = (os.path.join(target, "ids.json") if out_dir is not None
                   else f"{target}{MAPPING_SUFFIX}")
        write_file_atomically(mapping, orjson.dumps(remapped, option=orjson.OPT_INDENT_2)
                              + b"\n")
        warn(f"{len(remapped):,} ids {profile.title} refuses were replaced by ones it takes "
             f"({profile.ids.description}); {mapping} maps each back", "ids_remapped")
    if writer.manifest is not None:
        _echo_manifest(writer.manifest, target, why)
        finish({"provider": profile.name, "out_dir": target, "mapping": mapping,
                **writer.manifest.to_dict()})
    echo(escape(f"{target}: {writer.count:,} requests{why}" if target != "-"
                else f"{writer.count:,} requests{why}"), err=on_stdout)
    finish({"provider": profile.name, "out": target, "requests": writer.count,
            "mapping": mapping}, err=on_stdout)


def _mapped_id(key: str, profile: Profile, used: set[str], remapped: dict[str, str],
               originals: dict[str, int], target: str, number: int) -> str:
    """A row's key as the provider takes it: itself, or (where its characters or length
    are refused) :func:`batchio.ids.valid_id`'s, remembered for the mapping file. A key
    two rows use is the writer's ``duplicate_custom_id`` either way: two requests whose
    results could not be told apart."""
    problem = profile.ids.problem(key, profile.id_field)
    if problem is None or problem[0] not in ("custom_id_charset", "custom_id_too_long"):
        used.add(key)
        return key  # a good id, or one the writer refuses with its own message
    if is_stdout(target):
        raise UsageError(f"{profile.id_field} {quote(key, 60)}: {problem[1]}; written to "
                         "stdout, no mapping file could give it back: write to a file "
                         "(-o PATH) to have such ids replaced", code=problem[0], line=number)
    first = originals.setdefault(key, number)
    if first != number:
        raise DuplicateIdError(f"{profile.id_field} {quote(key, 60)} of row {number} was "
                               f"already used by row {first}", line=number, custom_id=key)
    new = valid_id(key, profile, used)
    used.add(new)
    remapped[new] = key
    return new


def _echo_manifest(manifest: Manifest, folder: str, why: str = "") -> None:
    for shard in manifest.shards:
        ids = ("" if shard.first_custom_id is None else
               f", {shard.first_custom_id} .. {shard.last_custom_id}")
        model = f", model {shard.model}" if shard.model is not None else ""
        echo(escape(f"{os.path.join(folder, shard.path)}: {shard.requests:,} requests, "
                    f"{shard.bytes:,} bytes{model}{ids}"))
    blank = f"; {manifest.blank_lines:,} blank lines left out" if manifest.blank_lines else ""
    echo(escape(f"{count(len(manifest.shards), 'shard')}, {manifest.requests:,} requests{blank}; "
                f"manifest {os.path.join(folder, MANIFEST_NAME)}{why}"))


# --- validate -------------------------------------------------------------------------------

@main.command("validate", cls=Command, short_help="Check request files before upload, by "
              "the provider's published rules; every problem as PATH:LINE: CODE: message.",
              examples=["batchio validate examples/chat_requests.jsonl",
                        "batchio validate --format json examples/anthropic_requests.jsonl"])
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@provider_option()
@click.option("--endpoint", metavar="URL", help="The endpoint the batch will be created for "
              "(default: each line's url, or the provider's endpoint for the first body).")
@click.option("--model", metavar="NAME", help="The job's model, where the job sets it (AWS "
              "Bedrock, Vertex AI): every body is checked by that model's family.")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Your own JSON Schema, applied to every request body in addition.")
@max_errors_option(100, "errors (and N warnings) per file")
@jobs_option("Processes: for several files, files at once; for one large file, its byte "
             "ranges (default: the usable cores).")
@format_option
@quiet_option
def validate_command(paths: tuple[str, ...], provider: str | None, endpoint: str | None,
                     model: str | None, schema_path: str | None, max_errors: int,
                     jobs: int | None, output_format: str, quiet: bool) -> None:
    """Check request files before upload. A shard folder or its manifest.json stands for
    its shards."""
    reports: list[Report] = []
    unreadable = False
    options: dict[str, Any] = {"provider": provider, "endpoint": endpoint, "model": model,
                               "schema": schema_path, "max_errors": max_errors or None}
    paths = tuple(request_files(paths, what="validate", folders=True))
    if len(paths) == 1:
        with progress(total_size(paths), f"validating {paths[0]}") as on_progress:
            outcomes: Iterable[Report | BatchioError] = [next(validate_each(
                paths, workers=jobs, on_progress=on_progress, **options))]
    else:
        outcomes = _as_done(validate_each(paths, workers=jobs, **options), paths,
                            f"validating {len(paths):,} files")
    said: str | None = None
    for outcome in outcomes:
        if isinstance(outcome, BatchioError):
            # Problems inside a file are in its report; an error here means the file (or
            # the --schema file) could not be read at all, or an argument is wrong.
            click.echo(escape(one_line(outcome)), err=True)
            if isinstance(outcome, UsageError):
                sys.exit(EXIT_USAGE)
            unreadable = True
            continue
        reports.append(outcome)
        if not json_mode():
            # The provider detected is said once, and again only for a file that differs.
            detected = outcome.provider if outcome.provider_detected else None
            _print_report(outcome, detected if detected != said and not quiet else None)
            said = detected or said
    ok = all(report.ok for report in reports)
    status = EXIT_USAGE if unreadable else EXIT_OK if ok else EXIT_PROBLEMS
    if len(reports) > 1 and not json_mode():
        errors = sum(report.error_count for report in reports)
        failing = sum(not report.ok for report in reports)
        results = sum(report.results for report in reports)
        held = f"{sum(r.requests for r in reports):,} requests" + (
            f", {results:,} result lines" if results else "")
        echo(f"{len(reports)} files, {held}: "
             + ("all ok" if ok else f"{count(errors, 'error')} in {count(failing, 'file')}"))
    finish({"files": [report.to_dict() for report in reports],
            "requests": sum(report.requests for report in reports),
            "errors": sum(report.error_count for report in reports),
            "unreadable": unreadable}, status)


def _print_report(report: Report, detected: str | None = None) -> None:
    """A report as compiler-style lines: its problems by line, a count of those not listed
    per code, the provider ``detected`` off the file, and the summary line."""
    for problem in sorted(report.errors + report.warnings,
                          key=lambda p: (p.line is None, p.line or 0)):
        click.echo(_style_problem(problem))
    listed: dict[str, int] = {}
    for problem in report.errors + report.warnings:
        listed[problem.code] = listed.get(problem.code, 0) + problem.lines
    more = {code: number - listed.get(code, 0) for code, number in report.counts.items()
            if number > listed.get(code, 0)}
    if more:
        total = sum(more.values())
        per_code = ", ".join(f"{code} {number:,}" for code, number in
                             sorted(more.items(), key=lambda item: -item[1]))
        click.echo(f"{escape(report.path)}: ... and {total:,} more ({per_code}); "
                   "--max-errors 0 lists all")
    if detected is not None:
        click.echo(f"{escape(report.path)}: provider {detected} (detected from the first "
                   "request; --provider to choose)")
    click.echo(_summary_line(report))


def _style_problem(problem: Problem) -> str:
    text = problem.describe()
    colour = "yellow" if problem.severity == "warning" else "red"
    head, sep, rest = text.partition(f"{problem.code}:")
    return head + click.style(problem.code, fg=colour, bold=True) + ":" + rest if sep else text


def _summary_line(report: Report) -> str:
    figures = (f"{report.results:,} result lines of {report.provider}, {report.lines:,} lines"
               if report.kind == "results" else
               f"{report.requests:,} requests, {report.lines:,} lines, {report.bytes:,} bytes")
    details = [figures]
    if report.endpoint:
        urls = list(report.endpoints) or [report.endpoint]
        details.append(f"endpoint {', '.join(urls)}")
    if report.models:
        details.append("model " + ", ".join(report.models))
    if report.embedding_inputs:
        details.append(f"{report.embedding_inputs:,} embedding inputs")
    if report.ok:
        verdict = click.style("ok", fg="green", bold=True)
    else:
        verdict = click.style(count(report.error_count, "error"), fg="red", bold=True)
    if report.warning_count:
        verdict += ", " + count(report.warning_count, "warning")
    return f"{escape(report.path)}: {verdict} ({escape('; '.join(details))})"


# --- split ----------------------------------------------------------------------------------

@main.command("split", cls=Command, short_help="Stream a request file into shards within "
              "the provider's limits, bytes untouched, with a manifest.",
              examples=["batchio split examples/chat_requests.jsonl --out-dir shards "
                        "--max-requests 5 --overwrite"])
@click.argument("input_path", metavar="PATH")
@out_dir_option("Folder for the shards and manifest.json.", required=True)
@click.option("--max-requests", type=click.IntRange(min=1), metavar="N",
              help="Requests per shard (default: the provider's limit).")
@click.option("--max-bytes", metavar="SIZE",
              help="Bytes per shard, e.g. 100MB (default: the provider's limit).")
@click.option("--by-model", is_flag=True, help="A separate shard series for each model.")
@overwrite_option()
@provider_option()
@format_option
@quiet_option
def split_command(input_path: str, out_dir: str, max_requests: int | None,
                  max_bytes: str | None, by_model: bool, overwrite: bool,
                  provider: str | None, output_format: str, quiet: bool) -> None:
    """Stream PATH into shards within the provider's limits, bytes untouched."""
    with progress(total_size([input_path]), f"splitting {input_path}") as on_progress:
        manifest = split(input_path, out_dir, provider=provider, max_requests=max_requests,
                         max_bytes=_size(max_bytes), by_model=by_model, overwrite=overwrite,
                         on_progress=on_progress)
    _echo_manifest(manifest, out_dir)
    if provider is None and not reads_once(input_path):
        _note_detected([manifest.provider])
    finish({"out_dir": out_dir, **manifest.to_dict()})


# --- estimate -------------------------------------------------------------------------------

@main.command("estimate", cls=Command, short_help="Estimate request files before submit: "
              "requests, input tokens, the output bound and the cost range at batch prices.",
              examples=["batchio estimate examples/chat_requests.jsonl",
                        "batchio estimate --format json examples/anthropic_requests.jsonl"])
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@provider_option()
@click.option("--calibrate", "calibrate_path", metavar="FILE",
              help="Fit the characters-a-token ratio to a past job's joined file (from "
              "batchio join -o, JSONL or Parquet) and estimate with it.")
@click.option("--enqueued-limit", type=click.IntRange(min=1), metavar="N",
              help="Warn where a model's input tokens in one file pass this enqueued-token "
              "budget (what fails a batch with token_limit_exceeded).")
@click.option("--chars-per-token", type=click.FloatRange(min=0.1), metavar="X",
              help="Characters a token (default: the provider's figure, or --calibrate's).")
@jobs_option("Processes that estimate files at once (default: the usable cores).")
@format_option
@quiet_option
def estimate_command(paths: tuple[str, ...], provider: str | None, calibrate_path: str | None,
                     enqueued_limit: int | None, chars_per_token: float | None,
                     jobs: int | None, output_format: str, quiet: bool) -> None:
    """Estimate request files (or a shard folder) before submit: requests, input tokens, the
    output bound from each request's cap, and the cost range at batch prices."""
    fitted = None if calibrate_path is None else calibrate(calibrate_path)
    counter = (TokenCounter(chars_per_token) if chars_per_token is not None
               else None if fitted is None else fitted.counter())
    files = request_files(list(paths), what="estimate")
    with progress(total_size(files), "estimating") as on_progress:
        report = estimate(files, provider=provider, counter=counter,
                          enqueued_limit=enqueued_limit, workers=jobs,
                          on_progress=on_progress)
    for line in estimate_lines(report, fitted):
        echo(escape(line))
    if provider is None:
        _note_detected(item.provider for item in report.files)
    document = report.to_dict()
    if fitted is not None:
        document["calibration"] = fitted.to_dict()
    finish(document)


def estimate_lines(report: Estimate, fitted: Calibration | None = None) -> Iterator[str]:
    """The text ``batchio estimate`` prints: a cost range only over what is priced, and
    "unknown" where nothing is."""
    if fitted is not None:
        yield (f"calibrated on {fitted.requests:,} requests: {fitted.chars_per_token:.2f} "
               f"characters a token (median error {fitted.median_error:.1%}, 90th percentile "
               f"{fitted.p90_error:.1%})")
    for item in report.files:
        if item.uncapped == item.requests:
            output = "no bound on output tokens (no request sets an output cap)"
        elif item.uncapped:
            output = (f"at most {item.output_cap_tokens:,} output tokens for the "
                      f"{item.requests - item.uncapped:,} requests with a cap, no bound for "
                      f"the {item.uncapped:,} without")
        else:
            output = f"at most {item.output_cap_tokens:,} output tokens"
        yield (f"{item.path}: {item.requests:,} requests, ~{item.input_tokens:,} input tokens, "
               f"{output}; "
               f"{_cost_range(item.cost_low, item.cost_high, item.requests, item.unpriced_requests, item.uncapped)}")  # noqa: E501
        if item.unpriced:
            yield (f"  unpriced models ({item.unpriced_requests:,} requests): "
                   f"{', '.join(item.unpriced)}")
        for warning in item.warnings:
            yield f"  warning: {warning}"
    if len(report.files) > 1:
        unpriced = report.total("unpriced_requests")
        yield (f"total: {report.total('requests'):,} requests, "
               f"~{report.total('input_tokens'):,} input tokens, "
               f"{_cost_range(report.total('cost_low'), report.total('cost_high'), report.total('requests'), unpriced, report.total('uncapped'))}")  # noqa: E501
    yield (f"(input tokens estimated at {report.chars_per_token:.2f} characters a token; "
           "prices from batchio/prices.json)")


def _cost_range(low: float, high: float, requests: int, unpriced: int, uncapped: int
                ) -> str:
    """The cost from its floor to its ceiling; a request without an output cap has no
    ceiling, so where one has none the high end is a floor too."""
    if requests and unpriced >= requests:
        return "cost unknown (no price for its models)"
    if uncapped and uncapped >= requests:
        text = f"from {dollars(low)} at batch prices, no upper bound"
    elif uncapped:
        text = f"{dollars(low)} to more than {dollars(high)} at batch prices"
    else:
        text = f"{dollars(low)} to {dollars(high)} at batch prices"
    return text + (f" (without the {unpriced:,} unpriced requests)" if unpriced else "")


# --- simulate -------------------------------------------------------------------------------

def _rate_option(flag: str, name: str, default: float, text: str
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option for a share of requests, from 0 to 1."""
    return click.option(flag, name, type=click.FloatRange(0, 1), default=default,
                        show_default=True, metavar="SHARE", help=text)


def _stem(path: str) -> str:
    """A request file's name without its JSONL and compression suffixes."""
    name = "requests" if path == "-" else Path(path).name
    for suffix in (".gz", ".zst", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name or "requests"


def simulation_paths(requests: str, out_dir: str, profile: Profile) -> dict[str, str | None]:
    """The files ``simulate --out-dir`` writes, named after the request file as the
    provider names its own: ``STEM.output.jsonl`` and ``STEM.errors.jsonl`` (one
    ``STEM.results.jsonl`` for a provider with one result file, Bedrock's
    ``STEM.jsonl.out``) and ``STEM.batch.json``."""
    stem = os.path.join(out_dir, _stem(requests))
    if profile.result_file_name is not None:
        return {"output": profile.result_file_name.format(stem=stem), "errors": None,
                "batch_json": f"{stem}.batch.json"}
    if profile.one_result_file:
        return {"output": f"{stem}.results.jsonl", "errors": None,
                "batch_json": f"{stem}.batch.json"}
    return {"output": f"{stem}.output.jsonl", "errors": f"{stem}.errors.jsonl",
            "batch_json": f"{stem}.batch.json"}


@main.command("simulate", cls=Command, short_help="Write the result files and Batch object "
              "a provider would return for a request file, offline, with the faults you ask.",
              aliases={"old_output": ("out", "--output", "-o/--out")},
              examples=["batchio simulate examples/chat_requests.jsonl --out-dir results "
                        "--overwrite --seed 1 --fail 0.1"])
@click.argument("requests_path", metavar="PATH")
@out_dir_option("A folder for the result files, named after PATH as the provider names "
                "them (PATH.output.jsonl and PATH.errors.jsonl, or PATH.results.jsonl) and "
                "the Batch object (PATH.batch.json).")
@out_option("One file for every result line instead (output and error lines together).")
@hidden_option("--output", "old_output", metavar="PATH")
@hidden_option("--errors", metavar="PATH")
@click.option("--seed", type=int, default=0, show_default=True, metavar="N")
@_rate_option("--fail", "failure_rate", 0.02, "Share of requests that fail with HTTP "
              "400/429/500.")
@_rate_option("--expire", "expire_rate", 0.01, "Share of requests that expire.")
@_rate_option("--missing", "missing_rate", 0.001, "Share of requests in neither file.")
@_rate_option("--cancel", "cancel_rate", 0.0, "Share of requests cancelled.")
@click.option("--no-shuffle", is_flag=True, help="Keep results in input order.")
@click.option("--dimensions", type=click.IntRange(min=1, max=MAX_DIMENSIONS), metavar="N",
              help="Embedding size for models whose size batchio does not know.")
@click.option("--batch-json", metavar="PATH", help="Also write the matching Batch object "
              "here (--out-dir writes it as PATH.batch.json).")
@_rate_option("--refusal", "refusal_rate", 0.0, "Share of succeeded answers that refuse "
              "(drawn first: a refusal is never cut at the request's cap).")
@_rate_option("--truncate", "truncation_rate", 0.0,
              "Share of succeeded answers cut off at the token limit (besides those whose "
              "drawn length passes the request's own cap, cut there as a real answer is).")
@_rate_option("--invalid-json", "invalid_json_rate", 0.0,
              "Share of answers to JSON requests that do not parse (drawn among all "
              "succeeded answers; a warning counts those whose request asks for no JSON).")
@_rate_option("--schema-violation", "schema_violation_rate", 0.0,
              "Share of answers to JSON-schema requests that break the schema (a warning "
              "counts those drawn where no schema can be broken).")
@click.option("--chars-per-token", type=click.FloatRange(min=0.1), default=4.0,
              show_default=True, metavar="X",
              help="Characters a token behind the simulated input tokens.")
@provider_option()
@overwrite_option("Replace result files and Batch objects already in --out-dir under the "
                  "names this run writes.")
@format_option
@quiet_option
def simulate_command(requests_path: str, out_dir: str | None, out: str | None,
                     errors: str | None, seed: int, failure_rate: float, expire_rate: float,
                     missing_rate: float, cancel_rate: float, no_shuffle: bool,
                     dimensions: int | None, batch_json: str | None, refusal_rate: float,
                     truncation_rate: float, invalid_json_rate: float,
                     schema_violation_rate: float, chars_per_token: float,
                     provider: str | None, overwrite: bool, output_format: str,
                     quiet: bool) -> None:
    """Write the result files a provider would return for the requests in PATH, offline. A
    shard folder (or its manifest.json) stands for its shards: each is answered as its own
    batch into --out-dir, with the seed plus its number."""
    on_stdout = writes_stdout(out, errors, batch_json)
    if (out is None) == (out_dir is None):
        raise click.UsageError("give exactly one of --out-dir DIR or -o PATH")
    if errors is not None:
        warn("simulate --errors is now --out-dir, which names the output and error files",
             "deprecated_option")
    shards = request_files([requests_path], what="simulate") if os.path.isdir(
        requests_path) or Path(requests_path).name == MANIFEST_NAME else [requests_path]
    if len(shards) > 1 and out_dir is None:
        raise click.UsageError(f"{requests_path} holds {len(shards)} shards: give --out-dir "
                               "DIR for their results")
    if len(shards) > 1 and batch_json is not None:
        raise click.UsageError(f"{requests_path} holds {len(shards)} shards, each with its own "
                               "Batch object (written into --out-dir): --batch-json names "
                               "one; leave it out")
    # Each shard's provider and files, named before any is written: files already in the
    # folder are refused for every shard at once, not after some were replaced.
    plans: list[tuple[str, str | None, dict[str, str | None]]] = []
    detected: list[str] = []
    for shard in shards:
        paths: dict[str, str | None] = {"output": out, "errors": errors,
                                        "batch_json": batch_json}
        shard_provider = provider
        found = profile_for(None, shard) if provider is None and not reads_once(
            shard) else None
        if found is not None:
            detected.append(found.name)
        if out_dir is not None:
            profile = found or get_profile(provider or "openai")
            shard_provider = profile.name
            named = simulation_paths(shard, out_dir, profile)
            paths = {**named, "batch_json": batch_json if len(shards) == 1 and batch_json
                     else named["batch_json"]}
        plans.append((shard, shard_provider, paths))
    if out_dir is not None:
        if not overwrite:
            _refuse_existing(out_dir, [path for _, _, paths in plans
                                       for path in paths.values() if path])
        _results_folder(out_dir)
    documents = []
    said: list[str] = []
    done = 0
    # One bar over every shard (each may be under the bar's threshold), the lines each
    # shard's simulation says printed once it has ended.
    try:
        with progress(total_size(shards), f"simulating {requests_path}") as bar:
            for number, (shard, shard_provider, paths) in enumerate(plans):
                on_progress = None if bar is None else functools.partial(_moved, bar, done)
                result = simulate(shard, output=paths["output"] or "", errors=paths["errors"],
                                  seed=seed + number, failure_rate=failure_rate,
                                  expire_rate=expire_rate, cancel_rate=cancel_rate,
                                  missing_rate=missing_rate, shuffle=not no_shuffle,
                                  provider=shard_provider, embedding_dimensions=dimensions,
                                  batch_json=paths["batch_json"], refusal_rate=refusal_rate,
                                  truncation_rate=truncation_rate,
                                  invalid_json_rate=invalid_json_rate,
                                  schema_violation_rate=schema_violation_rate,
                                  chars_per_token=chars_per_token, on_progress=on_progress)
                done += total_size([shard])
                fates = ", ".join(f"{count:,} {fate}" for fate, count in result.counts.items())
                said.append(f"{result.batch.id} {result.batch.status.value}: {fates}")
                written = [path for path in (result.output, result.errors, paths["batch_json"])
                           if path]
                said.append("wrote " + ", ".join(written))
                documents.append({"requests": shard, "output": result.output,
                                  "errors": result.errors, "batch_json": paths["batch_json"],
                                  "counts": result.counts, "outputs": result.outputs,
                                  "batch": result.batch.to_dict()})
    finally:
        # What was written is said, even where a later shard failed (on stderr where the
        # results went to stdout).
        for line in said:
            echo(escape(line), err=on_stdout)
    _note_detected(detected)
    finish(documents[0] if len(documents) == 1 else {"simulations": documents}, err=on_stdout)


def _refuse_existing(folder: str, paths: Sequence[str]) -> None:
    """Refuse to replace files ``simulate --out-dir`` would write that are there already:
    a folder of real results, named as the provider names them, would lose them."""
    existing = [os.path.basename(path) for path in paths if os.path.lexists(path)]
    if existing:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise UsageError(f"{folder} already holds {', '.join(existing[:3])}{more}: simulated "
                         "results would replace them (are they a real job's?); use "
                         "--overwrite to replace them, or another folder",
                         code="target_exists", path=folder)


def _results_folder(folder: str) -> None:
    """Make the folder simulated results go to (an error of batchio's own where a file is
    in its place)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError as exc:
        raise SourceError(f"cannot use {folder} as the results folder: it is a file, not a "
                          "folder", path=folder, code="unwritable_file",
                          errno=exc.errno) from exc
    except OSError as exc:
        raise SourceError(f"cannot make the results folder {folder}: "
                          f"{exc.strerror or exc}", path=folder, code="unwritable_file",
                          errno=exc.errno) from exc


# --- join -----------------------------------------------------------------------------------

def _moved(bar: Callable[[int], None], base: int, position: int) -> None:
    """A bar over several files told a position within one of them, after ``base``."""
    bar(base + position)


def _as_done(outcomes: Iterable[Any], paths: Sequence[str], label: str) -> Iterator[Any]:
    """The outcomes of ``paths``, in order, a progress bar moving as each file is done."""
    with progress(total_size(paths), label) as on_progress:
        done = 0
        for path, outcome in zip(paths, outcomes, strict=True):
            done += total_size([path])
            if on_progress is not None:
                on_progress(done)
            yield outcome


def _result_paths(paths: Iterable[str]) -> list[str]:
    """Result files named by ``--results``: each file, and each folder's result files."""
    found: list[str] = []
    for path in paths:
        found.extend(result_files(path) if os.path.isdir(path) else [path])
    return found


def _retry_statuses(value: str | None) -> frozenset[str] | None:
    return _parsed(value, retry_choices, "--retry-status")


@main.command("join", cls=Command, short_help="Join result files back to the request "
              "files, every request accounted for once: a table, a summary with the cost, "
              "and the requests to retry.",
              aliases={"old_outputs": ("results", "--output", "--results"),
                       "old_to": ("table_as", "--to", "--as")},
              examples=["batchio simulate examples/chat_requests.jsonl --out-dir results "
                        "--overwrite && batchio join examples/chat_requests.jsonl --results "
                        "results -o joined.jsonl --retry retry.jsonl"])
@click.argument("inputs", nargs=-1, metavar="PATH...")
@click.option("--results", multiple=True, metavar="PATH",
              help="A result file, or a folder of them (*.jsonl, .gz, .zst): output and "
              "error files alike, whichever shard each answers; repeat for several.")
@click.option("--errors", multiple=True, metavar="PATH",
              help="An error file (read as --results are); repeat for several.")
@hidden_option("--manifest", "manifests", multiple=True, metavar="PATH")
@hidden_option("--output", "old_outputs", multiple=True, metavar="PATH")
@out_option("Where to write the joined rows: .parquet, .csv, or JSONL (any other name; - "
            "for stdout). Without it, only the summary (and --retry) is written.")
@click.option("--as", "table_as", type=click.Choice(["parquet", "csv", "jsonl"]),
              help="The format of -o, whatever its name.")
@click.option("--columns", metavar="LIST", help="Write only these columns of the table, "
              "comma-separated and in that order (e.g. custom_id,status,text,cost_usd).")
@hidden_option("--to", "old_to", type=click.Choice(["parquet", "csv", "jsonl"]))
@click.option("--check-outputs", is_flag=True,
              help="Check each answer against what its request asked for (JSON, its schema, "
              "truncation, refusal, empty): the output_check column and counts.")
@click.option("--retry", "retry_path", metavar="PATH",
              help="Write the request lines to resubmit here.")
@click.option("--retry-status", "retry_status", metavar="LIST",
              help="What --retry holds: comma-separated statuses or output checks; +X adds "
              "to the default (retryable failures, expired, cancelled, missing), -X takes "
              "from it, a list without +/- replaces it; e.g. +truncated,+schema_violation "
              "(with --check-outputs).")
@provider_option()
@click.option("--index", type=click.Choice(["auto", "memory", "sqlite"]), default="auto",
              show_default=True, help="Where the custom_id index lives.")
@click.option("--strict", is_flag=True,
              help="Exit 1 unless every request succeeded with no orphans or duplicates.")
@jobs_option("Processes that join ranges of the inputs [default: the usable cores, for "
             "inputs of 32 MB or more]; the rows and summary are those of one.")
@max_errors_option(20, "unreadable result lines, orphans and duplicates")
@format_option
@quiet_option
def join_command(inputs: tuple[str, ...], results: tuple[str, ...], errors: tuple[str, ...],
                 manifests: tuple[str, ...], out: str | None, table_as: TableFormat | None,
                 columns: str | None,
                 check_outputs: bool, retry_path: str | None, retry_status: str | None,
                 provider: str | None, index: str, strict: bool, jobs: int | None,
                 max_errors: int, output_format: str, quiet: bool) -> None:
    """Join the result files back to the request files (PATH: files, shard folders or
    manifests) by custom_id."""
    # Rows or retry lines on stdout: the report goes to stderr.
    rows_on_stdout = writes_stdout(out, retry_path)
    if not inputs and not manifests:
        raise click.UsageError("give the request files to join: PATH... (files, a shard "
                               "folder or its manifest.json)")
    inputs = tuple(request_files([*inputs, *manifests], what="join"))
    result_paths = _result_paths(results)
    if not result_paths and not errors:
        raise click.UsageError("give the result files to join: --results PATH (a file or a "
                               "folder; repeat for several)")
    statuses = _retry_statuses(retry_status)
    checks = sorted((statuses or frozenset()) & set(OUTPUT_CHECKS))
    if checks and not check_outputs:
        raise click.UsageError(f"--retry-status {checks[0]} is an output check: add "
                               "--check-outputs")
    check_distinct_paths([*inputs, *result_paths, *errors], [out, retry_path])
    with progress(total_size([*inputs, *result_paths, *errors]), "joining") as on_progress:
        kind = table_format(out or "-", table_as)
        if out is not None and kind != "jsonl":
            require_pyarrow()
        joined = join(list(inputs), outputs=result_paths, errors=list(errors),
                      provider=provider, index=index, strict=strict, on_progress=on_progress,
                      check_outputs=check_outputs)
        if rows_on_stdout:
            # Rows go out as they are made: an input id used twice, which ends the join,
            # is looked for before the first.
            joined.check_inputs_unique()
        rows = write_join(joined, out, kind, retry=retry_path, retry_statuses=statuses,
                          workers=jobs, columns=None if columns is None else [
                              name.strip() for name in columns.split(",") if name.strip()])
    summary = joined.summary
    if summary.unusable_usage:
        warn(f"{summary.unusable_usage:,} result lines report a token count that cannot be "
             "used (below 0, past 64 bits, not a number): it is not in the usage or the cost",
             "unusable_usage")
    if provider is None and not reads_once(inputs[0]):
        # (Input read once has said, as a warning, that its provider was assumed.)
        _note_detected([summary.provider])
    status = EXIT_PROBLEMS if strict and not summary.clean else EXIT_OK
    written = {"out": out, "rows": rows if out is not None else 0, "format": kind if out
               else None, "retry": retry_path}
    for text in join_lines(summary, written, max_errors):
        echo(text, err=rows_on_stdout)
    if out is None and not quiet:
        note("no rows written: -o PATH writes the joined table (-o - for stdout)")
    if jobs is not None and jobs > 1 and get_profile(summary.provider).echo_field and not quiet:
        note(f"joined in one process, not {jobs}: {get_profile(summary.provider).title} "
             "results are matched by the request they repeat, in input order")
    finish({**summary.to_dict(), "files": written}, status, err=rows_on_stdout)


def join_lines(summary: JoinSummary, written: dict[str, Any], max_errors: int = 20
               ) -> Iterator[str]:
    """The text summary of a join: what happened to the requests, the output checks, the
    cost, what was written and where; then error codes and the first problems."""
    counts = ", ".join(f"{summary.counts[status]:,} {status}" + (
        f" ({summary.failed_retryable:,} retryable)" if status == "failed"
        and summary.counts[status]
        else "") for status in STATUSES)
    yield (f"{summary.inputs:,} requests: {counts}; {len(summary.orphans):,} orphans, "
           f"{len(summary.duplicates):,} duplicates")
    if summary.checked_outputs:
        # Verdicts of the succeeded answers: the rows that did not succeed count in the
        # summary's not_checked, and are not said here.
        checks = summary.output_checks
        succeeded = summary.counts["succeeded"]
        failed = {check: checks[check] for check in OUTPUT_CHECKS
                  if check not in ("ok", "not_checked") and checks.get(check)}
        unchecked = succeeded - checks.get("ok", 0) - sum(failed.values())
        text = "".join(f", {number:,} {check}" for check, number in failed.items())
        yield (f"output checks of the {succeeded:,} succeeded: {checks.get('ok', 0):,} ok"
               f"{text}" + (f", {unchecked:,} not checked (nothing asked to check)"
                            if unchecked > 0 else ""))
    yield _cost_line(summary.cost())
    out = written.get("out")
    if out is not None and out != "-":
        yield escape(f"wrote {out} ({written['rows']:,} rows, {written['format']})")
    if written.get("retry") is not None:
        yield escape(f"wrote {written['retry']} ({count(summary.retry_requests or 0, 'request')}"
                     " to retry)")
    if summary.error_codes:
        codes = ", ".join(f"{code} {number:,}" for code, number in
                          summary.error_codes.most_common())
        yield escape(f"error codes: {codes}")
    limit = max_errors or None
    for problem in summary.problems[:limit]:
        yield _style_problem(problem)
    for ref in summary.orphans[:limit]:
        yield escape(f"{ref.path}:{ref.line}: orphan_result: custom_id {quote(ref.custom_id)} "
                     "is not among the inputs")
    for ref in summary.duplicates[:limit]:
        yield escape(f"{ref.path}:{ref.line}: duplicate_result: custom_id "
                     f"{quote(ref.custom_id)} already has a result")
    hidden = sum(max(0, len(found) - (limit or len(found))) for found in (
        summary.problems, summary.orphans, summary.duplicates))
    if hidden:
        yield f"... and {hidden:,} more; --max-errors 0 lists all"


def _cost_line(cost: dict[str, Any]) -> str:
    """The cost at batch prices, flagged where a price used is uncertain and short by the
    models no price is known for."""
    uncertain = [model for model, entry in cost["models"].items() if entry["uncertain"]]
    text = f"cost: {dollars(cost['total'])} at batch prices"
    if not cost["models"] and cost["unpriced"]:
        text = f"cost: unknown (no price for {', '.join(cost['unpriced'])})"
    elif not cost["models"]:
        text = "cost: unknown (the results report no tokens)"
    if uncertain:
        text += f" (uncertain: {', '.join(uncertain)})"
    if cost["unpriced"] and cost["models"]:
        text += f"; unpriced: {', '.join(cost['unpriced'])}"
    return escape(text)


# --- status ---------------------------------------------------------------------------------

@main.command("status", cls=Command, short_help="Summarise a Batch object (or a polling log "
              "of them) and cross-check it with its files.",
              aliases={"old_output": ("results", "--output", "--results"),
                       "old_input": ("requests", "--input", "--requests")},
              examples=["batchio simulate examples/chat_requests.jsonl --out-dir results "
                        "--overwrite && batchio status results/chat_requests.batch.json "
                        "--results results --requests examples/chat_requests.jsonl"])
@click.argument("batch_json", metavar="PATH")
@click.option("--results", multiple=True, metavar="PATH", help="The downloaded result files "
              "(output and error files, or a folder of them), to cross-check the counts.")
@click.option("--errors", "errors", metavar="PATH", help="The downloaded error file, to "
              "cross-check.")
@click.option("--requests", "requests", multiple=True, metavar="PATH",
              help="The request files (a folder stands for its request files; repeat for "
              "several), to cross-check request_counts.total.")
@hidden_option("--output", "old_output", multiple=True, metavar="PATH")
@hidden_option("--input", "old_input", multiple=True, metavar="PATH")
@provider_option()
@format_option
@quiet_option
def status_command(batch_json: str, results: tuple[str, ...], errors: str | None,
                   requests: tuple[str, ...], provider: str | None, output_format: str,
                   quiet: bool) -> None:
    """Summarise a Batch object (PATH: one, or a polling log of them) and cross-check its
    files."""
    history = BatchHistory(load_batches(batch_json, provider=provider))
    batch = history.latest
    problems = [dataclasses.replace(problem, path=batch_json) for problem in history.check()]
    cross = None
    result_paths = _result_paths(results)
    request_paths = request_files(list(requests), what="cross-check",
                                  folders=True) if requests else None
    if result_paths or errors or requests:
        cross = batch.reconcile(results=result_paths, errors=errors, inputs=request_paths,
                                provider=provider)
        problems += [dataclasses.replace(problem, path=problem.path or batch_json)
                     for problem in cross.problems]
    progress_now = history.progress()
    if not json_mode():
        for text in _status_lines(batch, progress_now, cross):
            click.echo(text)
        for problem in problems:
            click.echo(_style_problem(problem))
        click.echo("consistent" if not problems else f"{len(problems)} problems")
    finish({
        "batch": batch.to_dict(),
        "polls": len(history.batches),
        "progress": None if progress_now is None else dataclasses.asdict(progress_now),
        "files": None if cross is None else {
            "succeeded_lines": cross.succeeded_lines, "failed_lines": cross.failed_lines,
            "input_lines": cross.input_lines},
        "problems": [problem.to_dict() for problem in problems],
    }, EXIT_PROBLEMS if problems else EXIT_OK)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width if not total else round(width * done / total)
    return "[" + "#" * filled + "." * (width - filled) + "]"



def _status_lines(batch: Batch, progress: Progress | None, cross: CrossCheck | None
                  ) -> Iterator[str]:
    """The text of ``batchio status``: status line, progress, durations, errors, files."""
    colour = {"completed": "green", "failed": "red", "expired": "yellow",
              "cancelled": "yellow"}.get(batch.status.value, "cyan")
    yield (f"{escape(batch.id)}  {click.style(batch.status.value, fg=colour, bold=True)}"
           f"  {escape(batch.endpoint or '')}  {escape(batch.model or '')}").rstrip()
    if batch.request_counts is not None and progress is not None:
        counts = batch.request_counts
        share = "progress unknown" if progress.percent is None else f"{progress.percent:5.1f}%"
        yield (f"  {_bar(counts.done, counts.total)} {share}  {counts.completed:,} completed, "
               f"{counts.failed:,} failed of {counts.total:,}")
        if progress.requests_per_second:
            yield f"  {progress.requests_per_second:,.1f} requests/s"
        if not batch.status.is_terminal and progress.running_seconds is not None:
            yield f"  running for {_duration(progress.running_seconds)} (as of now)"
    if not batch.status.is_terminal and batch.expires_at is not None \
            and batch.expires_at < time.time():
        # A batch still running past its deadline is an old snapshot: the service has
        # ended (expired) it since.
        yield (f"  past its expires_at by {_duration(time.time() - batch.expires_at)}: "
               "this is an old snapshot; the batch has ended since (poll it again)")
    yield "  " + ", ".join(f"{name} {_duration(seconds)}"
                           for name, seconds in batch.durations().items())
    for entry in batch.errors or ():
        where = f"line {entry.line}: " if entry.line is not None else ""
        yield escape(f"  error: {where}{entry.code}: {entry.message}")
    if cross is not None:
        yield (f"  files: {cross.succeeded_lines:,} successful lines, "
               f"{cross.failed_lines:,} failed lines"
               + ("" if cross.input_lines is None else f", {cross.input_lines:,} inputs"))


# --- inspect --------------------------------------------------------------------------------

@main.command("inspect", cls=Command, short_help="Say what each file is: requests, results, "
              "a Batch object or a shard folder, whose, with its counts.",
              examples=["batchio inspect examples/chat_requests.jsonl examples/pipeline"])
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@format_option
@quiet_option
def inspect_command(paths: tuple[str, ...], output_format: str, quiet: bool) -> None:
    """Say what each PATH is (a request file, a result file, a Batch object, a shard
    folder, a folder of batch files, or none of these), whose, with its counts and why."""
    found = [inspect(path) for path in paths]
    for item in found:
        echo(escape(item.describe()))
    finish({"files": [item.to_dict() for item in found]})


# --- convert --------------------------------------------------------------------------------

@main.command("convert", cls=Command, short_help="Convert request files (or result files) "
              "between providers' formats, offline, with ids the target accepts.",
              examples=["batchio convert examples/chat_requests.jsonl --to anthropic "
                        "--model claude-haiku-4-5 -o anthropic_requests.jsonl"])
@click.argument("input_path", metavar="PATH", required=False)
@click.option("--from", "from_provider", type=click.Choice(PROVIDERS), default=None,
              metavar="NAME", help="The provider PATH is written for (default: read off its "
              "first line; for --results, anthropic).")
@click.option("--to", "to_provider", type=click.Choice(PROVIDERS), default="anthropic",
              show_default=True, metavar="NAME",
              help="The provider to write requests for (results: always openai).")
@out_option("Where to write the converted file.", required=True)
@click.option("--results", "results_path", is_flag=False, flag_value="", default=None,
              metavar="PATH", help="Convert this result file to OpenAI output lines instead "
              "of requests.")
@click.option("--mapping", metavar="PATH", help="The id mapping file (default: OUT.ids.json; "
              "none for stdout, where an id that must be replaced is refused); an existing "
              "one restores original ids.")
@click.option("--model", metavar="NAME", help="Give every converted request this model.")
@click.option("--endpoint", metavar="URL", help="The target's endpoint: /v1/responses for "
              "OpenAI's Responses (default: the target's chat endpoint).")
@click.option("--model-map", metavar="FILE", help="A JSON object mapping each source model "
              "to the target's model (a request whose model only another provider serves "
              "is left out unless --model or --model-map names one).")
@click.option("--max-tokens", type=click.IntRange(min=1), default=1024, show_default=True,
              metavar="N", help="max_tokens for requests that set none, where the target "
              "requires it.")
@click.option("--strict", is_flag=True, help="Fail on the first request that cannot be "
              "converted faithfully, instead of leaving it out.")
@max_errors_option(20, "requests left out")
@format_option
@quiet_option
def convert_command(input_path: str | None, from_provider: str | None, to_provider: str,
                    out: str, results_path: str | None, mapping: str | None,
                    model: str | None, endpoint: str | None, model_map: str | None,
                    max_tokens: int, strict: bool,
                    max_errors: int,
                    output_format: str, quiet: bool) -> None:
    """Convert the requests in PATH (or the results in --results PATH) between providers'
    formats, offline."""
    on_stdout = writes_stdout(out, mapping)
    if results_path == "":
        # The flag of an earlier release: PATH is the result file.
        warn("convert PATH --results is now convert --results PATH", "deprecated_option")
        results_path, input_path = input_path, None
    if (input_path is None) == (results_path is None):
        raise click.UsageError("give the requests to convert as PATH, or the results as "
                               "--results PATH (not both)")
    if results_path is not None:
        conversion = convert_results(results_path, out,
                                     from_provider=from_provider or "anthropic",
                                     mapping=mapping)
    else:
        assert input_path is not None
        # The model map is read, never written over (convert checks its own files).
        check_distinct_paths([input_path, model_map], [out])
        models = None if model_map is None else read_json_file(model_map, "the model map")
        if models is not None and not (isinstance(models, dict) and all(
                isinstance(value, str) for value in models.values())):
            raise click.BadParameter("a JSON object of model names to model names",
                                     param_hint="--model-map")
        with progress(total_size([input_path]), f"converting {input_path}") as on_progress:
            conversion = convert(input_path, out, from_provider=from_provider,
                                 to_provider=to_provider, strict=strict, model=model,
                                 max_tokens=max_tokens, mapping=mapping, model_map=models,
                                 endpoint=endpoint, on_progress=on_progress)
        if from_provider is None and not reads_once(input_path):
            _note_detected([profile_for(None, input_path).name], "--from")
    if not json_mode():
        # One line per cause, with its count and first place: 20,000 requests left out
        # for one reason are one line.
        causes: dict[tuple[str | None, str], list[Problem]] = {}
        for problem in conversion.skipped:
            causes.setdefault((problem.param, problem.message), []).append(problem)
        limit = max_errors or None
        for found in list(causes.values())[:limit]:
            more = f" (and {len(found) - 1:,} more requests)" if len(found) > 1 else ""
            click.echo(_style_problem(found[0]) + more, err=True)
        hidden = len(causes) - len(list(causes)[:limit])
        if hidden:
            click.echo(f"... and {hidden:,} more causes; --max-errors 0 lists all", err=True)
        if not conversion.converted and not conversion.skipped:
            raise UsageError(f"{input_path} holds no requests: nothing was written",
                             code="empty_file", path=input_path)
        if not conversion.converted:
            click.echo(escape(f"batchio: {input_path}: nothing_converted: no request could be "
                              f"converted, so {out} was not written"), err=True)
        mapped = (f"; {len(conversion.remapped):,} ids remapped ({conversion.mapping_path})"
                  if conversion.remapped else "")
        click.echo(escape(f"{out}: {conversion.converted:,} converted, "
                          f"{len(conversion.skipped):,} left out{mapped}"),
                   err=on_stdout)
    finish(conversion.to_dict(), EXIT_OK if conversion.ok else EXIT_PROBLEMS,
           err=on_stdout)


# --- campaign -------------------------------------------------------------------------------

class _Campaign(click.Group):
    """The ``campaign`` commands, in the order of a job."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        order = ("record", "status", "retry", "final")
        return sorted(self.commands, key=lambda name: (
            order.index(name) if name in order else len(order), name))


#: The first round of a campaign, recorded: where the campaign commands' examples begin.
_ROUND_ONE = ("batchio simulate examples/chat_requests.jsonl --out-dir campaign-results "
              "--overwrite --fail 0.3 && batchio campaign record job.ledger --round 1 "
              "--requests examples/chat_requests.jsonl --results campaign-results")


@main.group("campaign", cls=_Campaign, short_help="Record a job's rounds (requests, results, "
            "Batch objects) in a ledger; its status, the next round to retry, one final "
            "table.")
def campaign_group() -> None:
    """A job's rounds in one SQLite ledger: record each round's files, see what is still
    owed and what it cost, write the next round's requests, and one final table with one
    row per custom_id."""


def _round_line(item: RoundStatus) -> str:
    counts = item.counts
    waiting = "" if item.answered else " (no results yet)"
    return (f"round {item.round} ({item.provider or 'provider unknown'}): "
            f"{counts['requests']:,} requests{waiting}: {counts['succeeded']:,} succeeded"
            + (f" ({counts['output_check_failed']:,} with a failed output check)"
               if item.checked_outputs else "")
            + f", {counts['failed']:,} failed ({counts['failed_retryable']:,} retryable), "
            f"{counts['expired']:,} expired, {counts['cancelled']:,} cancelled, "
            f"{counts['missing']:,} missing; {item.orphans:,} orphans; "
            f"{dollars(item.cost_usd)}"
            + ("; batches " + ", ".join(f"{batch['id']} {batch['status']}"
                                        for batch in item.batches) if item.batches else ""))


@campaign_group.command("record", cls=Command, short_help="Record a round's request files, "
                        "result files and Batch objects; the round is joined again.",
                        examples=[f"{_ROUND_ONE} --batch "
                                  "campaign-results/chat_requests.batch.json"])
@click.argument("ledger", metavar="LEDGER")
@click.option("--round", "round_number", type=click.IntRange(min=1), required=True,
              metavar="N", help="The round these files belong to (1 for the first).")
@click.option("--requests", multiple=True, metavar="PATH",
              help="A request file, shard folder or manifest of the round; repeatable.")
@click.option("--results", multiple=True, metavar="PATH", help="A result file (output or "
              "error) or a folder of them; repeatable.")
@click.option("--batch", "batches", multiple=True, metavar="PATH",
              help="A Batch object (or a polling log of them), or a folder of them "
              "(*.batch.json, manifest.json.out); repeatable.")
@click.option("--check-outputs", is_flag=True, help="Check the round's answers against what "
              "their requests asked for (kept for the round).")
@click.option("--replace", is_flag=True,
              help="Record a file whose content changed since it was recorded.")
@provider_option()
@format_option
@quiet_option
def campaign_record_command(ledger: str, round_number: int, requests: tuple[str, ...],
                            results: tuple[str, ...], batches: tuple[str, ...],
                            check_outputs: bool, replace: bool, provider: str | None,
                            output_format: str, quiet: bool) -> None:
    """Record a round's files in the campaign ledger LEDGER (made if absent)."""
    if not requests and not results and not batches:
        raise click.UsageError("nothing to record: give --requests, --results or --batch")
    files: list[str] = []
    with contextlib.suppress(BatchioError):  # record says what is wrong with them
        files = [*(request_files(list(requests), what="record") if requests else []),
                 *_result_paths(results)]
    with Campaign(ledger) as campaign, progress(total_size(files),
                                                f"recording round {round_number}") as bar:
        recording = campaign.record(round_number, requests=requests, results=results,
                                    batches=batches, provider=provider,
                                    check_outputs=check_outputs, replace=replace,
                                    on_progress=bar)
    added = collections.Counter({"requests": "request", "results": "result"}.get(
        item.kind, item.kind) for item in recording.added)
    said = ", ".join(count(number, f"{kind} file") for kind, number in sorted(added.items()))
    echo(escape(f"round {round_number}: recorded {said or 'no new file'}"
                + (f" ({count(len(recording.unchanged), 'file')} unchanged)"
                   if recording.unchanged else "")
                + (f", {count(len(recording.replaced), 'file')} replaced"
                   if recording.replaced else "")))
    if recording.status is not None:
        echo(escape(_round_line(recording.status)))
    finish(recording.to_dict())


@campaign_group.command("status", cls=Command, short_help="What every round did, what is "
                        "still owed, and what the job cost.",
                        examples=[f"{_ROUND_ONE} && batchio campaign status job.ledger"])
@click.argument("ledger", metavar="LEDGER")
@format_option
@quiet_option
def campaign_status_command(ledger: str, output_format: str, quiet: bool) -> None:
    """The job in LEDGER: in total (each request's best outcome so far, what is still owed,
    the cost of every attempt), then round by round."""
    with Campaign(ledger, create=False) as campaign:
        report = campaign.status()
    total = report.total
    echo(f"{total['requests']:,} requests: {total['succeeded']:,} succeeded"
         f" ({total['output_check_failed']:,} with a failed output check), "
         f"{total['failed']:,} failed ({total['failed_retryable']:,} retryable), "
         f"{total['expired']:,} expired, {total['cancelled']:,} cancelled, "
         f"{total['missing']:,} missing; {total['owed']:,} still owed, "
         f"{total['to_retry']:,} of them to retry (campaign retry)"
         + (f", {total['awaiting']:,} awaiting results" if total["awaiting"] else ""))
    priced = ("unknown (no price for the models used)" if total["unpriced"]
              and not total["cost_usd"] else f"{dollars(total['cost_usd'])} at batch prices"
              + (f" ({total['unpriced']:,} answers unpriced)" if total["unpriced"] else ""))
    echo(f"cost: {priced} for {total['attempts']:,} attempts in "
         f"{count(len(report.rounds), 'round')}")
    for item in report.rounds:
        echo(escape(_round_line(item)))
    for warning in report.warnings:
        warn(warning["message"], warning["code"], ledger)
    finish(report.to_dict())


@campaign_group.command("retry", cls=Command, short_help="Write the next round's request "
                        "shards: the requests whose best outcome so far is to be retried.",
                        examples=[f"{_ROUND_ONE} && batchio campaign retry job.ledger "
                                  "--out-dir round2 --overwrite"])
@click.argument("ledger", metavar="LEDGER")
@out_dir_option("Folder for the next round's shards and manifest.json.", required=True)
@click.option("--retry-status", "retry_status", metavar="LIST",
              help="Which outcomes to retry, as join --retry-status takes them (default: "
              "retryable failures, expired, cancelled, missing; +X adds, -X takes away).")
@click.option("--max-requests", type=click.IntRange(min=1), metavar="N",
              help="Requests per shard (default: the provider's limit).")
@click.option("--max-bytes", metavar="SIZE",
              help="Bytes per shard, e.g. 100MB (default: the provider's limit).")
@click.option("--by-model", is_flag=True, help="A separate shard series for each model.")
@overwrite_option()
@format_option
@quiet_option
def campaign_retry_command(ledger: str, out_dir: str, retry_status: str | None,
                           max_requests: int | None, max_bytes: str | None, by_model: bool,
                           overwrite: bool, output_format: str, quiet: bool) -> None:
    """Write the next round's requests from LEDGER: the original request lines, byte for
    byte, of every request whose best outcome so far is to be retried."""
    statuses = _retry_statuses(retry_status)
    with Campaign(ledger, create=False) as campaign:
        retried = campaign.retry(out_dir, statuses=statuses, max_requests=max_requests,
                                 max_bytes=_size(max_bytes), by_model=by_model,
                                 overwrite=overwrite)
    _echo_manifest(retried.manifest, out_dir)
    if not retried.requests:
        note(f"nothing to retry: every request of {ledger} has an outcome the retry statuses "
             "do not choose" + (", or awaits its results" if retried.awaiting_results else ""))
    finish(retried.to_dict())


@campaign_group.command("final", cls=Command, short_help="Write one table with one row per "
                        "custom_id: each request's chosen answer across every round.",
                        examples=[f"{_ROUND_ONE} && batchio campaign final job.ledger "
                                  "-o final.jsonl"])
@click.argument("ledger", metavar="LEDGER")
@out_option("Where to write the table: .parquet, .csv, or JSONL (any other name).",
            required=True)
@click.option("--as", "table_as", type=click.Choice(["parquet", "csv", "jsonl"]),
              help="The format of -o, whatever its name.")
@click.option("--policy", type=click.Choice(POLICIES), default="best", show_default=True,
              help="best: the best outcome, then the latest round; latest: the latest round "
              "with a result line.")
@format_option
@quiet_option
def campaign_final_command(ledger: str, out: str, table_as: TableFormat | None,
                           policy: Policy, output_format: str, quiet: bool) -> None:
    """Write LEDGER's final table: one row per custom_id, the joined table's columns plus
    round, attempts and total_cost_usd."""
    on_stdout = writes_stdout(out)
    kind = table_format(out, table_as)
    if kind != "jsonl":
        require_pyarrow()
    with Campaign(ledger, create=False) as campaign:
        rows = campaign.final(policy).write(out, kind)
    echo(escape(f"wrote {out} ({rows:,} rows, {kind}, policy {policy})"),
         err=on_stdout)
    finish({"out": out, "rows": rows, "format": kind, "policy": policy}, err=on_stdout)
