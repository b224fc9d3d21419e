"""Shards: request lines rolled over into files within a provider's limits, and their manifest.

Owns :class:`ShardLimits` (the one rule for what a file may take), the shard folder
(claimed by one run at a time, refused when it holds another run's shards unless told to
overwrite them), the series of shards (one, or one per model, with names that never
collide), :class:`Manifest` and :func:`split`. :class:`batchio.RequestWriter` writes its
shards through the same sharder.

What a folder holds at every moment: whole shards, each listed in ``manifest.json``
(rewritten, atomically, after every shard), which says ``complete: true`` only once the last
shard is whole. A run that fails or is killed leaves no ``complete: true`` manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import itertools
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import orjson

from .bodies import embedding_inputs
from .errors import (
    BatchioWarning,
    LimitError,
    LineError,
    Problem,
    SourceError,
    UsageError,
    quote,
)
from .jsonl import (
    JsonlWriter,
    check_distinct_paths,
    check_source,
    check_target,
    names_a_level_down,
    path_list,
    read_lines,
    reported,
    write_error,
    write_file_atomically,
)
from .providers import PROVIDERS, Profile, profile_for

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True, slots=True)
class ShardInfo:
    """One finished shard: where it is and what it holds."""

    path: str
    requests: int
    bytes: int
    model: str | None
    endpoint: str | None
    sha256: str
    first_custom_id: str | None
    last_custom_id: str | None
    tokens: int = 0
    embedding_inputs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "requests": self.requests, "bytes": self.bytes,
                "model": self.model, "endpoint": self.endpoint, "sha256": self.sha256,
                "first_custom_id": self.first_custom_id,
                "last_custom_id": self.last_custom_id, "tokens": self.tokens,
                "embedding_inputs": self.embedding_inputs}


@dataclass
class Manifest:
    """The shards of one job, written as ``manifest.json`` beside them."""

    provider: str
    shards: list[ShardInfo] = field(default_factory=list)
    #: False until every shard is whole; a run that stopped leaves it False, listing the
    #: shards it finished.
    complete: bool = True
    #: Blank lines of the input that split left out (they hold no request).
    blank_lines: int = 0

    @property
    def requests(self) -> int:
        return sum(shard.requests for shard in self.shards)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "complete": self.complete,
                "requests": self.requests, "blank_lines": self.blank_lines,
                "shards": [s.to_dict() for s in self.shards]}

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``manifest.json`` in ``folder``, whole or not at all."""
        path = Path(folder) / MANIFEST_NAME
        write_file_atomically(path, orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)
                              + b"\n", follow_links=False)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a manifest from its file, or from the folder holding ``manifest.json``."""
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = msgspec.json.decode(path.read_bytes(), type=_ManifestFile)
            if data.provider not in PROVIDERS:
                raise ValueError(f"provider {quote(data.provider)} is not one batchio knows")
            seen: set[str] = set()
            for shard in data.shards:
                _check_shard_path(shard.path)
                if shard.path in seen:
                    # Read twice, its requests would be counted, checked and sent twice.
                    raise ValueError(f"it lists shard {quote(shard.path)} twice")
                seen.add(shard.path)
                for count in ("requests", "bytes", "tokens", "embedding_inputs"):
                    if getattr(shard, count) < 0:
                        raise ValueError(f"shard {quote(shard.path)} counts {count} below 0")
            if data.requests is not None and data.requests != sum(
                    shard.requests for shard in data.shards):
                raise ValueError(f"it counts {data.requests:,} requests, its shards "
                                 f"{sum(shard.requests for shard in data.shards):,}")
            return cls(provider=data.provider, shards=data.shards, complete=data.complete,
                       blank_lines=data.blank_lines)
        except OSError as exc:
            raise SourceError(f"cannot read manifest {path}: {exc.strerror or exc}",
                              path=str(path), errno=exc.errno) from exc
        except (ValueError, msgspec.ValidationError) as exc:
            raise SourceError(f"cannot read manifest {path}: not a batchio manifest ({exc})",
                              path=str(path)) from exc


def _check_shard_path(name: object) -> None:
    """A manifest names each shard by its file name in the manifest's folder: a path that
    leaves the folder is not batchio's (and is never followed)."""
    if type(name) is not str or not name or name in (".", "..") \
            or os.path.basename(name) != name or "\\" in name or "\x00" in name:
        raise ValueError(f"shard path {quote(name)} is not a file name in the manifest's "
                         "folder")


