"""Ray Data for batch files: many files read, validated, sharded and joined on a cluster.

Owns :func:`read_batch_files` (a ``ray.data.Dataset`` of the lines schema of
:mod:`batchio.arrow`, one read task per file), :func:`validate` (one :class:`batchio.Report`
per file, each the one :func:`batchio.validate` gives, and optionally the ids used in more
than one file, found by a group-by over the whole job), :func:`write_shards` (a Datasink
whose folder is the one :func:`batchio.split` makes, whatever Ray retries) and :func:`join`
(one task a shard, the joined table as a Dataset). Needs the ``[ray]`` extra; it joins the
Ray cluster the caller has started (``ray.init()``) or starts a local one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import pickle
import shutil
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .arrow import DEFAULT_ROWS, read_batches, with_ids
from .errors import (
    BatchioError,
    DuplicateIdError,
    JoinError,
    Problem,
    UsageError,
    import_extra,
    quote,
)
from .jsonl import DEFAULT_MAX_LINE_BYTES, check_read_once
from .providers import Profile, profile_for
from .reconcile import JoinSummary, duplicate_input
from .sharding import RESULT_SUFFIXES, Manifest, request_files, result_files, split
from .validation import Report
from .validation import validate as validate_file

if TYPE_CHECKING:
    import pyarrow


def require_ray() -> Any:
    """The ray module, or a :class:`UsageError` naming the extra that installs it."""
    import_extra("ray.data", "Ray Data support needs the optional extra", "'batchio[ray]'")
    return import_extra("ray", "Ray Data support needs the optional extra", "'batchio[ray]'")


def read_batch_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                     rows: int = DEFAULT_ROWS,
                     max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Any:
    """Request or result files (a manifest stands for its shards) as a
    ``ray.data.Dataset`` of the lines schema, one read task per file, read by batchio's
    reader (:func:`batchio.arrow.read_batches`): every line with its number and offset,
    gzip and zstd, in file order within each file. Paths are local to every node (a
    shared folder), or a URI any ``pyarrow.fs`` filesystem opens (``s3://``, ``gs://``)."""
    ray = require_ray()
    files = request_files(paths, what="read")
    items = [{"path": path} for path in files]
    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    # Lines in file order, files in the order given (Ray Data gives blocks as they finish
    # unless told otherwise); grouping by a sorting shuffle, which takes 0.4 s where the
    # default hash shuffle's actors take 15 s on a handful of rows (Ray 2.60).
    dataset.context.execution_options.preserve_order = True
    from ray.data.context import ShuffleStrategy

    dataset.context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    return dataset.map_batches(_read_files, batch_size=1, batch_format="pyarrow",
                               fn_kwargs={"rows": rows, "max_line_bytes": max_line_bytes})


def _read_files(items: pyarrow.Table, rows: int, max_line_bytes: int
                ) -> Iterator[pyarrow.Table]:
    import pyarrow

    for path in items.column("path").to_pylist():
        for batch in _file_batches(path, rows, max_line_bytes):
            yield pyarrow.Table.from_batches([batch])


def _file_batches(path: str, rows: int, max_line_bytes: int
                  ) -> Iterator[pyarrow.RecordBatch]:
    if "://" not in path:
        yield from read_batches(path, rows=rows, max_line_bytes=max_line_bytes)
        return
    import pyarrow.fs

    filesystem, inner = pyarrow.fs.FileSystem.from_uri(path)
    with filesystem.open_input_stream(inner, compression=None) as stream:
        yield from read_batches(stream, rows=rows, max_line_bytes=max_line_bytes, name=path)


def validate(paths: Any, *, unique_across_files: bool = False, **options: Any
             ) -> list[Report]:
    """Validate many files on a Ray cluster: one task a file, each report the one
    :func:`batchio.validate` gives (``options`` are its keyword arguments: ``provider``,
    ``endpoint``, ``schema``, ``max_errors`` ...; each task checks its file in one process
    unless ``workers`` says more). ``paths`` are paths (a manifest stands
    for its shards), or a Dataset of the lines schema (:func:`read_batch_files`, or lines
    the job made itself), whose files are put back together from their lines by a
    group-by on ``path``: the reports are then in the order of their paths.

    With ``unique_across_files``, a ``custom_id`` used in two files is a
    ``duplicate_custom_id`` error in the later file's report (files in the order given,
    lines in file order), naming the file and line of its first use: found by a group-by
    on the id over every line of the job (:func:`read_batch_files`).
    """
    ray = require_ray()
    if options.get("on_progress") is not None:
        raise UsageError("on_progress cannot be sent to Ray tasks")
    if isinstance(paths, ray.data.Dataset):
        reports = _validate_dataset(paths, options)
        files = [report.path for report in reports]
    else:
        files = request_files(paths, what="validate")
        if unique_across_files:
            # Named twice, a file's every id would be "used again" in the other copy.
            check_read_once({"a file to validate": files})
        checker = ray.remote(_validate_one)
        reports = ray.get([checker.remote(path, options) for path in files])
    if unique_across_files:
        provider = options.get("provider")
        name = provider if isinstance(provider, str) or provider is None else provider.name
        _add_duplicates_across_files(reports, files, name, paths if isinstance(
            paths, ray.data.Dataset) else read_batch_files(files))
    return reports


def _validate_one(path: str, options: dict[str, Any]) -> Report:
    # A task checks its file in one process unless told otherwise: Ray runs the tasks on
    # its CPUs, and a task that forked a pool of its own would share them with the next
    # task (8 shards of 42 MB on 2 CPUs: 2.01 s against 1.11 s for --jobs 2).
    return validate_file(path, **{"workers": 1, **options})


def _validate_dataset(dataset: Any, options: dict[str, Any]) -> list[Report]:
    """One report per ``path`` of a lines Dataset, each file's lines in line order."""
    rows = (dataset.groupby("path")
            .map_groups(_validate_lines, batch_format="pyarrow",
                        fn_kwargs={"options": options})
            .take_all())
    reports = [pickle.loads(row["report"]) for row in rows]
    return sorted(reports, key=lambda report: report.path)


def _validate_lines(group: pyarrow.Table, options: dict[str, Any]) -> pyarrow.Table:
    """The report of one file from its lines (a group-by's group): the lines put back in
    order as one stream, read by the validator as the file would be."""
    import pyarrow

    path = group.column("path")[0].as_py()
    order = sorted(range(group.num_rows), key=group.column("line").to_pylist().__getitem__)
    raws = group.column("raw").to_pylist()
    if any(raw is None for raw in raws):
        raise UsageError(f"{path}: a line over the reader's size cap has no bytes to "
                         "validate; validate the file by its path")
    stream = io.BytesIO(b"".join(raws[index] for index in order))
    stream.name = path
    report = validate_file(stream, **{**options, "workers": 1})
    return pyarrow.table({"report": pyarrow.array([pickle.dumps(report)], pyarrow.binary())})


def _add_duplicates_across_files(reports: list[Report], files: list[str],
                                 provider: str | None, lines: Any) -> None:
    """A ``duplicate_custom_id`` error for each use of an id after its first, when the two
    uses are in different files (``lines``: the files' lines Dataset)."""
    ids = _uses_in_later_files(lines, files, provider)
    by_path = {report.path: report for report in reports}
    profile = profile_for(provider, None)
    for found in ids.iter_rows():
        report = by_path[found["path"]]
        problem = Problem(
            code="duplicate_custom_id", line=found["line"], param=profile.id_field,
            custom_id=found["custom_id"], path=found["path"],
            message=f"{profile.id_field} {quote(found['custom_id'])} was already used in "
                    f"{found['first_path']} on line {found['first_line']}")
        report.errors.append(problem)
        report.counts["duplicate_custom_id"] = report.counts.get("duplicate_custom_id", 0) + 1
    for report in reports:
        report.errors.sort(key=lambda problem: problem.line or 0)


def _uses_in_later_files(lines: Any, files: list[str], provider: str | None) -> Any:
    """A Dataset of each id's first use in every file after the file of its first use
    (``custom_id``, ``path``, ``line``, ``first_path``, ``first_line``), from a Dataset of
    the lines of ``files`` (in that order), by a group-by on the id."""
    order = {path: number for number, path in enumerate(files)}
    return (lines
            .map_batches(_ids_of, batch_format="pyarrow", fn_kwargs={"provider": provider})
            .groupby("custom_id", num_partitions=max(1, min(len(files), 64)))
            .map_groups(_later_uses, batch_format="pyarrow", fn_kwargs={"order": order}))


def _ids_of(batch: pyarrow.RecordBatch, provider: str | None) -> pyarrow.RecordBatch:
    identified = with_ids(batch, provider=provider)
    import pyarrow.compute

    kept = identified.filter(pyarrow.compute.is_valid(identified.column("custom_id")))
    return kept.select(["custom_id", "path", "line"])


def _later_uses(group: pyarrow.Table, order: dict[str, int]) -> pyarrow.Table:
    """The uses of one id after its first that are in another file than the first."""
    import pyarrow

    uses = sorted(zip(group.column("path").to_pylist(), group.column("line").to_pylist(),
                      strict=True), key=lambda use: (order[use[0]], use[1]))
    first_path, first_line = uses[0]
    # A file's own repeats are its own report's; here, each other file's first use.
    later = []
    files_seen = {first_path}
    for path, line in uses[1:]:
        if path not in files_seen:
            files_seen.add(path)
            later.append((path, line))
    custom_id = group.column("custom_id")[0].as_py() if group.num_rows else None
    return pyarrow.table({
        "custom_id": pyarrow.array([custom_id] * len(later), pyarrow.string()),
        "path": pyarrow.array([path for path, _ in later], pyarrow.string()),
        "line": pyarrow.array([line for _, line in later], pyarrow.int64()),
        "first_path": pyarrow.array([first_path] * len(later), pyarrow.string()),
        "first_line": pyarrow.array([first_line] * len(later), pyarrow.int64()),
    })


def write_shards(dataset: Any, out_dir: str | os.PathLike[str], *,
                 provider: str | Profile | None = None, max_requests: int | None = None,
                 max_bytes: int | None = None, max_embedding_inputs: int | None = None,
                 by_model: bool = False, prefix: str = "requests",
                 overwrite: bool = False) -> Manifest:
    """Write a Dataset of request lines (a binary ``raw`` column, as in the lines schema)
    as shards within the provider's limits, plus ``manifest.json``: the folder
    :func:`batchio.split` makes of the same lines, byte for byte.

    Each write task puts its rows' lines in a part file named by its task index, written
    whole or not at all, so a task that Ray runs again (a worker that died) replaces its
    part and never adds a second; once every task is done, the parts are read in task
    order (the Dataset's block order: keep ``preserve_order`` set, as
    :func:`read_batch_files` does) and cut into shards by :func:`batchio.split`'s own
    sharder on this machine. ``out_dir`` must be a folder every node can write.
    """
    require_ray()
    sink = _shard_sink_type()(os.fspath(out_dir), {
        "provider": provider if provider is None or isinstance(provider, str) else provider.name,
        "max_requests": max_requests, "max_bytes": max_bytes,
        "max_embedding_inputs": max_embedding_inputs, "by_model": by_model,
        "prefix": prefix, "overwrite": overwrite})
    dataset.write_datasink(sink)
    if sink.manifest is None:
        raise UsageError("the dataset was written but no manifest was made")
    return sink.manifest  # type: ignore[no-any-return]


@dataclasses.dataclass
class RayJoin:
    """A join run on Ray: the joined table as a Dataset (rows in input order, the columns
    of :data:`batchio.COLUMNS`) and the whole job's summary."""

    dataset: Any
    summary: JoinSummary


def join(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
         results: str | os.PathLike[str], provider: str | None = None,
         check_outputs: bool = False) -> RayJoin:
    """Join each shard's results back to it on a Ray cluster, one task a shard.

    ``inputs`` are request files (a manifest stands for its shards); ``results`` is a folder
    of result files named after their shard (``<shard name>.output.jsonl``,
    ``<shard name>.errors.jsonl`` and so on, compressed or not): a provider answers each
    input file on its own, so each shard joins on its own, with no shuffle. An id used in
    two shards is the :class:`batchio.DuplicateIdError` the local join raises (found first,
    by a group-by over every input line). The table and the summary are those of
    ``batchio.join(inputs, results=results)``.
    """
    ray = require_ray()
    shards = request_files(inputs, what="join")
    assigned = _results_by_shard(shards, result_files(results))
    order = {path: number for number, path in enumerate(shards)}
    # The first error in input order, as the local join meets it: an id a later shard
    # uses again, or what a shard's own join raised.
    failures: list[tuple[tuple[int, int], BatchioError]] = []
    repeated = _id_in_two_shards(shards, provider)
    if repeated is not None:
        failures.append(((order[repeated.path or ""], repeated.line or 0), repeated))
    joiner = ray.remote(_join_shard)
    outcomes = ray.get([joiner.remote(shard, assigned[shard], provider, check_outputs)
                        for shard in shards])
    for number, (_, _, error) in enumerate(outcomes):
        if error is not None:
            failures.append(((number, error.line or 0), error))
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]
    _refuse_misfiled_results(outcomes)
    first_summary = outcomes[0][1] if outcomes else None
    summary = JoinSummary(provider=first_summary.provider if first_summary else "openai",
                          checked_outputs=check_outputs)
    for _, part, _ in outcomes:
        assert part is not None
        summary.merge_inputs(part)
        summary.result_lines += part.result_lines
        summary.orphans += part.orphans
        summary.duplicates += part.duplicates
    tables = [table for table, _, _ in outcomes]
    return RayJoin(ray.data.from_arrow(tables) if tables else ray.data.from_items([]),
                   summary)


