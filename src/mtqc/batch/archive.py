"""Batch: check a folder, a tree or a JSONL archive; incremental, resumable, parallel; one failure never stops it."""
from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, Union
from urllib.parse import quote

from ..fs import clean_stale_temps, ensure_writable_dir, temp_path_for, write_atomic, write_atomic_chunks
from ..errors import InputError, ReportError, UsageError
from .executors import INPUT, INTERNAL, INTERRUPTED, WRITE, Executor, InlineExecutor, Job, Outcome, WorkerInfo
from ..reports.html import render_index_chunks
from ..reports.index import SqlitePhraseTally, summary_row_extras_from_json
from ..reports.naming import BATCH_FILES, INDEX_NAME, JOURNAL_NAME, SUMMARY_NAME, report_relpaths
from .sources import FolderSource, JsonlSource, Skipped, Unit, is_mtqc_report, scan_articles

if TYPE_CHECKING:
    from ..pipeline import Checker

__all__ = ["ArchiveBatch", "ArchiveResult", "BatchItem", "BatchProgress", "BatchResult", "INPUT",
           "INTERNAL", "INTERRUPTED", "WRITE", "ProgressLog", "Skipped", "find_articles", "is_mtqc_report",
           "run_batch", "scan_articles"]

Source = Union[FolderSource, JsonlSource]
PROGRESS_LOG_EVERY_S = 30.0  # on a non-terminal, one progress line this often
FAILURES_KEPT = 200  # failures listed at the end of a run; all of them are in summary.json
_TAIL_BYTES = 1024  # the end of a JSON report, where its report_id and content hash are
_REPORT_ID_JSON = re.compile(rb'"report_id": "([0-9a-f]+)"')
_REPORT_ID_HTML = re.compile(rb'<meta name="mtqc-report-id" content="([0-9a-f]+)">')


@dataclass(frozen=True)
class BatchItem:
    """One article's outcome: a score and report paths, or an error."""

    path: Path
    score: float | None = None
    json_path: Path | None = None
    html_path: Path | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None  # input | write | internal | interrupted
    traceback: str | None = None  # of an internal error, under --debug
    report_id: str | None = None  # carried by both reports of the pair
    relative: str | None = None  # the path inside the batch folder (the id, for JSONL)

    def to_dict(self, out_dir: Path | None = None) -> dict[str, object]:
        """The summary.json record; report paths are relative to `out_dir` when given."""
        def where(path: Path | None) -> str | None:
            if path is None:
                return None
            return Path(os.path.relpath(path, out_dir)).as_posix() if out_dir is not None else path.name

        return {
            "path": str(self.path),
            "relative": self.relative,
            "score": None if self.score is None else round(self.score, 2),
            "json": where(self.json_path),
            "html": where(self.html_path),
            "report_id": self.report_id,
            "by_severity": self.by_severity,
            "error": self.error,
            "error_kind": self.error_kind,
            "traceback": self.traceback,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], out_dir: Path) -> "BatchItem":
        """The item a summary record describes (report paths made absolute again)."""
        def where(rel: Any) -> Path | None:
            return out_dir / rel if rel else None

        return cls(Path(record["path"]), record.get("score"), where(record.get("json")), where(record.get("html")),
                   dict(record.get("by_severity") or {}), record.get("error"), record.get("error_kind"),
                   record.get("traceback"), record.get("report_id"), record.get("relative"))


