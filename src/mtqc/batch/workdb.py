"""The batch's working index: SQLite in $TMPDIR, so that the driver's memory stays flat in the number of articles."""
from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..fs import clean_stale_temps, temp_path_for
from .records import INTERNAL, ArticleRecord
from .sources import Skipped

# Scratch data: never synced, never journalled (a killed batch's file is removed by the next run).
SCHEMA = """
    PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
    -- the last runs' records (summary.jsonl), latest per article, by `Unit.key`
    CREATE TABLE prev (key TEXT PRIMARY KEY, record TEXT);
    -- a JSONL file's ids, each with the line it is first on (a later line with it is a duplicate)
    CREATE TABLE ids (id TEXT PRIMARY KEY, line INTEGER);
    -- each (first-line) JSONL id's report name as a case-insensitive file system sees it
    CREATE TABLE names (id TEXT PRIMARY KEY, folded TEXT);
    CREATE INDEX names_folded ON names(folded);
    -- what the batch reads and what it writes, as (real path, "dev:inode", path as named): for the guard
    CREATE TABLE inputs (real TEXT, ino TEXT, path TEXT);
    CREATE TABLE outputs (real TEXT, ino TEXT, path TEXT);
    CREATE TABLE skipped (n INTEGER PRIMARY KEY, path TEXT, reason TEXT);
    -- this run's records, one per article, by where it comes in summary.json
    CREATE TABLE final (sort TEXT PRIMARY KEY, record TEXT, failed INTEGER, kind TEXT, score REAL);
"""
_INDEX_PATHS = ("CREATE INDEX inputs_real ON inputs(real); CREATE INDEX inputs_ino ON inputs(ino);"
                "CREATE INDEX outputs_real ON outputs(real);")
# the index page's order (as `mtqc.reports.index._sort_key`): failed (no score) first, then the most
# likely-wrong sentences, the lowest score, then by name; a count
# missing (an older record) or not a number counts as 0
_NUMBER = ("(CASE WHEN json_extract(record, '$.score') IS NOT NULL AND json_type(record, '$.{0}') IN ('integer', 'real') "
           "THEN json_extract(record, '$.{0}') ELSE 0 END)")
_WORST_FIRST = ("SELECT record FROM final ORDER BY json_extract(record, '$.score') IS NOT NULL, "
                f"{_NUMBER.format('to_fix')} DESC, "
                "json_extract(record, '$.score'), "
                "COALESCE(json_extract(record, '$.relative'), json_extract(record, '$.path'))")

PathRow = tuple[str, str | None, str]  # (real path, "dev:inode" or None, path as named)


@dataclass(frozen=True)
class Totals:
    """This run's records, counted."""

    checked: int  # with a report (checked now or unchanged)
    failed: int
    internal_failed: int
    lowest_score: float | None


