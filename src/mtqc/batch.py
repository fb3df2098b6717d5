"""Batch: check every article in a folder; one bad file, or one bug, is recorded and the batch goes on."""
from __future__ import annotations

import json
import os
import stat
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote

from .atomic import clean_stale_temps, ensure_writable_dir, write_atomic
from .errors import InputError, MtqcError
from .ingest import SUPPORTED_SUFFIXES
from .pipeline import Checker
from .reports import render_index, write_reports
from .reports.index import summary_row_extras
from .reports.naming import INDEX_NAME, SUMMARY_NAME, articles_dir_for, guard_outputs, plan_batch_relpaths

# error_kind of a failed article: it could not be checked, its reports could not be written,
# mtqc itself failed (a bug), or the batch was interrupted before reaching it
INPUT, WRITE, INTERNAL, INTERRUPTED = "input", "write", "internal", "interrupted"


@dataclass(frozen=True)
class Skipped:
    """A file in the folder that was not checked, and why."""

    path: Path
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class BatchItem:
    """One file's outcome: a score and report paths, or an error."""

    path: Path
    score: float | None = None
    json_path: Path | None = None
    html_path: Path | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None  # input | write | internal | interrupted
    traceback: str | None = None  # of an internal error, under --debug
    report_id: str | None = None  # carried by both reports of the pair
    relative: str | None = None  # the path inside the batch folder
    # for the index page (`summary_row_extras`): flag counts by type, flagged phrases, suppressed
    extras: Mapping[str, Any] = field(default_factory=dict)

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
            **self.extras,
        }


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will read and write, decided (and checked for safety) before any work."""

    directory: Path
    out_dir: Path
    articles: tuple[Path, ...]
    relative: Mapping[Path, str]
    reports: Mapping[Path, tuple[Path, Path]]  # article -> (JSON, HTML) report paths
    reports_dir: Path  # where article reports go: OUTDIR/articles
    skipped: tuple[Skipped, ...] = ()

    @property
    def summary_path(self) -> Path:
        return self.out_dir / SUMMARY_NAME

    @property
    def index_path(self) -> Path:
        return self.out_dir / INDEX_NAME


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


_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFIFO: "a named pipe",
          stat.S_IFSOCK: "a socket"}
_REPORT_MARKERS = (b'<meta name="generator" content="mtqc"',)
# reports of versions before the generator tag: their title, under the CSP that allows no script
_LEGACY_TITLES = (b"<title>mtqc: ", b"<title>mtqc batch: ")
_LEGACY_CSP = b"default-src 'none'; style-src 'unsafe-inline'"


def is_mtqc_report(path: Path) -> bool:
    """True when `path` is an HTML report mtqc wrote (so that a batch never checks its own output)."""
    if not path.name.lower().endswith((".html", ".htm")):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False  # the checker reports why it cannot be read
    return any(m in head for m in _REPORT_MARKERS) or (
        _LEGACY_CSP in head and any(t in head for t in _LEGACY_TITLES))


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def scan_articles(directory: Path) -> tuple[list[Path], list[Skipped]]:
    """The articles in `directory` (not its subfolders), and the files passed over with the reason.

    A symbolic link is followed only when it stays inside the folder; devices, pipes and mtqc's
    own HTML reports are passed over. Files of other types (.pdf, .json) are ignored silently.

    Raises:
        InputError: `directory` is not a directory.
    """
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    root = os.path.realpath(directory)
    articles: list[Path] = []
    skipped: list[Skipped] = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if not entry.name.lower().endswith(SUPPORTED_SUFFIXES):
            continue
        path = directory / entry.name
        if entry.is_symlink():
            target = os.path.realpath(path)
            if not os.path.exists(target):
                skipped.append(Skipped(path, "a broken symbolic link"))
                continue
            if not _inside(target, root):
                skipped.append(Skipped(path, f"a symbolic link to {target}, outside {directory}; "
                                             "mtqc does not follow links out of the folder"))
                continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            skipped.append(Skipped(path, f"cannot be read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(mode):
            continue  # a folder named like an article: subfolders are not scanned
        if not stat.S_ISREG(mode):
            skipped.append(Skipped(path, f"{_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a regular file"))
            continue
        if is_mtqc_report(path):
            skipped.append(Skipped(path, "an mtqc report (written by an earlier run), not an article"))
            continue
        articles.append(path)
    return articles, skipped


def find_articles(directory: Path) -> list[Path]:
    """The articles `scan_articles` finds in `directory`."""
    return scan_articles(directory)[0]


def _relative(path: Path, directory: Path) -> PurePosixPath:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(directory))
    return PurePosixPath(Path(rel).as_posix()) if not rel.startswith("..") else PurePosixPath(path.name)


def plan_batch(
    directory: Path,
    out_dir: Path,
    files: Sequence[Path] | None = None,
    skipped: Sequence[Skipped] = (),
) -> BatchPlan:
    """Decide every report path from the articles' paths inside `directory`, and check it is safe.

    Reports go to `OUTDIR/articles/<path inside DIR>` (`x.txt` -> `x.json`, `x.md` -> `x.md.json`),
    `summary.json` and `index.html` to OUTDIR itself.

    Raises:
        InputError: `directory` is not a directory.
        UsageError: a report would replace one of the articles (OUTDIR overlaps DIR that way).
    """
    if files is None:
        found, found_skipped = scan_articles(directory)
        files, skipped = found, [*skipped, *found_skipped]
    relative: dict[Path, str] = {}
    by_rel: dict[PurePosixPath, Path] = {}
    for path in files:
        rel = _relative(path, directory)
        if rel in by_rel:
            continue  # the same article listed twice is checked once
        by_rel[rel] = path
        relative[path] = str(rel)
    same_folder = os.path.realpath(out_dir) == os.path.realpath(directory)
    rel_plan = plan_batch_relpaths(list(by_rel), same_folder=same_folder)
    reports = {path: (out_dir / rel_plan[rel][0], out_dir / rel_plan[rel][1]) for rel, path in by_rel.items()}
    reports_dir = out_dir / articles_dir_for(list(by_rel))
    plan = BatchPlan(directory, out_dir, tuple(by_rel.values()), relative, reports, reports_dir, tuple(skipped))
    guard_outputs([*(p for pair in reports.values() for p in pair), plan.summary_path, plan.index_path], plan.articles)
    return plan


def prepare_output(plan: BatchPlan) -> None:
    """Before the first article: prove OUTDIR is writable and remove temp files a killed run left.

    Raises:
        ReportError: OUTDIR (or OUTDIR/articles) cannot be created or written.
    """
    ensure_writable_dir(plan.out_dir)
    ensure_writable_dir(plan.reports_dir)
    clean_stale_temps(plan.out_dir)
    clean_stale_temps(plan.reports_dir, recursive=True)


def _internal(path: Path, exc: Exception, debug: bool, relative: str | None, **known: object) -> BatchItem:
    return BatchItem(path, error=f"{path}: internal error: {type(exc).__name__}: {exc}", error_kind=INTERNAL,
                     traceback="".join(traceback.format_exception(exc)) if debug else None,
                     relative=relative, **known)  # type: ignore[arg-type]


def check_one(checker: Checker, plan: BatchPlan, path: Path, *, debug: bool = False) -> BatchItem:
    """Check one article and write its report pair; every failure becomes the item's error."""
    json_path, html_path = plan.reports[path]
    rel = plan.relative.get(path)
    try:
        report = checker.check_file(path)
        score, by_severity = report.score, report.counts()["by_severity"]
    except MtqcError as exc:
        return BatchItem(path, error=str(exc), error_kind=INPUT, relative=rel)
    except Exception as exc:  # a bug in one article must not cost the others their reports
        return _internal(path, exc, debug, rel)
    try:
        written = write_reports(report, json_path, html_path)
    except MtqcError as exc:
        return BatchItem(path, score, by_severity=by_severity, error=f"{path}: report not written: {exc}",
                         error_kind=WRITE, relative=rel)
    except Exception as exc:
        return _internal(path, exc, debug, rel, score=score, by_severity=by_severity)
    return BatchItem(path, score, written.json_path, written.html_path, by_severity, report_id=written.report_id,
                     relative=rel, extras=summary_row_extras(report))