class _ManifestFile(msgspec.Struct, frozen=True):
    """``manifest.json`` as it is read: every field of its type (``complete: "false"`` is
    no manifest, not a true one)."""

    provider: str
    shards: list[ShardInfo]
    complete: bool = True
    blank_lines: int = 0
    requests: int | None = None


@dataclass(frozen=True, slots=True)
class ShardLimits:
    """What one shard (or one file) may hold; None is no limit."""

    max_requests: int | None = None
    max_bytes: int | None = None
    max_embedding_inputs: int | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_requests", "max_bytes", "max_embedding_inputs", "max_tokens"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise UsageError(f"{name} must be a whole number of at least 1, not {value!r}")

    @classmethod
    def for_profile(cls, profile: Profile, **overrides: int | None) -> ShardLimits:
        """The provider's limits, each replaced by an override that is not None."""
        limits = profile.limits
        base = {"max_requests": limits.max_requests, "max_bytes": limits.max_file_bytes,
                "max_embedding_inputs": limits.max_embedding_inputs, "max_tokens": None}
        base.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**base)

    def admit(self, requests: int, size: int, inputs: int, tokens: int,
              line_size: int, line_inputs: int, line_tokens: int) -> bool:
        """Whether a file holding these counts can take one more line of this size."""
        return not (
            (self.max_requests is not None and requests + 1 > self.max_requests)
            or (self.max_bytes is not None and size + line_size > self.max_bytes)
            or (self.max_embedding_inputs is not None
                and inputs + line_inputs > self.max_embedding_inputs)
            or (self.max_tokens is not None and tokens + line_tokens > self.max_tokens))

    def within(self, requests: int = 0, size: int = 0, inputs: int = 0, tokens: int = 0
               ) -> bool:
        """Whether a whole file with these totals keeps the limits: :meth:`admit`'s test
        (the one test of the limits) of its last line."""
        return self.admit(requests - 1, size, inputs, tokens, line_size=0, line_inputs=0,
                          line_tokens=0)

    def too_large(self, line_size: int, line_inputs: int, line_tokens: int) -> str | None:
        """Why one line cannot fit even in an empty file, or None."""
        if self.admit(0, 0, 0, 0, line_size=line_size, line_inputs=line_inputs,
                      line_tokens=line_tokens):
            return None
        if self.max_bytes is not None and line_size > self.max_bytes:
            return f"is {line_size:,} bytes, more than a whole file may hold ({self.max_bytes:,})"
        if self.max_tokens is not None and line_tokens > self.max_tokens:
            return (f"is about {line_tokens:,} tokens, more than a file's budget "
                    f"({self.max_tokens:,})")
        return (f"has {line_inputs:,} embedding inputs, more than a file may hold "
                f"({self.max_embedding_inputs:,})")


