"""summary.jsonl: a record per article, appended as each is done, so that a killed batch resumes where it was."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from ..errors import ReportError
from ..fs import sync_files, write_atomic, write_atomic_chunks
from .records import ArticleRecord

# Records are appended in groups: at most this many, or this many seconds' worth, wait in memory.
GROUP_RECORDS = 64
GROUP_SECONDS = 1.0


class Journal:
    """summary.jsonl opened for appending, the batch's commit point: a line per record.

    Reports are written without an fsync each; records are kept back and appended in groups,
    each group only after the reports it names are synced to disk (`sync_files`, one call for the
    group). So a line in the journal always names reports that are durable, and a kill (or a
    power cut) loses at most the records of the last group, whose articles a rerun checks again
    (or takes back from their report pairs on disk, by `report_id`).

    Opened on the first line, so that a run killed before any outcome leaves no empty file. A
    failure to write (a full disk) is kept, not raised: the batch goes on, and a rerun rechecks
    what was not recorded.
    """

    def __init__(self, path: Path, *, group_records: int = GROUP_RECORDS, group_seconds: float = GROUP_SECONDS) -> None:
        self.path = path
        self.error: str | None = None
        self.fh: BinaryIO | None = None
        self.group_records, self.group_seconds = group_records, group_seconds
        self._pending: list[bytes] = []
        self._reports: list[Path] = []  # written, not yet synced: named by the pending records
        self._since = time.monotonic()

    def _open(self, first_line: bytes) -> bool:
        """Open for appending; a new file gets its first line by rename, so no kill leaves it empty.

        Returns whether `first_line` is already written.
        """
        if not self.path.exists():
            write_atomic(self.path, first_line.decode("utf-8"))
            self.fh = open(self.path, "ab")
            return True
        self.fh = fh = open(self.path, "a+b")
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")  # a line a kill cut short stays alone on its line
        return False

    def append(self, record: ArticleRecord) -> None:
        """Keep `record` for the next group; commit the group when it is full or old enough."""
        if self.error is not None:
            return
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append(record.dumps().encode("utf-8") + b"\n")
        self._reports += [self.path.parent / rel for rel in (record.json_rel, record.html_rel) if rel]
        if len(self._pending) >= self.group_records or time.monotonic() - self._since >= self.group_seconds:
            self.commit()

    def commit(self) -> None:
        """Sync the reports the kept records name, then append the records."""
        if self.error is not None or not self._pending:
            return
        pending, reports = self._pending, self._reports
        self._pending, self._reports = [], []
        sync_files(reports)
        try:
            self._write(b"".join(pending))
        except ReportError as exc:
            self._fail(str(exc))
        except OSError as exc:
            self._fail(f"{self.path} not written: {exc.strerror or exc}")

    def _write(self, line: bytes) -> None:
        if self.fh is None and self._open(line):
            return
        assert self.fh is not None
        self.fh.write(line)
        self.fh.flush()

    def _fail(self, error: str) -> None:
        self.error = error
        self.close()

    def close(self) -> list[str]:
        """Commit what is kept and close the file; returns the error that stopped the journal, if one did."""
        self.commit()
        if self.fh is not None:
            try:
                self.fh.close()
            except OSError as exc:
                self.error = self.error or f"{self.path} not written: {exc.strerror or exc}"
            self.fh = None
        return [self.error] if self.error else []


class JournalReader:
    """Reads summary.jsonl back for a rerun, counting the lines it had to pass over."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unreadable = 0  # lines cut short by a kill, or damaged (not a record, a field of the wrong type)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(unit key, line) of each reusable record, oldest first; none when there is no file."""
        try:
            fh = open(self.path, "rb")
        except OSError:
            return
        with fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    key = ArticleRecord.loads(line).unit_key
                except (ValueError, TypeError):  # its article is checked again: a record never trusted blindly
                    self.unreadable += 1
                    continue
                if key is not None:
                    yield key, line

    def warning(self) -> str | None:
        if not self.unreadable:
            return None
        lines = "line" if self.unreadable == 1 else "lines"
        return (f"{self.path}: {self.unreadable} {lines} not a whole record (cut short by a kill, or damaged) "
                "passed over; their articles are checked again, unless their reports on disk show them unchanged")


def read_journal(path: Path) -> Iterator[tuple[str, str]]:
    """(unit key, line) of each reusable record in summary.jsonl, oldest first; none when there is no file.

    A line a kill cut short, or one that is not a record, is passed over.
    """
    return iter(JournalReader(path))


def compact_journal(path: Path, lines: Iterable[str]) -> None:
    """Rewrite summary.jsonl with exactly `lines` (one per article, in summary order), for tools and the next run.

    Raises:
        ReportError: it cannot be written.
    """
    write_atomic_chunks(path, (line + "\n" for line in lines))
