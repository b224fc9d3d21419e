"""The campaign ledger: a job's rounds of requests, results and Batch objects, recorded in
SQLite, merged into one answer per request.

Owns :class:`Campaign`: what a round's files are (by path, size and sha256, never a copy),
what became of each request in each round (batchio's own :func:`batchio.join`: status,
output check, tokens, cost), the status of the whole job, the next round's request shards
(:meth:`Campaign.retry`), and the final table (:meth:`Campaign.final`), one row per
``custom_id`` whatever the order the rounds and files were recorded in.

The ledger holds ids, outcomes and the places of request lines; bodies stay in the files,
which the final table and a retry round read again (a file that changed since it was
recorded is refused, ``changed_file``). Every change is one transaction (``BEGIN
IMMEDIATE``, WAL): a command killed at any moment leaves the ledger as it was before it or
after it, and two at once are serialised (the second waits for the first, then refuses
with ``ledger_busy`` past :data:`BUSY_SECONDS`).

The best answer is each id's best outcome by :func:`batchio.reconcile.outcome_rank`, the
order that also decides which of an id's result lines a join counts.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import orjson

from .batch import (
    TERMINAL,
    Batch,
    BatchStatus,
    batch_object_files,
    load_batches,
    read_batch,
)
from .errors import BatchioWarning, JoinError, SourceError, UsageError, import_extra, quote
from .ids import echo_key, synthetic_id, synthetic_place
from .jsonl import check_distinct_paths, read_lines, reads_once
from .providers import Profile, get_profile, profile_for
from .reconcile import JoinedRow, is_retried, join, outcome_rank, retry_choices
from .results import answer_body, request_body, usage_of
from .sharding import Manifest, ShardLimits, request_files, result_files, write_shards
from .table import (
    WRITE_BATCH_ROWS,
    JoinedSink,
    TableFormat,
    arrow_schema,
    joined_line,
    record_batches,
    require_pyarrow,
    table_format,
    tabled,
    to_pandas,
)

if TYPE_CHECKING:
    import pyarrow

Policy = Literal["best", "latest"]
#: One path, or several.
Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
POLICIES: tuple[Policy, ...] = ("best", "latest")

#: How long a command waits for another that is changing the ledger.
BUSY_SECONDS = 60.0
#: The ledger's format, written in it and checked on open.
LEDGER_FORMAT, LEDGER_VERSION = "batchio-campaign", "1"

#: The columns the final table adds to the joined table's (whose ``cost_usd`` is the
#: chosen answer's).
FINAL_COLUMNS = (("round", "int64"), ("attempts", "int64"), ("total_cost_usd", "float64"))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
    round INTEGER PRIMARY KEY,
    provider TEXT,
    check_outputs INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    result_lines INTEGER NOT NULL DEFAULT 0,
    orphans INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    invalid_result_lines INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS files (
    file INTEGER PRIMARY KEY,
    round INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('requests', 'results', 'batch')),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    UNIQUE (kind, path)
);
CREATE TABLE IF NOT EXISTS outcomes (
    round INTEGER NOT NULL,
    custom_id TEXT NOT NULL,
    file INTEGER NOT NULL,
    line INTEGER NOT NULL,
    body_hash INTEGER NOT NULL,
    status TEXT NOT NULL,
    output_check TEXT NOT NULL,
    retryable INTEGER NOT NULL,
    error_code TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (round, custom_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outcomes_by_id ON outcomes (custom_id, round);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    round INTEGER NOT NULL,
    file INTEGER NOT NULL,
    provider TEXT,
    status TEXT NOT NULL,
    total INTEGER,
    completed INTEGER,
    failed INTEGER
);
"""

_OUTCOME_COLUMNS = ("round", "custom_id", "file", "line", "body_hash", "status",
                    "output_check", "retryable", "error_code", "model", "input_tokens",
                    "output_tokens", "cost_usd", "rank")
_INSERT_OUTCOME = (f"INSERT INTO outcomes ({', '.join(_OUTCOME_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(_OUTCOME_COLUMNS))})")
#: Outcome rows inserted at once: the rows held in memory while a round is recorded.
_INSERT_CHUNK = 20_000

#: The window that picks each id's answer, by policy: best outcome then latest round, or
#: the latest round with a result line (then the latest round that asked).
_ORDER = {"best": "rank, round DESC",
          "latest": "status = 'missing', round DESC"}


def _body_hash(request: Mapping[str, Any]) -> int:
    """A request body's fingerprint, whatever its key order (a changed request is a changed
    body under the same custom_id)."""
    body = request_body(request)
    try:
        text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # A whole number past 64 bits (a JSON body may hold one): written whole by a second
        # encoder, keys sorted as well. Every other body keeps the fingerprint it had.
        text = _SORTED_JSON(body)
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


_SORTED_JSON = msgspec.json.Encoder(order="sorted").encode


@dataclass(frozen=True)
class RecordedFile:
    """A file of a round, as the ledger knows it."""

    round: int
    kind: str
    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "kind": self.kind, "path": self.path, "size": self.size,
                "sha256": self.sha256}


@dataclass
class Recording:
    """What :meth:`Campaign.record` did: the files it added (or found unchanged), whether
    the round was joined again, and the round as it now stands."""

    round: int
    added: list[RecordedFile] = field(default_factory=list)
    unchanged: list[RecordedFile] = field(default_factory=list)
    replaced: list[RecordedFile] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    joined: bool = False
    status: RoundStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "added": [item.to_dict() for item in self.added],
                "unchanged": [item.to_dict() for item in self.unchanged],
                "replaced": [item.to_dict() for item in self.replaced],
                "batches": self.batches, "joined": self.joined,
                "status": None if self.status is None else self.status.to_dict()}