class _Shard:
    """One shard being written: its atomic writer, running sha256 and counts.

    Lines wait in a short list and go to the file and the hash a few hundred at a time:
    one write and one hash update per group instead of one per line. (Hashing and writing
    groups on a second thread was measured slower: handing the GIL back and forth costs
    more than the work it moves.)
    """

    #: Lines held before they are written (a few hundred KB of typical requests).
    GROUP = 256

    def __init__(self, folder: Path, name: str, model: str | None, endpoint: str | None
                 ) -> None:
        self.name = name
        self.hash = hashlib.sha256()
        self.pending: list[bytes] = []
        self.requests = 0
        self.bytes = 0
        self.tokens = 0
        self.embedding_inputs = 0
        self.model = model
        self.endpoint = endpoint
        self.first_id: str | None = None
        self.last_id: str | None = None
        self.path = folder / name
        # Last: once its temporary file exists, nothing can stop the shard being made.
        self.writer = JsonlWriter(self.path, follow_links=False)

    def write(self, raw: bytes, custom_id: str | None, tokens: int, inputs: int) -> None:
        """Append one line, which ends in a newline."""
        pending = self.pending
        pending.append(raw)
        if len(pending) >= self.GROUP:
            self.flush()
        if not self.requests:
            self.first_id = custom_id
        self.last_id = custom_id
        self.requests += 1
        self.bytes += len(raw)
        self.tokens += tokens
        self.embedding_inputs += inputs

    def flush(self) -> None:
        if not self.pending:
            return
        block = b"".join(self.pending)
        self.hash.update(block)
        self.writer.write_block(block, len(self.pending))
        self.pending = []

    def abort(self) -> None:
        self.pending = []
        self.writer.abort()

    def finish(self) -> ShardInfo:
        self.flush()
        self.writer.close()
        return self.info()

    def info(self) -> ShardInfo:
        """The shard's manifest entry, from what was written to it."""
        return ShardInfo(self.name, self.requests, self.bytes, self.model, self.endpoint,
                         self.hash.hexdigest(), self.first_id, self.last_id, self.tokens,
                         self.embedding_inputs)

    @property
    def landed(self) -> bool:
        """True once the shard is whole at its name: its file is written only by renaming
        the finished temporary file there (the folder held no shard of that name before)."""
        return os.path.lexists(self.path)


_SHARD_NAME = re.compile(r"-[0-9]{5}\.jsonl\Z")
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _slug(model: str) -> str:
    """A file-name part for a model: the name itself when it is short and plain; otherwise
    a readable part and a hash of the exact name, so that names which read alike (``a/b``
    and ``a:b``, or ``A`` and ``a`` on a case-insensitive disk) never share a file."""
    if len(model) <= 64 and _SAFE_NAME.fullmatch(model) and model == model.lower() \
            and not model.startswith("."):
        return model
    readable = re.sub(r"[^a-z0-9._-]+", "-", model.lower()).strip("-.")[:40] or "model"
    return f"{readable}-{hashlib.sha256(model.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


class ShardFolder:
    """A folder of shards claimed by one run: locked against other runs (an advisory lock on
    the folder, which the system drops when the process ends, however it ends), and refused when
    it holds another run's shards or manifest unless ``overwrite`` (then those files, and
    only files batchio names as its own, are removed first, the manifest before them)."""

    def __init__(self, folder: str | os.PathLike[str], prefix: str, overwrite: bool,
                 reads: tuple[str | os.PathLike[str], ...] = ()) -> None:
        self.path = Path(folder)
        self._reads = reads
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise SourceError(f"cannot use {self.path} as the shard folder: it is a file, "
                              "not a folder", path=str(self.path), code="unwritable_file",
                              errno=exc.errno) from exc
        except OSError as exc:
            raise write_error(str(self.path), exc) from exc
        self._lock: int | None = None
        try:
            # The lock is on the folder itself: no file of its own to leave behind.
            self._lock = os.open(self.path, os.O_RDONLY)
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.release()
            raise SourceError(f"cannot write shards to {self.path}: another batchio run is "
                              "writing there", path=str(self.path), code="target_locked"
                              ) from exc
        except OSError as exc:
            self.release()
            raise write_error(str(self.path), exc) from exc
        try:
            self._claim(prefix, overwrite)
        except BaseException:
            self.release()
            raise

    def _owned_files(self, prefix: str) -> list[Path]:
        """Files of an earlier run: its manifest, the shards it lists, and files named
        like shards or like batchio's temporary files."""
        owned: list[Path] = []
        manifest = self.path / MANIFEST_NAME
        if os.path.lexists(manifest):
            owned.append(manifest)
            with contextlib.suppress(SourceError):
                owned += [self.path / shard.path for shard in Manifest.load(manifest).shards
                          if "/" not in shard.path and shard.path not in ("", ".", "..")]
        for entry in self.path.iterdir():
            name = entry.name
            if (name.startswith(f"{prefix}-") and _SHARD_NAME.search(name)) or (
                    name.startswith(".") and name.endswith(".tmp")
                    and (name.startswith(f".{prefix}-") or name.startswith(
                        f".{MANIFEST_NAME}."))):
                owned.append(entry)
        # A link at a shard's or the manifest's name is in the way too: it is removed
        # itself (unlinking a link never touches what it points at), and no shard is ever
        # written through it. (Temporary names are unique: a link at one is harmless.)
        return list(dict.fromkeys(
            path for path in owned
            if (path.is_file() and not path.is_symlink())
            or (path.is_symlink() and not path.name.endswith(".tmp"))))

    def _claim(self, prefix: str, overwrite: bool) -> None:
        owned = self._owned_files(prefix)
        if not owned:
            return
        # An input among the files to remove would be lost: same_file, whatever the flag
        # (a link removed leaves what it points at, an input or not, as it was).
        check_distinct_paths(self._reads, [path for path in owned if not path.is_symlink()])
        if not overwrite:
            names = ", ".join(path.name for path in owned[:3])
            more = f" and {len(owned) - 3} more" if len(owned) > 3 else ""
            raise UsageError(f"{self.path} already holds shards or a manifest ({names}{more}); "
                             "uploading the folder would mix two runs: use --overwrite "
                             "(overwrite=True) to replace them, or another folder",
                             code="target_exists", path=str(self.path))
        # The manifest goes first: a run stopped halfway leaves no manifest claiming shards.
        for path in sorted(owned, key=lambda path: path.name != MANIFEST_NAME):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise write_error(str(path), exc) from exc

    def release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None


