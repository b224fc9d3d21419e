"""The frame every ``batchio`` command runs in: one vocabulary, one error form, one report.

Owns what is the same in every command: the shared options (``--provider``, ``--format``,
``--jobs``, ``--max-errors``, ``--overwrite``, ``--quiet``, ``-o/--out``), old spellings kept
as hidden aliases that say their new name once, usage errors as one line
``batchio: <place>: <code>: <reason>`` with exit 2 (click's own formatting replaced), the
``--format json`` envelope (``command``, ``ok``, ``exit_status``, ``warnings``, then the
command's fields), warnings as one line each (or collected into that envelope), the top-level
help in the order of a job, and the examples every command's help ends with.
:mod:`batchio.cli` defines the commands on it.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import click
import msgspec
import orjson

from .errors import BatchioError, BatchioWarning, escape
from .jsonl import is_stdout
from .providers import PROVIDERS

_PROGRESS_MIN_BYTES = 4 * 1024 * 1024
#: The widest label a progress bar is given: with the bar and its share, the line fits 80
#: columns.
_LABEL_WIDTH = 28

#: Exit statuses: 0 all is well; 1 problems were found and reported; 2 a usage error, or
#: input that cannot be read as what it should be; 3 an output cannot be written; 130
#: interrupted (Ctrl-C); 143 terminated (SIGTERM).
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_WRITE = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143

#: errno values that mean "this cannot be written here".
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM,
                           errno.EDQUOT, errno.EISDIR, errno.ENOTDIR, errno.EEXIST})

#: Codes of errors that stop a command because its check found problems (``join --strict``
#: refusing orphan or duplicate result lines, results that answer none of the requests):
#: exit 1, as when a check reports them.
_FINDINGS = frozenset({"orphan_result", "duplicate_result", "results_do_not_match"})

#: The commands in the order of a job: how the top-level help lists them.
WORKFLOW = ("build", "validate", "split", "estimate", "simulate", "join", "campaign", "status",
            "convert", "inspect")

F = TypeVar("F", bound=Callable[..., Any])


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as for Ctrl-C."""


def on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM's handler: raise :class:`Terminated` where the program is."""
    raise Terminated


def exit_status(exc: BaseException) -> int:
    """The exit status for an error that ends a command."""
    if isinstance(exc, Terminated):
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


def error_code(exc: BaseException) -> str:
    """The code of an error that ends a command (as its one line says it)."""
    if isinstance(exc, KeyboardInterrupt):
        return "terminated" if isinstance(exc, Terminated) else "interrupted"
    if isinstance(exc, BatchioError):
        return exc.code
    if isinstance(exc, OSError):
        return "unwritable_file" if exc.errno in _WRITE_ERRNOS else "unreadable_file"
    return "internal_error"


def one_line(exc: BaseException) -> str:
    """``batchio: <what went wrong> [code]`` for an error that ends a command."""
    if isinstance(exc, KeyboardInterrupt):
        return "batchio: terminated" if isinstance(exc, Terminated) else "batchio: interrupted"
    if isinstance(exc, BatchioError):
        text = str(exc)
        return f"batchio: {text}" if f"{exc.code}:" in text else f"batchio: {text} [{exc.code}]"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"batchio: cannot write{where}: {exc.strerror or exc} [unwritable_file]" \
            if exc.errno in _WRITE_ERRNOS else f"batchio:{where} {exc.strerror or exc}"
    return f"batchio: {type(exc).__name__}: {exc}"


def usage_line(exc: click.UsageError, named: str | None = None) -> tuple[str, str]:
    """A usage error's code, and the error as one line: ``batchio: <command> [<option>]:
    <code>: <reason> (see batchio <command> --help)``. ``named``: the command the
    arguments name, for an error click raises without its context (``--quiet=x``)."""
    command = _command_of(exc, named)
    param = getattr(exc, "param", None)
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter):
        code = "invalid_argument"
        reason = exc.message
        if param is not None and isinstance(param, click.Option):
            place = max(param.opts, key=len)
        elif param is not None:
            place = (param.human_readable_name or "").upper()
        else:
            # Raised by a command with the option it is about (param_hint="--retry-status").
            hint = exc.param_hint
            place = hint if isinstance(hint, str) else " / ".join(hint or ())
    else:
        code = "usage_error"
        reason = exc.format_message() if isinstance(exc, click.MissingParameter) \
            else exc.message
        place = ""
    reason = " ".join(str(reason).split()).rstrip(".")
    if reason[:1].isupper() and reason[1:2].islower():
        reason = reason[0].lower() + reason[1:]
    where = " ".join(part for part in (command, place) if part)
    helper = f"batchio {command} --help" if command else "batchio --help"
    head = f"batchio: {where}: " if where else "batchio: "
    return code, f"{head}{code}: {reason} (see {helper})"


