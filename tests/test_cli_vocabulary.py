"""One vocabulary for every command: shared options mean one thing, usage errors are one
line, ``--format json`` is one document with the common envelope, and every ``--help`` ends
with examples that run."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import jsonschema
import orjson
import pytest
from click.testing import CliRunner

from batchio.cli import main
from batchio.providers import PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COMMANDS = ["build", "validate", "split", "estimate", "simulate", "join", "campaign record",
            "campaign status", "campaign retry", "campaign final", "status", "convert"]


def command(name: str) -> click.Command:
    found: click.Command = main
    for word in name.split():
        assert isinstance(found, click.Group)
        found = found.commands[word]
    return found


def visible_options(name: str) -> dict[str, click.Option]:
    """Every option flag a command's help shows, to its option."""
    options: dict[str, click.Option] = {}
    for param in command(name).params:
        if isinstance(param, click.Option) and not param.hidden:
            for flag in param.opts + param.secondary_opts:
                options[flag] = param
    return options


#: The shared options: flag -> (parameter name, what its type must be).
SHARED: dict[str, tuple[str, Any]] = {
    "--provider": ("provider", click.Choice(PROVIDERS)),
    "--format": ("output_format", click.Choice(["text", "json"])),
    "--jobs": ("jobs", click.IntRange(min=1)),
    "--max-errors": ("max_errors", click.IntRange(min=0)),
    "--overwrite": ("overwrite", click.BOOL),
    "--quiet": ("quiet", click.BOOL),
    "-o": ("out", click.STRING),
    "--out": ("out", click.STRING),
    "--out-dir": ("out_dir", click.STRING),
    "--errors": ("errors", click.STRING),
    "--model": ("model", click.STRING),
    "--max-requests": ("max_requests", click.IntRange(min=1)),
    "--max-bytes": ("max_bytes", click.STRING),
}

#: Where each shared option must be (a command that reads files, reports problems...).
EVERYWHERE = {"--format", "--quiet"}
WHERE = {
    "--provider": {"build", "validate", "split", "estimate", "simulate", "join",
                   "campaign record", "status"},
    "--jobs": {"validate", "join", "estimate"},
    "--max-errors": {"validate", "join", "convert"},
    "--overwrite": {"build", "split", "simulate", "campaign retry"},
    "-o": {"build", "simulate", "join", "convert", "campaign final"},
    "--out-dir": {"build", "split", "simulate", "campaign retry"},
    "--results": {"join", "status", "convert", "campaign record"},
    "--retry-status": {"join", "campaign retry"},
}

#: Options whose value is a file or folder, by parameter name.
PATH_PARAMS = {"out", "out_dir", "results", "errors", "schema_path", "retry_path", "mapping",
               "batch_json", "calibrate_path", "requests", "results_path"}


def _type_name(kind: Any) -> str:
    if isinstance(kind, click.Choice):
        return f"choice{sorted(kind.choices)}"
    if isinstance(kind, click.IntRange):
        return f"int[{kind.min},{kind.max}]"
    return type(kind).__name__


@pytest.mark.parametrize("name", COMMANDS)
def test_shared_options_have_one_name_and_one_meaning(name: str) -> None:
    options = visible_options(name)
    for flag, (param_name, kind) in SHARED.items():
        if flag not in options:
            continue
        option = options[flag]
        assert option.name == param_name, (name, flag, option.name)
        if not option.is_flag:
            assert _type_name(option.type) == _type_name(kind), (name, flag)
    for flag in EVERYWHERE:
        assert flag in options, (name, flag)
    for flag, commands in WHERE.items():
        assert (flag in options) == (name in commands), (name, flag)
    if "--provider" in options:
        assert options["--provider"].default is None, f"{name} --provider must detect"
    # Old spellings that changed meaning are no longer shown.
    for flag in ("--output", "--input", "--manifest"):
        assert flag not in options, (name, flag)
    assert ("--to" in options) == (name == "convert")


@pytest.mark.parametrize("name", COMMANDS)
def test_metavars_say_what_they_take(name: str) -> None:
    for param in command(name).params:
        if not isinstance(param, click.Option) or param.is_flag or param.hidden:
            continue
        assert param.metavar != "TEXT" or param.name in {"system", "template"}, (
            name, param.name)
        if param.name in PATH_PARAMS:
            assert param.metavar in {"PATH", "DIR", "FILE"}, (name, param.name, param.metavar)
    help_text = CliRunner().invoke(main, [*name.split(), "--help"]).output
    assert " TEXT " not in help_text.replace("--system TEXT", "").replace(
        "--template TEXT", "")
    assert "INTEGER" not in help_text and "FLOAT" not in help_text