class WorkDB:
    """An on-disk working index, deleted on `close`.

    It holds the last run's records (for lookups), the ids seen in a JSONL file, the identities of
    inputs and outputs (for the guard), the skipped files, and this run's records, which it gives
    back sorted for summary.jsonl, summary.json and index.html.
    """

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir())
        clean_stale_temps(folder)  # a killed batch's index
        self.path = temp_path_for(folder / "mtqc-batch-index.sqlite3")
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)

    # -- planning

    def add_skipped(self, skipped: Skipped) -> None:
        self.db.execute("INSERT INTO skipped (path, reason) VALUES (?, ?)", (str(skipped.path), skipped.reason))

    def skipped(self) -> Iterator[Skipped]:
        for path, reason in self.db.execute("SELECT path, reason FROM skipped ORDER BY path"):
            yield Skipped(Path(path), reason)

    def claim_id(self, article_id: str, line: int | None) -> bool:
        """Note a JSONL id on `line`; False when an earlier line has it."""
        return self.db.execute("INSERT OR IGNORE INTO ids VALUES (?, ?)", (article_id, line)).rowcount > 0

    def first_line(self, article_id: str) -> int | None:
        row = self.db.execute("SELECT line FROM ids WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def add_name(self, article_id: str, folded: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO names VALUES (?, ?)", (article_id, folded))

    def folded_clash(self, folded: str) -> bool:
        """True when two ids' report names fold to `folded` (they would be one file where case is ignored)."""
        return len(self.db.execute("SELECT 1 FROM names WHERE folded = ? LIMIT 2", (folded,)).fetchall()) > 1

    def named_ids(self) -> Iterator[str]:
        """The JSONL ids that get reports, in no particular order."""
        for (article_id,) in self.db.execute("SELECT id FROM names"):  # streamed: memory stays flat
            yield article_id

    def add_paths(self, inputs: Iterable[PathRow], outputs: Iterable[PathRow]) -> None:
        self.db.executemany("INSERT INTO inputs VALUES (?, ?, ?)", inputs)
        self.db.executemany("INSERT INTO outputs VALUES (?, ?, ?)", outputs)

    def clash(self) -> tuple[str, str] | None:
        """(output, input) of an output that is an input (by real path, or by inode), if any."""
        self.db.executescript(_INDEX_PATHS)
        row = self.db.execute("SELECT o.path, i.path FROM outputs o JOIN inputs i ON i.real = o.real LIMIT 1"
                              ).fetchone() or self.db.execute(
            "SELECT o.path, i.path FROM outputs o JOIN inputs i ON i.ino = o.ino WHERE o.ino IS NOT NULL LIMIT 1"
        ).fetchone()
        return (row[0], row[1]) if row else None

    def shared_output(self) -> tuple[str, list[str]] | None:
        """A real path two outputs would both write, with two of their names; None when there is none."""
        twice = self.db.execute("SELECT real FROM outputs GROUP BY real HAVING COUNT(*) > 1 LIMIT 1").fetchone()
        if twice is None:
            return None
        return twice[0], [r[0] for r in self.db.execute("SELECT path FROM outputs WHERE real = ? LIMIT 2", twice)]

    # -- the last run's records

    def remember(self, rows: Iterable[tuple[str, str]]) -> None:
        """Keep (key, summary.jsonl line) pairs; of lines with one key, the last wins."""
        self.db.executemany("INSERT OR REPLACE INTO prev VALUES (?, ?)", rows)

    def previous(self, key: str) -> ArticleRecord | None:
        row = self.db.execute("SELECT record FROM prev WHERE key = ?", (key,)).fetchone()
        return ArticleRecord.loads(row[0]) if row else None

    # -- this run's records

    def keep(self, sort: str, record: ArticleRecord, *, replace: bool = True) -> None:
        """Store an article's record; with `replace=False`, only if the article has none yet."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        self.db.execute(f"{verb} INTO final VALUES (?, ?, ?, ?, ?)",
                        (sort, record.dumps(), int(record.failed), record.error_kind, record.score))

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM final").fetchone()[0])

    def lines(self) -> Iterator[str]:
        """The records as stored (summary.jsonl lines), in summary order."""
        for (line,) in self.db.execute("SELECT record FROM final ORDER BY sort"):
            yield line

    def records(self) -> Iterator[ArticleRecord]:
        for line in self.lines():
            yield ArticleRecord.loads(line)

    def record_at(self, index: int) -> ArticleRecord:
        (line,) = self.db.execute("SELECT record FROM final ORDER BY sort LIMIT 1 OFFSET ?", (index,)).fetchone()
        return ArticleRecord.loads(line)

    def worst_first(self) -> Iterator[ArticleRecord]:
        """The records as the index page lists them, sorted on disk."""
        for (line,) in self.db.execute(_WORST_FIRST):
            yield ArticleRecord.loads(line)

    def failures(self, limit: int) -> tuple[ArticleRecord, ...]:
        rows = self.db.execute("SELECT record FROM final WHERE failed = 1 ORDER BY sort LIMIT ?", (limit,))
        return tuple(ArticleRecord.loads(line) for (line,) in rows)

    def totals(self) -> Totals:
        db = self.db
        checked, failed = db.execute("SELECT COUNT(*) - COALESCE(SUM(failed), 0), COALESCE(SUM(failed), 0) "
                                     "FROM final").fetchone()
        internal = db.execute("SELECT COUNT(*) FROM final WHERE kind = ?", (INTERNAL,)).fetchone()[0]
        lowest = db.execute("SELECT MIN(score) FROM final WHERE failed = 0").fetchone()[0]
        return Totals(checked, failed, internal, lowest)
