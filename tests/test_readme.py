"""The README cannot rot: its tour and recipes run, its output sample is real, and the
reference's tables match the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batchio import CODES
from batchio.providers import PROVIDERS, get_profile

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def subsection(title: str) -> str:
    start = README.index(f"### {title}\n")
    ends = [found for found in (README.find("\n### ", start + 1),
                                README.find("\n## ", start + 1)) if found >= 0]
    return README[start:min(ends) if ends else None]


REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def reference(title: str) -> str:
    start = REFERENCE.index(f"## {title}\n")
    end = REFERENCE.find("\n## ", start + 1)
    return REFERENCE[start:end if end >= 0 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", folder / "examples",
                    ignore=shutil.ignore_patterns("work"))
    return folder


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_the_set_up_commands() -> None:
    assert blocks(section("Set up"), "bash") == [
        'pip install . && batchio validate examples/chat_requests.jsonl\n',
        'pip install ".[test]" && pytest\n']


def repository_files() -> set[str]:
    """The files of the repository (what a run could leave behind), less what tools and
    tests keep for themselves."""
    skipped = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
               ".ruff_cache", "build", "dist"}
    found: set[str] = set()
    for folder, folders, files in os.walk(ROOT):
        folders[:] = [name for name in folders
                      if name not in skipped and not name.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, name), ROOT) for name in files)
    return found


def test_the_tour_and_recipes_run_twice_in_fresh_folders_and_leave_the_repository_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tour, recipes = section("A tour"), section("Recipes")
    commands = blocks(tour, "bash") + blocks(recipes, "bash")
    assert len(blocks(tour, "bash")) == 9 and len(blocks(recipes, "bash")) == 5
    # The first block makes the scratch folder every other block runs in.
    assert commands[0].startswith('cd "$(mktemp -d)" && cp -r "$OLDPWD/examples" .')
    snippets = blocks(tour, "python") + blocks(recipes, "python")
    assert len(snippets) == 14
    before = repository_files()
    folders = []
    for _ in range(2):
        done = shell("\n".join(commands) + "\npwd\n", ROOT)
        assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
        folder = Path(done.stdout.splitlines()[-1])
        assert folder != ROOT and ROOT not in folder.parents
        folders.append(folder)
        monkeypatch.chdir(folder)
        namespace: dict[str, object] = {}
        for snippet in snippets:
            exec(compile(snippet, "README.md", "exec"), namespace)
        monkeypatch.chdir(ROOT)
    assert folders[0] != folders[1]
    assert repository_files() == before
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_validate_sample_output_is_what_validate_prints(workspace: Path) -> None:
    tour = section("A tour")
    command = blocks(tour, "bash")[2].splitlines()[1]
    [sample] = blocks(tour.split("### Validate before upload")[1].split("###")[0], "text")
    assert shell(command, workspace).stdout == sample


def test_the_clouds_section_runs_in_a_fresh_folder_twice(tmp_path: Path) -> None:
    [commands] = blocks(subsection("AWS Bedrock and Google Vertex AI"), "bash")
    for run in ("first", "second"):
        folder = tmp_path / run
        shutil.copytree(ROOT / "examples", folder / "examples",
                        ignore=shutil.ignore_patterns("work"))
        done = shell(commands, folder)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "5 requests: 3 succeeded, 2 failed (1 retryable)" in done.stdout
        assert "6 requests: 6 succeeded" in done.stdout
        assert len((folder / "bedrock.csv").read_bytes().splitlines()) == 6
        assert len((folder / "bedrock_retry.jsonl").read_bytes().splitlines()) == 1
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(tmp_path / "second" / "vertex.parquet")
    assert table.num_rows == 6
    # The repeated request's two rows: one key, told apart by their place.
    ids = table.column("custom_id").to_pylist()
    assert ids[5] == ids[0] + "-2"
    converted = (tmp_path / "second" / "bedrock_requests.jsonl").read_bytes().splitlines()
    assert len(converted) == 12 and b'"recordId"' in converted[0]


def test_the_providers_table_matches_the_profiles() -> None:
    text = reference("Providers")
    for name in PROVIDERS:
        profile = get_profile(name)
        [row] = [line for line in text.splitlines() if line.startswith(f"| [`{name}`]")]
        limits = profile.limits
        for key, value in (("max_requests", limits.max_requests),
                           ("max_file_bytes", limits.max_file_bytes)):
            shown = "none" if value is None else f"{value:,}"
            if key in limits.uncertain:
                shown += " (uncertain)"
            assert f"| {shown} |" in row, (name, key)
        assert f"`{profile.id_field}` / `{profile.body_field}`" in row
        endpoints = [f"`{url}`" for url in profile.endpoints]
        endpoints += [f"`*{suffix}`" for suffix in profile.endpoint_suffixes]
        assert f"| {', '.join(endpoints)} |" in row, name
        assert f"| {profile.mixed_urls} / {profile.mixed_models} | {profile.blank_lines} |" in row
        assert f"[docs]({profile.docs_url})" in row
        assert (ROOT / "batchio" / "providers" / f"{name}.py").exists()


def test_the_error_code_table_lists_every_code() -> None:
    text = reference("Error codes")
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.MULTILINE)
    assert listed == list(CODES)


def test_the_readmes_rounds_example_runs_a_three_round_campaign_twice(tmp_path: Path) -> None:
    import orjson
    import pyarrow.parquet

    import batchio

    command = re.search(r"`(bash examples/rounds/run\.sh) /tmp/rounds`", README)
    assert command, "the README names the rounds example"
    for _ in range(2):  # a second run in the same folder starts the job over, cleanly
        done = shell(f"{command[1]} {tmp_path}", ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    table = pyarrow.parquet.read_table(tmp_path / "final.parquet").to_pylist()
    assert len(table) == 30 and len({row["custom_id"] for row in table}) == 30
    with batchio.Campaign(tmp_path / "job.ledger", create=False) as campaign:
        status = campaign.status()
    assert status.total["requests"] == 30
    assert status.total["succeeded"] == sum(row["status"] == "succeeded" for row in table)
    rounds = [item.round for item in status.rounds]
    assert rounds[0] == 1 and rounds == list(range(1, len(rounds) + 1))
    # Every id of round 2 was retried from round 1's own request line.
    first = {orjson.loads(line)["custom_id"]: line
             for shard in sorted((tmp_path / "round1").glob("requests-*.jsonl"))
             for line in shard.read_bytes().splitlines()}
    for line in (tmp_path / "round2" / "requests-00001.jsonl").read_bytes().splitlines():
        assert first[orjson.loads(line)["custom_id"]] == line