#: The counts a round's status and the campaign's total give, in order.
COUNTS = ("requests", "succeeded", "output_check_failed", "failed", "failed_retryable",
          "expired", "cancelled", "missing")


@dataclass
class RoundStatus:
    """One round: its requests and what became of them, its batches, tokens and cost."""

    round: int
    provider: str | None = None
    answered: bool = False
    checked_outputs: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    result_lines: int = 0
    orphans: int = 0
    duplicates: int = 0
    invalid_result_lines: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    batches: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "provider": self.provider, "answered": self.answered,
                "checked_outputs": self.checked_outputs, **self.counts,
                "result_lines": self.result_lines, "orphans": self.orphans,
                "duplicates": self.duplicates,
                "invalid_result_lines": self.invalid_result_lines,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": round(self.cost_usd, 6), "batches": self.batches,
                "files": self.files}


@dataclass
class CampaignStatus:
    """The whole job: each round, and in total each id's best outcome so far (the final
    table's ``best`` choice), ``owed`` the ids with no usable answer yet; the cost of
    every attempt; and warnings (:class:`Problem`-like dicts: code, message, count)."""

    rounds: list[RoundStatus] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"rounds": [item.to_dict() for item in self.rounds], "total": self.total,
                "campaign_warnings": self.warnings}


@dataclass
class RetryRound:
    """What :meth:`Campaign.retry` wrote: the next round's shards, and the ids left out
    because the round that last asked for them has no results yet."""

    manifest: Manifest
    requests: int
    awaiting_results: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "awaiting_results": self.awaiting_results,
                **self.manifest.to_dict()}