def test_the_top_level_help_lists_commands_in_the_order_of_a_job() -> None:
    text = CliRunner().invoke(main, ["--help"]).output
    assert "does not submit batches" in text
    listed = re.findall(r"^  ([a-z]+)  ", text.split("Commands")[1], re.MULTILINE)
    assert listed == [name for name in ("build", "validate", "split", "estimate", "simulate",
                                        "join", "campaign", "status", "convert", "inspect")
                      if name in main.commands]
    for name in listed:
        short = command(name).short_help or ""
        assert short.endswith(".") and "..." not in short
        assert " ".join(short.split()[-3:]) in " ".join(text.split())


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder with the repository's examples and a ``batchio`` on PATH, as a user's."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shim = tmp_path / "bin" / "batchio"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m batchio "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def run_shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{cwd / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", f"set -e; {line}"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_help_ends_with_examples_that_run(name: str, scratch: Path) -> None:
    found = command(name)
    examples = getattr(found, "examples", ())
    assert examples, f"{name} --help has no example"
    text = CliRunner().invoke(main, [*name.split(), "--help"]).output
    assert text.rstrip().endswith(examples[-1].split()[-1])
    for example in examples:
        assert example.startswith("batchio ")
        assert f"batchio {name}" in example
        done = run_shell(example, scratch)
        assert done.returncode == 0, (example, done.stdout[-800:], done.stderr[-800:])
        assert "Traceback" not in done.stderr
    # Run twice: an example never fails because its first run left files behind.
    for example in examples:
        assert run_shell(example, scratch).returncode == 0, example


def test_every_commands_examples_run_one_after_another_in_one_folder(scratch: Path) -> None:
    """As a user tries them, in the repository's root: no example fails because another
    command's example ran there before it."""
    examples = [example for name in COMMANDS
                for example in getattr(command(name), "examples", ())]
    for example in examples + examples:
        done = run_shell(example, scratch)
        assert done.returncode == 0, (example, done.stderr[-800:])


USAGE = re.compile(r"^batchio: (?P<place>(?:campaign )?[a-z]+(?: [-\w.]+)?): (?P<code>"
                   r"usage_error|invalid_argument): (?P<reason>.+) \(see batchio "
                   r"(?:campaign )?[a-z]+ --help\)$")


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(("args", "code", "place"), [
    (["--no-such-option"], "usage_error", ""),
    (["--quiet=x"], "usage_error", ""),  # raised by click's parser without its command
    (["--format", "xml"], "invalid_argument", " --format"),
    ([], "usage_error", ""),
])
def test_a_usage_error_is_one_line_and_exit_2(name: str, args: list[str], code: str,
                                              place: str) -> None:
    given = args if args else []
    if not args and name == "join":
        given = [str(EXAMPLES / "chat_requests.jsonl")]  # no --results
    result = CliRunner().invoke(main, [*name.split(), *given])
    assert result.exit_code == 2, (name, args, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    match = USAGE.match(lines[0])
    assert match, lines[0]
    assert match["code"] == code and match["place"] == name + place
    assert "Usage:" not in result.output and "Try " not in result.output
    assert result.stdout == ""


def test_an_unknown_command_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert result.stderr == ("batchio: usage_error: no such command 'frobnicate' (see "
                             "batchio --help)\n")


ENVELOPE = {
    "type": "object",
    "required": ["command", "ok", "exit_status", "warnings"],
    "properties": {
        "command": {"enum": COMMANDS},
        "ok": {"type": "boolean"},
        "exit_status": {"enum": [0, 1, 2, 3]},
        "warnings": {"type": "array", "items": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "path": {"type": "string"}}}},
        "error": {"type": "object", "required": ["code", "message"]},
    },
}


def json_runs(folder: Path) -> dict[str, list[str]]:
    chat = str(EXAMPLES / "chat_requests.jsonl")
    return {
        "build": ["build", str(EXAMPLES / "pipeline" / "questions.csv"), "--model",
                  "gpt-4o-mini", "--template", "{topic}", "-o", str(folder / "b.jsonl")],
        "validate": ["validate", chat, str(EXAMPLES / "bad_requests.jsonl")],
        "split": ["split", chat, "--out-dir", str(folder / "shards"), "--max-requests", "5"],
        "estimate": ["estimate", chat],
        "simulate": ["simulate", chat, "--out-dir", str(folder / "results"), "--fail", "0.3"],
        "join": ["join", chat, "--results", str(folder / "results"), "-o",
                 str(folder / "j.jsonl"), "--retry", str(folder / "retry.jsonl")],
        "campaign record": ["campaign", "record", str(folder / "job.ledger"), "--round", "1",
                            "--requests", chat, "--results", str(folder / "results")],
        "campaign status": ["campaign", "status", str(folder / "job.ledger")],
        "campaign retry": ["campaign", "retry", str(folder / "job.ledger"), "--out-dir",
                           str(folder / "round2")],
        "campaign final": ["campaign", "final", str(folder / "job.ledger"), "-o",
                           str(folder / "final.parquet")],
        "status": ["status", str(folder / "results" / "chat_requests.batch.json"),
                   "--results", str(folder / "results")],
        "convert": ["convert", chat, "--to", "anthropic", "--model", "claude-haiku-4-5", "-o",
                    str(folder / "a.jsonl")],
    }


