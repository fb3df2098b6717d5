"""The batch driver: plan, check each article once (or reuse it), keep every record; one failure never stops it."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..errors import InputError, UsageError
from ..fs import clean_stale_temps, ensure_writable_dir
from .executors import Executor, Job, WorkerInfo
from .journal import Journal, compact_journal
from .plan import BatchPlan, Resume, Source
from .progress import BatchProgress, RunCounts
from .records import INPUT, INTERRUPTED, ArticleRecord
from .sources import FolderSource, Skipped, Unit
from .summary import summary_head, write_index, write_summary
from .workdb import WorkDB

__all__ = ["ArchiveBatch", "ArchiveResult"]

FAILURES_KEPT = 200  # failures listed at the end of a run; all of them are in summary.json
OnProgress = Callable[[BatchProgress], None]


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
    failures: tuple[ArticleRecord, ...]  # the first FAILURES_KEPT; summary.json has them all
    summary_path: Path
    index_path: Path
    journal_path: Path
    elapsed_s: float
    errors: tuple[str, ...] = ()  # summary.json, summary.jsonl or index.html could not be written
    warnings: tuple[str, ...] = ()  # e.g. summary.jsonl lines passed over (their articles were checked again)


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
        self._work: WorkDB | None = None
        self._plan: BatchPlan | None = None
        self._lock_fd: int | None = None  # OUTDIR, opened and flock-ed for the run (see `_lock`)

    # -- paths and counts

    @property
    def plan(self) -> BatchPlan:
        assert self._plan is not None, "use ArchiveBatch as a context manager"
        return self._plan

    @property
    def summary_path(self) -> Path:
        return self.plan.batch_files[0]

    @property
    def index_path(self) -> Path:
        return self.plan.batch_files[1]

    @property
    def journal_path(self) -> Path:
        return self.plan.batch_files[2]

    @property
    def input_path(self) -> Path:
        return self.source.directory if isinstance(self.source, FolderSource) else self.source.path

    @property
    def total(self) -> int:
        return self.plan.total

    @property
    def skipped_count(self) -> int:
        return self.plan.skipped_count

    def report_paths(self, relative: PurePosixPath) -> tuple[Path, Path]:
        return self.plan.report_paths(relative)

    def skipped(self) -> Iterator[Skipped]:
        return self.plan.work.skipped()

    # -- planning

    def __enter__(self) -> ArchiveBatch:
        self.source.check()
        self._work = WorkDB()
        try:
            self._plan = BatchPlan(self.source, self.out_dir, self._work, self.other_inputs)
            self._plan.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None
        if self._work is not None:
            self._work.close()
            self._work = None

    def require_articles(self) -> None:
        """Raises InputError when the input holds no article (after the skipped files are said)."""
        if self.total:
            return
        what = "no *.txt, *.md or *.html articles found" if isinstance(self.source, FolderSource) else "no JSON lines"
        skipped = f" ({self.skipped_count} skipped, see above)" if self.skipped_count else ""
        raise InputError(f"{self.input_path}: {what}{skipped}")

    def prepare(self) -> None:
        """Before the first article: prove OUTDIR is writable, take it for this run, remove temp files a killed run left.

        Raises:
            ReportError: OUTDIR (or its reports folder) cannot be created or written.
            UsageError: another batch is writing into OUTDIR.
        """
        ensure_writable_dir(self.out_dir)
        self._lock()
        ensure_writable_dir(self.plan.reports_dir)
        clean_stale_temps(self.out_dir)
        clean_stale_temps(self.plan.reports_dir, recursive=True)

    def _lock(self) -> None:
        """Hold an exclusive lock on OUTDIR until `close`: one batch at a time writes into a folder.

        Two batches into one folder would each rewrite summary.jsonl and summary.json from its own
        records, while the report pairs on disk are whichever run wrote last; refusing the second
        keeps the summary and the pairs one. The lock is `flock` on the folder itself (no lock file
        to leave behind), released by the kernel whenever the driver ends, even by `kill -9`. Where
        there is no `fcntl` (Windows) batches are not locked.
        """
        if self._lock_fd is not None:
            return
        try:
            import fcntl
        except ImportError:
            return
        try:
            fd = os.open(self.out_dir, os.O_RDONLY)
        except OSError:
            return  # not created yet (`prepare` creates it and locks it)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"another mtqc batch is writing into {self.out_dir}; wait for it to end, "
                             "or give this one another --out") from None
        except OSError:
            os.close(fd)  # a file system without locks (some network mounts): go on unlocked
            return
        self._lock_fd = fd

    # -- running

    def run(self, executor: Executor, *, info: WorkerInfo | None = None, debug: bool = False,
            on_progress: OnProgress | None = None) -> ArchiveResult:
        """Check every article not already done; then write summary.jsonl, summary.json and index.html.

        Each record is appended to summary.jsonl as it comes, so a batch killed at any point and run
        again checks only what is left. After Ctrl-C the articles not reached are recorded as
        interrupted, the summary is written, and the interrupt goes on.
        """
        self._lock()
        info = info or executor.start()
        resume = Resume(self.plan, force=self.force)
        run = _Run(self.plan, resume, executor, info, Journal(self.journal_path), debug, on_progress)
        warning = resume.load(self.journal_path)
        if warning is not None:
            run.warnings.append(warning)
        try:
            run.check_all()
        except KeyboardInterrupt:
            executor.cancel()
            run.record_interrupted()
            self._finish(run)
            raise
        return self._finish(run)

    def _files_current(self, head: Mapping[str, Any]) -> bool:
        """Whether summary.jsonl, summary.json and index.html already say what this run would write
        but for summary.json's `run` block (this run's own counts and time): a rerun that checked
        nothing need not rewrite them (for a large archive, most of a no-op rerun's time)."""
        work = self.plan.work
        try:
            if not self.index_path.is_file():
                return False
            if self.journal_path.read_text(encoding="utf-8").splitlines() != list(work.lines()):
                return False
            old = json.loads(self.summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(old, dict):
            return False
        expected = {k: v for k, v in head.items() if k != "run"}
        expected["skipped_files"] = [s.to_dict() for s in work.skipped()]
        expected["articles"] = [r.to_json() for r in work.records()]
        old.pop("run", None)
        return old == json.loads(json.dumps(expected, ensure_ascii=False))

    def _finish(self, run: _Run) -> ArchiveResult:
        """Write the batch files from the working index; a file that cannot be written is an error in the result."""
        elapsed = run.counts.elapsed_s
        errors = run.journal.close()
        work, info = self.plan.work, run.info
        totals = work.totals()
        head = summary_head(info, run.executor, self.input_path, self.total, totals, run.counts, elapsed)
        notices = [*info.notes, *(f"Skipped {s}" for s in self.skipped())]
        if run.counts.now == 0 and not run.warnings and not errors and self._files_current(head):
            writes: list[tuple[Path, Callable[[], None]]] = []  # a rerun that changed nothing leaves them be
        else:
            writes = [
                (self.journal_path, lambda: compact_journal(self.journal_path, work.lines())),
                (self.summary_path, lambda: write_summary(self.summary_path, head, work.skipped(), work.records())),
                (self.index_path, lambda: write_index(self.index_path, work, str(self.input_path), info.signature,
                                                      notices)),
            ]
        for path, write in writes:
            try:
                write()
            except Exception as exc:  # recorded: the per-article outcomes are still printed
                errors.append(f"{path} not written: {exc}")
        return ArchiveResult(self.total, totals.checked, totals.failed, totals.internal_failed, run.counts.now,
                             run.counts.unchanged, self.skipped_count, totals.lowest_score,
                             work.failures(FAILURES_KEPT), self.summary_path, self.index_path, self.journal_path,
                             elapsed, tuple(errors), tuple(run.warnings))


class _Run:
    """One run of a batch: sends the articles to the executor and keeps each record as it comes."""

    def __init__(self, plan: BatchPlan, resume: Resume, executor: Executor, info: WorkerInfo, journal: Journal,
                 debug: bool, on_progress: OnProgress | None) -> None:
        self.plan, self.resume, self.executor, self.info, self.journal = plan, resume, executor, info, journal
        self.debug, self.on_progress = debug, on_progress
        self.signature = info.signature_sha256
        self.counts = RunCounts()
        self.warnings: list[str] = []
        self.waiting: dict[str, Unit] = {}  # sent to the executor, no record yet (at most its in-flight bound)

    def check_all(self) -> None:
        for job, record in self.executor.map(self._jobs()):
            self.counts.now += 1
            self._keep(self.waiting.pop(job.key), record, new=True)

    def _jobs(self) -> Iterator[Job]:
        for unit in self.plan.units():
            job = self._job(unit)
            if job is not None:
                yield job

    def _job(self, unit: Unit) -> Job | None:
        """The job for `unit`, or None when its record is known without checking it (an input error, unchanged)."""
        if unit.error is not None:
            self._keep(unit, ArticleRecord.of(unit, None, self.signature).failed_as(unit.error, INPUT), new=True)
            return None
        content = unit.content_sha256()
        reused = self.resume.reusable(unit, content, self.signature)
        if reused is not None:
            self.counts.unchanged += 1
            # the same article, perhaps moved in the file: its record says where it is now
            self._keep(unit, replace(reused, path=unit.path, line=unit.line), new=False)
            return None
        assert unit.relative is not None  # only units with an error have none
        self.waiting[unit.key] = unit
        json_rel, html_rel = self.plan.report_relpaths(unit.relative)
        return Job(unit.key, ArticleRecord.of(unit, content, self.signature), str(self.plan.out_dir), json_rel,
                   html_rel, file=str(unit.file) if unit.file is not None else None, text=unit.text,
                   metadata=unit.metadata, debug=self.debug)

    def _keep(self, unit: Unit, record: ArticleRecord, *, new: bool) -> None:
        self.plan.work.keep(unit.sort, record)
        if new:
            self.journal.append(record)
        self.counts.done += 1
        self.counts.failed += record.failed
        if self.on_progress is not None:
            self.on_progress(self.counts.progress(self.plan.total))

    def record_interrupted(self) -> None:
        """Record every article without a record as not checked (a rerun checks it)."""
        for unit in self.plan.units():
            record = ArticleRecord.of(unit, None, self.signature).failed_as(
                f"{unit.path}: not checked: the batch was interrupted", INTERRUPTED)
            self.plan.work.keep(unit.sort, record, replace=False)