class Campaign:
    """A job's ledger in an SQLite file at ``path`` (made by the first :meth:`record`;
    ``create=False`` refuses a path that holds none). A context manager."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = os.fspath(path)
        if not create and not os.path.isfile(self.path):
            raise SourceError(f"no campaign ledger at {self.path} (batchio campaign record "
                              "makes one)", path=self.path, code="unreadable_file")
        # A ledger that is not there yet is made: that it cannot be is an output's error.
        making = not os.path.lexists(self.path)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise SourceError(f"cannot {'make' if making else 'open'} the campaign ledger "
                              f"{self.path}: {exc}", path=self.path,
                              code="unwritable_file" if making else "unreadable_file") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._ensure_schema()
        except sqlite3.OperationalError as exc:
            self._db.close()
            raise self._busy_or(exc) from exc
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise SourceError(f"{self.path} is not a campaign ledger: {exc}", path=self.path,
                              code="unreadable_file") from exc

    # --- the ledger itself ------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._is_ledger():
            return
        with self._transaction():
            # Looked at again in the transaction: two commands making one new ledger at
            # once, the second finds the first's.
            if self._is_ledger():
                return
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.executemany("INSERT INTO ledger VALUES (?, ?)", [
                ("format", LEDGER_FORMAT), ("version", LEDGER_VERSION)])

    def _is_ledger(self) -> bool:
        """Whether the file holds a ledger this batchio reads (False: an empty database, to
        be made one); anything else is refused."""
        tables = {row[0] for row in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "ledger" in tables:
            found = dict(self._db.execute("SELECT key, value FROM ledger"))
            if found.get("format") != LEDGER_FORMAT:
                raise SourceError(f"{self.path} is an SQLite file but not a campaign ledger",
                                  path=self.path, code="unreadable_file")
            if found.get("version") != LEDGER_VERSION:
                raise SourceError(f"{self.path} is a campaign ledger of version "
                                  f"{found.get('version')}, which this batchio does not read",
                                  path=self.path, code="unreadable_file")
            return True
        if tables:
            raise SourceError(f"{self.path} is an SQLite file but not a campaign ledger",
                              path=self.path, code="unreadable_file")
        return False

    def _busy_or(self, exc: sqlite3.OperationalError) -> Exception:
        if "locked" in str(exc) or "busy" in str(exc):
            return UsageError(f"the campaign ledger {self.path} is being changed by another "
                              f"command (waited {BUSY_SECONDS:.0f} s); run this one after it",
                              code="ledger_busy", path=self.path)
        return SourceError(f"cannot use the campaign ledger {self.path}: {exc}",
                           path=self.path, code="unwritable_file")

    class _Transaction:
        def __init__(self, campaign: Campaign) -> None:
            self.campaign = campaign

        def __enter__(self) -> sqlite3.Connection:
            try:
                self.campaign._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self.campaign._busy_or(exc) from exc
            return self.campaign._db

        def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                     traceback: object) -> None:
            db = self.campaign._db
            if kind is None:
                try:
                    db.execute("COMMIT")
                except sqlite3.OperationalError as error:
                    db.execute("ROLLBACK")
                    raise self.campaign._busy_or(error) from error
            else:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    # A ledger that cannot be written (a read-only file, a full disk): one
                    # line, exit 3, the ledger as it was.
                    raise self.campaign._busy_or(exc) from exc

    def _transaction(self) -> Campaign._Transaction:
        """One change of the ledger: all of it or none (``BEGIN IMMEDIATE``: a second
        command waits for the first)."""
        return Campaign._Transaction(self)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- recording --------------------------------------------------------------------------

    def record(self, round: int, *, requests: Paths = (), results: Paths = (),
               batches: Iterable[Any] = (), provider: str | None = None,
               check_outputs: bool = False, replace: bool = False,
               on_progress: Callable[[int], None] | None = None) -> Recording:
        """Record a round's request files (files, shard folders or manifests), result files
        (output and error files, files or folders) and Batch objects (files of them, or
        the objects: a dict, a :class:`Batch`, an SDK object), and join the round again
        when its requests or results changed.

        Recording the same files again changes nothing; a recorded file whose content
        changed is refused (``changed_file``) unless ``replace``; a file belongs to one
        round. Results that answer none of the round's requests are refused
        (``results_do_not_match``) and nothing is recorded. ``check_outputs`` checks the
        round's answers against what their requests asked for (kept for the round).
        ``on_progress`` is told the bytes the round's join has read so far."""
        if type(round) is not int or round < 1:
            raise UsageError(f"round must be a whole number from 1, not {round!r}",
                             code="invalid_argument")
        given = _paths(requests)
        request_paths = request_files(given, what="record") if given else []
        result_paths = [found for path in _paths(results)
                        for found in (result_files(path) if os.path.isdir(path) else [path])]
        for path in (*request_paths, *result_paths):
            if reads_once(path):
                raise UsageError(f"{path} gives its lines once (stdin, a pipe or a FIFO): a "
                                 "ledger records files by path, to read them again for the "
                                 "final table and the next round; save it to a file and "
                                 "record that", code="invalid_argument", path=path)
        # A folder stands for the Batch objects in it (a shard's each, as simulate and the
        # README's submitters save them; a Bedrock job's manifest.json.out).
        batch_items = [found for item in batches for found in (
            batch_object_files(item) if isinstance(item, (str, os.PathLike))
            and os.path.isdir(item) else [item])]
        if not request_paths and not result_paths and not batch_items:
            raise UsageError("nothing to record: give requests, results or batches",
                             code="invalid_argument")
        fingerprints = [(kind, _fingerprint(path)) for kind, paths in (
            ("requests", request_paths), ("results", result_paths)) for path in paths]
        objects = [_batch_object(item, provider) for item in batch_items]
        recording = Recording(round)
        with self._transaction() as db:
            stored = db.execute("SELECT provider, check_outputs FROM rounds WHERE round = ?",
                                (round,)).fetchone()
            if stored is None:
                db.execute("INSERT INTO rounds (round, provider, check_outputs) VALUES "
                           "(?, ?, ?)", (round, provider, int(check_outputs)))
                stored = (provider, int(check_outputs))
            changed = bool(check_outputs and not stored[1])
            if changed or (provider is not None and stored[0] not in (None, provider)):
                db.execute("UPDATE rounds SET provider = ?, check_outputs = ? WHERE round = ?",
                           (provider or stored[0], int(check_outputs or stored[1]), round))
                changed = True
            for kind, (path, size, sha256) in fingerprints:
                changed |= self._add_file(db, recording, kind, path, size, sha256, replace)
            for (path, size, sha256), batch, batch_provider in objects:
                self._add_file(db, recording, "batch", path, size, sha256, replace)
                file_id = db.execute("SELECT file FROM files WHERE kind = 'batch' AND "
                                     "path = ?", (path,)).fetchone()[0]
                owner = db.execute("SELECT round, status FROM batches WHERE batch_id = ?",
                                   (batch.id,)).fetchone()
                if owner is not None and owner[0] != round:
                    raise UsageError(f"batch {batch.id} is recorded for round {owner[0]} "
                                     "already: a batch belongs to one round",
                                     code="invalid_argument", path=path)
                if owner is not None and BatchStatus(owner[1]).is_terminal \
                        and not batch.status.is_terminal:
                    # A batch that has ended does not run again: an earlier look at it,
                    # given after the last, leaves the ledger at the last.
                    continue
                counts = batch.request_counts
                db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                    batch.id, round, file_id, batch_provider, batch.status.value,
                    None if counts is None else counts.total,
                    None if counts is None else counts.completed,
                    None if counts is None else counts.failed))
                recording.batches.append(batch.id)
            if changed:
                recording.joined = self._join_round(db, round, on_progress)
        recording.status = self._round_status(round)
        return recording

    def _add_file(self, db: sqlite3.Connection, recording: Recording, kind: str, path: str,
                  size: int, sha256: str, replace: bool) -> bool:
        """Add a file to the round (True when the round's content changed)."""
        item = RecordedFile(recording.round, kind, path, size, sha256)
        found = db.execute("SELECT round, sha256 FROM files WHERE kind = ? AND path = ?",
                           (kind, path)).fetchone()
        if found is None:
            db.execute("INSERT INTO files (round, kind, path, size, sha256, recorded_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (recording.round, kind, path, size, sha256, time.time()))
            recording.added.append(item)
            return True
        if found[0] != recording.round:
            raise UsageError(f"{path} is recorded for round {found[0]} already: a file "
                             "belongs to one round", code="invalid_argument", path=path)
        if found[1] == sha256:
            recording.unchanged.append(item)
            return False
        if not replace:
            raise UsageError(f"{path} changed since it was recorded for round {found[0]} "
                             "(its sha256 differs): --replace (replace=True) records it as "
                             "it is now", code="changed_file", path=path)
        db.execute("UPDATE files SET size = ?, sha256 = ?, recorded_at = ? WHERE kind = ? "
                   "AND path = ?", (size, sha256, time.time(), kind, path))
        recording.replaced.append(item)
        return True

    def _round_files(self, db: sqlite3.Connection, round: int, kind: str
                     ) -> list[tuple[int, str]]:
        return list(db.execute("SELECT file, path FROM files WHERE round = ? AND kind = ? "
                               "ORDER BY file", (round, kind)))

    def _join_round(self, db: sqlite3.Connection, round: int,
                    on_progress: Callable[[int], None] | None = None) -> bool:
        """Replace the round's outcomes with what joining its files now gives (True when it
        had requests to join)."""
        db.execute("DELETE FROM outcomes WHERE round = ?", (round,))
        requests = self._round_files(db, round, "requests")
        results = self._round_files(db, round, "results")
        db.execute("UPDATE rounds SET answered = ?, result_lines = 0, orphans = 0, "
                   "duplicates = 0, invalid_result_lines = 0 WHERE round = ?",
                   (int(bool(requests and results)), round))
        if not requests:
            return False
        provider, check_outputs = db.execute(
            "SELECT provider, check_outputs FROM rounds WHERE round = ?", (round,)).fetchone()
        if provider is None:
            provider = profile_for(None, requests[0][1]).name
            db.execute("UPDATE rounds SET provider = ? WHERE round = ?", (provider, round))
        file_ids = {path: file_id for file_id, path in requests}
        joined = join([path for _, path in requests], outputs=[path for _, path in results],
                      provider=provider, check_outputs=bool(check_outputs),
                      on_progress=on_progress)
        pending: list[tuple[Any, ...]] = []
        places = _IdenticalRequests(db, round, get_profile(provider))
        with joined:
            for row in joined:
                pending.append(_outcome(round, file_ids[row.request_path], row,
                                        places.custom_id(row)))
                if len(pending) >= _INSERT_CHUNK:
                    db.executemany(_INSERT_OUTCOME, pending)
                    pending.clear()
            db.executemany(_INSERT_OUTCOME, pending)
        summary = joined.summary
        if summary.unreadable_file is not None:
            # Its requests would be recorded as failed for good: refused, as join refuses it.
            raise summary.unreadable_results(f"nothing is recorded for round {round}")
        if results:
            db.execute("UPDATE rounds SET result_lines = ?, orphans = ?, duplicates = ?, "
                       "invalid_result_lines = ? WHERE round = ?",
                       (summary.result_lines, len(summary.orphans), len(summary.duplicates),
                        len(summary.problems), round))
        return True

    # --- status -----------------------------------------------------------------------------

    def _round_status(self, round: int) -> RoundStatus:
        found = self._db.execute(
            "SELECT provider, answered, check_outputs, result_lines, orphans, duplicates, "
            "invalid_result_lines FROM rounds WHERE round = ?", (round,)).fetchone()
        status = RoundStatus(round)
        if found is None:
            return status
        (status.provider, answered, checked, status.result_lines, status.orphans,
         status.duplicates, status.invalid_result_lines) = found
        status.answered, status.checked_outputs = bool(answered), bool(checked)
        counts = self._db.execute(
            "SELECT COUNT(*), TOTAL(status = 'succeeded'), TOTAL(rank = 1), "
            "TOTAL(status = 'failed'), TOTAL(status = 'failed' AND retryable), "
            "TOTAL(status = 'expired'), TOTAL(status = 'cancelled'), "
            "TOTAL(status = 'missing'), TOTAL(input_tokens), TOTAL(output_tokens), "
            "TOTAL(cost_usd) FROM outcomes WHERE round = ?", (round,)).fetchone()
        status.counts = {name: int(value) for name, value in zip(COUNTS, counts[:8],
                                                                 strict=True)}
        status.input_tokens, status.output_tokens = int(counts[8]), int(counts[9])
        status.cost_usd = float(counts[10])
        status.batches = [
            {"id": batch_id, "provider": provider, "status": state, "total": total,
             "completed": completed, "failed": failed}
            for batch_id, provider, state, total, completed, failed in self._db.execute(
                "SELECT batch_id, provider, status, total, completed, failed FROM batches "
                "WHERE round = ? ORDER BY batch_id", (round,))]
        status.files = dict(self._db.execute(
            "SELECT kind, COUNT(*) FROM files WHERE round = ? GROUP BY kind", (round,)))
        return status

    def rounds(self) -> list[int]:
        """The rounds recorded, in order."""
        return [row[0] for row in self._db.execute("SELECT round FROM rounds ORDER BY round")]

    def status(self) -> CampaignStatus:
        """Each round, the whole job (each id's best outcome so far), and what to look at;
        all read from one state of the ledger, whatever another command changes meanwhile."""
        with self._snapshot():
            return self._status()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: its reads see one state of the ledger (WAL), never a
        round recorded halfway through them."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def _status(self) -> CampaignStatus:
        report = CampaignStatus([self._round_status(round) for round in self.rounds()])
        best = self._db.execute(
            f"SELECT COUNT(*), TOTAL(status = 'succeeded'), TOTAL(rank = 1), "
            f"TOTAL(status = 'failed'), TOTAL(status = 'failed' AND retryable), "
            f"TOTAL(status = 'expired'), TOTAL(status = 'cancelled'), "
            f"TOTAL(status = 'missing'), TOTAL(rank > 0) FROM ({_chosen_sql('best')})"
        ).fetchone()
        total: dict[str, Any] = {name: int(value) for name, value in zip(
            COUNTS, best[:8], strict=True)}
        total["owed"] = int(best[8])
        spent = self._db.execute(
            "SELECT TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(cost_usd), COUNT(*), "
            "TOTAL(cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT "
            "NULL)) FROM outcomes").fetchone()
        # unpriced: answers that report tokens of a model no price is known for.
        total.update(input_tokens=int(spent[0]), output_tokens=int(spent[1]),
                     cost_usd=round(float(spent[2]), 6), attempts=int(spent[3]),
                     unpriced=int(spent[4]))
        # What campaign retry would write with its default statuses, by its own rule.
        to_retry = awaiting = 0
        for place in self._to_retry(retry_choices("default")):
            if place is None:
                awaiting += 1
            else:
                to_retry += 1
        total.update(to_retry=to_retry, awaiting=awaiting)
        report.total = total
        report.warnings = list(self._warnings(report))
        return report

    def _warnings(self, report: CampaignStatus) -> Iterator[dict[str, Any]]:
        again = self._db.execute(
            "SELECT COUNT(DISTINCT later.custom_id), MIN(later.custom_id) FROM outcomes AS "
            "earlier JOIN outcomes AS later ON later.custom_id = earlier.custom_id AND "
            "later.round > earlier.round WHERE earlier.rank = 0").fetchone()
        if again[0]:
            yield {"code": "already_answered", "count": again[0], "message": (
                f"{again[0]:,} requests answered usably in an earlier round were asked again "
                f"in a later one (paid twice), e.g. custom_id {quote(again[1])}")}
        changed = self._db.execute(
            "SELECT COUNT(DISTINCT later.custom_id), MIN(later.custom_id) FROM outcomes AS "
            "earlier JOIN outcomes AS later ON later.custom_id = earlier.custom_id AND "
            "later.round > earlier.round WHERE later.body_hash != earlier.body_hash"
        ).fetchone()
        if changed[0]:
            yield {"code": "changed_request", "count": changed[0], "message": (
                f"{changed[0]:,} requests have another body under the same custom_id than in "
                f"an earlier round, e.g. custom_id {quote(changed[1])}: their answers are not "
                "answers to one question")}
        running = self._running_rounds()
        for item in report.rounds:
            if item.round in running and item.counts["missing"]:
                yield {"code": "awaiting_results", "count": item.counts["missing"],
                       "message": f"round {item.round}: {item.counts['missing']:,} requests "
                       "have no result yet, and a batch of the round is still running (record "
                       "its results and Batch object once it has ended)"}
            if item.counts["requests"] and not item.answered:
                yield {"code": "awaiting_results", "count": item.counts["requests"],
                       "message": f"round {item.round}: {item.counts['requests']:,} requests "
                       "recorded, no results yet (record them with --results)"}
            if item.files.get("results") and not item.files.get("requests"):
                yield {"code": "awaiting_results", "count": 0,
                       "message": f"round {item.round}: results recorded, but no requests "
                       "to join them to (record them with --requests)"}
            totals = [batch["total"] for batch in item.batches if batch["total"] is not None]
            if totals and item.counts["requests"] and sum(totals) != item.counts["requests"]:
                yield {"code": "inconsistent_batch", "count": 1, "message": (
                    f"round {item.round}: its batches say {sum(totals):,} requests, its "
                    f"request files hold {item.counts['requests']:,}")}
            done = [batch["completed"] for batch in item.batches
                    if batch["completed"] is not None and batch["status"] in (
                        "completed", "expired", "cancelled", "failed")]
            if done and item.answered and len(done) == len(item.batches) \
                    and sum(done) != item.counts["succeeded"]:
                yield {"code": "inconsistent_batch", "count": 1, "message": (
                    f"round {item.round}: its batches say {sum(done):,} completed, its "
                    f"result files hold {item.counts['succeeded']:,} succeeded")}

    # --- the next round ---------------------------------------------------------------------

    def retry(self, out_dir: str | os.PathLike[str], *,
              statuses: Iterable[str] | str | None = None, max_requests: int | None = None,
              max_bytes: int | None = None, by_model: bool = False,
              overwrite: bool = False) -> RetryRound:
        """Write the next round's request shards (and manifest) in ``out_dir``: the request
        lines, byte for byte, from the latest round that asked for each id whose best
        outcome so far, and whose latest, are chosen by ``statuses`` (as
        ``retry_statuses=`` reads them; default: retryable failures, expired, cancelled,
        missing): one that last failed for good is not resubmitted unless failures are
        chosen. Ids whose latest round has no results recorded yet, or a batch still
        running, are left out (counted, and a warning says so): they may still be
        answered."""
        chosen = retry_choices(statuses if statuses is not None else "default")
        latest = self._db.execute("SELECT MAX(round) FROM rounds").fetchone()[0]
        if latest is None:
            raise UsageError(f"the campaign ledger {self.path} has no rounds yet",
                             code="invalid_argument")
        provider = self._db.execute(
            "SELECT provider FROM rounds WHERE provider IS NOT NULL ORDER BY round DESC"
        ).fetchone()
        profile = get_profile(provider[0] if provider else "openai")
        self._check_one_line_shape(profile)
        limits = ShardLimits.for_profile(profile, max_requests=max_requests,
                                         max_bytes=max_bytes)
        waiting = [0]

        def selected() -> Iterator[tuple[str, int, str]]:
            for place in self._to_retry(chosen):
                if place is None:
                    waiting[0] += 1
                else:
                    yield place

        # Every file the ledger records is read, for this round or a later one: none may
        # be replaced by a shard or removed by overwrite=True.
        manifest = write_shards(
            _lines_at(selected(), profile, lambda path: _check_unchanged(self._db, [path])),
            out_dir,
            profile=profile, limits=limits, by_model=by_model, prefix="requests",
            overwrite=overwrite, reads=self._recorded_paths())
        if waiting[0]:
            warnings.warn(BatchioWarning(
                f"{waiting[0]:,} requests are left out: the round that last asked for them "
                "has no results recorded yet, or a batch still running (record its results "
                "and its Batch object once it has ended, then retry)",
                code="awaiting_results", path=self.path), stacklevel=2)
        return RetryRound(manifest, manifest.requests, waiting[0])

    def _recorded_paths(self) -> list[str]:
        """Every file the ledger records, of every round: read again by retry and final,
        so never written over by them."""
        return [path for (path,) in self._db.execute("SELECT path FROM files")]

    def _to_retry(self, chosen: frozenset[str]) -> Iterator[tuple[str, int, str] | None]:
        """The one rule of what a retry round holds: for each id retried, the place of its
        request line in the latest round that asked for it (path, line, custom_id); None
        for each id left out because it may still be answered."""
        running = self._running_rounds()
        for (path, line, custom_id, status, check, retryable, answered, round,
             last_status, last_check, last_retryable) in self._db.execute(_RETRY_SQL):
            # Retried when its best outcome is not an answer the statuses accept, and its
            # latest is worth resubmitting: a request that last failed for good (a 400)
            # fails again, unless the statuses choose failures.
            if is_retried(status, check, bool(retryable), chosen) and (
                    not answered or is_retried(last_status, last_check,
                                               bool(last_retryable), chosen)):
                # A request missing from a round whose batch is still running may yet be
                # answered: resubmitted now, it would be paid for twice.
                if answered and not (status == "missing" and round in running):
                    yield path, line, custom_id
                else:
                    yield None

    def _check_one_line_shape(self, profile: Profile) -> None:
        """Refuse a retry whose requests were last asked in rounds of providers whose
        request lines differ (a round converted to Anthropic after OpenAI's): one shard of
        both is a file no provider takes."""
        shapes: dict[tuple[Any, ...], str] = {}
        for (name,) in self._db.execute(_RETRY_PROVIDERS_SQL):
            other = get_profile(name)
            shapes.setdefault((other.id_field, other.body_field, other.carries_url,
                               other.echo_field), other.title)
        if len(shapes) > 1:
            names = " and ".join(sorted(shapes.values()))
            raise UsageError(
                f"the requests still owed were last asked in rounds of {names}, whose "
                "request lines differ: one shard of both is a file no provider takes; convert "
                "one round's requests to the other's format and record them as a round, then "
                f"retry (writing for {profile.title})", code="invalid_argument",
                path=self.path)

    def _running_rounds(self) -> set[int]:
        """The rounds with a recorded Batch object that has not ended (validating, in
        progress, finalizing, cancelling): their missing requests may still be answered."""
        ended = tuple(status.value for status in TERMINAL)
        return {round for (round,) in self._db.execute(
            f"SELECT DISTINCT round FROM batches WHERE status NOT IN "
            f"({', '.join('?' * len(ended))})", ended)}

    # --- the final table --------------------------------------------------------------------

    def final(self, policy: Policy = "best") -> FinalTable:
        """One row per custom_id across every round (see :class:`FinalTable`)."""
        if policy not in POLICIES:
            raise UsageError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}",
                             code="invalid_argument")
        return FinalTable(self, policy)

    def _final_rows(self, policy: Policy) -> Iterator[tuple[JoinedRow, tuple[Any, ...]]]:
        """Each id's chosen row with the final columns' values, round by round in each
        round's input order: each round is joined again, in step with the ledger's
        choices for it (both in file and line order)."""
        chosen = self._db.execute(
            f"SELECT round, file, line, attempts, cost_usd, total_cost_usd, custom_id FROM "
            f"({_chosen_sql(policy)}) ORDER BY round, file, line")
        current = next(chosen, None)
        while current is not None:
            round = current[0]
            requests = self._round_files(self._db, round, "requests")
            results = self._round_files(self._db, round, "results")
            _check_unchanged(self._db, [path for _, path in requests + results])
            provider, check_outputs = self._db.execute(
                "SELECT provider, check_outputs FROM rounds WHERE round = ?",
                (round,)).fetchone()
            file_ids = {path: file_id for file_id, path in requests}
            with join([path for _, path in requests], outputs=[path for _, path in results],
                      provider=provider, check_outputs=bool(check_outputs)) as joined:
                for row in joined:
                    if current is None or current[0] != round:
                        break
                    if (file_ids[row.request_path], row.request_line) == current[1:3]:
                        if row.custom_id != current[6]:
                            # A request without an id, named by the ledger across rounds.
                            row = row._replace(custom_id=current[6])
                        yield row, (round, current[3], current[5])
                        current = next(chosen, None)
            if current is not None and current[0] == round:
                raise JoinError(f"round {round}: its files no longer hold a request the "
                                "ledger recorded (file changed?)", code="changed_file")