def test_every_commands_json_is_one_document_with_the_common_envelope(tmp_path: Path
                                                                       ) -> None:
    for name, args in json_runs(tmp_path).items():
        result = CliRunner().invoke(main, [*args, "--format", "json"])
        document = orjson.loads(result.stdout)  # one document, nothing else
        jsonschema.validate(document, ENVELOPE)
        assert document["command"] == name
        assert document["exit_status"] == result.exit_code
        assert document["ok"] == (result.exit_code == 0)
        assert name != "validate" or document["exit_status"] == 1
    join_document = orjson.loads(CliRunner().invoke(
        main, [*json_runs(tmp_path)["join"], "--format", "json"]).stdout)
    assert join_document["files"] == {"out": str(tmp_path / "j.jsonl"), "rows": 12,
                                      "format": "jsonl", "retry": str(tmp_path / "retry.jsonl")}
    assert join_document["retry_requests"] == len(
        (tmp_path / "retry.jsonl").read_bytes().splitlines())


def test_an_error_in_json_mode_is_still_one_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "absent.jsonl"),
                                       "--format", "json"])
    assert result.exit_code == 2
    document = orjson.loads(result.stdout)
    jsonschema.validate(document, ENVELOPE)
    assert document["ok"] is False and document["exit_status"] == 2
    result = CliRunner().invoke(main, ["estimate", str(tmp_path / "absent.jsonl"),
                                       "--format", "json"])
    document = orjson.loads(result.stdout)
    assert document["error"]["code"] == "unreadable_file" and document["exit_status"] == 2


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(("args", "code"), [
    (["--format", "json", "--no-such-option"], "usage_error"),
    (["--no-such-option", "--format=json"], "usage_error"),
    (["--format", "json"], "usage_error"),
    (["--max-errors", "-1", "--format", "json"], "invalid_argument"),
])
def test_a_usage_error_in_json_mode_is_one_document_too(name: str, args: list[str],
                                                        code: str) -> None:
    if "--max-errors" in args and "--max-errors" not in visible_options(name):
        args = ["--provider", "no-such-provider", "--format", "json"]
        if "--provider" not in visible_options(name):
            args = ["--format", "json", "--format", "xml"]
    given = [str(EXAMPLES / "chat_requests.jsonl"), *args] if name == "join" else args
    result = CliRunner().invoke(main, [*name.split(), *given])
    assert result.exit_code == 2, result.output
    line = result.stderr.splitlines()
    assert len(line) == 1 and USAGE.match(line[0]), line
    document = orjson.loads(result.stdout)
    jsonschema.validate(document, ENVELOPE)
    assert document["command"] == name and document["ok"] is False
    assert document["exit_status"] == 2 and document["error"]["code"] == code
    assert document["error"]["message"] == line[0].removeprefix("batchio: ")


