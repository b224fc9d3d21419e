"""A join written to files by several processes, each joining a range of the inputs.

Owns :func:`write_join`, how a join's rows reach a table file (Parquet, CSV or JSONL) and a
retry file, in one process or in several. The result files are indexed once, here (pass
A); the inputs are then cut into line-aligned byte ranges of equal size, each joined by a
forked worker that shares that index, exactly as the single pass joins it (same rows, line
numbers and verdicts). A worker spools its rows (Arrow record batches, or the joined lines
for JSONL) and its retry lines to a temporary folder, then the part of the summary its
rows make. This process writes the rows of each range in order as they reach its spool
(writing is all it does meanwhile, a seventh of a row's work), then folds in the parts:
counts, usage and output checks add up, unreadable result lines follow input order,
result lines no input claimed are orphans, and an id used in two ranges is the
:class:`DuplicateIdError` the single pass raises, at the same second use.

Rows reach a file this way, not Python code: a row handed to a caller would cost as much
to send between processes as to make. ``join()`` iterated in Python is one pass.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import itertools
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
from array import array
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._workers import cleanup_uninterrupted, quiet_worker, remove_stale_spools, spool_folder
from .errors import BatchioError, JoinError, SourceError
from .jsonl import (
    WRITE_BUFFER,
    Line,
    check_distinct_paths,
    is_plain_file,
    line_numbers_at,
    line_start_at_or_after,
    read_range,
)
from .reconcile import (
    Join,
    JoinedRow,
    JoinSummary,
    RetryWriter,
    _Index,
    _Locations,
    _MemoryIndex,
    id_reader,
    retry_choices,
)
from .results import COLUMN_NAMES
from .table import (
    WRITE_BATCH_ROWS,
    JoinedSink,
    TableFormat,
    arrow_schema,
    joined_line,
    record_batches,
    selected,
    table_format,
    watched,
)
from .validation import PARALLEL_MIN_BYTES, check_workers, usable_cores


@dataclass(frozen=True, slots=True)
class _Piece:
    """Part of one input file: its number among the inputs, byte range and first line."""

    file_number: int
    start: int
    end: int
    first_line: int


@dataclass
class _Part:
    """What a worker sends back: its rows' summary, the results its inputs claimed, its
    inputs with no result, and the error that stopped it (with its input place)."""

    summary: JoinSummary
    rows: int = 0
    #: The bytes of its spool (JSONL), which this process copies without reading them.
    spooled: int = 0
    retry_lines: int = 0
    #: The results its inputs claimed, and the input place of each claim (see
    #: ``_Locations.claimed_by``).
    claimed: array[int] = field(default_factory=lambda: array("q"))
    claimers: array[int] = field(default_factory=lambda: array("q"))
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    error: BatchioError | None = None
    error_place: int | None = None


def write_join(result: Join, target: str | os.PathLike[str] | None,
               to: TableFormat | None = None, *, retry: str | os.PathLike[str] | None = None,
               retry_statuses: Iterable[str] | None = None, workers: int | None = None,
               columns: Iterable[str] | None = None) -> int:
    """Write the joined rows of ``result`` (a :func:`batchio.join` not yet read) to
    ``target`` as Parquet, CSV or JSONL (by ``to`` or the extension), and the request lines
    worth retrying to ``retry`` (``retry_statuses`` as :class:`RetryWriter` takes them);
    both atomically. Returns the rows joined; ``result.summary`` is then complete, its
    ``retry_requests`` the lines the retry file holds.

    ``target`` None joins without writing a table (the summary and the retry file only);
    ``columns`` writes only those columns of it, in that order.

    ``workers``: processes to join with (default: the usable cores, for inputs of at least
    :data:`batchio.validation.PARALLEL_MIN_BYTES`). The rows and the summary are those of
    one pass whatever the number (JSONL, CSV and retry files byte for byte; a Parquet
    file's row groups end where ranges end); inputs that are not plain files (stdin, gzip,
    zstd), a platform that cannot fork, and an index spilled to disk are joined in one.
    """
    check_workers(workers)
    if result._state != "new" or inspect.getgeneratorstate(result._rows) != \
            inspect.GEN_CREATED:
        raise JoinError("this Join has been read already: write_join takes a Join no row "
                        "of which was read; call batchio.join() again", code="join_not_read")
    name = None if target is None else os.fspath(target)
    kind = table_format(name or "-", to)
    # The files written must not be the files read (the command line checks the same).
    check_distinct_paths([*result._inputs, *result._result_names],
                         [name, None if retry is None else os.fspath(retry)])
    statuses = None if retry_statuses is None else retry_choices(retry_statuses)
    # Spools of joins killed outright (SIGKILL leaves them) go before this one adds its own.
    remove_stale_spools(SPOOL_PREFIX)
    with contextlib.ExitStack() as stack:
        retry_writer = None if retry is None else stack.enter_context(
            RetryWriter(retry, statuses=statuses))
        on_row = None if retry_writer is None else retry_writer.add
        if name is None:
            rows = sum(1 for _ in watched(result, on_row))
        else:
            chosen = selected(columns, COLUMN_NAMES)
            sink = stack.enter_context(JoinedSink(name, kind, columns=chosen))
            result._reads_answers = True  # the columns read them: once, as usage is summed
            plan = _plan(result, workers)
            if plan is None:
                sink.add_rows(result, on_row)
            else:
                _join_in_ranges(result, plan, sink, retry_writer, statuses, workers)
            rows = sink.rows
        if result.summary.unreadable_file is not None:
            # Its requests failed for good or missing: their answers lost, or resubmitted and
            # paid for again. Raised in the block, which leaves the table and the retry file
            # as they were.
            raise result.summary.unreadable_results(
                "nothing was written, and no retry file, which would resubmit and pay for its "
                "requests again")
    result.summary.retry_requests = None if retry_writer is None else retry_writer.count
    return rows


def _plan(result: Join, workers: int | None) -> list[list[_Piece]] | None:
    """The input pieces of each range, in order (range k goes to worker k modulo the
    workers); None to join in this one process."""
    count = usable_cores() if workers is None else workers
    if count < 2 or "fork" not in multiprocessing.get_all_start_methods() \
            or result._index_mode == "sqlite" or result._state != "new" \
            or result._profile.echo_field is not None:
        # Results matched by the request they repeat (Bedrock, Vertex AI) are joined in one
        # process: which of two identical requests gets a result is decided in input order.
        return None
    paths = result._inputs
    if not all(path != "-" and is_plain_file(path) for path in paths):
        return None
    try:
        sizes = [os.path.getsize(path) for path in paths]
        total = sum(sizes)
        if total == 0 or (workers is None and total < PARALLEL_MIN_BYTES):
            return None
        # Where each range starts, as (file, offset): equal shares of the bytes, a few
        # ranges a worker (see RANGES_PER_WORKER).
        ranges = count * RANGES_PER_WORKER
        cuts = [(0, 0)] + [_line_start(paths, sizes, total * k // ranges)
                           for k in range(1, ranges)]
        cuts.append((len(paths), 0))
        pieces = _with_first_lines(paths, [
            _pieces_between(sizes, first_file, first_offset, last_file, last_offset)
            for (first_file, first_offset), (last_file, last_offset)
            in itertools.pairwise(cuts)])
    except OSError:
        return None
    pieces = [part for part in pieces if part]
    return pieces if len(pieces) > 1 and count > 1 else None


def _line_start(paths: Sequence[str], sizes: Sequence[int], position: int) -> tuple[int, int]:
    """The first line start at or after ``position`` of the inputs laid end to end."""
    for number, size in enumerate(sizes):
        if position < size:
            with open(paths[number], "rb") as handle:
                start = line_start_at_or_after(handle, position)
            return (number, start) if start < size else (number + 1, 0)
        position -= size
    return len(sizes), 0


def _pieces_between(sizes: Sequence[int], first_file: int, first_offset: int,
                    last_file: int, last_offset: int) -> list[_Piece]:
    """The pieces of the inputs between two cuts (their first lines not yet numbered)."""
    pieces = []
    for number in range(first_file, min(last_file, len(sizes) - 1) + 1):
        start = first_offset if number == first_file else 0
        end = last_offset if number == last_file else sizes[number]
        if start < end:
            pieces.append(_Piece(number, start, end, 0))
    return pieces


def _with_first_lines(paths: Sequence[str], ranges: list[list[_Piece]]
                      ) -> list[list[_Piece]]:
    """The ranges' pieces with their first line numbers, each input read once up to its
    last piece (a count from the file's start for each range took 0.31 s of a
    200,000-request join before any worker started, 2026-12-07)."""
    first_lines: dict[tuple[int, int], int] = {}
    for number, path in enumerate(paths):
        starts = sorted({piece.start for pieces in ranges for piece in pieces
                         if piece.file_number == number})
        if starts:
            with open(path, "rb") as handle:
                first_lines.update(((number, start), line) for start, line in zip(
                    starts, line_numbers_at(handle, starts), strict=True))
    return [[replace(piece, first_line=first_lines[piece.file_number, piece.start])
             for piece in pieces] for pieces in ranges]


def _lines_of(result: Join, pieces: Sequence[_Piece]
              ) -> Iterator[tuple[int, int, Iterator[Line]]]:
    for piece in pieces:
        lines: Any = read_range(result._inputs[piece.file_number], piece.start, piece.end,
                                first_line=piece.first_line, blank_lines="skip",
                                errors="raise")
        yield piece.file_number, piece.start, lines


def _join_in_ranges(result: Join, plan: list[list[_Piece]], sink: JoinedSink,
                    retry: RetryWriter | None, statuses: frozenset[str] | None,
                    workers_wanted: int | None) -> None:
    index: _Index = _MemoryIndex()
    try:
        folder = spool_folder(SPOOL_PREFIX)
    except OSError as exc:
        raise _spool_error(tempfile.gettempdir(), exc.errno) from exc
    workers: list[Any] = []
    try:
        result._state = "running"
        index, locations = result._prepare(index)
        if not isinstance(index, _MemoryIndex):
            # Spilled to disk: one pass (a forked process must not share the connection).
            sink.add_rows(result._emit_all(index, locations),
                          None if retry is None else retry.add)
            result._state = "done"
            return
        context = multiprocessing.get_context("fork")
        count = min(len(plan), usable_cores() if workers_wanted is None else workers_wanted)
        for first in range(count):
            ranges = [(number, plan[number]) for number in range(first, len(plan), count)]
            worker = context.Process(target=_join_ranges, daemon=True, args=(
                result, index, locations, ranges, folder, sink.kind, sink.columns,
                retry is not None, statuses, os.getpid()))
            # The worker is born with Ctrl-C and SIGTERM held back, until it has its own
            # handlers: one arriving as it starts would otherwise run this process's.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
            try:
                worker.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            workers.append(worker)
        unanswered_ids = _MemoryIndex()
        done = result._progress_base
        for number in range(len(plan)):
            # The rows are written as the worker makes them: this process only writes.
            worker = workers[number % len(workers)]
            written = _follow_spool(folder, number, worker, sink)
            part = _received(folder, number, worker)
            _merge(result, locations, unanswered_ids, part)  # raises the part's own error
            # Never a row short without a word: the spool and the part must agree.
            if sink.kind == "jsonl":
                if written != part.spooled:
                    raise BatchioError(f"range {number} of the join wrote {written:,} bytes "
                                       f"of its {part.spooled:,}", code="worker_failed")
                sink.add_lines(b"", part.rows)
            elif written != part.rows:
                raise BatchioError(f"range {number} of the join wrote {written:,} rows of "
                                   f"its {part.rows:,}", code="worker_failed")
            if retry is not None:
                _copy_retry_lines(folder, number, part, retry)
            # Its spools are copied: their room goes back to the disk (and their pages to
            # the workers still writing) now, not when the join ends.
            for spool in (f"{number}.rows", f"{number}.retry"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, spool))
            done += sum(piece.end - piece.start for piece in plan[number])
            if result._on_progress is not None:
                result._on_progress(done)
        result._collect_orphans(locations)
        result._state = "done"
    finally:
        with cleanup_uninterrupted():
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
                worker.join()
            shutil.rmtree(folder, ignore_errors=True)
            index.close()
            result._cleanup()


_STOPS = {signal.SIGINT, signal.SIGTERM}
#: The name of the join's spool folders in the temporary folder (the owner's pid follows).
SPOOL_PREFIX = "batchio-join-parts-"
#: A worker that cannot write its spool ends with this status plus the errno (capped), so
#: that the process that started it can say why in one line.
_SPOOL_EXIT = 100


def _spool_error(folder: str, error: int | None) -> SourceError:
    """The error of a join whose temporary files cannot be written (exit 3)."""
    reason = os.strerror(error) if error else "cannot be written"
    return SourceError(f"cannot write the join's temporary files in {folder}: {reason} (set "
                       "TMPDIR to a folder with room, or join with --jobs 1, which needs none)",
                       path=folder, code="unwritable_file", errno=error)


#: Ranges a worker takes in turn with the others: this process writes the ranges in order,
#: each as its worker makes it, so what is left to write when the workers are done is the
#: last range, not a whole worker's share (a 500,000-request join written as Parquet on
#: 2 cores: 0.5 s of writing after the workers ended, against 2.1 s at one range a worker).
RANGES_PER_WORKER = 4


def _growth(path: str, finished: Callable[[], bool]
            ) -> Generator[tuple[int, int, int], None, None]:
    """What a worker's spool gains while the worker writes it: (open file, from, to) for
    each stretch as it appears, waiting for more, until the worker has finished (its part
    is written, or it is gone) and every byte it wrote has been given."""
    given = 0
    descriptor: int | None = None
    try:
        while True:
            # Whether the worker has finished is looked at first, then whether its spool
            # exists, then what it holds: a spool finished in between is still given whole.
            ended = finished()
            if descriptor is None and os.path.exists(path):
                descriptor = os.open(path, os.O_RDONLY)
            if descriptor is not None:
                size = os.fstat(descriptor).st_size
                if size > given:
                    yield descriptor, given, size
                    given = size
                    continue
            if ended:
                return
            time.sleep(0.002)
    finally:
        if descriptor is not None:
            os.close(descriptor)


class _Following(io.RawIOBase):
    """A worker's spool read while the worker writes it (:func:`_growth`): a read that
    finds no new bytes waits for them, until the worker has finished."""

    def __init__(self, path: str, finished: Callable[[], bool]) -> None:
        super().__init__()
        self._stretches = _growth(path, finished)
        self._descriptor = -1
        self._at = self._end = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` whole, waiting for the worker's bytes; fewer only at the end (a
        reader takes a short read for the end of the stream)."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if self._at == self._end:
                stretch = next(self._stretches, None)
                if stretch is None:
                    break
                self._descriptor, self._at, self._end = stretch
            wanted = min(len(view) - filled, self._end - self._at)
            count = _read_at(self._descriptor, view[filled:filled + wanted], self._at)
            if not count:
                break
            filled += count
            self._at += count
        return filled

    def close(self) -> None:
        self._stretches.close()
        super().close()


def _read_at(descriptor: int, view: memoryview, offset: int) -> int:
    """Read into ``view`` from ``offset`` of an open file; the bytes read (straight into
    the buffer where the platform can)."""
    if hasattr(os, "preadv"):
        return os.preadv(descriptor, [view], offset)
    chunk = os.pread(descriptor, len(view), offset)
    view[:len(chunk)] = chunk
    return len(chunk)


def _follow_spool(folder: str, number: int, worker: Any, sink: JoinedSink) -> int:
    """Write range ``number``'s rows to the sink as they reach its spool; how many (JSONL:
    how many bytes)."""
    part_path = os.path.join(folder, f"{number}.part")
    path = os.path.join(folder, f"{number}.rows")

    def finished() -> bool:
        return os.path.exists(part_path) or not worker.is_alive()

    if sink.kind == "jsonl":
        # Joined lines are copied as they are, never read here (JsonlWriter.copy_from: read
        # and written through Python, they took this process 1.0 s of user and 0.9-1.2 s of
        # system time on a 200,000-request join, most of it in faulting in fresh buffers,
        # 2026-12-07).
        with contextlib.closing(_growth(path, finished)) as stretches:
            return sum(sink.copy_lines(descriptor, start, end - start)
                       for descriptor, start, end in stretches)
    rows = 0
    with _Following(path, finished) as spool:
        for batch in _spooled_batches(spool):
            # A write error here is the target's (a full disk: unwritable_file), raised as
            # it is: it is not a spool cut short.
            sink.add_batch(batch)
            rows += batch.num_rows
    return rows


def _spooled_batches(spool: _Following) -> Iterator[Any]:
    """The record batches of a worker's Arrow spool, until it ends or is cut short: its
    worker ended before finishing it (a read comes up short only then: a file-size limit,
    a full disk, a killed worker). Its part says why, or its absence does; the count of
    rows then cannot match."""
    import pyarrow

    try:
        stream = pyarrow.ipc.open_stream(spool)
    except (pyarrow.ArrowInvalid, OSError):
        return
    with stream:
        while True:
            try:
                batch = stream.read_next_batch()
            except (StopIteration, pyarrow.ArrowInvalid, OSError):
                return
            yield batch


def _join_ranges(result: Join, index: _Index, locations: _Locations,
                 ranges: list[tuple[int, list[_Piece]]], folder: str, kind: TableFormat,
                 columns: list[str] | None, retrying: bool, statuses: frozenset[str] | None,
                 parent: int) -> None:
    """A worker: join each of its ranges into spool files in ``folder``, and send back each
    range's part; it stops at the first range that fails. Ctrl-C is for the process that
    started it, which ends the workers (SIGTERM, which ends a worker at once and without a
    word); it ends with that process however it ends. Whatever stops it is said by its
    part or its exit status, never by a traceback of its own."""
    quiet_worker(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    result._on_progress = None
    result._progress_base = 0
    if kind != "jsonl":
        _release_arrow_memory()
    try:
        for number, pieces in ranges:
            part = _join_range(result, index, locations, pieces, folder, number, kind,
                               columns, retrying, statuses)
            if part.error is not None:
                break
    except OSError as exc:
        # Its part could not be written (a full or read-only temporary folder).
        os._exit(_SPOOL_EXIT + min(exc.errno or 0, 150))
    except BaseException:
        os._exit(1)
    # Leave at once, as a forked child should: nothing of the parent's to flush or run.
    os._exit(0)


def _release_arrow_memory() -> None:
    """Have this worker's Arrow buffers freed back to the system as they go: the default
    pool (mimalloc) keeps what a batch used for the next, 40-45 MB a worker more at its
    peak (a 500,000-request Parquet join: 234-241 MB against 191-197 MB, 2026-12-07),
    which made a worker the largest process. Buffers made before the fork keep their own
    pool."""
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def _join_range(result: Join, index: _Index, locations: _Locations, pieces: list[_Piece],
                folder: str, number: int, kind: TableFormat, columns: list[str] | None,
                retrying: bool, statuses: frozenset[str] | None) -> _Part:
    """Join one range into its spool and write its part (atomically: the part's presence
    says the spool is whole). Each range claims results afresh: a second use of an id in
    another range is found where the parts are folded in."""
    part = _Part(JoinSummary(provider=result._profile.name,
                             checked_outputs=result._check_outputs))
    result._summary = part.summary
    locations.claimed_by = array("q", bytes(8 * len(locations.claimed_by)))
    unanswered = _MemoryIndex()
    try:
        rows = result._emit(index, locations, _lines_of(result, pieces), unanswered,
                            whole=False)
        if retrying:
            # The retry lines chosen by the one rule, the RetryWriter's, into the spool.
            with RetryWriter(os.path.join(folder, f"{number}.retry"),
                             statuses=statuses) as retry:
                part.rows, part.spooled = _spool(rows, folder, number, kind, columns,
                                                 retry.add)
            part.retry_lines = retry.count
        else:
            part.rows, part.spooled = _spool(rows, folder, number, kind, columns, None)
    except BatchioError as exc:
        part.error = exc
        part.error_place = _input_place(result, exc)
    except OSError as exc:
        part.error = _spool_error(folder, exc.errno)
    except Exception as exc:
        part.error = BatchioError(f"a worker process of the join failed: "
                                  f"{type(exc).__name__}: {exc}", code="worker_failed")
    # Picked out in C: a loop over every result's claim took 25-40 ms a range.
    claimed_by = locations.claimed_by
    part.claimed = array("q", itertools.compress(range(len(claimed_by)), claimed_by))
    part.claimers = array("q", map(claimed_by.__getitem__, part.claimed))
    part.unanswered = list(unanswered.items())
    path = os.path.join(folder, f"{number}.part")
    with open(path + ".tmp", "wb") as handle:
        pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)
    return part


def _input_place(result: Join, exc: BatchioError) -> int | None:
    """The input place (file number << 32 | line) an error names, if it names one."""
    if exc.line is None or exc.path not in result._inputs:
        return None
    return result._inputs.index(exc.path) << 32 | exc.line


def _spool(rows: Iterator[JoinedRow], folder: str, number: int, kind: TableFormat,
           columns: list[str] | None, on_row: Callable[[JoinedRow], Any] | None
           ) -> tuple[int, int]:
    """Write the rows to the worker's spool (Arrow IPC, or joined lines of ``columns``),
    calling ``on_row`` with each; how many, and the spool's bytes."""
    count = 0
    path = os.path.join(folder, f"{number}.rows")
    if kind == "jsonl":
        with open(path, "wb", buffering=WRITE_BUFFER) as handle:
            write = handle.write
            for row in watched(rows, on_row):
                write(joined_line(row, columns))
                count += 1
            return count, handle.tell()

    import pyarrow

    with pyarrow.OSFile(path, "wb") as handle, \
            pyarrow.BufferedOutputStream(handle, WRITE_BUFFER) as buffered, \
            pyarrow.ipc.new_stream(buffered, arrow_schema()) as stream:
        for batch in record_batches(watched(rows, on_row), WRITE_BATCH_ROWS):
            stream.write_batch(batch)
            count += batch.num_rows
    return count, os.path.getsize(path)