class FinalTable:
    """The final table of a campaign: one row per custom_id, the joined table's columns
    (``cost_usd`` is the chosen answer's) plus ``round`` (the round its answer came from),
    ``attempts`` (the rounds that asked) and ``total_cost_usd`` (every attempt of this
    id). Rows come
    round by round, each round's in its input order. Iterate it for ``(JoinedRow,
    extras)`` pairs, or read it as a table; it can be read more than once."""

    def __init__(self, campaign: Campaign, policy: Policy) -> None:
        self.campaign = campaign
        self.policy = policy

    def __iter__(self) -> Iterator[tuple[JoinedRow, tuple[Any, ...]]]:
        return self.campaign._final_rows(self.policy)

    def iter_batches(self, rows: int = 65_536) -> Iterator[pyarrow.RecordBatch]:
        """The table as Arrow record batches of at most ``rows`` rows (``[arrow]``)."""
        pa = require_pyarrow()
        schema = final_schema()
        extras: collections.deque[tuple[Any, ...]] = collections.deque()

        def joined_rows() -> Iterator[JoinedRow]:
            for row, extra in self:
                extras.append(extra)
                yield row

        for batch in record_batches(joined_rows(), rows):
            taken = [extras.popleft() for _ in range(batch.num_rows)]
            columns = list(batch.columns)
            for index, (name, _) in enumerate(FINAL_COLUMNS):
                columns.append(pa.array([extra[index] for extra in taken],
                                        schema.field(name).type))
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    def to_arrow(self, *, columns: Iterable[str] | None = None,
                 expand_output: bool = False) -> pyarrow.Table:
        """The table as Arrow (``columns`` and ``expand_output`` as ``Join.to_arrow``)."""
        return tabled(self.iter_batches(), final_schema(), columns=columns,
                      expand_output=expand_output)

    def to_pandas(self, *, columns: Iterable[str] | None = None,
                  expand_output: bool = False) -> Any:
        """The table as pandas, integer columns as nullable ``Int64``."""
        import_extra("pandas", "to_pandas() needs pandas", "pandas")
        return to_pandas(self.to_arrow(columns=columns, expand_output=expand_output))

    def to_polars(self, *, columns: Iterable[str] | None = None,
                  expand_output: bool = False) -> Any:
        polars = import_extra("polars", "to_polars() needs polars", "polars")
        return polars.from_arrow(self.to_arrow(columns=columns, expand_output=expand_output))

    def write(self, target: str | os.PathLike[str], to: TableFormat | None = None) -> int:
        """Write the table to ``target`` as Parquet, CSV or JSONL (by ``to`` or the
        extension), atomically; returns the rows written."""
        name = os.fspath(target)
        kind = table_format(name, to)
        # Never over the ledger, or a file it records (that file's answers would be lost).
        check_distinct_paths([self.campaign.path, *self.campaign._recorded_paths()], [name])
        with JoinedSink(name, kind, schema=final_schema() if kind != "jsonl" else None
                        ) as sink:
            if kind == "jsonl":
                for row, extra in self:
                    line = joined_line(row)
                    sink.add_lines(line[:-2] + b"," + orjson.dumps(dict(zip(
                        (name for name, _ in FINAL_COLUMNS), extra, strict=True)))[1:]
                        + b"\n", 1)
            else:
                for batch in self.iter_batches(WRITE_BATCH_ROWS):
                    sink.add_batch(batch)
        return sink.rows