def _refuse_misfiled_results(outcomes: list[tuple[Any, JoinSummary | None, Any]]) -> None:
    """A result line read as an orphan of one shard whose id is another shard's request:
    its result file holds that shard's answers (appended to the wrong file). Each shard
    joins only its own files here, so the other shard would count the request missing (and
    retry it, paying again) where ``batchio.join`` on the folder finds it answered: refused,
    with the place of the first such line."""
    import pyarrow.compute

    orphans = {ref.custom_id: ref for _, part, _ in outcomes if part is not None
               for ref in part.orphans}
    if not orphans:
        return
    wanted = pyarrow.array(list(orphans), pyarrow.string())
    for table, _, _ in outcomes:
        if table is None or not table.num_rows:
            continue
        found = table.filter(pyarrow.compute.is_in(table.column("custom_id"), wanted))
        if found.num_rows:
            ref = orphans[found.column("custom_id")[0].as_py()]
            raise JoinError(
                f"{ref.path}:{ref.line}: custom_id {quote(ref.custom_id)} is a request of "
                "another shard than the one this file is named after: results were filed "
                "under the wrong shard; join the folder with batchio.join(inputs, "
                "results=...), which matches across it, or rename the file",
                code="misfiled_results", path=ref.path, line=ref.line,
                custom_id=ref.custom_id)


