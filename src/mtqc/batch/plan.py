"""What a batch checks and where each report goes (refused before any work when unsafe), and what it can reuse."""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator, Sequence

from ..errors import UsageError
from ..reports.index import summary_row_extras_from_json
from ..reports.naming import ARTICLES_DIR, BATCH_FILES, INDEX_NAME, JOURNAL_NAME, SUMMARY_NAME, report_relpaths
from .journal import JournalReader
from .records import INPUT, ArticleRecord, rounded
from .sources import FolderSource, JsonlSource, Skipped, Unit, id_name_folded, id_report_name
from .workdb import PathRow, WorkDB

Source = FolderSource | JsonlSource
_FLUSH_EVERY = 4096  # path identities buffered before they go to the working index
_TAIL_BYTES = 1024  # the end of a JSON report, where its report_id and content hash are
_REPORT_ID_JSON = re.compile(rb'"report_id": ?"([0-9a-f]+)"')  # indented (mtqc check) or compact (mtqc batch)
_REPORT_ID_HTML = re.compile(rb'<meta name="mtqc-report-id" content="([0-9a-f]+)">')


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


class _PathGuard:
    """Collects what a batch reads and writes, and refuses a plan where a write would replace a read."""

    def __init__(self, work: WorkDB) -> None:
        self.work = work
        self.identity = _identity_fn()
        self._inputs: list[PathRow] = []
        self._outputs: list[PathRow] = []

    def read(self, path: Path) -> None:
        self._inputs.append((*self.identity(path), str(path)))

    def write(self, path: Path) -> None:
        self._outputs.append((*self.identity(path), str(path)))
        if len(self._outputs) >= _FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self.work.add_paths(self._inputs, self._outputs)
        self._inputs.clear()
        self._outputs.clear()

    def check(self) -> None:
        """Raises UsageError when a report would replace an input (or two reports are one file)."""
        self._flush()
        clash = self.work.clash()
        if clash:
            raise UsageError(f"the report {clash[0]} would replace {clash[1]}, one of the inputs; mtqc never writes "
                             "over its input: choose another --out")
        shared = self.work.shared_output()
        if shared:
            raise UsageError(f"two reports would be written to {shared[0]} ({' and '.join(shared[1])}); "
                             "name different paths")


class BatchPlan:
    """A batch's articles and their report paths, counted (and refused when unsafe) by `build`, before any work.

    Reports mirror the input under OUTDIR/`articles` (`articles_`... when the input has an
    `articles` folder of its own), apart from summary.json, summary.jsonl and index.html.
    """

    def __init__(self, source: Source, out_dir: Path, work: WorkDB, other_inputs: Sequence[Path] = ()) -> None:
        self.source, self.out_dir, self.work = source, out_dir, work
        self.other_inputs = tuple(other_inputs)
        self.total = 0
        self.skipped_count = 0
        self.under = ARTICLES_DIR
        self._prune: tuple[str, ...] = ()

    @property
    def batch_files(self) -> tuple[Path, Path, Path]:
        """summary.json, index.html and summary.jsonl."""
        return self.out_dir / SUMMARY_NAME, self.out_dir / INDEX_NAME, self.out_dir / JOURNAL_NAME

    @property
    def reports_dir(self) -> Path:
        return self.out_dir / self.under

    def report_relpaths(self, relative: PurePosixPath) -> tuple[str, str]:
        """An article's JSON and HTML report paths relative to OUTDIR, as the summary shows them."""
        json_rel, html_rel = report_relpaths(relative, self.under)
        return str(json_rel), str(html_rel)

    def report_paths(self, relative: PurePosixPath) -> tuple[Path, Path]:
        json_rel, html_rel = self.report_relpaths(relative)
        return self.out_dir / json_rel, self.out_dir / html_rel

    # -- the articles

    def _found(self) -> Iterator[Unit | Skipped]:
        """The input as read: a unit per article (JSONL duplicates not yet told apart), or a skipped file."""
        if isinstance(self.source, JsonlSource):
            yield from self.source.units()
            return
        for found in self.source.walk(self._prune):
            if isinstance(found, Skipped):
                yield found
            else:
                path, rel = found
                yield Unit(str(rel), str(rel), str(path), rel, file=path)

    def units(self) -> Iterator[Unit]:
        """The articles, streamed; a JSONL id seen on an earlier line makes the unit an error (after `build`)."""
        for found in self._found():
            if isinstance(found, Unit):
                yield self._duplicate(found) or self._case_distinct(found)

    def _case_distinct(self, unit: Unit) -> Unit:
        """`unit`, its report name made distinct when another JSONL id's name differs from it only in case."""
        if unit.jsonl_id is None or unit.relative is None:
            return unit
        relative = self._id_relative(unit.jsonl_id)
        return unit if relative == unit.relative else replace(unit, relative=relative)

    def _id_relative(self, article_id: str) -> PurePosixPath:
        """A JSONL id's report name (after `build`): `A` and `a` would be one file where case is ignored
        (macOS, Windows), so in such a group every name but an all-lower-case one gets a suffix.

        The rule depends only on the ids in the file, not their order, and keeps the name of every
        id that clashes with none.
        """
        name = id_report_name(article_id)
        folded = id_name_folded(name)
        if str(name) == folded or not self.work.folded_clash(folded):
            return name
        return id_report_name(article_id, case_suffix=True)

    def _duplicate(self, unit: Unit) -> Unit | None:
        """`unit` as an error when its JSONL id is first on another line; else None."""
        if unit.jsonl_id is None:
            return None
        first = self.work.first_line(unit.jsonl_id)
        if first == unit.line:
            return None
        assert isinstance(self.source, JsonlSource)
        where = f"{self.source.path}:{unit.line}"
        return Unit(f"line:{unit.line}", unit.sort, where, None, line=unit.line, jsonl_id=unit.jsonl_id,
                    error=f"{where}: duplicate id {unit.jsonl_id!r} (first on line {first}); only the first is checked")

    # -- planning

    def build(self) -> None:
        """Count the articles, note the skipped files and JSONL ids, and check every report path.

        Raises:
            InputError: the input cannot be read.
            UsageError: a report would replace an input or another report.
        """
        self._choose_reports_dir()
        guard = _PathGuard(self.work)
        for path in (*self.other_inputs, *([self.source.path] if isinstance(self.source, JsonlSource) else [])):
            guard.read(path)
        for path in self.batch_files:
            guard.write(path)
        for found in self._found():
            if isinstance(found, Skipped):
                self.work.add_skipped(found)
                self.skipped_count += 1
            else:
                self.total += 1
                self._plan_unit(found, guard)
        for article_id in self.work.named_ids():  # named once every id is known (see `_id_relative`)
            for report in self.report_paths(self._id_relative(article_id)):
                guard.write(report)
        guard.check()

    def _plan_unit(self, unit: Unit, guard: _PathGuard) -> None:
        if unit.jsonl_id is not None and not self.work.claim_id(unit.jsonl_id, unit.line):
            return  # a duplicate: recorded as such, never given a report
        if unit.relative is None:
            return
        if unit.jsonl_id is not None:  # its reports are checked once all names are known
            self.work.add_name(unit.jsonl_id, id_name_folded(unit.relative))
            return
        self._refuse_batch_file(unit.relative)
        if unit.file is not None:
            guard.read(unit.file)
        for report in self.report_paths(unit.relative):
            guard.write(report)

    def _refuse_batch_file(self, relative: PurePosixPath) -> None:
        """With OUTDIR = DIR, an article (or folder) named like a batch file would be replaced by it."""
        if relative.parts[0] in BATCH_FILES and isinstance(self.source, FolderSource) and (
                os.path.realpath(self.out_dir) == os.path.realpath(self.source.directory)):
            name = relative.parts[0]
            raise UsageError(f"{name} is one of the articles (or their folders) and the batch's own {name} "
                             "would replace it; write the reports to another folder with --out")

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