def test_a_usage_error_without_json_mode_writes_nothing_on_stdout() -> None:
    for args in (["validate", "--format", "text", "--no-such-option"],
                 ["validate", "--no-such-option", "--", "--format", "json"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.stdout == "", args


@pytest.mark.parametrize(("old", "new", "message"), [
    (["join", "{chat}", "--output", "{out}"], ["join", "{chat}", "--results", "{out}"],
     "--output is now --results"),
    (["join", "{chat}", "--results", "{out}", "--to", "csv", "-o", "-"],
     ["join", "{chat}", "--results", "{out}", "--as", "csv", "-o", "-"], "--to is now --as"),
    (["status", "{batch}", "--output", "{out}", "--input", "{chat}"],
     ["status", "{batch}", "--results", "{out}", "--requests", "{chat}"],
     "--output is now --results"),
    (["convert", "{out}", "--results", "-o", "{folder}/c.jsonl", "--from", "openai"],
     ["convert", "--results", "{out}", "-o", "{folder}/c.jsonl", "--from", "openai"],
     "convert PATH --results is now convert --results PATH"),
])
def test_old_spellings_still_work_and_say_their_new_name(tmp_path: Path, old: list[str],
                                                          new: list[str], message: str) -> None:
    chat = EXAMPLES / "chat_requests.jsonl"
    CliRunner().invoke(main, ["simulate", str(chat), "--out-dir", str(tmp_path / "r"),
                              "--fail", "0.2"])
    values = {"chat": str(chat), "out": str(tmp_path / "r" / "chat_requests.output.jsonl"),
              "batch": str(tmp_path / "r" / "chat_requests.batch.json"),
              "folder": str(tmp_path)}
    before = CliRunner().invoke(main, [arg.format(**values) for arg in old])
    after = CliRunner().invoke(main, [arg.format(**values) for arg in new])
    assert before.exit_code == after.exit_code
    assert before.stdout == after.stdout
    assert before.stderr.splitlines()[0] == f"batchio: warning: {message}"
    assert message not in after.stderr


def test_join_without_o_writes_no_rows(tmp_path: Path) -> None:
    chat = EXAMPLES / "chat_requests.jsonl"
    CliRunner().invoke(main, ["simulate", str(chat), "--out-dir", str(tmp_path)])
    summary = CliRunner().invoke(main, ["join", str(chat), "--results", str(tmp_path)])
    assert summary.exit_code == 0
    assert summary.stdout.startswith("12 requests: ")
    assert "custom_id" not in summary.stdout
    assert "no rows written: -o PATH writes the joined table" in summary.stderr
    rows = CliRunner().invoke(main, ["join", str(chat), "--results", str(tmp_path), "-o", "-"])
    assert len(rows.stdout.splitlines()) == 12
    assert all(orjson.loads(line)["custom_id"] for line in rows.stdout.splitlines())
    assert rows.stderr.splitlines()[1].startswith("12 requests: ")  # the report: stderr
    quiet = CliRunner().invoke(main, ["join", str(chat), "--results", str(tmp_path), "-q"])
    assert "no rows written" not in quiet.stderr and "provider" not in quiet.stderr


def test_the_join_summary_says_checks_cost_and_every_file_written(tmp_path: Path) -> None:
    chat = EXAMPLES / "chat_requests.jsonl"
    CliRunner().invoke(main, ["simulate", str(chat), "--out-dir", str(tmp_path), "--fail",
                              "0.3", "--seed", "2"])
    result = CliRunner().invoke(main, [
        "join", str(chat), "--results", str(tmp_path), "-o", str(tmp_path / "j.parquet"),
        "--retry", str(tmp_path / "r.jsonl"), "--check-outputs"])
    lines = result.stdout.splitlines()
    retried = len((tmp_path / "r.jsonl").read_bytes().splitlines())
    assert lines[0].startswith("12 requests: ")
    assert lines[1].startswith("output checks of the ") and " succeeded: " in lines[1]
    assert re.match(r"cost: \$[0-9.]+ at batch prices", lines[2])
    assert lines[3] == f"wrote {tmp_path / 'j.parquet'} (12 rows, parquet)"
    assert lines[4] == (f"wrote {tmp_path / 'r.jsonl'} ({retried:,} request"
                        f"{'' if retried == 1 else 's'} to retry)")


def test_validate_says_the_detected_provider_once_for_a_folder(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["split", str(EXAMPLES / "chat_requests.jsonl"), "--out-dir",
                              str(tmp_path), "--max-requests", "2"])
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout.count("provider openai (detected") == 1
    assert result.stdout.splitlines()[-1] == "6 files, 12 requests: all ok"


@pytest.mark.parametrize("command", [["build"], ["split"], ["simulate"],
                                     ["campaign", "retry"]])
def test_out_dir_refuses_stdout_and_makes_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    # campaign retry's argument is a ledger: the option is refused before it is read.
    result = CliRunner().invoke(main, [*command, str(EXAMPLES / "chat_requests.jsonl"),
                                       "--out-dir", "-"])
    assert result.exit_code == 2, result.output
    assert "- is standard output, which cannot hold a folder of files" in result.output
    assert list(tmp_path.iterdir()) == []
    # /dev/stdout names this process's stdout only in a process of its own.
    ran = subprocess.run([sys.executable, "-m", "batchio", *command,
                          str(EXAMPLES / "chat_requests.jsonl"), "--out-dir", "/dev/stdout"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert "/dev/stdout is standard output" in ran.stderr and ran.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["split", "{chat}", "--out-dir", "{tmp}/s", "--max-requests", "5", "--overwrite"],
    ["estimate", "{chat}"],
    ["simulate", "{chat}", "-o", "{tmp}/sim.jsonl"],
    ["convert", "{chat}", "--to", "anthropic", "--model", "claude-haiku-4-5", "-o",
     "{tmp}/c.jsonl"],
    ["validate", "{chat}"],
])
def test_a_detected_provider_is_said_once(tmp_path: Path, args: list[str]) -> None:
    chat = str(EXAMPLES / "chat_requests.jsonl")
    given = [arg.format(chat=chat, tmp=tmp_path) for arg in args]
    result = CliRunner().invoke(main, given)
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "(detected from" in line]
    assert len(said) == 1 and "provider openai (detected from the first request; " in said[0]
    told = CliRunner().invoke(main, [*given, "--provider" if args[0] != "convert" else
                                     "--from", "openai"])
    assert told.exit_code == 0 and "(detected from" not in told.output