def final_schema() -> pyarrow.Schema:
    """The final table's Arrow schema: the joined table's, then :data:`FINAL_COLUMNS`."""
    pa = require_pyarrow()
    types = {"int64": pa.int64(), "float64": pa.float64()}
    schema = arrow_schema()
    for name, kind in FINAL_COLUMNS:
        schema = schema.append(pa.field(name, types[kind]))
    return schema


def _chosen_sql(policy: Policy) -> str:
    """Each id's chosen outcome row, with ``attempts`` and ``total_cost_usd``."""
    return (f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY custom_id ORDER BY "
            f"{_ORDER[policy]}) AS choice, COUNT(*) OVER (PARTITION BY custom_id) AS "
            f"attempts, SUM(cost_usd) OVER (PARTITION BY custom_id) AS total_cost_usd "
            f"FROM outcomes) WHERE choice = 1")


#: Each id's best outcome, with the place of its request line in the latest round that
#: asked for it, in file and line order.
_RETRY_SQL = """
SELECT files.path, latest.line, latest.custom_id, best.status, best.output_check,
       best.retryable, rounds.answered, latest.round, latest.status, latest.output_check,
       latest.retryable
FROM (SELECT custom_id, status, output_check, retryable, ROW_NUMBER() OVER (
        PARTITION BY custom_id ORDER BY rank, round DESC) AS n FROM outcomes) AS best
JOIN (SELECT custom_id, round, file, line, status, output_check, retryable, ROW_NUMBER()
        OVER (PARTITION BY custom_id ORDER BY round DESC) AS n FROM outcomes) AS latest
  ON latest.custom_id = best.custom_id AND latest.n = 1
JOIN rounds ON rounds.round = latest.round
JOIN files ON files.file = latest.file
WHERE best.n = 1
ORDER BY latest.round, latest.file, latest.line
"""


