"""Reading and writing JSONL lines: bytes in, parsed lines with their place out, and back.

Owns opening sources (paths, ``-``, binary file objects, gzip and zstd), the streaming
reader :func:`read_lines` with its bad-input classification, and the atomic
:class:`JsonlWriter`. It knows nothing of requests or results: that is :mod:`batchio.records`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import IO, Any, BinaryIO, Literal, NamedTuple, Union, cast, overload

import orjson

from .errors import LineError, Problem, SourceError

#: The default cap on one line's size: OpenAI's per-file limit, since a line cannot be
#: larger than the file it is in.
DEFAULT_MAX_LINE_BYTES = 200 * 1024 * 1024

#: Files are read through a 1 MiB buffer: an eighth of the read calls of the default,
#: worth about 15% of a streaming pass.
READ_BUFFER = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BOM = b"\xef\xbb\xbf"
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
# An integer beyond 64 bits is written with at least 20 digits (18446744073709551616) or a
# minus and 19 (-9223372036854775809): a run of 20 bytes from "-0123456789". Mapping those
# bytes to b"1" and every other to b"0" makes finding one a substring search.
_DIGIT_MAP = bytes(0x31 if byte == 0x2D or 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_DIGIT_RUN = b"1" * 20
# Every 10th byte of such a run gives at least two samples in a row that map to b"1".
_SAMPLE_STRIDE = 10
_SAMPLED_RUN = b"11"
# An offset past any file: "no long digit run ahead".
_NEVER = 1 << 62
_tuple_new = tuple.__new__

#: What the reader accepts: a path, ``-``, a binary file object, or an iterable of lines
#: (bytes or str of one JSON line each, or already-parsed mappings).
LineSource = Union[
    str, "os.PathLike[str]", BinaryIO, Iterable[bytes | str | Mapping[str, Any]]
]


class Line(NamedTuple):
    """One parsed line: its 1-based number, byte offset, exact bytes, and JSON object."""

    number: int
    offset: int
    raw: bytes
    value: dict[str, Any]


def _make_line(number: int, offset: int, raw: bytes, value: dict[str, Any]) -> Line:
    # tuple.__new__ skips NamedTuple's Python-level __new__: a third of the reader's overhead.
    return _tuple_new(Line, (number, offset, raw, value))


def source_name(source: object) -> str:
    """A display name for a source: its path, ``<stdin>``, or the file object's name."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        return "<stdin>" if name == "-" else name
    if not hasattr(source, "read"):
        return "<lines>"
    return str(getattr(source, "name", "<stream>"))


def is_plain_file(path: str | os.PathLike[str]) -> bool:
    """True for a regular file that is not gzip or zstd: one that can be read at offsets."""
    if os.fspath(path) == "-" or not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        head = handle.read(4)
    return not head.startswith((_GZIP_MAGIC, _ZSTD_MAGIC))


def _zstd_module() -> Any:
    try:
        import zstandard
    except ImportError:
        raise SourceError(
            "reading or writing .zst files needs the optional extra: pip install 'batchio[zstd]'",
            code="missing_extra",
        ) from None
    return zstandard


def _peek(stream: BinaryIO, size: int) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(size)[:size])
    return b""