@dataclass(frozen=True)
class BatchProgress:
    """Where a running batch stands: for a progress bar, or a periodic log line."""

    total: int
    done: int  # articles with an outcome (checked now, unchanged, or failed)
    checked_now: int  # checked in this run (the others were unchanged since the last run)
    unchanged: int
    failed: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Articles checked per second in this run (unchanged ones cost nothing and are left out)."""
        return self.checked_now / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        left = self.total - self.done
        if left <= 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        share = f"{100 * self.done / self.total:.0f}%" if self.total else "-"
        eta = "-" if self.eta_s is None else _duration(self.eta_s)
        unchanged = f", {self.unchanged} unchanged" if self.unchanged else ""
        return (f"{self.done}/{self.total} articles ({share}), {self.rate:.1f} articles/s, {self.failed} failed"
                f"{unchanged}, elapsed {_duration(self.elapsed_s)}, ETA {eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class ProgressLog:
    """Calls `write` with a progress line at most every `every_s` seconds (for logs, not terminals)."""

    def __init__(self, write: Callable[[str], None], every_s: float = PROGRESS_LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.every_s, self.clock = write, every_s, clock
        self._last = clock()

    def __call__(self, progress: BatchProgress) -> None:
        now = self.clock()
        if now - self._last >= self.every_s:
            self._last = now
            self.write(f"mtqc: {progress.line()}")


@dataclass(frozen=True)
class ArchiveResult:
    """A finished (or interrupted) batch: counts, the first failures, where the summary is."""

    total: int
    checked: int  # articles with a report (checked now or unchanged)
    failed: int
    internal_failed: int
    checked_now: int
    unchanged: int
    skipped: int  # files passed over (links out of the folder, pipes, mtqc's own reports)
    lowest_score: float | None
    failures: tuple[BatchItem, ...]  # the first FAILURES_KEPT; summary.json has them all
    summary_path: Path
    index_path: Path
    journal_path: Path
    elapsed_s: float
    errors: tuple[str, ...] = ()  # summary.json, summary.jsonl or index.html could not be written


# ------------------------------------------------------------------ the working index


def _identity_fn() -> Callable[[Path], tuple[str, str | None]]:
    """(real path, "dev:inode" or None) of a path, resolving each parent folder once."""
    @functools.lru_cache(maxsize=4096)
    def real_dir(folder: str) -> str:
        return os.path.realpath(folder)

    def identity(path: Path) -> tuple[str, str | None]:
        text = os.fspath(path)
        real = os.path.realpath(text) if os.path.islink(text) else os.path.join(
            real_dir(os.path.dirname(os.path.abspath(text))), os.path.basename(text))
        try:
            st = os.stat(real)
        except OSError:
            return real, None
        return real, f"{st.st_dev}:{st.st_ino}"

    return identity


class _Index:
    """An on-disk working index (SQLite, in $TMPDIR) so that memory stays flat in the number of articles.

    It holds the last run's records (from summary.jsonl) for lookups, the ids seen in a JSONL
    file, the identities of inputs and outputs for the safety check, and this run's records, which
    it gives back sorted for summary.json and index.html.
    """

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir())
        clean_stale_temps(folder)  # a killed batch's index
        self.path = temp_path_for(folder / "mtqc-batch-index.sqlite3")
        self.db = sqlite3.connect(self.path)
        self.db.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
            CREATE TABLE prev (key TEXT PRIMARY KEY, record TEXT);
            CREATE TABLE ids (id TEXT PRIMARY KEY, line INTEGER);
            CREATE TABLE inputs (real TEXT, ino TEXT, path TEXT);
            CREATE TABLE outputs (real TEXT, ino TEXT, path TEXT);
            CREATE TABLE skipped (n INTEGER PRIMARY KEY, path TEXT, reason TEXT);
            CREATE TABLE final (sort TEXT PRIMARY KEY, key TEXT, record TEXT, failed INTEGER, kind TEXT,
                                score REAL);
        """)

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


# ------------------------------------------------------------------ the batch


def _rel(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path, out_dir)).as_posix()


def _pair_id(json_path: Path, html_path: Path) -> str | None:
    """The report_id both reports of a pair carry, or None when they are not one whole pair."""
    try:
        with open(json_path, "rb") as fh:
            fh.seek(max(0, os.fstat(fh.fileno()).st_size - _TAIL_BYTES))
            json_ids = _REPORT_ID_JSON.findall(fh.read())
        with open(html_path, "rb") as fh:
            html_id = _REPORT_ID_HTML.search(fh.read(8192))
    except OSError:
        return None
    if not json_ids or html_id is None or json_ids[-1] != html_id[1]:
        return None
    return json_ids[-1].decode("ascii")