#: The providers of the rounds that last asked for an id with no usable answer yet.
_RETRY_PROVIDERS_SQL = """
SELECT DISTINCT rounds.provider
FROM (SELECT custom_id, round, ROW_NUMBER() OVER (
        PARTITION BY custom_id ORDER BY round DESC) AS n FROM outcomes) AS latest
JOIN rounds ON rounds.round = latest.round
WHERE latest.n = 1 AND rounds.provider IS NOT NULL AND latest.custom_id IN (
    SELECT custom_id FROM outcomes GROUP BY custom_id HAVING MIN(rank) > 0)
"""


class _IdenticalRequests:
    """The ids of requests without one of their own (Vertex AI's Gemini lines, Bedrock
    records without a recordId), across rounds. A join names such a request by its body
    and its place among identical requests of its file (:func:`batchio.ids.synthetic_id`);
    a later round that asks some of them again holds fewer copies, so its first copy is
    not the first one's. Each round's copies are given, in order, the ids of their group
    still owed an answer by the earlier rounds, then those answered (asked again: paid
    twice), then new ones: identical requests are interchangeable, and no copy is owed
    for ever."""

    def __init__(self, db: sqlite3.Connection, round: int, profile: Profile) -> None:
        self.db = db
        self.round = round
        self.profile = profile
        #: Key part -> the ids this round gives its copies first, in order, and the last
        #: place the earlier rounds used; and how many copies this round has given ids.
        self.orders: dict[str, tuple[list[str], int]] = {}
        self.given: collections.Counter[str] = collections.Counter()

    def custom_id(self, row: JoinedRow) -> str:
        """The ledger's id for ``row``: the join's own, but for a request without an id."""
        if self.profile.echo_field is None or isinstance(
                row.request.get(self.profile.id_field), str):
            return row.custom_id
        place = synthetic_place(row.custom_id)
        if place is None:
            return row.custom_id
        key = place[0]
        found = self.orders.get(key)
        if found is None:
            found = self.orders[key] = self._order(key)
        order, last = found
        index = self.given[key]
        self.given[key] += 1
        if index < len(order):
            return order[index]
        place_after = last + index - len(order) + 1
        return key if place_after == 1 else f"{key}-{place_after}"

    def _order(self, key: str) -> tuple[list[str], int]:
        # The group's ids are the key and the key followed by "-N": a range of the id index
        # ("-" then "."), never a scan of every outcome for each key (LIKE made recording
        # 30,000 Vertex AI requests without ids take 75 s).
        earlier = self.db.execute(
            "SELECT custom_id, MIN(rank) FROM outcomes WHERE (custom_id = ? OR (custom_id >= ? "
            "AND custom_id < ?)) AND round < ? GROUP BY custom_id",
            (key, f"{key}-", f"{key}.", self.round)).fetchall()
        known = sorted(((place[1], custom_id, rank) for custom_id, rank in earlier
                        if (place := synthetic_place(custom_id)) is not None
                        and place[0] == key))
        owed = [custom_id for _, custom_id, rank in known if rank > 0]
        answered = [custom_id for _, custom_id, rank in known if rank == 0]
        return owed + answered, known[-1][0] if known else 0