def _command_of(exc: click.UsageError, named: str | None) -> str | None:
    """The command a usage error is about (``campaign retry``): its context's, else the one
    the arguments name; None for batchio itself."""
    if exc.ctx is None:
        return named
    return " ".join(exc.ctx.command_path.split()[1:]) or None


def _usage_document(exc: click.UsageError, code: str, line: str,
                    args: Sequence[str] | None, named: str | None) -> None:
    """With ``--format json``, the envelope of a command a usage error ended: asked for by
    the parsed options, or by the arguments where they did not parse (a script reading the
    document gets one whatever went wrong)."""
    meta = exc.ctx.meta if exc.ctx is not None else {}
    if "batchio.format" in meta:
        wanted = meta["batchio.format"] == "json"
    else:
        tokens = list(sys.argv[1:] if args is None else args)
        tokens = tokens[:tokens.index("--")] if "--" in tokens else tokens
        wanted = "--format=json" in tokens or any(
            token == "--format" and following == "json"
            for token, following in itertools.pairwise(tokens))
    if not wanted:
        return
    command = meta.get("batchio.command") or _command_of(exc, named)
    document = envelope({"error": {"code": code, "message": line.removeprefix("batchio: ")}},
                        EXIT_USAGE, {**meta, "batchio.command": command})
    with contextlib.suppress(OSError):
        click.echo(json_document(document), err=_data_on_stdout)


