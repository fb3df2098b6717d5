"""A persistent cache of translations and forced-decoding scores, shared by processes.

SQLite in WAL mode at `<cache_dir>/cache.sqlite3`: many readers and one writer at a time, a busy
timeout instead of "database is locked", INSERT OR REPLACE so that two processes computing the
same entry never conflict. Keys are sha256 of (engine, models with revision and content
fingerprint, decoding settings, direction, operation, text). A cache that cannot be opened or
written is switched off with a warning; it never fails a run.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

from ..config import Settings
from ..errors import CacheError

CACHE_FILE = "cache.sqlite3"
KEY_SCHEMA = "mtqc-cache-v1"
BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # SQLite's bound-parameter limit is 999 on old builds


class Cache:
    """Key -> JSON text, persistent and process-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.error: str | None = None
        self.failure: Exception | None = None  # why the cache was switched off
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
            )
            self._conn = conn
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    @classmethod
    def for_settings(cls, settings: Settings) -> "Cache":
        return cls(Path(settings.cache_dir) / CACHE_FILE)

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    def _disable(self, exc: Exception) -> None:
        self.failure = exc
        self.error = f"cache {self.path} disabled: {exc.__class__.__name__}: {exc}"
        warnings.warn(self.error, RuntimeWarning, stacklevel=3)
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
        self._conn = None

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        if self._conn is None or not keys:
            return {}
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        try:
            with self._lock:
                for i in range(0, len(unique), _CHUNK):
                    chunk = unique[i:i + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    found.update(self._conn.execute(
                        f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk).fetchall())
        except sqlite3.Error as exc:
            self._disable(exc)
        return found

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        if self._conn is None:
            return
        now = time.time()
        rows = [(k, v, now) for k, v in items]
        if not rows:
            return
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany("INSERT OR REPLACE INTO entries (key, value, created) VALUES (?, ?, ?)", rows)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            self._disable(exc)

    def __len__(self) -> int:
        if self._conn is None:
            return 0
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def clear(self) -> int:
        """Delete every entry; returns how many there were.

        Raises:
            CacheError: the cache is switched off (it could not be opened) or cannot be written.
        """
        if self._conn is None:
            raise CacheError(f"cannot clear the cache {self.path}: {self.error or 'it is closed'}")
        try:
            with self._lock:
                count = int(self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
                self._conn.execute("DELETE FROM entries")
        except sqlite3.Error as exc:
            self.failure = exc
            raise CacheError(f"cannot clear the cache {self.path}: {exc}") from exc
        return count

    def close(self) -> None:
        if self._conn is not None:
            with self._lock:
                self._conn.close()
            self._conn = None


def _damaged(exc: Exception | None) -> bool:
    # "file is not a database", "database disk image is malformed": DatabaseError proper;
    # permissions, read-only and locking problems are OperationalError
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def clear_cache(path: Path) -> int | None:
    """Empty the cache at `path`: every entry deleted, or a damaged database file removed.

    Returns:
        How many entries were deleted, or None when a damaged file was removed instead.

    Raises:
        CacheError: nothing could be cleared (a read-only file or folder, a lock held too long);
            the message says which and how to fix it.
    """
    path = Path(path)
    with warnings.catch_warnings():  # the error below says it in one line; no warning as well
        warnings.simplefilter("ignore")
        store = Cache(path)
        try:
            if store.enabled:
                try:
                    return store.clear()
                except CacheError:
                    if not _damaged(store.failure):
                        raise
        finally:
            store.close()
    if not _damaged(store.failure):
        raise CacheError(f"cannot clear the cache {path}: {store.failure}; check that it and its folder "
                         "are writable, or delete the folder")
    # a damaged cache holds nothing usable: removing it (and its WAL) is the only real clear
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot clear the damaged cache {path}: {exc.strerror or exc}; delete it by hand") from exc
    return None


T = TypeVar("T")


def cached_map(
    cache: "Cache | None",
    namespace: str,
    items: Sequence[str],
    compute: Callable[[list[str]], list[T]],
    dump: Callable[[T], str],
    load: Callable[[str], T],
) -> list[T]:
    """compute(items) through the cache: only misses are computed, in one batch, then stored."""
    if cache is None or not cache.enabled:
        return compute(list(items))
    keys = [make_key(namespace, item) for item in items]
    found = {k: load(v) for k, v in cache.get_many(keys).items()}
    misses = list(dict.fromkeys(item for item, k in zip(items, keys) if k not in found))
    if misses:
        fresh = compute(misses)
        new = {make_key(namespace, item): value for item, value in zip(misses, fresh)}
        cache.put_many((k, dump(v)) for k, v in new.items())
        found.update(new)
    return [found[k] for k in keys]


def make_key(*parts: str) -> str:
    return hashlib.sha256(json.dumps([KEY_SCHEMA, *parts], ensure_ascii=False).encode("utf-8")).hexdigest()
