"""Safe file writes: regular files only, temp file then rename, umask-derived mode, stale temps cleaned."""
from __future__ import annotations

import os
import re
import socket
import stat
import sys
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence, TextIO

from .errors import ReportError

STDOUT = "-"  # as a report path: stream to standard output instead of writing a file
TEMP_SUFFIX = ".mtqc-tmp"
# A temp file lives for milliseconds; one this old belongs to a run that died.
STALE_AFTER_S = 3600.0
# temp names carry host and pid, so a later run can tell a dead writer's temp from a live one's
HOST_TAG = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
# ".<name>.<host>-<pid>-<hex>.mtqc-tmp": only names this module makes are ever cleaned. mkstemp's
# ".<name>.<8 chars>.tmp" of older versions is not: other programs use it too, in $TMPDIR and beside reports.
_TEMP = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX) + r"$")

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket"}


def is_stdout(path: Path | str) -> bool:
    """True when a report path means standard output."""
    return str(path) == STDOUT


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def write_target(path: Path) -> Path:
    """The file a write to `path` replaces: `path`, or the regular file a symbolic link names.

    Raises:
        ReportError: `path` is a dangling or looping link, or names something other than a
            regular file (a directory, device, pipe or socket), which a rename would destroy.
    """
    try:
        st = os.stat(path)  # follows links: what the user means by the path
    except FileNotFoundError:
        if path.is_symlink():
            raise ReportError(
                f"{path}: is a symbolic link to a missing file; mtqc writes reports only to regular files "
                "(remove the link or name another path)") from None
        return path
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {_reason(exc)}") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise ReportError(f"{path}: is {kind}, not a regular file; mtqc writes reports only to regular files "
                          "(use '-' to write to standard output)")
    # a link to a regular file: replace the file it names and keep the link
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _temp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def _write_temp(target: Path, content: str | Iterable[str], durable: bool = True) -> Path:
    tmp = _temp_path(target)
    # 0o666 through the process umask (and any default ACL), like any file a user creates;
    # mkstemp's 0600 would hide reports from colleagues and web servers
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if isinstance(content, str):
                fh.write(content)
            else:  # streamed in pieces, so that a large summary is never one string in memory
                for chunk in content:
                    fh.write(chunk)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_dir(folder: Path) -> None:
    _fsync_quietly(folder)  # some file systems cannot sync a directory; the rename is still atomic