# ------------------------------------------------------------------ reuse: what the last run already did


def pair_id(json_path: Path, html_path: Path) -> str | None:
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
    return str(json_ids[-1].decode("ascii"))


class Resume:
    """Finds the articles a batch need not check again: unchanged, under the same signature, their reports whole.

    The last runs' records come from summary.jsonl; a report pair written just before a kill,
    whose line did not make it, is recognised by the hashes stored in its JSON.
    """

    def __init__(self, plan: BatchPlan, *, force: bool = False) -> None:
        self.plan, self.force = plan, force

    def load(self, journal_path: Path) -> str | None:
        """Read the last runs' records; returns a warning when lines had to be passed over."""
        reader = JournalReader(journal_path)
        self.plan.work.remember(reader)
        return reader.warning()

    def reusable(self, unit: Unit, content: str | None, signature: str) -> ArticleRecord | None:
        """The record of an unchanged article checked under the same signature, still whole on disk; else None."""
        if self.force or content is None:
            return None
        record = self.plan.work.previous(unit.key)
        if record is not None and self._still_good(record, unit, content, signature):
            return record
        return self._recover(unit, content, signature)

    def _still_good(self, record: ArticleRecord, unit: Unit, content: str, signature: str) -> bool:
        if record.content_sha256 != content or record.signature_sha256 != signature:
            return False
        if record.error_kind == INPUT:
            return True  # it would fail the same way again
        if record.failed or unit.relative is None:
            return False
        json_path, html_path = self.plan.report_paths(unit.relative)
        return record.json_rel == self.plan.report_relpaths(unit.relative)[0] and \
            pair_id(json_path, html_path) == record.report_id

    def _recover(self, unit: Unit, content: str, signature: str) -> ArticleRecord | None:
        """A record rebuilt from a whole report pair on disk (written before a kill, its line not yet in summary.jsonl)."""
        if unit.relative is None:
            return None
        json_path, html_path = self.plan.report_paths(unit.relative)
        report_id = pair_id(json_path, html_path)
        if report_id is None:
            return None
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("content_sha256") != content or data.get("signature_sha256") != signature:
            return None
        json_rel, html_rel = self.plan.report_relpaths(unit.relative)
        return replace(ArticleRecord.of(unit, content, signature), score=rounded(data.get("score")),
                       json_rel=json_rel, html_rel=html_rel, report_id=report_id,
                       by_severity=(data.get("counts") or {}).get("by_severity") or {},
                       extras=summary_row_extras_from_json(data))