def write_batch_files(checker: Checker, plan: BatchPlan, items: Sequence[BatchItem]) -> tuple[str, ...]:
    """Write summary.json, then index.html; each failure is returned, never raised."""
    errors: list[str] = []
    notes = list(checker.engine_choice.notes)
    try:
        signature = str(checker.signature())
        summary = {
            "signature": signature,
            "engine": checker.engine_choice.engine.name,
            "skipped": notes,
            "checked": sum(1 for i in items if not i.error),
            "failed": sum(1 for i in items if i.error),
            "skipped_files": [s.to_dict() for s in plan.skipped],
            "articles": [i.to_dict(plan.out_dir) for i in items],
        }
        write_atomic(plan.summary_path, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    except Exception as exc:  # recorded: the per-article outcomes are still printed
        errors.append(f"{plan.summary_path} not written: {exc}")
        signature = ""
    try:
        rows = []
        for item in items:
            row = {"name": item.relative or item.path.name, **item.to_dict(plan.out_dir)}
            row["html"] = quote(str(row["html"])) if row["html"] else None  # a link, relative to index.html
            rows.append(row)
        notices = notes + [f"Skipped {s}" for s in plan.skipped]
        write_atomic(plan.index_path, render_index(rows, str(plan.directory), signature, notices))
    except Exception as exc:
        errors.append(f"{plan.index_path} not written: {exc}")
    return tuple(errors)


def run_batch(
    checker: Checker,
    directory: Path,
    out_dir: Path,
    *,
    on_item: Callable[[BatchItem], None] | None = None,
    files: list[Path] | None = None,
    plan: BatchPlan | None = None,
    debug: bool = False,
) -> BatchResult:
    """Check each article in `directory`: a report pair each, then `summary.json` and `index.html`.

    Every article gets a record, whatever fails; summary.json and index.html are always attempted,
    even after Ctrl-C (the articles not reached are recorded as such, then the interrupt goes on).

    Raises:
        InputError, UsageError, ReportError: from `plan_batch`/`prepare_output`, before any article
            is checked, when no plan is given.
    """
    if plan is None:
        plan = plan_batch(directory, out_dir, files)
        prepare_output(plan)
    items: list[BatchItem] = []
    try:
        for path in plan.articles:
            item = check_one(checker, plan, path, debug=debug)
            items.append(item)
            if on_item:
                on_item(item)
    except KeyboardInterrupt:
        done = {i.path for i in items}
        items += [BatchItem(p, error=f"{p}: not checked: the batch was interrupted", error_kind=INTERRUPTED,
                            relative=plan.relative.get(p)) for p in plan.articles if p not in done]
        write_batch_files(checker, plan, items)
        raise
    errors = write_batch_files(checker, plan, items)
    return BatchResult(tuple(items), plan.summary_path, plan.index_path, plan.skipped, errors)