def _outcome(round: int, file_id: int, row: JoinedRow, custom_id: str | None = None
             ) -> tuple[Any, ...]:
    """A joined row as the ledger keeps it (:data:`_OUTCOME_COLUMNS`), under ``custom_id``
    where the ledger names it otherwise than the join (:class:`_IdenticalRequests`)."""
    model, counts = usage_of(answer_body(row.response)) if row.response is not None else (
        None, None)
    if not isinstance(model, str):
        body = request_body(row.request)
        model = body.get("model") if isinstance(body, dict) else None
        model = model if isinstance(model, str) else None
    input_tokens = output_tokens = None
    if counts is not None:
        input_tokens, output_tokens = counts[0], counts[1]
    # The join's own price of the answer: the final table's cost_usd and the ledger's agree.
    return (round, custom_id or row.custom_id, file_id, row.request_line,
            _body_hash(row.request),
            row.status, row.output_check, int(row.retryable), row.error_code, model,
            input_tokens, output_tokens, row.cost_usd,
            outcome_rank(row.status, row.output_check, row.retryable))


def _lines_at(places: Iterable[tuple[str, int, str]], profile: Profile,
              check: Callable[[str], None]) -> Iterator[tuple[str, int, bytes, dict[str, Any]]]:
    """The request lines at ``places`` (path, line, custom_id; in file and line order),
    each checked to be the id the ledger recorded there (a request without an id: its
    body the one that id was made of); each file is first checked by ``check``."""
    id_field = profile.id_field
    reader: Iterator[Any] | None = None
    current: str | None = None
    for path, number, custom_id in places:
        if path != current:
            current = path
            check(path)
            reader = iter(read_lines(path))
        assert reader is not None
        for line in reader:
            if line.number == number:
                value = line.value
                found = value.get(id_field)
                if found is None and profile.echo_field is not None:
                    place = synthetic_place(custom_id)
                    if place is not None and place[0] == synthetic_id(
                            echo_key(value.get(profile.body_field)), 1):
                        found = custom_id
                if found != custom_id:
                    raise UsageError(f"{path}:{number} holds custom_id {quote(found)}, not "
                                     f"{quote(custom_id)} as when it was recorded: the file "
                                     "changed", code="changed_file", path=path, line=number)
                yield path, number, line.raw, value
                break
            if line.number > number:
                break
        else:
            raise UsageError(f"{path} ends before line {number}, where custom_id "
                             f"{quote(custom_id)} was recorded: the file changed",
                             code="changed_file", path=path, line=number)