def _results_by_shard(shards: list[str], files: list[str]) -> dict[str, list[str]]:
    """Each shard's result files: those whose name starts with the shard's own name (the
    longest such name, where one shard's name begins another's)."""
    stems = {shard: _stem(shard) for shard in shards}
    assigned: dict[str, list[str]] = {shard: [] for shard in shards}
    for path in files:
        name = os.path.basename(path)
        owners = [shard for shard, stem in stems.items()
                  if name.startswith(stem) and name[len(stem):len(stem) + 1] in (".", "-", "_")]
        if not owners:
            raise UsageError(f"result file {path} is named after no shard (name each after "
                             f"its shard, such as {_stem(shards[0])}.output.jsonl)")
        assigned[max(owners, key=lambda shard: len(stems[shard]))].append(path)
    return assigned


def _stem(path: str) -> str:
    """A file's name without its JSONL suffix (compressed or not)."""
    name = os.path.basename(path)
    for suffix in sorted(RESULT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _id_in_two_shards(shards: list[str], provider: str | None) -> DuplicateIdError | None:
    """The local join's DuplicateIdError for the first id (in input order) that a later
    shard uses again, found by a group-by over every input line; None when there is none."""
    found = _uses_in_later_files(read_batch_files(shards), shards, provider).take_all()
    if not found:
        return None
    order = {path: number for number, path in enumerate(shards)}
    first = min(found, key=lambda use: (order[use["path"]], use["line"]))
    return duplicate_input(profile_for(provider, shards[0]).id_field, first["custom_id"],
                           first["first_path"], first["first_line"], first["path"],
                           first["line"])


def _join_shard(shard: str, results: list[str], provider: str | None, check_outputs: bool
                ) -> tuple[Any, JoinSummary | None, BatchioError | None]:
    """One shard joined (a Ray task): its table and summary, or the error that stopped it."""
    import pyarrow

    from .reconcile import join as join_files
    from .table import arrow_schema, record_batches

    try:
        joined = join_files([shard], outputs=results, provider=provider,
                            check_outputs=check_outputs)
        table = pyarrow.Table.from_batches(list(record_batches(joined)),
                                           schema=arrow_schema())
    except BatchioError as exc:
        return None, None, exc
    return table, joined.summary, None


#: The folder inside ``out_dir`` where write tasks put their parts, removed at the end.
PARTS_FOLDER = ".batchio-parts"


@functools.cache
def _shard_sink_type() -> type:
    ray = require_ray()

    class ShardSink(ray.data.Datasink):  # type: ignore[misc,name-defined]
        """Parts by task index, then shards by the one sharder (see write_shards)."""

        def __init__(self, out_dir: str, options: dict[str, Any]) -> None:
            self.out_dir = out_dir
            self.options = options
            self.manifest: Manifest | None = None

        def on_write_start(self, schema: Any = None) -> None:
            _make_parts_folder(self.out_dir)

        def write(self, blocks: Any, ctx: Any) -> dict[str, int]:
            return _write_part(blocks, os.path.join(self.out_dir, PARTS_FOLDER),
                               ctx.task_idx)

        def on_write_complete(self, write_result: Any) -> None:
            self.manifest = _shards_from_parts(self.out_dir, write_result.write_returns,
                                               self.options)

    return ShardSink


def _make_parts_folder(out_dir: str) -> str:
    """``out_dir``'s parts folder, made a real folder in it: a link or file planted at its
    name is removed (itself, never what it points at), never written through."""
    folder = os.path.join(out_dir, PARTS_FOLDER)
    os.makedirs(out_dir, exist_ok=True)
    if os.path.islink(folder) or (os.path.lexists(folder) and not os.path.isdir(folder)):
        os.unlink(folder)
    os.makedirs(folder, exist_ok=True)
    return folder


#: How a file batchio makes in the parts folder is opened: created there, never through a
#: link at its name.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


@contextlib.contextmanager
def _folder_descriptor(folder: str) -> Iterator[int]:
    """The parts folder opened as a folder (not through a link), for names made in it."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                         | getattr(os, "O_NOFOLLOW", 0))
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _create_in(folder: int, name: str) -> io.BufferedWriter:
    """A new file ``name`` in the folder ``folder`` (a descriptor): whatever had the name
    goes first, and the file is made there (``O_EXCL``), never through a link."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder)
    return open(os.open(name, _CREATE, 0o666, dir_fd=folder), "wb")


def _write_part(blocks: Any, folder: str, task: int) -> dict[str, int]:
    """One write task's lines in ``folder/<task>.jsonl``, replaced whole (a retried task
    writes the same name)."""
    from ray.data.block import BlockAccessor

    name = f"{task:08d}.jsonl"
    temporary = f"{name}.{os.getpid()}.tmp"
    rows = 0
    with _folder_descriptor(folder) as descriptor:
        with _create_in(descriptor, temporary) as handle:
            for block in blocks:
                table = BlockAccessor.for_block(block).to_arrow()
                if "raw" not in table.column_names:
                    raise UsageError("write_shards needs a binary 'raw' column of request "
                                     f"lines (the lines schema); the dataset has "
                                     f"{table.column_names}")
                for raw in table.column("raw").to_pylist():
                    if raw is None:
                        raise UsageError("a line over the reader's size cap cannot be "
                                         "written to a shard (its raw bytes were not read)")
                    handle.write(raw if raw.endswith(b"\n") else raw + b"\n")
                    rows += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, name, src_dir_fd=descriptor, dst_dir_fd=descriptor)
    return {"task": task, "rows": rows}


def _shards_from_parts(out_dir: str, returns: list[dict[str, int]], options: dict[str, Any]
                       ) -> Manifest:
    """The parts, in task order, cut into shards by :func:`batchio.split` (no part at all,
    for an empty Dataset: the folder and manifest of no shards that ``split`` makes of an
    empty file)."""
    folder = _make_parts_folder(out_dir)
    tasks = sorted({entry["task"] for entry in returns})
    try:
        with _folder_descriptor(folder) as descriptor, \
                _create_in(descriptor, "all.jsonl") as target:
            for task in tasks:
                part = os.open(f"{task:08d}.jsonl", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0),
                               dir_fd=descriptor)
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, target, 1 << 20)
        return split(os.path.join(folder, "all.jsonl"), out_dir, **options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["PARTS_FOLDER", "RayJoin", "join", "read_batch_files", "require_ray", "validate",
           "write_shards"]