@contextlib.contextmanager
def open_source(source: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    """Open a path, ``-`` (stdin) or a binary file object for reading, decompressing if needed.

    Compression is detected by the extension (``.gz``, ``.zst``) and by the magic bytes.
    Raises :class:`SourceError` when the source cannot be opened.
    """
    name = source_name(source)
    owned: list[IO[bytes]] = []
    try:
        if isinstance(source, (str, os.PathLike)):
            if os.fspath(source) == "-":
                raw: BinaryIO = sys.stdin.buffer
            else:
                try:
                    raw = open(source, "rb", buffering=READ_BUFFER)  # noqa: SIM115
                except OSError as exc:
                    reason = exc.strerror or exc
                    raise SourceError(f"cannot open {name}: {reason}", path=name) from None
                owned.append(raw)
        else:
            raw = source
        if not hasattr(raw, "peek"):
            raw = cast(BinaryIO, io.BufferedReader(cast(Any, raw)))
        head = _peek(raw, 4)
        if head.startswith(_GZIP_MAGIC) or (not head and name.endswith(".gz")):
            stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
            owned.append(stream)
        elif head.startswith(_ZSTD_MAGIC) or (not head and name.endswith(".zst")):
            reader = _zstd_module().ZstdDecompressor().stream_reader(raw, closefd=False)
            stream = cast(BinaryIO, io.BufferedReader(reader))
            owned.append(stream)
        else:
            stream = raw
        yield stream
    finally:
        for handle in reversed(owned):
            with contextlib.suppress(Exception):
                handle.close()


def _check_integer(text: str) -> int:
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        raise _OutOfRange(text)
    return value


class _OutOfRange(Exception):
    pass


class _NonFinite(Exception):
    pass


def _reject_constant(text: str) -> float:
    raise _NonFinite(text)


def _long_digit_runs(text: bytes, first: int = 0) -> list[int]:
    """The offsets in ``text``, from ``first`` on, where a run of 20 or more digits (or
    minus signs) starts.

    A run that long is the only way to write an integer beyond 64 bits, and it is rare, so
    the text is first sampled every 10th byte: a run holds two consecutive samples from it,
    and a text without such a pair (nearly every block of a request file) is cleared after
    looking at a tenth of its bytes. Only a text with a pair is mapped in full.
    """
    if text[first::_SAMPLE_STRIDE].translate(_DIGIT_MAP).find(_SAMPLED_RUN) < 0:
        return []
    digits = text.translate(_DIGIT_MAP)
    runs = []
    position = digits.find(_LONG_DIGIT_RUN, first)
    while position >= 0:
        runs.append(position)
        run_end = digits.find(b"0", position + len(_LONG_DIGIT_RUN))
        if run_end < 0:
            break
        position = digits.find(_LONG_DIGIT_RUN, run_end)
    return runs


def _out_of_range_integer(raw: bytes) -> str | None:
    """The first integer literal outside 64 bits, or None. Exact: digits inside strings pass.

    Called only for lines that :func:`_long_digit_runs` found a run in.
    """
    try:
        json.loads(raw, parse_int=_check_integer)
    except _OutOfRange as exc:
        return str(exc.args[0])
    except ValueError:
        return None
    return None


def _classify(raw: bytes, message: str, column: int | None) -> tuple[str, str, int | None]:
    """Turn an orjson failure into (code, message, column) for a stable error code."""
    if not raw.strip():
        return "blank_line", "blank line", None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "invalid_utf8", f"invalid UTF-8 at byte {exc.start + 1}", exc.start + 1
    if "depth limit" in message or "recursion" in message.lower():
        return "nesting_too_deep", "JSON nested deeper than 1024 levels", column
    if "surrogate" in message:
        return "invalid_utf8", f"lone surrogate escape in a string ({message})", column
    if "infinity" in message:
        return "non_finite_number", "a number too large for a double (Infinity)", column
    try:
        json.loads(raw, parse_constant=_reject_constant)
    except _NonFinite as exc:
        return "non_finite_number", f"{exc.args[0]} is not allowed in JSON", column
    except ValueError:
        pass
    return "invalid_json_line", f"This line is not parseable as valid JSON: {message}", column


def _problem(code: str, message: str, number: int, path: str, column: int | None = None,
             severity: Literal["error", "warning"] = "error") -> Problem:
    return Problem(code=code, message=message, line=number, path=path, column=column,
                   severity=severity)


@overload
def read_lines(
    source: LineSource,
    *,
    errors: Literal["raise"] = "raise",
    max_line_bytes: int = ...,
    check_integers: bool = ...,
) -> Iterator[Line]: ...


@overload
def read_lines(
    source: LineSource,
    *,
    errors: Literal["collect"],
    max_line_bytes: int = ...,
    check_integers: bool = ...,
) -> Iterator[Line | Problem]: ...


def read_lines(
    source: LineSource,
    *,
    errors: Literal["raise", "collect"] = "raise",
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    check_integers: bool = True,
) -> Iterator[Line] | Iterator[Line | Problem]:
    """Stream the JSON objects of a JSONL source, each with its line number and byte offset.

    ``source`` is a path, ``-`` for stdin, a binary file object (gzip and zstd are read
    transparently), or an iterable of lines (bytes, str, or already-parsed mappings).
    With ``errors="raise"`` the first bad line raises :class:`LineError`; with
    ``errors="collect"`` each problem is yielded as a :class:`Problem` and reading goes
    on (warnings such as CRLF endings are yielded only in collect mode). A missing final
    newline is fine. ``check_integers`` finds integers beyond 64 bits, which the JSON
    parser would otherwise turn silently into floats; it costs about a tenth of
    the parse.
    """
    return _read(source, errors == "collect", max_line_bytes, check_integers)


def _read(
    source: LineSource,
    collect: bool,
    max_line_bytes: int,
    check_integers: bool,
) -> Iterator[Any]:
    path = source_name(source)
    if not isinstance(source, (str, os.PathLike)) and not hasattr(source, "read"):
        blocks = _line_groups(_as_raw_lines(source))
        yield from _parse_blocks(blocks, path, collect, max_line_bytes, check_integers)
        return
    with open_source(cast("str | os.PathLike[str] | BinaryIO", source)) as stream:
        try:
            yield from _parse_blocks(_file_blocks(stream), path, collect, max_line_bytes,
                                     check_integers)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise SourceError(f"cannot read {path}: {exc}", path=path) from None
        except Exception as exc:
            # zstandard raises its own ZstdError for corrupt frames.
            if type(exc).__name__ == "ZstdError":
                raise SourceError(f"cannot decompress {path}: {exc}", path=path) from None
            raise


def _as_raw_lines(lines: Iterable[bytes | str | Mapping[str, Any]]) -> Iterator[bytes]:
    for line in lines:
        if isinstance(line, bytes):
            yield line if line.endswith(b"\n") else line + b"\n"
        elif isinstance(line, str):
            raw = line.encode("utf-8", "surrogatepass")
            yield raw if raw.endswith(b"\n") else raw + b"\n"
        else:
            yield dumps_line(line)


class _Block(NamedTuple):
    """Lines to parse, with the text they are read from.

    ``lines`` yields the lines of ``text`` from index ``first``; those that end by index
    ``whole`` are the block's, anything after (the start of a line the next read completes)
    is not. The text is scanned once for what is rare, so that lines need not be.
    """

    lines: Iterable[bytes]
    text: bytes
    first: int
    whole: int


def _file_blocks(stream: BinaryIO) -> Iterator[_Block]:
    """A stream's lines in blocks of about ``READ_BUFFER`` bytes, read without copying.

    Each read is parsed where it lies (``io.BytesIO`` over bytes shares their buffer); only
    a line cut by the end of a read is copied, joined with its rest as a block of its own.
    Copying each read once more was measured at a fifth of the parse: a second
    megabyte-sized allocation can make the allocator hand memory back and fault it in again.
    """
    pending: list[bytes] = []
    # read1 returns what a pipe has now rather than waiting for a full buffer.
    read = getattr(stream, "read1", stream.read)
    while True:
        data = read(READ_BUFFER)
        if not data:
            break
        first = 0
        if pending:
            newline = data.find(b"\n")
            if newline < 0:
                pending.append(data)
                continue
            first = newline + 1
            pending.append(data[:first])
            head = b"".join(pending)
            pending = []
            yield _Block((head,), head, 0, len(head))
        cut = data.rfind(b"\n") + 1
        if cut > first:
            lines = io.BytesIO(data)
            lines.seek(first)
            yield _Block(lines, data, first, cut)
        rest = max(cut, first)
        if rest < len(data):
            pending.append(data[rest:])
    if pending:
        last = b"".join(pending)
        yield _Block((last,), last, 0, len(last))


def _line_groups(lines: Iterable[bytes]) -> Iterator[_Block]:
    """Lines given one by one, in blocks of about ``READ_BUFFER`` bytes."""
    group: list[bytes] = []
    size = 0
    for raw in lines:
        group.append(raw)
        size += len(raw)
        if size >= READ_BUFFER:
            yield _Block(group, b"".join(group), 0, size)
            group, size = [], 0
    if group:
        yield _Block(group, b"".join(group), 0, size)


def read_range(
    path: str | os.PathLike[str],
    start: int,
    end: int,
    *,
    first_line: int,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    check_integers: bool = True,
) -> Iterator[Line | Problem]:
    """Collect-mode reading of the lines of a plain file between two byte offsets.

    ``start`` must be the first byte of a line and ``first_line`` its number; lines are
    read until one starts at or after ``end``. For splitting one file's work between
    processes: numbers and offsets are those of the whole file.
    """
    name = os.fspath(path)
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115
    except OSError as exc:
        raise SourceError(f"cannot open {name}: {exc.strerror or exc}", path=name) from None
    with handle:
        handle.seek(start)
        yield from _parse_blocks(_file_blocks(handle), name, True, max_line_bytes,
                                 check_integers, first_line=first_line, first_offset=start,
                                 end=end)


def _parse_blocks(
    blocks: Iterable[_Block],
    path: str,
    collect: bool,
    max_line_bytes: int,
    check_integers: bool,
    first_line: int = 1,
    first_offset: int = 0,
    end: int = _NEVER,
) -> Iterator[Any]:
    # The hot loop. A block's text is checked once for what is rare (long digit runs; CRLF
    # in collect mode; room for a line over the cap), so that a line costs one parse, one
    # tuple and a comparison of its end with the next offset that needs a closer look (a
    # long digit run, the end of the block's whole lines, ``end``). A line that fails goes
    # to _diagnose, which may parse again: bad lines are rare, and speed there does not
    # matter.
    # Locals, not globals, for what every line uses; and no closures in this function, which
    # would turn its variables into slower cells.
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    tuple_new, line_type, object_type, size_of, type_of = _tuple_new, Line, dict, len, type
    look_for_crlf = collect
    number = first_line - 1
    offset = first_offset
    for lines, text, first, whole in blocks:
        base = offset - first
        runs = _long_digit_runs(text, first) if check_integers else []
        runs.append(_NEVER - base)
        runs.reverse()
        next_run = base + runs.pop()
        whole_end = base + whole
        crlf_here = look_for_crlf and text.find(b"\r\n", first, whole) >= 0
        # A block that may hold a line over the cap, or a CRLF ending not yet reported, has
        # every line looked at one by one.
        careful = crlf_here or whole - first > max_line_bytes
        next_stop = -1 if careful else min(next_run, whole_end, end)
        for number, raw in enumerate(lines, number + 1):  # noqa: B020 (numbering goes on)
            start = offset
            offset += size_of(raw)
            if offset <= next_stop:
                try:
                    value = loads(raw)
                except decode_error:
                    pass
                else:
                    if type_of(value) is object_type:
                        yield tuple_new(line_type, (number, start, raw, value))
                        continue
            if start >= end:
                return
            if offset > whole_end:
                # The start of a line that the next block holds whole.
                number -= 1
                offset = start
                break
            size = offset - start
            crlf_line = crlf_here and raw.endswith(b"\r\n")
            if careful and size <= max_line_bytes and offset <= next_run and not crlf_line:
                # An ordinary line of a careful block.
                value = _object_or_none(raw)
                if value is not None:
                    yield _tuple_new(Line, (number, start, raw, value))
                    continue
            problems, line = _diagnose(raw, number, start, path, max_line_bytes,
                                       check_integers and next_run < offset)
            while next_run < offset:
                next_run = base + runs.pop()
            for index, problem in enumerate(problems):
                problems[index] = replace(problem, offset=start, length=size)
            if crlf_line:
                look_for_crlf = crlf_here = False
                careful = whole - first > max_line_bytes
                problems.append(_problem(
                    "crlf_line_ending",
                    "the file uses CRLF line endings (accepted, but LF is canonical)",
                    number, path, severity="warning"))
            next_stop = -1 if careful else min(next_run, whole_end, end)
            if collect:
                yield from problems
            else:
                for problem in problems:
                    if problem.severity == "error":
                        raise problem.error()
            if line is not None:
                yield line


def _object_or_none(raw: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if type(value) is dict else None


def _diagnose(
    raw: bytes, number: int, start: int, path: str, max_line_bytes: int, check_integers: bool,
) -> tuple[list[Problem], Line | None]:
    """Every problem of one line that failed the fast path, and its Line if it still parses."""
    if len(raw) > max_line_bytes:
        message = f"line of {len(raw):,} bytes is over the {max_line_bytes:,}-byte cap"
        return [_problem("line_too_large", message, number, path)], None
    problems: list[Problem] = []
    body = raw
    if number == 1 and raw.startswith(_BOM):
        problems.append(_problem("utf8_bom", "the file starts with a UTF-8 byte-order mark",
                                 number, path, 1))
        body = raw[3:]
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as failure:
        # orjson counts the line's own newline as a line break: take the character offset
        # instead, and never point past the line's last character.
        content_length = len(body.rstrip(b"\r\n").decode("utf-8", "replace"))
        position = min(failure.pos, content_length) + 1
        code, message, column = _classify(body, str(failure.msg), position)
        if column is not None:
            message += f" (column {column})"
        problems.append(_problem(code, message, number, path, column))
        return problems, None
    if type(value) is not dict:
        problems.append(_problem(
            "not_an_object", f"the line is a JSON {_json_type(value)}, not an object",
            number, path))
        return problems, None
    if check_integers:
        literal = _out_of_range_integer(body)
        if literal is not None:
            problems.append(_problem(
                "integer_out_of_range", f"integer {literal[:40]} does not fit in 64 bits",
                number, path))
            return problems, None
    return problems, _make_line(number, start, raw, value)


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def dumps_line(obj: Mapping[str, Any]) -> bytes:
    """Serialise one object as a JSONL line (UTF-8, no BOM, ending in ``\\n``).

    Raises :class:`LineError` for values JSON cannot hold (integers beyond 64 bits,
    unknown types).
    """
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError as exc:
        code = "integer_out_of_range" if "64-bit" in str(exc) else "invalid_json_line"
        raise LineError(f"cannot serialise as JSON: {exc}", code=code) from None


#: A file being written is handed to the disk in the background every this many bytes, so
#: the fsync that makes it durable at the end waits only for the last stretch.
SYNC_EVERY = 8 << 20

_sync_pool: tuple[int, ThreadPoolExecutor] | None = None


def _sync_in_background(fd: int) -> Future[None]:
    """Start an fdatasync of ``fd`` on batchio's one sync thread (made again after a fork)."""
    global _sync_pool
    if _sync_pool is None or _sync_pool[0] != os.getpid():
        _sync_pool = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="batchio-sync"))
    return _sync_pool[1].submit(getattr(os, "fdatasync", os.fsync), fd)