def _fsync_quietly(path: Path) -> None:
    """fsync a file or folder by path; a failure to open or sync it is ignored (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_files(files: Sequence[tuple[Path, str | Iterable[str]]], *, stream: TextIO | None = None,
                durable: bool = True) -> list[Path]:
    """Write several files as one step: every temp file first, then every rename.

    `durable`: each file (and its folder) is synced to disk before this returns. A batch passes
    False and makes a group of reports durable at once (`sync_files`) before its journal names them:
    an fsync per file cost more than checking the article.

    A failure before the renames replaces nothing (the old files stay as they were) and leaves no
    temp file. A path of '-' is written to `stream` (standard output) after the files. Content is
    a string, or an iterable of strings written piece by piece (not for '-').

    Returns:
        The paths as given, in order.

    Raises:
        ReportError: a path names something other than a regular file, or the write failed
            (permissions, a read-only or full file system).
    """
    targets = [(path, None if is_stdout(path) else write_target(path), content) for path, content in files]
    temps: list[tuple[Path, Path]] = []
    try:
        for path, target, content in targets:
            if target is None:
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                temps.append((_write_temp(target, content, durable), target))
            except OSError as exc:
                raise ReportError(f"cannot write {path}: {_reason(exc)}") from exc
        for tmp, target in temps:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise ReportError(f"cannot write {target}: {_reason(exc)}") from exc
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)  # gone after a successful rename; removed after a failure
    if durable:
        for folder in {t.parent for _, t in temps}:
            _fsync_dir(folder)
    for _path, target, content in targets:
        if target is None:
            out = stream or sys.stdout
            out.write(content if isinstance(content, str) else "".join(content))
            out.flush()
    return [path for path, _ in files]


@lru_cache(maxsize=1)
def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2) (sync the one file system holding an open file), where there is one."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def sync_files(paths: Iterable[Path]) -> None:
    """Make files written with `durable=False` (and their renames) durable, in one step per file system.

    syncfs(2) on each file system that holds one of them (Linux), else `os.sync`, else an fsync
    of each file and folder. Errors are ignored, as for a folder that cannot be synced: the files
    are written; only their durability across a power cut is at stake.
    """
    paths = list(paths)
    if not paths:
        return
    folders = {p.parent for p in paths}
    syncfs = _syncfs()
    if syncfs is not None:
        devices: set[int] = set()
        for folder in folders:
            try:
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue
            try:
                device = os.fstat(fd).st_dev
                if device not in devices:
                    if syncfs(fd) != 0:  # refused: sync everything instead
                        os.sync()
                        return
                    devices.add(device)
            finally:
                os.close(fd)
        return
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in [*paths, *folders]:  # pragma: no cover - platforms without sync (Windows)
        _fsync_quietly(path)


def write_atomic(path: Path, content: str) -> Path:
    """Write `content` to `path` as UTF-8, replacing it in one step (see `write_files`)."""
    return write_files([(path, content)])[0]


def write_atomic_chunks(path: Path, chunks: Iterable[str]) -> Path:
    """Write `chunks` to `path` one after another, replacing it in one step (see `write_files`)."""
    return write_files([(path, chunks)])[0]


def temp_path_for(target: Path) -> Path:
    """A temp-file name beside `target` that `clean_stale_temps` removes once its writer is dead."""
    return _temp_path(target)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else
    return True


_CLOCK_SLACK_S = 2.0  # the boot time in /proc/stat is whole seconds


def _started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from Linux's /proc; None elsewhere."""
    try:
        # field 22, starttime in clock ticks since boot; the name in (...) may hold spaces
        ticks = int(Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return None


def _is_stale(entry: os.DirEntry[str], now: float) -> bool:
    """True only for a temp this module named, owned by this user, whose writer is provably gone."""
    match = _TEMP.match(entry.name)
    if match is None:
        return False
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    # in a shared $TMPDIR a look-alike name of another user's is not ours to judge
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        return False
    if match["host"] != HOST_TAG:
        return now - st.st_mtime > STALE_AFTER_S  # another host's writer cannot be asked: judged by age
    pid = int(match["pid"])
    if not _pid_alive(pid):
        return True
    # the pid is alive: its writer's, unless it was reused by a process started after the file was
    # written; a long batch's work index stays however old it is
    started = _started_at(pid)
    if started is None:  # no /proc to ask: by age, as before
        return now - st.st_mtime > STALE_AFTER_S
    return started > st.st_mtime + _CLOCK_SLACK_S


def clean_stale_temps(folder: Path, *, recursive: bool = False) -> list[Path]:
    """Remove temp files that a killed mtqc run left in `folder`; live ones, and any other program's, stay.

    Only this module's names count (host, writer pid, `TEMP_SUFFIX`), owned by this user, and only
    when the writer on this host has exited (its pid gone, or reused by a later process), or, for
    another host's temp, the file is older than `STALE_AFTER_S`.

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if recursive and entry.is_dir(follow_symlinks=False):
            removed += clean_stale_temps(Path(entry.path), recursive=True)
        elif entry.is_file(follow_symlinks=False) and _is_stale(entry, now):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def ensure_writable_dir(folder: Path) -> Path:
    """Create `folder` if needed and prove a file can be written there, before any work starts.

    Raises:
        ReportError: the folder cannot be created or written (permissions, read-only file system,
            a file in the way).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(20, "not a directory")
        _write_temp(folder / "write-test", "").unlink()
    except OSError as exc:
        raise ReportError(f"cannot write reports to {folder}: {_reason(exc)}; choose a folder you can write to "
                          "with --out") from exc
    return folder


def check_writable_dir(folder: Path) -> None:
    """Without creating anything: fail early when `folder` (or the ancestor that would hold it) is unwritable.

    Raises:
        ReportError: the nearest existing ancestor is not a writable directory.
    """
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ReportError(f"cannot write reports to {folder}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ReportError(f"cannot write reports to {folder}: {probe} is not writable (permissions or a "
                          "read-only file system); choose another folder")