class Commands(click.Group):
    """The command group: the one place where errors become messages and exit statuses,
    and where commands are listed in the order of a job."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            value = super().main(args, prog_name, complete_var, standalone_mode=False,
                                 **extra)
        except click.UsageError as exc:
            named = self._command_named(sys.argv[1:] if args is None else args)
            code, line = usage_line(exc, named)
            click.echo(escape(line), err=True)
            status = EXIT_USAGE
            _usage_document(exc, code, line, args, named)
        except click.ClickException as exc:
            click.echo(escape(f"batchio: {' '.join(exc.format_message().split())}"), err=True)
            status = exc.exit_code
        except click.Abort:
            click.echo("batchio: interrupted", err=True)
            status = EXIT_INTERRUPTED
        else:
            if not standalone_mode:
                return value
            status = value if isinstance(value, int) else EXIT_OK
        if not standalone_mode:
            raise SystemExit(status)
        sys.exit(status)

    def _command_named(self, args: Sequence[str]) -> str | None:
        """The command (``campaign retry`` for a subcommand) the arguments name, if any."""
        group: click.Command = self
        names = []
        for token in args:
            found = group.commands.get(token) if isinstance(group, click.Group) else None
            if found is None:
                break
            names.append(token)
            group = found
        return " ".join(names) or None

    def invoke(self, ctx: click.Context) -> Any:
        global _data_on_stdout
        _data_on_stdout = False  # each command notes its own outputs (writes_stdout)
        previous = None
        with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
            previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", BatchioWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except (BatchioError, OSError, KeyboardInterrupt, MemoryError, RecursionError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                # The reader of our output went away (| head): nothing more to say to it.
                with contextlib.suppress(OSError):
                    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                sys.exit(141)
            click.echo(escape(one_line(exc)), err=True)
            status = exit_status(exc)
            _error_document(exc, status)
            sys.exit(status)
        finally:
            if previous is not None:
                with contextlib.suppress(ValueError):
                    signal.signal(signal.SIGTERM, previous)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands, key=lambda name: (
            WORKFLOW.index(name) if name in WORKFLOW else len(WORKFLOW), name))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.short_help or ""))
        if rows:
            with formatter.section("Commands, in the order of a job"):
                formatter.write_dl(rows)


class Command(click.Command):
    """A batchio command: old option spellings as hidden aliases, the ``--format json``
    envelope's context, and examples at the end of its help.

    ``aliases`` maps an old option's parameter name to the new one's, with both flags:
    ``{"old_outputs": ("results", "--output", "--results")}``.
    """

    def __init__(self, *args: Any, aliases: Mapping[str, tuple[str, str, str]] | None = None,
                 examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = dict(aliases or {})
        self.examples = tuple(examples)

    def invoke(self, ctx: click.Context) -> Any:
        parent = ctx.parent
        ctx.meta["batchio.command"] = self.name if parent is None or parent.parent is None \
            else f"{parent.info_name} {self.name}"
        ctx.meta["batchio.format"] = ctx.params.get("output_format", "text")
        ctx.meta["batchio.quiet"] = bool(ctx.params.get("quiet", False))
        ctx.meta["batchio.warnings"] = []
        for old, (new, old_flag, new_flag) in self.aliases.items():
            value = ctx.params.pop(old, None)
            if value is None or value == () or value is False:
                continue
            warn(f"{old_flag} is now {new_flag}", "deprecated_option")
            current = ctx.params.get(new)
            if isinstance(value, tuple):
                ctx.params[new] = (*value, *(current or ()))
            elif current is not None and current is not False and current != ():
                raise click.UsageError(f"give {new_flag}, not both {new_flag} and {old_flag}",
                                       ctx=ctx)
            else:
                ctx.params[new] = value
        return super().invoke(ctx)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            with formatter.section("Examples"):
                for example in self.examples:
                    formatter.write_text(f"\b\n$ {example}")


def _context_meta() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def json_mode() -> bool:
    """True while a command reports as one JSON document (``--format json``)."""
    return bool(_context_meta().get("batchio.format") == "json")


def warn(text: str, code: str, path: str | None = None) -> None:
    """A warning of the command line itself: one line on stderr, ``batchio: warning:
    [<path>: <code>: ]<text>`` (and, in JSON mode, an entry of the envelope's
    ``warnings``)."""
    meta = _context_meta()
    if meta.get("batchio.format") == "json":
        entry = {"code": code, "message": text, **({"path": path} if path else {})}
        meta.setdefault("batchio.warnings", []).append(entry)
    where = f"{path}: {code}: " if path else ""
    click.echo(escape(f"batchio: warning: {where}{text}"), err=True)


def note(text: str) -> None:
    """A note for a person at a terminal (what was assumed, where rows went): on stderr,
    never with ``--quiet`` or ``--format json``."""
    meta = _context_meta()
    if not meta.get("batchio.quiet") and meta.get("batchio.format") != "json":
        click.echo(escape(text), err=True)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    """A library warning as one line on stderr, ``batchio: warning: <place>: <code>:
    <what>`` (and, in JSON mode, an entry of the envelope's ``warnings``)."""
    meta = _context_meta()
    if meta.get("batchio.format") == "json":
        entry: dict[str, Any] = {"code": getattr(message, "code", category.__name__),
                                 "message": str(message.args[0]) if isinstance(
                                     message, Warning) and message.args else str(message)}
        path = getattr(message, "path", None)
        if path:
            entry["path"] = path
        meta.setdefault("batchio.warnings", []).append(entry)
    text = str(message)
    click.echo(escape(f"batchio: warning: {text}" if issubclass(category, BatchioWarning)
                      else f"batchio: warning: {category.__name__}: {text}"), err=True)


def envelope(fields: Mapping[str, Any], status: int,
             meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of a command: the common envelope, then the command's fields
    (``meta``: the command's context, where it is no longer the current one)."""
    meta = _context_meta() if meta is None else meta
    return {"command": meta.get("batchio.command"), "ok": status == EXIT_OK,
            "exit_status": status, "warnings": list(meta.get("batchio.warnings", [])),
            **fields}


def finish(fields: Mapping[str, Any], status: int = EXIT_OK, *, err: bool = False) -> NoReturn:
    """End a command: in JSON mode its one document (on stderr when stdout carries rows),
    then the exit status."""
    if json_mode():
        click.echo(json_document(envelope(fields, status)), err=err)
    sys.exit(status)


def json_document(document: Any) -> str:
    """A command's JSON document, indented. A whole number past 64 bits (a sum of token
    counts that each fit) is written as it is, by a second encoder: orjson refuses it."""
    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return msgspec.json.format(msgspec.json.encode(document), indent=2).decode()


#: Whether the running command writes data to stdout (see :func:`writes_stdout`).
_data_on_stdout = False


def writes_stdout(*outputs: str | None) -> bool:
    """Note the files the running command writes (once, as it starts); whether any of them
    is stdout by some name (``-``, ``/dev/stdout``). Where one is, its report and its JSON
    document go to stderr, and so does an error's document."""
    global _data_on_stdout
    _data_on_stdout = any(is_stdout(path) for path in outputs)
    return _data_on_stdout


def _error_document(exc: BaseException, status: int) -> None:
    """In JSON mode, the envelope of a command an error ended (its one line is on stderr;
    the envelope too where stdout carries the command's data)."""
    if not json_mode():
        return
    with contextlib.suppress(OSError):
        message = one_line(exc).removeprefix("batchio: ")
        click.echo(json_document(envelope({"error": {"code": error_code(exc),
                                                     "message": message}}, status)),
                   err=_data_on_stdout)


def echo(text: str, *, err: bool = False) -> None:
    """A line of a text report (nothing in JSON mode, whose document says it all)."""
    if not json_mode():
        click.echo(text, err=err)


# --- the shared options ---------------------------------------------------------------------

def provider_option(help: str = "The batch API whose formats and limits apply (default: "
                    "detected from the files).") -> Callable[[F], F]:
    return click.option("--provider", type=click.Choice(PROVIDERS), default=None,
                        metavar="NAME", help=help + f" One of: {', '.join(PROVIDERS)}.")


format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="The report: text, or one JSON document on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True,
                            help="No progress bar and no notes (warnings and errors stay).")


def overwrite_option(help: str = "Replace the shards and manifest a previous run wrote in "
                     "the folder (only files batchio names as its own are removed)."
                     ) -> Callable[[F], F]:
    return click.option("--overwrite", is_flag=True, help=help)


def jobs_option(help: str) -> Callable[[F], F]:
    return click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                        help=help)


def max_errors_option(default: int, what: str = "problems") -> Callable[[F], F]:
    return click.option("--max-errors", type=click.IntRange(min=0), default=default,
                        show_default=True, metavar="N",
                        help=f"List at most N {what}, then a count per code; 0 lists all.")


def out_option(help: str, required: bool = False) -> Callable[[F], F]:
    return click.option("-o", "--out", "out", metavar="PATH", required=required, help=help)


def out_dir_option(help: str, required: bool = False) -> Callable[[F], F]:
    """``--out-dir DIR``: a folder a command writes several files into; never stdout (``-``
    or a name of it), which cannot hold them (a folder named ``-`` made in its place went
    unnoticed)."""

    def a_folder(_context: click.Context, _parameter: click.Parameter, value: str | None
                 ) -> str | None:
        if value is not None and is_stdout(value):
            raise click.BadParameter(f"{value} is standard output, which cannot hold a "
                                     "folder of files: name a folder")
        return value

    return click.option("--out-dir", metavar="DIR", required=required, callback=a_folder,
                        help=help)


def hidden_option(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    """An old spelling, kept for one release: hidden, and named in :class:`Command`'s
    ``aliases`` with what replaced it."""
    return click.option(*decls, hidden=True, **kwargs)


# --- progress -------------------------------------------------------------------------------

def total_size(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        if path == "-":
            continue
        with contextlib.suppress(OSError):
            total += os.path.getsize(path)
    return total


@contextlib.contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over ``total`` bytes on stderr, only when stderr is a terminal, the
    work is large enough to wait for, and the command is not ``--quiet`` or JSON."""
    meta = _context_meta()
    if (total < _PROGRESS_MIN_BYTES or not sys.stderr.isatty() or meta.get("batchio.quiet")
            or meta.get("batchio.format") == "json"):
        yield None
        return
    if len(label) > _LABEL_WIDTH:
        # A bar wider than the terminal is drawn again on every line: the label is cut
        # in its middle (a path's end says most).
        half = (_LABEL_WIDTH - 1) // 2
        label = f"{label[:half]}…{label[-(_LABEL_WIDTH - 1 - half):]}"
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        done = 0

        def update(position: int) -> None:
            nonlocal done
            position = min(position, total)
            if position > done:
                bar.update(position - done)
                done = position

        yield update


def count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def dollars(amount: float) -> str:
    """US dollars: cents, or four decimals under a dollar (small jobs cost fractions)."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"