class Sharder:
    """Routes lines into shard series (one, or one per model) and rolls shards over.

    Every limit is :meth:`ShardLimits.admit`'s. After each shard is finished the manifest
    is saved (``complete: false``), so a folder never holds a whole shard its manifest does
    not list; :meth:`close` saves it complete.
    """

    def __init__(self, folder: ShardFolder, limits: ShardLimits, by_model: bool, prefix: str,
                 profile: Profile) -> None:
        self.folder = folder
        self.limits = limits
        self.by_model = by_model
        self.prefix = prefix
        self.manifest = Manifest(provider=profile.name, complete=False)
        #: Every shard name this run has given out, for :meth:`abort` to sweep.
        self.named: list[str] = []
        self.open: dict[str | None, _Shard] = {}
        self.counters: dict[str | None, int] = {}
        self._slugs: dict[str, str] = {}

    def _name(self, model: str | None) -> str:
        number = self.counters.get(model, 0) + 1
        self.counters[model] = number
        middle = ""
        if self.by_model and model is not None:
            middle = "-" + self._slugs.setdefault(model, _slug(model))
        name = f"{self.prefix}{middle}-{number:05d}.jsonl"
        self.named.append(name)
        return name

    def add(self, raw: bytes, custom_id: str | None, model: str | None,
            endpoint: str | None, tokens: int = 0, inputs: int = 0, where: str = "",
            line: int | None = None) -> None:
        """Write one line to the right shard, rolling over first if it would not fit."""
        if raw[-1:] != b"\n":  # the last line of a file may lack its newline
            raw += b"\n"
        size = len(raw)
        key = model if self.by_model else None
        shard = self.open.get(key)
        if shard is not None and self.limits.admit(
                shard.requests, shard.bytes, shard.embedding_inputs, shard.tokens,
                size, inputs, tokens):
            shard.write(raw, custom_id, tokens, inputs)
            return
        too_big = self.limits.too_large(size, inputs, tokens)
        if too_big is not None:
            place = f"{where}:{line}" if where and line is not None else (where or "a line")
            raise LimitError(f"{place} {too_big}", custom_id=custom_id, line=line,
                             path=where or None)
        if shard is not None:
            self._finish(key)
        shard = _Shard(self.folder.path, self._name(key), model, endpoint)
        self.open[key] = shard
        shard.write(raw, custom_id, tokens, inputs)

    def _finish(self, key: str | None) -> None:
        # The shard stays in ``open`` until it is whole, so that an interruption while it is
        # being finished still finds it to discard.
        # It is listed before it leaves ``open``: an interruption between the two finds it
        # listed, and :meth:`abort` does not list it again.
        self.manifest.shards.append(self.open[key].finish())
        del self.open[key]
        self.manifest.shards.sort(key=lambda info: info.path)
        self.manifest.save(self.folder.path)

    def close(self) -> Manifest:
        """Finish every open shard and save the manifest, complete."""
        try:
            while self.open:
                self._finish(next(iter(self.open)))
            self.manifest.complete = True
            self.manifest.save(self.folder.path)
        except BaseException:
            self.abort()
            raise
        finally:
            self.folder.release()
        return self.manifest

    def abort(self) -> Manifest:
        """Discard the open shards; the manifest lists the finished ones, incomplete.

        A shard interrupted after it landed at its name (between its rename and the
        manifest's) is whole, so it is listed rather than left on disk unlisted."""
        listed = {info.path for info in self.manifest.shards}
        for shard in self.open.values():
            shard.abort()
            if shard.landed and shard.name not in listed:
                self.manifest.shards.append(shard.info())
        self.manifest.shards.sort(key=lambda info: info.path)
        self.open.clear()
        # A shard interrupted while its writer was being made is in no list yet: its
        # temporary file is found by name (the folder is this run's while it holds the lock).
        for name in self.named:
            for temp in self.folder.path.glob(f".{glob.escape(name)}.*.tmp"):
                with contextlib.suppress(OSError):
                    temp.unlink()
        self.manifest.complete = False
        if self.manifest.shards:
            with contextlib.suppress(SourceError):
                self.manifest.save(self.folder.path)
        self.folder.release()
        return self.manifest


