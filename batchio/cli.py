"""The ``batchio`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function, formats the value it
returns, and sets the exit status: 0 when all is well, 1 when problems were found, 2 for
usage errors and unreadable input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import click
import orjson

from . import __version__
from .errors import BatchioError, Problem
from .providers import PROVIDERS
from .validation import Report, validate

_PROGRESS_MIN_BYTES = 4 * 1024 * 1024

provider_option = click.option(
    "--provider", type=click.Choice(PROVIDERS), default="openai", show_default=True,
    help="The batch API whose formats and limits apply.")
format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="Human-readable text, or one JSON document on stdout.")


def _fail(message: str) -> NoReturn:
    click.echo(f"batchio: {message}", err=True)
    sys.exit(2)


def _echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@contextlib.contextmanager
def _progress(path: str, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for a large file, only when stderr is a terminal."""
    size = 0
    if path != "-":
        with contextlib.suppress(OSError):
            size = os.path.getsize(path)
    if size < _PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label=label, file=sys.stderr) as bar:
        done = 0

        def update(position: int) -> None:
            nonlocal done
            bar.update(max(0, min(position, size) - done))
            done = max(done, min(position, size))

        yield update


def _style_problem(problem: Problem) -> str:
    text = problem.describe()
    colour = "yellow" if problem.severity == "warning" else "red"
    head, sep, rest = text.partition(f"{problem.code}:")
    return head + click.style(problem.code, fg=colour, bold=True) + ":" + rest if sep else text


def _summary_line(report: Report) -> str:
    counts = f"{report.requests:,} requests, {report.lines:,} lines, {report.bytes:,} bytes"
    details = [counts]
    if report.endpoint:
        details.append(f"endpoint {report.endpoint}")
    if report.models:
        details.append("model " + ", ".join(report.models))
    if report.embedding_inputs:
        details.append(f"{report.embedding_inputs:,} embedding inputs")
    if report.ok:
        verdict = click.style("ok", fg="green", bold=True)
    else:
        verdict = click.style(f"{report.error_count:,} errors", fg="red", bold=True)
    if report.warnings:
        verdict += f", {len(report.warnings):,} warnings"
    return f"{report.path}: {verdict} ({'; '.join(details)})"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batchio")
def main() -> None:
    """Read, build, validate, shard, join and convert LLM batch JSONL files, offline."""


@main.command("validate")
@click.argument("paths", nargs=-1, required=True)
@provider_option
@click.option("--endpoint", help="The endpoint the batch will be created for (default: the "
              "first line's url).")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False),
              help="Your own JSON Schema, applied to every request body in addition.")
@click.option("--max-errors", type=click.IntRange(min=0), help="List at most N errors per file.")
@format_option
def validate_command(paths: tuple[str, ...], provider: str, endpoint: str | None,
                     schema_path: str | None, max_errors: int | None,
                     output_format: str) -> None:
    """Check batch files before upload; report every problem as PATH:LINE: CODE: message."""
    reports: list[Report] = []
    unreadable = False
    for path in paths:
        try:
            with _progress(path, f"validating {path}") as on_progress:
                report = validate(path, provider=provider, endpoint=endpoint,
                                  schema=schema_path, max_errors=max_errors,
                                  on_progress=on_progress)
        except BatchioError as exc:
            if exc.code not in ("unreadable_file", "missing_extra"):
                raise
            click.echo(f"batchio: {exc.message}", err=True)
            unreadable = True
            continue
        reports.append(report)
        if output_format == "text":
            for problem in sorted(report.errors + report.warnings,
                                  key=lambda p: (p.line is None, p.line or 0)):
                click.echo(_style_problem(problem))
            if report.errors_truncated:
                click.echo(f"{report.path}: ... and {report.errors_truncated:,} more errors")
            click.echo(_summary_line(report))
    ok = all(report.ok for report in reports)
    if output_format == "json":
        _echo_json({"ok": ok and not unreadable, "files": [r.to_dict() for r in reports]})
    sys.exit(2 if unreadable else 0 if ok else 1)
