"""Worker processes: how they start, take signals, end with the process that started them,
and how the temporary folders they spool into are found again when nobody removed them.

Owns the rules every pool and forked worker of batchio follows (validation's pools, the
join's range workers), so that a killed ``batchio`` leaves neither processes nor files.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

#: prctl(2)'s option that asks the kernel to send a signal when the parent ends (Linux).
_PR_SET_PDEATHSIG = 1
#: How often a worker on a system without it looks whether its parent is still there.
_PARENT_POLL_SECONDS = 0.5
#: A spool folder that names no owner (written before owners were named) and has not
#: changed for this long is stale.
_UNOWNED_STALE_SECONDS = 24 * 3600


def process_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked where the platform can (no re-import), else
    spawned."""
    return multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


#: In a worker process: bytes done per range of the task, in memory shared with the
#: process that shows the progress bar (set by :func:`progress_worker`).
shared_progress: Any = None


def progress_worker(parent: int | None, progress: Any) -> None:
    """A worker (:func:`quiet_worker`) that counts its progress in ``progress``, a shared
    array of bytes done, one slot per range; the process that started it sums them."""
    global shared_progress
    quiet_worker(parent)
    shared_progress = progress


@contextlib.contextmanager
def cleanup_uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored while the block cleans up (ends workers, removes their
    spools). The first signal ended the work; a second (a shell or ``timeout`` signals the
    whole process group, the process that started batchio as well) must not cut the cleanup
    short and leave the spools behind, as it did in about 1 of 10 interrupted joins. Only
    the main thread sets signal handlers: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, signal.SIG_IGN)
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def quiet_worker(parent: int | None = None) -> None:
    """A worker's signals: Ctrl-C and SIGTERM are for the process that started it, which
    ends its pool (a forked worker would otherwise run that process's handlers, and print
    a traceback of its own); and the worker ends when that process does (``parent``, its
    pid as the parent knew it), however it ends, SIGKILL included."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parent is not None:
        die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends: the kernel's parent-death signal on Linux,
    elsewhere a thread that looks every half second. A parent already gone by the time
    this runs ends the worker now."""
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    # The parent may have ended before the signal was armed: then it never comes.
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc``), so that a pid
    used again by another process is not taken for the first; None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: str) -> bool:
    if os.path.isdir("/proc/self"):
        return _start_time(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def spool_folder(prefix: str) -> str:
    """A new temporary folder for worker spools, named for this process
    (``<prefix><pid>-<start>-<random>``) so that a later run can tell it was left by a
    process that is gone (:func:`remove_stale_spools`)."""
    started = _start_time(os.getpid()) or "0"
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{started}-")


_OWNER = re.compile(r"(\d+)-(\d+)-")


def remove_stale_spools(prefix: str) -> int:
    """Remove the spool folders of ``prefix`` in the temporary folder whose process is gone
    (a run killed with SIGKILL removes nothing itself); how many. Only this user's folders,
    never through a link; a folder that names no owner is removed once a day old."""
    removed = 0
    folder = tempfile.gettempdir()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            found = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
            continue
        owner = _OWNER.match(entry.name, len(prefix))
        if owner is not None:
            pid, started = int(owner.group(1)), owner.group(2)
            if pid == os.getpid() or _alive(pid, started):
                continue
        elif time.time() - found.st_mtime < _UNOWNED_STALE_SECONDS:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed
