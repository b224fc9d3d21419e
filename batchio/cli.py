"""The ``batchio`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function, formats the value it
returns, and sets the exit status. Every failure is one line on stderr, never a traceback,
and one of the documented exit statuses, decided in one place (:class:`_Commands`):

- 0: all is well; 1: problems were found and reported (validate, ``join --strict``, an
  inconsistent ``status``, requests ``convert`` left out);
- 2: a usage error, or input that cannot be read as what it should be (a file that cannot
  be opened, read or decompressed, a bad line where a command needs good ones);
- 3: an output cannot be written (read-only, disk full, file too large, no permission);
- 130: interrupted (Ctrl-C); 143: terminated (SIGTERM). Files being written are removed
  first, so a target is left as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

import click
import orjson

from . import __version__
from ._cli_input import check_template, parse_size, prompt_body, read_rows, row_prompt, row_text
from .batch import Batch, BatchHistory, CrossCheck, Progress, load_batches
from .bodies import TokenCounter
from .building import RequestWriter
from .conversion import convert, convert_results
from .errors import BatchioError, BatchioWarning, Problem, UsageError, escape, quote
from .estimating import Calibration, Estimate, calibrate, estimate
from .ids import ContentHashIds, SequenceIds, UuidIds
from .jsonl import check_distinct_paths, reads_once
from .outputs import OUTPUT_CHECKS
from .parallel_join import write_join
from .providers import PROVIDERS, STATUSES, get_profile
from .reconcile import JoinSummary, join, retry_choices
from .sharding import MANIFEST_NAME, Manifest, request_files, result_files, split
from .simulation import MAX_DIMENSIONS, simulate
from .table import TableFormat, require_pyarrow, table_format
from .validation import Report, validate_each

_PROGRESS_MIN_BYTES = 4 * 1024 * 1024

#: Exit statuses (the module docstring says when each is used).
EXIT_PROBLEMS, EXIT_USAGE, EXIT_WRITE, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 3, 130, 143

#: errno values that mean "this cannot be written here".
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM,
                           errno.EDQUOT, errno.EISDIR, errno.ENOTDIR, errno.EEXIST})

provider_option = click.option(
    "--provider", type=click.Choice(PROVIDERS), default=None,
    help="The batch API whose formats and limits apply (default: read off the first "
    "request's shape).")
format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="Human-readable text, or one JSON document on stdout.")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


#: Codes of errors that stop a command because its check found problems (``join --strict``
#: refusing orphan or duplicate result lines): exit 1, as when a check reports them.
_FINDINGS = frozenset({"orphan_result", "duplicate_result", "results_do_not_match"})


def exit_status(exc: BaseException) -> int:
    """The exit status for an error that ends a command."""
    if isinstance(exc, _Terminated):
        return EXIT_TERMINATED
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, BatchioError):
        if exc.code in _FINDINGS:
            return EXIT_PROBLEMS
        # An error that stops a command is about its arguments or its input (a file that
        # cannot be read, or read as what it should be), unless an output cannot be written.
        return EXIT_WRITE if exc.code == "unwritable_file" else EXIT_USAGE
    if isinstance(exc, OSError):
        return EXIT_WRITE if exc.errno in _WRITE_ERRNOS else EXIT_USAGE
    return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    """``batchio: <what went wrong> [code]`` for an error that ends a command."""
    if isinstance(exc, KeyboardInterrupt):
        return "batchio: terminated" if isinstance(exc, _Terminated) else "batchio: interrupted"
    if isinstance(exc, BatchioError):
        text = str(exc)
        return f"batchio: {text}" if f"{exc.code}:" in text else f"batchio: {text} [{exc.code}]"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"batchio: cannot write{where}: {exc.strerror or exc} [unwritable_file]" \
            if exc.errno in _WRITE_ERRNOS else f"batchio:{where} {exc.strerror or exc}"
    return f"batchio: {type(exc).__name__}: {exc}"


class _Commands(click.Group):
    """The command group, with the one place where errors become messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = None
        with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", BatchioWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            # The reader of our output went away (| head): nothing more to say to it.
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            sys.exit(141)
        except (BatchioError, OSError, KeyboardInterrupt, MemoryError, RecursionError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                # The reader of our output went away (| head): nothing more to say to it.
                with contextlib.suppress(OSError):
                    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                sys.exit(141)
            click.echo(escape(_one_line(exc)), err=True)
            sys.exit(exit_status(exc))
        finally:
            if previous is not None:
                with contextlib.suppress(ValueError):
                    signal.signal(signal.SIGTERM, previous)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """A warning as one line on stderr: ``batchio: warning: <place>: <code>: <what>``."""
    text = str(message)
    click.echo(escape(f"batchio: warning: {text}" if issubclass(category, BatchioWarning)
                      else f"batchio: warning: {category.__name__}: {text}"), err=True)


def run() -> None:
    """The ``batchio`` program: the command group, with SIGTERM handled from the first
    command to the last byte written, and SIGINT and SIGTERM ignored once the process is
    only exiting (its work done or ended), so that a late signal cannot turn a finished
    run's status into a kill. One that lands as the command returns still exits 130 or
    143, never with a traceback."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            main(standalone_mode=True)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except _Terminated:
        sys.exit(EXIT_TERMINATED)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


def _fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    click.echo(escape(f"batchio: {message}"), err=True)
    sys.exit(status)


def _echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _progress(path: str, label: str) -> contextlib.AbstractContextManager[
        Callable[[int], None] | None]:
    """A progress bar on stderr for a large file, only when stderr is a terminal."""
    return _progress_total(_total_size((path,)), label)


def _style_problem(problem: Problem) -> str:
    text = problem.describe()
    colour = "yellow" if problem.severity == "warning" else "red"
    head, sep, rest = text.partition(f"{problem.code}:")
    return head + click.style(problem.code, fg=colour, bold=True) + ":" + rest if sep else text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _summary_line(report: Report) -> str:
    counts = f"{report.requests:,} requests, {report.lines:,} lines, {report.bytes:,} bytes"
    details = [counts]
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
        verdict = click.style(_count(report.error_count, "error"), fg="red", bold=True)
    if report.warning_count:
        verdict += ", " + _count(report.warning_count, "warning")
    return f"{escape(report.path)}: {verdict} ({escape('; '.join(details))})"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batchio")
def main() -> None:
    """Read, build, validate, shard, join and convert LLM batch JSONL files, offline."""


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="PATHS...")
@provider_option
@click.option("--endpoint", help="The endpoint the batch will be created for (default: each "
              "line's url, or the provider's endpoint for the first body).")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False),
              help="Your own JSON Schema, applied to every request body in addition.")
@click.option("--max-errors", type=click.IntRange(min=0), default=100, show_default=True,
              help="List at most N errors (and N warnings) per file, then a count per code; "
              "0 lists all.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes: for several files, files at once; for one large file, its "
              "byte ranges (default: the usable cores).")
@format_option
def validate_command(paths: tuple[str, ...], provider: str | None, endpoint: str | None,
                     schema_path: str | None, max_errors: int, jobs: int | None,
                     output_format: str) -> None:
    """Check batch files before upload; report every problem as PATH:LINE: CODE: message.

    A shard folder or its manifest.json stands for its shards."""
    reports: list[Report] = []
    unreadable = False
    options: dict[str, Any] = {"provider": provider, "endpoint": endpoint,
                               "schema": schema_path, "max_errors": max_errors or None}
    paths = tuple(request_files(paths, what="validate"))
    if len(paths) == 1:
        with _progress(paths[0], f"validating {paths[0]}") as on_progress:
            outcomes: Iterable[Report | BatchioError] = [next(validate_each(
                paths, workers=jobs, on_progress=on_progress, **options))]
    else:
        outcomes = validate_each(paths, workers=jobs, **options)
    for outcome in outcomes:
        if isinstance(outcome, BatchioError):
            # Problems inside a file are in its report; an error here means the file (or
            # the --schema file) could not be read at all, or an argument is wrong.
            click.echo(_one_line(outcome), err=True)
            if isinstance(outcome, UsageError):
                sys.exit(EXIT_USAGE)
            unreadable = True
            continue
        reports.append(outcome)
        if output_format == "text":
            _print_report(outcome)
    ok = all(report.ok for report in reports)
    if output_format == "json":
        _echo_json({"ok": ok and not unreadable, "files": [r.to_dict() for r in reports]})
    sys.exit(EXIT_USAGE if unreadable else 0 if ok else EXIT_PROBLEMS)


def _print_report(report: Report) -> None:
    """A report as compiler-style lines: its problems by line, a count of those not listed
    per code, the provider when it was read off the file, and the summary line."""
    for problem in sorted(report.errors + report.warnings,
                          key=lambda p: (p.line is None, p.line or 0)):
        click.echo(_style_problem(problem))
    listed: dict[str, int] = {}
    for problem in report.errors + report.warnings:
        listed[problem.code] = listed.get(problem.code, 0) + problem.lines
    more = {code: count - listed.get(code, 0) for code, count in report.counts.items()
            if count > listed.get(code, 0)}
    if more:
        total = sum(more.values())
        per_code = ", ".join(f"{code} {count:,}" for code, count in
                             sorted(more.items(), key=lambda item: -item[1]))
        click.echo(f"{escape(report.path)}: ... and {total:,} more ({per_code}); "
                   "--max-errors 0 lists all")
    if report.provider_detected:
        click.echo(f"{escape(report.path)}: provider {report.provider} (detected from the "
                   "first request; --provider to choose)")
    click.echo(_summary_line(report))


def _total_size(paths: tuple[str, ...]) -> int:
    total = 0
    for path in paths:
        if path == "-":
            continue
        with contextlib.suppress(OSError):
            total += os.path.getsize(path)
    return total


@contextlib.contextmanager
def _progress_total(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over ``total`` bytes on stderr, only when stderr is a terminal."""
    if total < _PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        done = 0

        def update(position: int) -> None:
            nonlocal done
            position = min(position, total)
            if position > done:
                bar.update(position - done)
                done = position

        yield update


def _split_statuses(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    try:
        return retry_choices(value)
    except UsageError as exc:
        raise click.BadParameter(exc.message) from exc


@main.command("join")
@click.argument("inputs", nargs=-1)
@click.option("--manifest", "manifests", multiple=True,
              help="A shard folder's manifest.json (or the folder): its shards are the inputs, "
              "in order.")
@click.option("--output", "outputs", multiple=True, help="An output (or results) file; repeat "
              "for several.")
@click.option("--errors", "errors", multiple=True, help="An error file; repeat for several.")
@click.option("--results", "result_folders", multiple=True,
              help="A folder of result files (*.jsonl, .gz, .zst), whichever shard each "
              "answers; repeat for several.")
@click.option("-o", "joined", default="-", show_default=True,
              help="Where to write the joined rows: .parquet, .csv, or JSONL (any other "
              "name, - for stdout).")
@click.option("--to", "table_to", type=click.Choice(["parquet", "csv", "jsonl"]),
              help="The format of -o, whatever its name.")
@click.option("--check-outputs", is_flag=True,
              help="Check each answer against what its request asked for (JSON, its schema, "
              "truncation, refusal, empty): the output_check column and counts.")
@click.option("--retry", "retry_path", help="Write the request lines to resubmit here.")
@click.option("--retry-status", "retry_status", metavar="LIST",
              help="What --retry holds: comma-separated statuses or output checks; +X adds "
              "to the default (retryable failures, expired, cancelled, missing), -X takes "
              "from it, a list without +/- replaces it; e.g. +truncated,+schema_violation "
              "(with --check-outputs).")
@provider_option
@click.option("--index", type=click.Choice(["auto", "memory", "sqlite"]), default="auto",
              show_default=True, help="Where the custom_id index lives.")
@format_option
@click.option("--strict", is_flag=True,
              help="Exit 1 unless every request succeeded with no orphans or duplicates.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that join ranges of the inputs [default: the usable cores, for "
              "inputs of 32 MB or more]; the rows and summary are those of one.")
def join_command(inputs: tuple[str, ...], manifests: tuple[str, ...],
                 outputs: tuple[str, ...], errors: tuple[str, ...],
                 result_folders: tuple[str, ...], joined: str, table_to: TableFormat | None,
                 check_outputs: bool,
                 retry_path: str | None, retry_status: str | None, provider: str | None,
                 index: str, output_format: str, strict: bool, jobs: int | None) -> None:
    """Join output and error files back to the INPUT request files by custom_id."""
    if not inputs and not manifests:
        raise click.UsageError("give the request files to join: INPUT... or --manifest "
                               "shards/manifest.json")
    inputs = tuple(request_files([*inputs, *manifests], what="join"))
    outputs = (*outputs, *(path for folder in result_folders for path in result_files(folder)))
    if not outputs and not errors:
        raise click.UsageError("give the result files to join: --output FILE (and --errors "
                               "FILE for providers with an error file), or --results FOLDER")
    statuses = _split_statuses(retry_status)
    checks = sorted((statuses or frozenset()) & set(OUTPUT_CHECKS))
    if checks and not check_outputs:
        raise click.UsageError(f"--retry-status {checks[0]} is an output check: add "
                               "--check-outputs")
    check_distinct_paths([*inputs, *outputs, *errors], [joined, retry_path])
    total = _total_size(inputs) + _total_size(outputs + errors)
    with _progress_total(total, "joining") as on_progress:
        kind = table_format(joined, table_to)
        if kind != "jsonl":
            require_pyarrow()
        result = join(list(inputs), outputs=list(outputs), errors=list(errors),
                      provider=provider, index=index, strict=strict, on_progress=on_progress,
                      check_outputs=check_outputs)
        if joined == "-":
            # Rows go out as they are made: an input id used twice, which ends the join,
            # is looked for before the first.
            result.check_inputs_unique()
        write_join(result, joined, kind, retry=retry_path, retry_statuses=statuses,
                   workers=jobs)
    summary = result.summary
    if output_format == "json":
        document = orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2).decode()
        click.echo(document, err=joined == "-")
    else:
        if provider is None and not reads_once(inputs[0]):
            # (Input read once has said, as a warning, that its provider was assumed.)
            click.echo(f"provider {summary.provider} (detected from the first request; "
                       "--provider to choose)", err=True)
        for text in _summary_lines(summary):
            click.echo(text, err=True)
    readable = summary.result_lines - len(summary.problems)
    if summary.result_lines and readable <= 0:
        click.echo(f"batchio: none of the {summary.result_lines:,} result lines could be read "
                   "as a result (see above)", err=True)
        sys.exit(EXIT_PROBLEMS)
    sys.exit(EXIT_PROBLEMS if strict and not summary.clean else 0)


def _summary_lines(summary: JoinSummary) -> Iterator[str]:
    """The text a join prints on stderr: counts, error codes, the first problems."""
    counts = ", ".join(f"{summary.counts[status]:,} {status}" for status in STATUSES)
    yield (f"{summary.inputs:,} inputs: {counts}; {len(summary.orphans):,} orphans, "
           f"{len(summary.duplicates):,} duplicates")
    if summary.error_codes:
        codes = ", ".join(f"{code} {count:,}" for code, count in
                          summary.error_codes.most_common())
        yield escape(f"error codes: {codes}")
    if summary.unusable_usage:
        yield (f"warning: {summary.unusable_usage:,} result lines report a token count that "
               "cannot be used (below 0, past 64 bits, not a number): it is not in the usage "
               "or the cost")
    for problem in summary.problems[:20]:
        yield _style_problem(problem)
    for ref in summary.orphans[:20]:
        yield escape(f"{ref.path}:{ref.line}: orphan_result: custom_id {quote(ref.custom_id)} "
                     "is not among the inputs")
    for ref in summary.duplicates[:20]:
        yield escape(f"{ref.path}:{ref.line}: duplicate_result: custom_id "
                     f"{quote(ref.custom_id)} already has a result")


def estimate_lines(report: Estimate, fitted: Calibration | None = None) -> Iterator[str]:
    """The text ``batchio estimate`` prints."""
    if fitted is not None:
        yield (f"calibrated on {fitted.requests:,} requests: {fitted.chars_per_token:.2f} "
               f"characters a token (median error {fitted.median_error:.1%}, 90th percentile "
               f"{fitted.p90_error:.1%})")
    for item in report.files:
        bound = (f"; {item.uncapped:,} with no output cap" if item.uncapped else "")
        yield (f"{item.path}: {item.requests:,} requests, ~{item.input_tokens:,} input tokens, "
               f"at most {item.output_cap_tokens:,} output tokens{bound}; "
               f"{_dollars(item.cost_low)} to {_dollars(item.cost_high)} at batch prices")
        if item.unpriced:
            yield f"  unpriced models: {', '.join(item.unpriced)}"
        for warning in item.warnings:
            yield f"  warning: {warning}"
    if len(report.files) > 1:
        yield (f"total: {report.total('requests'):,} requests, "
               f"~{report.total('input_tokens'):,} input tokens, "
               f"{_dollars(report.total('cost_low'))} to "
               f"{_dollars(report.total('cost_high'))}")
    yield (f"(input tokens estimated at {report.chars_per_token:.2f} characters a token; "
           "prices from batchio/prices.json)")


def _dollars(amount: float) -> str:
    """US dollars: cents, or four decimals under a dollar (small jobs cost fractions)."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"


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


@main.command("status")
@click.argument("batch_json")
@click.option("--output", "output", help="The downloaded output file, to cross-check.")
@click.option("--errors", "errors", help="The downloaded error file, to cross-check.")
@click.option("--input", "inputs", help="The input file, to cross-check request_counts.total.")
@provider_option
@format_option
def status_command(batch_json: str, output: str | None, errors: str | None,
                   inputs: str | None, provider: str | None, output_format: str) -> None:
    """Summarise a Batch object (or a polling log of them) and cross-check its files."""
    history = BatchHistory(load_batches(batch_json, provider=provider))
    batch = history.latest
    problems = [dataclasses.replace(problem, path=batch_json) for problem in history.check()]
    cross = None
    if output or errors or inputs:
        cross = batch.reconcile(output=output, errors=errors, inputs=inputs, provider=provider)
        problems += [dataclasses.replace(problem, path=problem.path or batch_json)
                     for problem in cross.problems]
    progress = history.progress()
    if output_format == "json":
        _echo_json({
            "ok": not problems,
            "batch": batch.to_dict(),
            "polls": len(history.batches),
            "progress": None if progress is None else dataclasses.asdict(progress),
            "files": None if cross is None else {
                "succeeded_lines": cross.succeeded_lines, "failed_lines": cross.failed_lines,
                "input_lines": cross.input_lines},
            "problems": [problem.to_dict() for problem in problems],
        })
    else:
        for text in _status_lines(batch, progress, cross):
            click.echo(text)
        for problem in problems:
            click.echo(_style_problem(problem))
        click.echo("consistent" if not problems else f"{len(problems)} problems")
    sys.exit(EXIT_PROBLEMS if problems else 0)


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


def _size(value: str | None) -> int | None:
    return None if value is None else parse_size(value)


def _echo_manifest(manifest: Manifest, folder: str, output_format: str) -> None:
    if output_format == "json":
        _echo_json(manifest.to_dict())
        return
    for shard in manifest.shards:
        click.echo(escape(f"{os.path.join(folder, shard.path)}: {shard.requests:,} requests, "
                          f"{shard.bytes:,} bytes, model {shard.model}, "
                          f"{shard.first_custom_id} .. {shard.last_custom_id}"))
    blank = f"; {manifest.blank_lines:,} blank lines left out" if manifest.blank_lines else ""
    click.echo(escape(f"{len(manifest.shards)} shards, {manifest.requests:,} requests{blank}; "
                      f"manifest {os.path.join(folder, MANIFEST_NAME)}"))


overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace the shards and manifest of an earlier run in "
    "the folder (only files batchio names as its own are removed).")


@main.command("split")
@click.argument("input_path", metavar="INPUT")
@click.option("--out-dir", required=True, help="Folder for the shards and manifest.json.")
@click.option("--max-requests", type=click.IntRange(min=1),
              help="Requests per shard (default: the provider's limit).")
@click.option("--max-bytes", help="Bytes per shard, e.g. 100MB (default: the provider's limit).")
@click.option("--by-model", is_flag=True, help="A separate shard series for each model.")
@overwrite_option
@provider_option
@format_option
def split_command(input_path: str, out_dir: str, max_requests: int | None,
                  max_bytes: str | None, by_model: bool, overwrite: bool,
                  provider: str | None, output_format: str) -> None:
    """Stream INPUT into shards within the provider's limits, bytes untouched."""
    manifest = split(input_path, out_dir, provider=provider, max_requests=max_requests,
                     max_bytes=_size(max_bytes), by_model=by_model, overwrite=overwrite)
    _echo_manifest(manifest, out_dir, output_format)


ID_STRATEGIES = {"sequence": SequenceIds, "uuid": UuidIds, "hash": ContentHashIds}


@main.command("build")
@click.argument("rows_path", metavar="ROWS")
@click.option("-o", "output", help="One request file to write (- for stdout; .gz and .zst "
              "compress).")
@click.option("--out-dir", help="A folder for shards and manifest.json.")
@click.option("--model", help="The model every request names.")
@click.option("--endpoint", help="The endpoint (default: the provider's chat endpoint).")
@click.option("--system", help="A system prompt for every request.")
@click.option("--prompt-field", default="prompt", show_default=True,
              help="The row field holding the prompt.")
@click.option("--template", help="A Python format string over the row's fields, e.g. "
              "'Summarise: {text}' (instead of --prompt-field).")
@click.option("--id-field", help="A row field to use as custom_id (the caller's own key).")
@click.option("--ids", "id_strategy", type=click.Choice(sorted(ID_STRATEGIES)),
              default="sequence", show_default=True, help="How to make custom_ids.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="max_tokens of each request.")
@click.option("--temperature", type=click.FloatRange(0, 2))
@click.option("--max-requests", type=click.IntRange(min=1), help="Requests per shard.")
@click.option("--max-bytes", help="Bytes per shard, e.g. 100MB.")
@overwrite_option
@click.option("--provider", type=click.Choice(PROVIDERS), default="openai", show_default=True,
              help="The batch API to write for.")
@format_option
def build_command(rows_path: str, output: str | None, out_dir: str | None, model: str | None,
                  endpoint: str | None, system: str | None, prompt_field: str,
                  template: str | None, id_field: str | None, id_strategy: str,
                  max_tokens: int | None, temperature: float | None,
                  max_requests: int | None, max_bytes: str | None, overwrite: bool,
                  provider: str, output_format: str) -> None:
    """Turn the rows of a CSV or JSONL file into request lines."""
    if (output is None) == (out_dir is None):
        raise click.UsageError("give exactly one of -o FILE or --out-dir DIR")
    template_fields = [] if template is None else check_template(template)
    profile = get_profile(provider)
    limit = profile.limits.max_requests
    if max_requests is not None and limit is not None and max_requests > limit:
        click.echo(f"batchio: warning: --max-requests {max_requests:,} is over "
                   f"{profile.title}'s {limit:,} requests per file", err=True)
    target = out_dir if out_dir is not None else output or ""
    check_distinct_paths([rows_path], [output])
    rows = read_rows(rows_path)
    with RequestWriter(target, endpoint=endpoint, provider=profile,
                       ids=ID_STRATEGIES[id_strategy](), max_requests=max_requests,
                       max_bytes=_size(max_bytes), folder=out_dir is not None,
                       overwrite=overwrite) as writer:
        for number, row in rows:
            prompt = row_prompt(row, number, rows_path, prompt_field=prompt_field,
                                template=template, template_fields=template_fields)
            body = prompt_body(profile, writer.endpoint, model=model, prompt=prompt,
                               system=system, max_tokens=max_tokens, temperature=temperature)
            key = None if id_field is None else row_text(row, id_field, number, rows_path,
                                                         "id")
            try:
                writer.add(body, custom_id=key)
            except BatchioError as exc:
                exc.path, exc.line = rows_path, number
                raise
    if writer.manifest is not None:
        _echo_manifest(writer.manifest, target, output_format)
    elif output_format == "json":
        _echo_json({"path": target, "requests": writer.count})
    elif target != "-":
        click.echo(escape(f"{target}: {writer.count:,} requests"))
    else:
        click.echo(f"{writer.count:,} requests", err=True)


def _rate_option(flag: str, name: str, default: float, text: str) -> Callable[[Any], Any]:
    """An option for a share of requests, from 0 to 1."""
    return click.option(flag, name, type=click.FloatRange(0, 1), default=default,
                        show_default=True, help=text)


@main.command("simulate")
@click.argument("requests_path", metavar="REQUESTS")
@click.option("--output", required=True, help="Where to write the output (or results) file.")
@click.option("--errors", help="Where to write the error file (OpenAI-shaped providers).")
@click.option("--seed", type=int, default=0, show_default=True)
@_rate_option("--fail", "failure_rate", 0.02, "Share of requests that fail with HTTP "
              "400/429/500.")
@_rate_option("--expire", "expire_rate", 0.01, "Share of requests that expire.")
@_rate_option("--missing", "missing_rate", 0.001, "Share of requests in neither file.")
@_rate_option("--cancel", "cancel_rate", 0.0, "Share of requests cancelled.")
@click.option("--no-shuffle", is_flag=True, help="Keep results in input order.")
@click.option("--dimensions", type=click.IntRange(min=1, max=MAX_DIMENSIONS),
              help="Embedding size for models whose size batchio does not know.")
@click.option("--batch-json", help="Also write the matching Batch object here.")
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
              show_default=True, help="Characters a token behind the simulated input tokens.")
@provider_option
@format_option
def simulate_command(requests_path: str, output: str, errors: str | None, seed: int,
                     failure_rate: float, expire_rate: float, missing_rate: float,
                     cancel_rate: float, no_shuffle: bool, dimensions: int | None,
                     batch_json: str | None, refusal_rate: float, truncation_rate: float,
                     invalid_json_rate: float, schema_violation_rate: float,
                     chars_per_token: float, provider: str, output_format: str) -> None:
    """Write the result files a provider would return for REQUESTS, offline."""
    result = simulate(requests_path, output=output, errors=errors, seed=seed,
                      failure_rate=failure_rate, expire_rate=expire_rate,
                      cancel_rate=cancel_rate, missing_rate=missing_rate,
                      shuffle=not no_shuffle, provider=provider,
                      embedding_dimensions=dimensions, batch_json=batch_json,
                      refusal_rate=refusal_rate, truncation_rate=truncation_rate,
                      invalid_json_rate=invalid_json_rate,
                      schema_violation_rate=schema_violation_rate,
                      chars_per_token=chars_per_token)
    if output_format == "json":
        _echo_json({"output": result.output, "errors": result.errors, "counts": result.counts,
                    "outputs": result.outputs, "batch": result.batch.to_dict()})
        return
    counts = ", ".join(f"{count:,} {fate}" for fate, count in result.counts.items())
    click.echo(escape(f"{result.batch.id} {result.batch.status.value}: {counts}"))


@main.command("estimate")
@click.argument("paths", nargs=-1, required=True)
@provider_option
@click.option("--calibrate", "calibrate_path", metavar="JOINED",
              help="Fit the characters-a-token ratio to a past job's joined file (from "
              "batchio join -o, JSONL or Parquet) and estimate with it.")
@click.option("--enqueued-limit", type=click.IntRange(min=1),
              help="Warn where a model's input tokens in one file pass this enqueued-token "
              "budget (what fails a batch with token_limit_exceeded).")
@click.option("--chars-per-token", type=click.FloatRange(min=0.1),
              help="Characters a token (default: the provider's figure, or --calibrate's).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that estimate files at once (default: the usable cores).")
@format_option
def estimate_command(paths: tuple[str, ...], provider: str | None, calibrate_path: str | None,
                     enqueued_limit: int | None, chars_per_token: float | None,
                     jobs: int | None, output_format: str) -> None:
    """Estimate request files (or a shard folder) before submit: requests, input tokens, the
    output bound from each request's cap, and the cost range at batch prices."""
    fitted = None if calibrate_path is None else calibrate(calibrate_path)
    counter = (TokenCounter(chars_per_token) if chars_per_token is not None
               else None if fitted is None else fitted.counter())
    report = estimate(list(paths), provider=provider, counter=counter,
                      enqueued_limit=enqueued_limit, workers=jobs)
    if output_format == "json":
        document = report.to_dict()
        if fitted is not None:
            document["calibration"] = fitted.to_dict()
        _echo_json(document)
        return
    for line in estimate_lines(report, fitted):
        click.echo(escape(line))


@main.command("convert")
@click.argument("input_path", metavar="INPUT")
@click.option("--from", "from_provider", type=click.Choice(PROVIDERS), default=None,
              help="The provider INPUT is written for (default: read off its first line; "
              "for --results, anthropic).")
@click.option("--to", "to_provider", type=click.Choice(PROVIDERS), default="anthropic",
              show_default=True, help="The provider to write for (results: always openai).")
@click.option("-o", "output", required=True, help="Where to write the converted file.")
@click.option("--results", is_flag=True,
              help="INPUT is a result file: convert it to OpenAI output lines.")
@click.option("--mapping", help="The id mapping file (default: OUT.ids.json); an existing "
              "one restores original ids.")
@click.option("--model", help="Give every converted request this model.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=1024, show_default=True,
              help="max_tokens for requests that set none, where the target requires it.")
@click.option("--strict", is_flag=True, help="Fail on the first request that cannot be "
              "converted faithfully, instead of leaving it out.")
@format_option
def convert_command(input_path: str, from_provider: str | None, to_provider: str, output: str,
                    results: bool, mapping: str | None, model: str | None, max_tokens: int,
                    strict: bool, output_format: str) -> None:
    """Convert INPUT between providers' formats, offline."""
    if results:
        conversion = convert_results(input_path, output,
                                     from_provider=from_provider or "anthropic",
                                     mapping=mapping)
    else:
        conversion = convert(input_path, output, from_provider=from_provider,
                             to_provider=to_provider, strict=strict, model=model,
                             max_tokens=max_tokens, mapping=mapping)
    if output_format == "json":
        _echo_json(conversion.to_dict())
    else:
        for problem in conversion.skipped:
            click.echo(_style_problem(problem), err=True)
        mapped = (f"; {len(conversion.remapped):,} ids remapped ({conversion.mapping_path})"
                  if conversion.remapped else "")
        click.echo(escape(f"{output}: {conversion.converted:,} converted, "
                          f"{len(conversion.skipped):,} left out{mapped}"),
                   err=output in ("-", "/dev/stdout"))
    sys.exit(0 if conversion.ok else 1)