class ArchiveBatch:
    """A batch over a folder (`FolderSource`) or a JSONL file (`JsonlSource`), writing to OUTDIR.

    Use as a context manager: entering plans the batch (counts the articles, names their reports
    and refuses, before any work, reports that would replace an input); `run` checks them.

    Raises (on entering):
        InputError: the folder or file cannot be read.
        UsageError: a report would replace an input or another report.
    """

    def __init__(self, source: Source, out_dir: Path, *, force: bool = False, other_inputs: Sequence[Path] = ()):
        self.source, self.out_dir, self.force = source, out_dir, force
        self.other_inputs = tuple(other_inputs)
        self.total = 0
        self.skipped_count = 0
        self.under = "articles"
        self._prune: tuple[str, ...] = ()
        self._index: _Index | None = None

    # -- paths

    @property
    def summary_path(self) -> Path:
        return self.out_dir / SUMMARY_NAME

    @property
    def index_path(self) -> Path:
        return self.out_dir / INDEX_NAME

    @property
    def journal_path(self) -> Path:
        return self.out_dir / JOURNAL_NAME

    @property
    def reports_dir(self) -> Path:
        return self.out_dir / self.under

    @property
    def input_path(self) -> Path:
        return self.source.directory if isinstance(self.source, FolderSource) else self.source.path

    def report_paths(self, relative: PurePosixPath) -> tuple[Path, Path]:
        json_rel, html_rel = report_relpaths(relative, self.under)
        return self.out_dir / json_rel, self.out_dir / html_rel

    # -- planning

    def __enter__(self) -> "ArchiveBatch":
        self.source.check()
        self._index = _Index()
        try:
            self._plan()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    @property
    def db(self) -> sqlite3.Connection:
        assert self._index is not None, "use ArchiveBatch as a context manager"
        return self._index.db

    def _choose_reports_dir(self) -> None:
        """`articles`, or `articles_`... when the tree has an `articles` folder of its own with articles in it."""
        if not isinstance(self.source, FolderSource):
            return
        real_dir, real_out = os.path.realpath(self.source.directory), os.path.realpath(self.out_dir)
        inside = real_out != real_dir and os.path.commonpath([real_out, real_dir]) == real_dir
        prune = [real_out] if inside else []
        taken = {n.casefold() for n in self.source.top_folders() if self.source.has_articles(n, prune)}
        while self.under.casefold() in taken:
            self.under += "_"
        # the batch's own output inside the tree is never read as articles
        self._prune = tuple(prune + [os.path.realpath(self.reports_dir)])

    def units(self) -> Iterator[Unit | Skipped]:
        """The input, streamed: a unit per article (a JSONL duplicate id made an error), or a skipped file."""
        if isinstance(self.source, JsonlSource):
            for unit in self.source.units():
                if unit.jsonl_id is not None and self._first_line(unit.jsonl_id) != unit.line:
                    first = self._first_line(unit.jsonl_id)
                    unit = Unit(f"line:{unit.line}", unit.sort, f"{self.source.path}:{unit.line}", None,
                                line=unit.line, jsonl_id=unit.jsonl_id,
                                error=f"{self.source.path}:{unit.line}: duplicate id {unit.jsonl_id!r} "
                                      f"(first on line {first}); only the first is checked")
                yield unit
            return
        for found in self.source.walk(self._prune):
            if isinstance(found, Skipped):
                yield found
                continue
            path, rel = found
            yield Unit(str(rel), str(rel), str(path), rel, file=path)

    def _first_line(self, article_id: str) -> int | None:
        row = self.db.execute("SELECT line FROM ids WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def _plan(self) -> None:
        self._choose_reports_dir()
        db, identity = self.db, _identity_fn()
        same_folder = isinstance(self.source, FolderSource) and (
            os.path.realpath(self.out_dir) == os.path.realpath(self.source.directory))
        inputs: list[tuple[str, str | None, str]] = []
        outputs: list[tuple[str, str | None, str]] = []

        def flush() -> None:
            db.executemany("INSERT INTO inputs VALUES (?, ?, ?)", inputs)
            db.executemany("INSERT INTO outputs VALUES (?, ?, ?)", outputs)
            inputs.clear()
            outputs.clear()

        for path in (*self.other_inputs, *([self.source.path] if isinstance(self.source, JsonlSource) else [])):
            inputs.append((*identity(path), str(path)))
        for path in (self.summary_path, self.index_path, self.journal_path):
            outputs.append((*identity(path), str(path)))
        source = self.source.units() if isinstance(self.source, JsonlSource) else None
        for found in (source if source is not None else self.units()):
            if isinstance(found, Skipped):
                db.execute("INSERT INTO skipped (path, reason) VALUES (?, ?)", (str(found.path), found.reason))
                self.skipped_count += 1
                continue
            self.total += 1
            if found.jsonl_id is not None:
                cur = db.execute("INSERT OR IGNORE INTO ids VALUES (?, ?)", (found.jsonl_id, found.line))
                if cur.rowcount == 0:
                    continue  # a duplicate: recorded as such, never given a report
            if found.relative is None:
                continue
            if same_folder and found.relative.parts[0] in BATCH_FILES:
                name = found.relative.parts[0]
                raise UsageError(f"{name} is one of the articles (or their folders) and the batch's own {name} "
                                 "would replace it; write the reports to another folder with --out")
            if found.file is not None:
                inputs.append((*identity(found.file), str(found.file)))
            for report in self.report_paths(found.relative):
                outputs.append((*identity(report), str(report)))
            if len(outputs) >= 4096:
                flush()
        flush()
        self._guard()

    def _guard(self) -> None:
        """Refuse before any work when a report would replace an input (or two reports are one file)."""
        db = self.db
        db.executescript("CREATE INDEX inputs_real ON inputs(real); CREATE INDEX inputs_ino ON inputs(ino);"
                         "CREATE INDEX outputs_real ON outputs(real);")
        clash = db.execute("SELECT o.path, i.path FROM outputs o JOIN inputs i ON i.real = o.real LIMIT 1").fetchone() \
            or db.execute("SELECT o.path, i.path FROM outputs o JOIN inputs i ON i.ino = o.ino "
                          "WHERE o.ino IS NOT NULL LIMIT 1").fetchone()
        if clash:
            raise UsageError(f"the report {clash[0]} would replace {clash[1]}, one of the inputs; mtqc never writes "
                             "over its input: choose another --out")
        twice = db.execute("SELECT real FROM outputs GROUP BY real HAVING COUNT(*) > 1 LIMIT 1").fetchone()
        if twice:
            paths = [r[0] for r in db.execute("SELECT path FROM outputs WHERE real = ? LIMIT 2", twice)]
            raise UsageError(f"two reports would be written to {twice[0]} ({' and '.join(paths)}); "
                             "name different paths")

    def skipped(self) -> Iterator[Skipped]:
        for path, reason in self.db.execute("SELECT path, reason FROM skipped ORDER BY path"):
            yield Skipped(Path(path), reason)

    def prepare(self) -> None:
        """Before the first article: prove OUTDIR is writable and remove temp files a killed run left.

        Raises:
            ReportError: OUTDIR (or its reports folder) cannot be created or written.
        """
        ensure_writable_dir(self.out_dir)
        ensure_writable_dir(self.reports_dir)
        clean_stale_temps(self.out_dir)
        clean_stale_temps(self.reports_dir, recursive=True)

    # -- the last run's records

    def _load_journal(self) -> None:
        """Read summary.jsonl (the last runs' records, latest last); a line cut short by a kill is ignored."""
        try:
            fh = open(self.journal_path, "rb")
        except OSError:
            return
        rows: list[tuple[str, str]] = []
        with fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                key = _record_key(record)
                if key is not None:
                    rows.append((key, raw.decode("utf-8").rstrip("\n")))
                if len(rows) >= 4096:
                    self.db.executemany("INSERT OR REPLACE INTO prev VALUES (?, ?)", rows)
                    rows.clear()
        self.db.executemany("INSERT OR REPLACE INTO prev VALUES (?, ?)", rows)

    def _previous(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT record FROM prev WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def _reusable(self, unit: Unit, content: str | None, signature: str) -> dict[str, Any] | None:
        """The record of an unchanged article checked under the same signature, still whole on disk; else None."""
        if self.force or content is None:
            return None
        record = self._previous(unit.key)
        if record is not None and record.get("content_sha256") == content \
                and record.get("signature_sha256") == signature:
            if record.get("error_kind") == INPUT:
                return record  # it would fail the same way again
            if record.get("error") is None and unit.relative is not None:
                json_path, html_path = self.report_paths(unit.relative)
                if record.get("json") == _rel(json_path, self.out_dir) and \
                        _pair_id(json_path, html_path) == record.get("report_id"):
                    return record
        return self._recover(unit, content, signature)

    def _recover(self, unit: Unit, content: str, signature: str) -> dict[str, Any] | None:
        """A record rebuilt from a whole report pair on disk (written before a kill, its line not yet in summary.jsonl)."""
        if unit.relative is None:
            return None
        json_path, html_path = self.report_paths(unit.relative)
        report_id = _pair_id(json_path, html_path)
        if report_id is None:
            return None
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("content_sha256") != content or data.get("signature_sha256") != signature:
            return None
        return self._record(unit, content, signature, score=data.get("score"), report_id=report_id,
                            by_severity=(data.get("counts") or {}).get("by_severity") or {}, written=True,
                            extras=summary_row_extras_from_json(data))

    # -- records

    def _record(self, unit: Unit, content: str | None, signature: str, *, score: float | None = None,
                by_severity: Mapping[str, int] | None = None, error: str | None = None,
                error_kind: str | None = None, traceback: str | None = None, report_id: str | None = None,
                written: bool = False, extras: Mapping[str, Any] | None = None) -> dict[str, Any]:
        json_rel = html_rel = None
        if written and unit.relative is not None:
            json_path, html_path = self.report_paths(unit.relative)
            json_rel, html_rel = _rel(json_path, self.out_dir), _rel(html_path, self.out_dir)
        item = BatchItem(Path(unit.path), score, None, None, dict(by_severity or {}), error, error_kind, traceback,
                         report_id, unit.jsonl_id if unit.jsonl_id is not None else
                         (str(unit.relative) if unit.relative is not None else None))
        record = item.to_dict()
        record["path"] = unit.path  # as given: a JSONL article's `file#id` is not a file path
        record["json"], record["html"] = json_rel, html_rel
        record.update({"content_sha256": content, "signature_sha256": signature if content else None,
                       "id": unit.jsonl_id, "line": unit.line})
        record.update(extras or {})  # by_type, flagged_phrases, suppressed: for the index page
        return record

    def _job(self, unit: Unit, content: str | None, info: WorkerInfo, executor: Executor, debug: bool) -> Job:
        assert unit.relative is not None
        json_path, html_path = self.report_paths(unit.relative)
        return Job(unit.key, unit.path, str(json_path), str(html_path), content, info.signature_sha256,
                   file=str(unit.file) if unit.file is not None else None, text=unit.text, metadata=unit.metadata,
                   write=executor.workers_write, debug=debug)

    # -- running

    def run(self, executor: Executor, *, info: WorkerInfo | None = None, debug: bool = False,
            on_progress: Callable[[BatchProgress], None] | None = None) -> ArchiveResult:
        """Check every article not already done; then write summary.jsonl, summary.json and index.html.

        Each outcome is appended to summary.jsonl as it comes, so a batch killed at any point and run
        again checks only what is left. After Ctrl-C the articles not reached are recorded as
        interrupted, the summary is written, and the interrupt goes on.
        """
        info = info or executor.start()
        signature = info.signature_sha256
        start = time.monotonic()
        counts = {"done": 0, "now": 0, "unchanged": 0, "failed": 0}
        self._load_journal()
        journal = _Journal(self.journal_path)
        waiting: dict[str, tuple[Unit, str | None]] = {}

        def progress() -> None:
            if on_progress is not None:
                on_progress(BatchProgress(self.total, counts["done"], counts["now"], counts["unchanged"],
                                          counts["failed"], time.monotonic() - start))

        def keep(unit: Unit, record: dict[str, Any], *, new: bool) -> None:
            failed = record.get("error") is not None
            self.db.execute("INSERT OR REPLACE INTO final VALUES (?, ?, ?, ?, ?, ?)",
                            (unit.sort, unit.key, json.dumps(record, ensure_ascii=False), int(failed),
                             record.get("error_kind"), record.get("score")))
            if new:
                journal.append(record)
            counts["done"] += 1
            counts["failed"] += failed
            progress()

        def jobs() -> Iterator[Job]:
            for unit in self.units():
                if isinstance(unit, Skipped):
                    continue
                if unit.error is not None:
                    keep(unit, self._record(unit, None, signature, error=unit.error, error_kind=INPUT), new=True)
                    continue
                content = unit.content_sha256()
                reused = self._reusable(unit, content, signature)
                if reused is not None:
                    reused.update(path=unit.path, line=unit.line)  # the same article, perhaps moved in the file
                    counts["unchanged"] += 1
                    keep(unit, reused, new=False)
                    continue
                waiting[unit.key] = (unit, content)
                yield self._job(unit, content, info, executor, debug)

        try:
            for outcome in executor.map(jobs()):
                unit, content = waiting.pop(outcome.key)
                counts["now"] += 1
                keep(unit, self._from_outcome(unit, content, signature, outcome), new=True)
        except KeyboardInterrupt:
            executor.cancel()
            self._interrupted(signature)
            self._finish(journal, info, executor, time.monotonic() - start, counts)
            raise
        return self._finish(journal, info, executor, time.monotonic() - start, counts)

    def _from_outcome(self, unit: Unit, content: str | None, signature: str, outcome: Outcome) -> dict[str, Any]:
        return self._record(unit, content, signature, score=outcome.score, by_severity=outcome.by_severity,
                            error=outcome.error, error_kind=outcome.error_kind, traceback=outcome.traceback,
                            report_id=outcome.report_id, written=outcome.written, extras=outcome.extras)

    def _interrupted(self, signature: str) -> None:
        """Record every article without an outcome as not checked (a rerun checks it)."""
        for unit in self.units():
            if isinstance(unit, Skipped):
                continue
            record = self._record(unit, None, signature, error=f"{unit.path}: not checked: the batch was interrupted",
                                  error_kind=INTERRUPTED)
            self.db.execute("INSERT OR IGNORE INTO final VALUES (?, ?, ?, 1, ?, NULL)",
                            (unit.sort, unit.key, json.dumps(record, ensure_ascii=False), INTERRUPTED))

    # -- the batch files

    def _records(self) -> Iterator[dict[str, Any]]:
        for (record,) in self.db.execute("SELECT record FROM final ORDER BY sort"):
            yield json.loads(record)

    def _finish(self, journal: "_Journal", info: WorkerInfo, executor: Executor, elapsed: float,
                counts: Mapping[str, int]) -> ArchiveResult:
        errors = list(journal.close())
        db = self.db
        checked, failed = db.execute("SELECT COUNT(*) - COALESCE(SUM(failed), 0), COALESCE(SUM(failed), 0) "
                                     "FROM final").fetchone()
        internal = db.execute("SELECT COUNT(*) FROM final WHERE kind = ?", (INTERNAL,)).fetchone()[0]
        lowest = db.execute("SELECT MIN(score) FROM final WHERE failed = 0").fetchone()[0]
        run = {"executor": executor.name, "workers": executor.workers, "checked_now": counts["now"],
               "unchanged": counts["unchanged"], "elapsed_s": round(elapsed, 3),
               "articles_per_s": round(counts["now"] / elapsed, 2) if elapsed > 0 else None}
        try:  # compacted: one line per article, in order, for tools and for the next run
            write_atomic_chunks(self.journal_path, (json.dumps(r, ensure_ascii=False) + "\n" for r in self._records()))
        except Exception as exc:
            errors.append(f"{self.journal_path} not written: {exc}")
        head = {
            "signature": info.signature,
            "engine": info.engine,
            "skipped": list(info.notes),
            "checked": checked,
            "failed": failed,
            "input": str(self.input_path),
            "total": self.total,
            "run": run,
        }
        skipped = (s.to_dict() for s in self.skipped())
        articles = self._records()
        try:
            write_atomic_chunks(self.summary_path, _summary_chunks(head, skipped, articles))
        except Exception as exc:  # recorded: the per-article outcomes are still printed
            errors.append(f"{self.summary_path} not written: {exc}")
        try:
            notices = list(info.notes) + [f"Skipped {s}" for s in self.skipped()]
            rows = _Rows(self)
            write_atomic_chunks(self.index_path, render_index_chunks(rows, str(self.input_path), info.signature, notices,
                                                                     worst_first=rows.worst_first,
                                                                     tally=SqlitePhraseTally(db)))
        except Exception as exc:
            errors.append(f"{self.index_path} not written: {exc}")
        failures = tuple(BatchItem.from_record(json.loads(r), self.out_dir) for (r,) in db.execute(
            "SELECT record FROM final WHERE failed = 1 ORDER BY sort LIMIT ?", (FAILURES_KEPT,)))
        return ArchiveResult(self.total, checked, failed, internal, counts["now"], counts["unchanged"],
                             self.skipped_count, lowest, failures, self.summary_path, self.index_path,
                             self.journal_path, elapsed, tuple(errors))


def _record_key(record: Mapping[str, Any]) -> str | None:
    """The unit key a summary record belongs to; None for records never reused (bad lines, duplicates)."""
    if not record.get("content_sha256"):
        return None
    if record.get("id") is not None:
        return f"id:{record['id']}"
    return record.get("relative")


class _Journal:
    """summary.jsonl opened for appending: a line per outcome, flushed, so a kill loses at most the line being written.

    Opened on the first line, so that a run killed before any outcome leaves no empty file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self.fh: Any = None

    def _open(self, first_line: bytes) -> bool:
        """Open for appending; a new file gets its first line by rename, so no kill leaves it empty.

        Returns whether `first_line` is already written.
        """
        if not self.path.exists():
            write_atomic(self.path, first_line.decode("utf-8"))
            self.fh = open(self.path, "ab")
            return True
        self.fh = open(self.path, "a+b")
        self.fh.seek(0, os.SEEK_END)
        if self.fh.tell() > 0:
            self.fh.seek(-1, os.SEEK_END)
            if self.fh.read(1) != b"\n":
                self.fh.write(b"\n")  # a line a kill cut short stays alone on its line
        return False

    def append(self, record: Mapping[str, Any]) -> None:
        if self.error is not None:
            return
        try:
            line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
            if self.fh is None and self._open(line):
                return
            self.fh.write(line)
            self.fh.flush()
        except ReportError as exc:
            self.error = str(exc)
            self.close()
        except OSError as exc:  # a full disk: the batch goes on; a rerun rechecks what was not recorded
            self.error = f"{self.path} not written: {exc.strerror or exc}"
            self.close()

    def close(self) -> list[str]:
        if self.fh is not None:
            try:
                self.fh.close()
            except OSError as exc:
                self.error = self.error or f"{self.path} not written: {exc.strerror or exc}"
            self.fh = None
        return [self.error] if self.error else []


def _json_list(items: Iterator[Any]) -> Iterator[str]:
    """A list as `json.dumps(..., indent=2)` writes it one level down, an element at a time."""
    first = True
    for item in items:
        # only json's own line breaks are indented ("\n" in strings is escaped; U+2028 and the like are not
        # line breaks to json, though `textwrap.indent` would take them for some)
        text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        yield ("[\n    " if first else ",\n    ") + text
        first = False
    yield "[]" if first else "\n  ]"


def _summary_chunks(head: Mapping[str, Any], skipped: Iterator[Any], articles: Iterator[Any]) -> Iterator[str]:
    """summary.json, byte for byte as `json.dumps(summary, indent=2)`, streamed: never whole in memory."""
    text = json.dumps(dict(head), ensure_ascii=False, indent=2)
    yield text[:-2]  # without the closing "\n}"
    yield ',\n  "skipped_files": '
    yield from _json_list(skipped)
    yield ',\n  "articles": '
    yield from _json_list(articles)
    yield "\n}\n"


class _Rows(Sequence[dict[str, Any]]):
    """The index page's rows, read from the working index as they are needed, not held in memory."""

    def __init__(self, batch: ArchiveBatch) -> None:
        self.batch = batch
        self._len = batch.db.execute("SELECT COUNT(*) FROM final").fetchone()[0]

    def __len__(self) -> int:
        return self._len

    @staticmethod
    def _row(record: dict[str, Any]) -> dict[str, Any]:
        row = {"name": record.get("relative") or record["path"], **record}
        row["html"] = quote(str(row["html"])) if row["html"] else None  # a link, relative to index.html
        return row

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self.batch._records():
            yield self._row(record)

    def worst_first(self) -> Iterator[dict[str, Any]]:
        """The rows as the index lists them, sorted on disk: failed (no score) first, then by score."""
        query = ("SELECT record FROM final ORDER BY json_extract(record, '$.score') IS NOT NULL, "
                 "json_extract(record, '$.score'), "
                 "COALESCE(json_extract(record, '$.relative'), json_extract(record, '$.path'))")
        for (record,) in self.batch.db.execute(query):
            yield self._row(json.loads(record))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        (record,) = self.batch.db.execute("SELECT record FROM final ORDER BY sort LIMIT 1 OFFSET ?",
                                          (index,)).fetchone()
        return self._row(json.loads(record))


# ------------------------------------------------------------------ one folder, in this process (tests, benchmarks)


@dataclass(frozen=True)
class BatchResult:
    items: tuple[BatchItem, ...]
    summary_path: Path
    index_path: Path
    skipped: tuple[Skipped, ...] = ()
    errors: tuple[str, ...] = ()  # summary.json or index.html could not be written

    @property
    def failures(self) -> list[BatchItem]:
        return [i for i in self.items if i.error]

    @property
    def internal_failures(self) -> list[BatchItem]:
        return [i for i in self.items if i.error_kind == INTERNAL]


def find_articles(directory: Path) -> list[Path]:
    """The articles `scan_articles` finds in `directory`."""
    return scan_articles(directory)[0]


def run_batch(checker: "Checker", directory: Path, out_dir: Path, *, recursive: bool = False, force: bool = False,
              debug: bool = False, on_progress: Callable[[BatchProgress], None] | None = None) -> BatchResult:
    """Check a folder in this process with `checker`, and return every item (for small batches and benchmarks).

    Raises:
        InputError, UsageError, ReportError: before any article is checked (see `ArchiveBatch`).
    """
    with ArchiveBatch(FolderSource(directory, recursive), out_dir, force=force) as batch:
        if batch.total == 0:
            raise InputError(f"{directory}: no *.txt, *.md or *.html articles found")
        batch.prepare()
        result = batch.run(InlineExecutor(checker), debug=debug, on_progress=on_progress)
        items = tuple(BatchItem.from_record(r, out_dir) for r in batch._records())
        skipped = tuple(batch.skipped())
    return BatchResult(items, result.summary_path, result.index_path, skipped, result.errors)