def _check_unchanged(db: sqlite3.Connection, paths: Sequence[str]) -> None:
    """Refuse files that changed since the ledger recorded them: another size, or, for a
    file written since it was recorded, another sha256 (one only touched passes; one not
    written since is not read for it)."""
    for path in paths:
        recorded = db.execute("SELECT size, sha256, recorded_at FROM files WHERE path = ?",
                              (path,)).fetchone()
        try:
            now = os.stat(path)
        except OSError as exc:
            raise SourceError(f"cannot read {path}, recorded in the campaign: "
                              f"{exc.strerror or exc}", path=path) from exc
        if recorded is None:
            continue
        size, sha256, recorded_at = recorded
        if size != now.st_size:
            raise UsageError(f"{path} changed since it was recorded ({now.st_size:,} bytes, "
                             f"not {size:,}): record it again with --replace",
                             code="changed_file", path=path)
        if now.st_mtime >= recorded_at and _fingerprint(path)[2] != sha256:
            raise UsageError(f"{path} changed since it was recorded (its bytes, not its "
                             "size): record it again with --replace", code="changed_file",
                             path=path)


def _paths(items: Paths) -> list[str]:
    if isinstance(items, (str, os.PathLike)):
        return [os.fspath(items)]
    return [os.fspath(item) for item in items]


def _fingerprint(path: str) -> tuple[str, int, str]:
    """A file's absolute path, size and sha256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}", path=path,
                          errno=exc.errno) from exc
    return os.path.abspath(path), size, digest.hexdigest()


def _batch_object(item: Any, provider: str | None
                  ) -> tuple[tuple[str, int, str], Batch, str | None]:
    """A Batch object to record: from a file (its last object, a polling log's latest),
    or an object (a dict, a :class:`Batch`, an SDK object), with its fingerprint."""
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        batches = load_batches(path, provider=provider)
        return _fingerprint(path), batches[-1], provider
    if isinstance(item, Batch):
        batch = item
        data = batch.to_dict()
    else:
        dump = getattr(item, "model_dump", None)
        data = dump(mode="json") if callable(dump) else item
        if not isinstance(data, Mapping):
            raise UsageError(f"a batch to record must be a path, a dict, a Batch or an SDK "
                             f"object, not {type(item).__name__}", code="invalid_argument")
        batch = read_batch(data, provider)
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)
    return (f"<batch {batch.id}>", len(raw), hashlib.sha256(raw).hexdigest()), batch, provider


__all__ = ["COUNTS", "FINAL_COLUMNS", "POLICIES", "Campaign", "CampaignStatus", "FinalTable",
           "Recording", "RetryRound", "RoundStatus", "final_schema", "outcome_rank"]