def _received(folder: str, number: int, worker: Any) -> _Part:
    """Range ``number``'s part, once its worker has written it; a worker that ended
    without it is a ``worker_failed`` error."""
    path = os.path.join(folder, f"{number}.part")
    while not os.path.exists(path) and worker.is_alive():
        time.sleep(0.002)
    try:
        with open(path, "rb") as handle:
            part: _Part = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        worker.join()
        if worker.exitcode is not None and worker.exitcode >= _SPOOL_EXIT:
            raise _spool_error(folder, worker.exitcode - _SPOOL_EXIT) from exc
        raise BatchioError(f"a worker process of the join ended without its results (exit "
                           f"status {worker.exitcode})", code="worker_failed") from exc
    return part


def _merge(result: Join, locations: _Locations, unanswered: _MemoryIndex, part: _Part
           ) -> None:
    """Fold a worker's part into the join: its claims and unanswered ids (a second use of
    an id is the error the single pass raises at the earliest such use), then its error,
    then its counts."""
    claimed = locations.claimed_by
    second_uses: list[tuple[int, str, int]] = []  # (second place, custom_id, first place)
    for ordinal, claimer in zip(part.claimed, part.claimers, strict=True):
        if claimed[ordinal]:
            first = claimed[ordinal]
            second_uses.append((claimer - (1 << 32), _claimed_id(result, locations, ordinal),
                                first - (1 << 32)))
        else:
            claimed[ordinal] = claimer
    for custom_id, place in part.unanswered:
        earlier = unanswered.add(custom_id, place)
        if earlier is not None:
            second_uses.append((place, custom_id, earlier))
    if second_uses:
        second, custom_id, first = min(second_uses)
        if part.error is None or part.error_place is None or second < part.error_place:
            result._duplicate_input(custom_id, (first >> 32, first & 0xFFFFFFFF),
                                    result._inputs[second >> 32], second & 0xFFFFFFFF)
    if part.error is not None:
        raise part.error
    result._summary.merge_inputs(part.summary)


def _claimed_id(result: Join, locations: _Locations, ordinal: int) -> str:
    path = result._results[locations.files[ordinal]]
    with open(path, "rb") as handle:
        handle.seek(locations.offsets[ordinal])
        raw = handle.read(locations.lengths[ordinal])
    return id_reader(result._profile.result_id_field)(raw) or ""


def _copy_retry_lines(folder: str, number: int, part: _Part, retry: RetryWriter) -> None:
    with open(os.path.join(folder, f"{number}.retry"), "rb") as handle:
        for chunk in _line_chunks(handle):
            retry.add_lines(chunk, 0)
    retry.add_lines(b"", part.retry_lines)


def _line_chunks(handle: Any) -> Iterator[bytes]:
    """A spool's bytes in chunks of about 16 MB that end with a whole line."""
    while chunk := handle.read(1 << 24):
        yield chunk if chunk.endswith(b"\n") else chunk + handle.readline()


__all__ = ["write_join"]