class JsonlWriter:
    """Write JSON objects (or exact line bytes) to a JSONL target, atomically.

    The target is a path (``.gz`` and ``.zst`` compress), or ``-`` for stdout. A path is
    written to a temporary file in the same folder, fsynced, and moved onto the target only
    when the writer closes without error: a crash leaves the old file or none, never a
    truncated one. Use as a context manager; :meth:`abort` discards what was written.

    Every ``SYNC_EVERY`` bytes the data so far is synced on a background thread (the
    syscall releases the GIL), which overlaps most of the disk's work with making the rest.
    """

    def __init__(self, target: str | os.PathLike[str], *, compresslevel: int = 6) -> None:
        self.target = os.fspath(target)
        self.lines = 0
        self.bytes = 0
        self._temp: str | None = None
        self._closed = False
        self._layers: list[Any] = []
        self._next_sync = SYNC_EVERY
        self._syncing: Future[None] | None = None
        if self.target == "-":
            self._next_sync = _NEVER
            self._file: Any = sys.stdout.buffer
            self._out: Any = self._file
            return
        folder = os.path.dirname(os.path.abspath(self.target))
        try:
            os.makedirs(folder, exist_ok=True)
            handle, self._temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(self.target)}.", suffix=".tmp")
        except OSError as exc:
            raise SourceError(f"cannot write {self.target}: {exc.strerror or exc}",
                              path=self.target) from None
        self._file = os.fdopen(handle, "wb")
        if self.target.endswith(".gz"):
            # mtime=0 makes the same lines give the same bytes: reproducible files and hashes.
            self._out = gzip.GzipFile(fileobj=self._file, mode="wb", mtime=0,
                                      compresslevel=compresslevel)
            self._layers.append(self._out)
        elif self.target.endswith(".zst"):
            compressor = _zstd_module().ZstdCompressor(level=min(compresslevel, 19))
            self._out = compressor.stream_writer(self._file, closefd=False)
            self._layers.append(self._out)
        else:
            self._out = self._file

    def write(self, obj: Mapping[str, Any]) -> int:
        """Write one object as a line; returns the bytes written."""
        return self.write_raw(dumps_line(obj))

    def write_raw(self, raw: bytes) -> int:
        """Write one line's exact bytes (a newline is added if it has none)."""
        if self._closed:
            raise SourceError(f"writer for {self.target} is closed", path=self.target)
        if raw[-1:] != b"\n":
            raw += b"\n"
        self._out.write(raw)
        self.lines += 1
        size = len(raw)
        self.bytes += size
        if self.bytes >= self._next_sync:
            self._sync_ahead()
        return size

    def write_block(self, block: bytes, lines: int) -> int:
        """Write the exact bytes of ``lines`` whole lines at once (``block`` ends in a
        newline); returns the bytes written."""
        if self._closed:
            raise SourceError(f"writer for {self.target} is closed", path=self.target)
        self._out.write(block)
        self.lines += lines
        self.bytes += len(block)
        if self.bytes >= self._next_sync:
            self._sync_ahead()
        return len(block)

    def _sync_ahead(self) -> None:
        self._next_sync = self.bytes + SYNC_EVERY
        if self._syncing is not None:
            if not self._syncing.done():
                return
            self._syncing.result()
        self._file.flush()
        self._syncing = _sync_in_background(self._file.fileno())

    def _settle(self) -> None:
        syncing, self._syncing = self._syncing, None
        if syncing is not None:
            syncing.result()

    def close(self) -> None:
        """Finish the file and move it onto the target."""
        if self._closed:
            return
        self._closed = True
        if self._temp is None:
            self._out.flush()
            return
        try:
            self._settle()
            for layer in reversed(self._layers):
                layer.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temp, self.target)
        except BaseException:
            self._discard()
            raise
        self._temp = None

    def abort(self) -> None:
        """Discard everything written; the target is left as it was."""
        if self._closed:
            return
        self._closed = True
        self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self._settle()
        for handle in [*reversed(self._layers), self._file]:
            with contextlib.suppress(Exception):
                handle.close()
        if self._temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)
            self._temp = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_lines(target: str | os.PathLike[str], objects: Iterable[Mapping[str, Any]]) -> int:
    """Write every object to ``target`` atomically; returns the number of lines written."""
    with JsonlWriter(target) as writer:
        for obj in objects:
            writer.write(obj)
    return writer.lines