def split(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    provider: str | Profile | None = None,
    max_requests: int | None = None,
    max_bytes: int | None = None,
    max_embedding_inputs: int | None = None,
    by_model: bool = False,
    prefix: str = "requests",
    overwrite: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> Manifest:
    """Stream a request file into shards within the provider's limits, plus a manifest.

    Every line is read and checked before it is copied: a line that is not a JSON object,
    or has no usable id, raises :class:`LineError` with its line number. Each line's bytes
    are copied exactly and in order: the shards concatenated give back the input's request
    lines (blank lines, which hold no request, are left out and counted in the manifest).
    A line larger than a whole shard raises :class:`LimitError` naming it. A folder that
    already holds shards or a manifest is refused (:class:`UsageError`, code
    ``target_exists``) unless ``overwrite=True``. On an error the shards finished so far
    stay, whole and listed, and the manifest says ``complete: false``. ``on_progress`` is
    told the bytes read now and then.
    """
    check_source(source)
    check_target(out_dir, "out_dir")
    profile = profile_for(provider, source)
    limits = ShardLimits.for_profile(profile, max_requests=max_requests, max_bytes=max_bytes,
                                     max_embedding_inputs=max_embedding_inputs)
    name = os.fspath(source)
    lines = _checked_lines(source, name, profile, on_progress)
    manifest = write_shards(((name, number, raw, value) for number, raw, value in lines),
                            out_dir, profile=profile, limits=limits, by_model=by_model,
                            prefix=prefix, overwrite=overwrite, reads=(source,),
                            blank_lines=lambda: lines.blank_lines)
    return manifest


def write_shards(lines: Iterable[tuple[str, int, bytes, dict[str, Any]]],
                 out_dir: str | os.PathLike[str], *, profile: Profile, limits: ShardLimits,
                 by_model: bool = False, prefix: str = "requests", overwrite: bool = False,
                 reads: Iterable[str | os.PathLike[str]] = (),
                 blank_lines: Callable[[], int] | None = None) -> Manifest:
    """Write request lines, each ``(file, line number, exact bytes, value)`` and already
    checked, into shards within ``limits`` plus a manifest (what :func:`split` and a
    campaign's retry round write). The first line is read before the folder is touched:
    input that cannot be read leaves the folder as it was."""
    iterator = iter(lines)
    first = next(iterator, None)
    sharder = Sharder(ShardFolder(out_dir, prefix, overwrite, reads=tuple(reads)), limits,
                      by_model, prefix, profile)
    id_field, body_field = profile.id_field, profile.body_field
    counts_inputs = limits.max_embedding_inputs is not None
    try:
        for name, number, raw, value in itertools.chain(
                () if first is None else (first,), iterator):
            body = value.get(body_field)
            body = body if type(body) is dict else {}
            url = value.get("url") if profile.carries_url else profile.default_endpoint
            url = url if type(url) is str else None
            model = body.get("model")
            inputs = embedding_inputs(body) if counts_inputs and url and url.endswith(
                "/embeddings") else 0
            sharder.add(raw, value.get(id_field), model if type(model) is str else None,
                        url, 0, inputs, name, number)
        if blank_lines is not None:
            sharder.manifest.blank_lines = blank_lines()
    except BaseException:
        sharder.abort()
        raise
    return sharder.close()


class _checked_lines:
    """The request lines of a file: (number, exact bytes, value), each read and checked;
    blank lines are skipped and counted."""

    def __init__(self, source: str | os.PathLike[str], name: str, profile: Profile,
                 on_progress: Callable[[int], None] | None = None) -> None:
        self.source = source
        self.name = name
        self.profile = profile
        self.blank_lines = 0
        self.on_progress = on_progress

    def __iter__(self) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
        id_field = self.profile.id_field
        id_problem = self.profile.ids.problem
        id_required = self.profile.id_required
        for item in reported(read_lines(self.source, errors="collect"), self.on_progress):
            if isinstance(item, Problem):
                if item.code == "blank_line":
                    self.blank_lines += item.lines
                    continue
                if item.severity == "warning":
                    continue
                raise item.error()
            number, _, raw, value = item
            custom_id = value.get(id_field)
            problem = id_problem(custom_id, id_field)
            if problem is not None and (id_required or problem[0] != "missing_custom_id"):
                raise LineError(problem[1], code=problem[0], line=number, path=self.name,
                                custom_id=custom_id if type(custom_id) is str else None)
            yield number, raw, value


def request_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                  what: str = "read", folders: bool = False) -> list[str]:
    """Request files named by ``paths``: each path, with a manifest (or a folder holding
    one) replaced by its shards, in the manifest's order; with ``folders``, a folder
    without a manifest replaced by the JSONL files in it (whatever they hold: validate
    checks each as what it is)."""
    given = path_list(paths, f"the request files to {what}")
    if not given:
        raise UsageError(f"no request file to {what}")
    files: list[str] = []
    for item in given:
        path = Path(item)
        manifest_path = path / MANIFEST_NAME if path.is_dir() else path
        if manifest_path.name == MANIFEST_NAME and manifest_path.is_file():
            files.extend(_shard_files(manifest_path))
        elif folders and path.is_dir():
            from .kinds import batch_files

            found = batch_files(path)
            if not found:
                raise UsageError(f"no JSONL file to {what} in the folder {os.fspath(item)}",
                                 path=os.fspath(item))
            files.extend(found)
        else:
            files.append(os.fspath(item))
    if not files:
        raise UsageError(f"no request file to {what}: {', '.join(given)} lists no shards")
    return files


def _shard_files(manifest_path: Path) -> list[str]:
    """The shards a manifest lists, in its order: refused while the split that wrote it has
    not finished (its shards may not hold every request), with a warning for each shard whose
    size is no longer the manifest's (a shard is read as it is now)."""
    manifest = Manifest.load(manifest_path)
    name = os.fspath(manifest_path)
    if not manifest.complete:
        raise UsageError(
            "the split that wrote it did not finish (complete: false): the "
            f"{len(manifest.shards):,} shards it lists may not hold every request; split "
            "again with --overwrite, or name the shard files to read just those",
            code="incomplete_manifest", path=name)
    files = []
    for shard in manifest.shards:
        shard_path = os.path.join(manifest_path.parent, shard.path)
        size = _regular_file_in(manifest_path.parent, shard_path, f"shard of {name}")
        if size is not None and size != shard.bytes:
            warnings.warn(BatchioWarning(
                f"{size:,} bytes, not the {shard.bytes:,} that {name} lists: changed "
                "since split (read as it is now)", code="changed_shard", path=shard_path),
                stacklevel=4)
        files.append(shard_path)
    return files


def _regular_file_in(folder: str | os.PathLike[str], path: str, what: str) -> int | None:
    """The size of ``path``, a file batchio reads because a folder holds it (a shard, a
    result file): refused when it is a link out of ``folder`` or not a regular file (a FIFO
    would block the reader forever, a device never ends), looked at without opening it.
    None when it is not there (the reader's error to report)."""
    if os.path.dirname(os.path.realpath(path)) != os.path.realpath(folder):
        raise SourceError(f"{path} is a link out of its folder: batchio reads only the files "
                          f"in the folder ({what})", path=path)
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        raise SourceError(f"{path}: not a regular file ({what}): batchio reads only regular "
                          "files from a folder", path=path)
    return found.st_size


#: What a results folder's files end with (the provider's output, error or results files;
#: Bedrock names each output after its input with ``.out`` added).
RESULT_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.out")


def result_files(folder: str | os.PathLike[str]) -> list[str]:
    """The result files in ``folder`` (``*.jsonl``, ``.gz``, ``.zst``, ``.jsonl.out``), or
    where it holds none, in its folders a level down, by name: a job's
    output and error files, whichever shard each answers (a line's content decides its
    status, not the file it is in)."""
    if not isinstance(folder, (str, os.PathLike)):
        raise UsageError(f"results must be one folder's path, not {type(folder).__name__}")
    try:
        names = result_names(os.fspath(folder))
    except OSError as exc:
        raise SourceError(f"cannot read the results folder {os.fspath(folder)}: "
                          f"{exc.strerror or exc}", path=os.fspath(folder)) from exc
    if not names:
        raise UsageError(f"no result files (*.jsonl, *.jsonl.gz, *.jsonl.zst, *.jsonl.out) in "
                         f"{os.fspath(folder)}", path=os.fspath(folder))
    paths = [os.path.join(folder, name) for name in names]
    for path in paths:
        _regular_file_in(os.path.dirname(path), path, f"result file in {os.fspath(folder)}")
    return paths


def result_names(folder: str) -> list[str]:
    """The result files' names under ``folder``, by name: its own, else those of its
    folders, a level down (a cloud job writes its results into a folder of the job:
    Bedrock's ``JOB_ID/``, Vertex AI's ``prediction-model-TIME/``)."""
    return names_a_level_down(folder, lambda name: name.endswith(RESULT_SUFFIXES))


__all__ = ["MANIFEST_NAME", "RESULT_SUFFIXES", "Manifest", "ShardFolder", "ShardInfo",
           "ShardLimits", "Sharder", "request_files", "result_files", "split",
           "write_shards"]
