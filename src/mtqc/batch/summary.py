"""summary.json and index.html, written piece by piece from the working index: never whole in memory."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence, overload
from urllib.parse import quote

from ..fs import write_atomic_chunks
from ..reports.html import render_index_chunks
from ..reports.index import SqlitePhraseTally
from .executors import Executor, WorkerInfo
from .progress import RunCounts
from .records import ArticleRecord
from .sources import Skipped
from .workdb import Totals, WorkDB


def summary_head(info: WorkerInfo, executor: Executor, input_path: Path, total: int, totals: Totals,
                 counts: RunCounts, elapsed_s: float) -> dict[str, Any]:
    """summary.json's fields before its lists: what was checked, how, and what this run did."""
    run = {"executor": executor.name, "workers": executor.workers, "checked_now": counts.now,
           "unchanged": counts.unchanged, "elapsed_s": round(elapsed_s, 3),
           "articles_per_s": round(counts.now / elapsed_s, 2) if elapsed_s > 0 else None}
    return {"signature": info.signature, "engine": info.engine, "skipped": list(info.notes),
            "checked": totals.checked, "failed": totals.failed, "input": str(input_path), "total": total, "run": run}


def _json_list(items: Iterable[Any]) -> Iterator[str]:
    """A list as `json.dumps(..., indent=2)` writes it one level down, an element at a time."""
    first = True
    for item in items:
        # only json's own line breaks are indented ("\n" in strings is escaped; U+2028 and the like are not
        # line breaks to json, though `textwrap.indent` would take them for some)
        text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        yield ("[\n    " if first else ",\n    ") + text
        first = False
    yield "[]" if first else "\n  ]"


def summary_chunks(head: Mapping[str, Any], skipped: Iterable[Any], articles: Iterable[Any]) -> Iterator[str]:
    """summary.json, byte for byte as `json.dumps(summary, indent=2)`, streamed."""
    text = json.dumps(dict(head), ensure_ascii=False, indent=2)
    yield text[:-2]  # without the closing "\n}"
    yield ',\n  "skipped_files": '
    yield from _json_list(skipped)
    yield ',\n  "articles": '
    yield from _json_list(articles)
    yield "\n}\n"


def write_summary(path: Path, head: Mapping[str, Any], skipped: Iterable[Skipped],
                  records: Iterable[ArticleRecord]) -> None:
    """Raises ReportError (or OSError) when it cannot be written."""
    write_atomic_chunks(path, summary_chunks(head, (s.to_dict() for s in skipped), (r.to_json() for r in records)))


def index_row(record: ArticleRecord) -> dict[str, Any]:
    """A record as the index page's row: its name, and its HTML report as a link relative to index.html."""
    row = {"name": record.relative or record.path, **record.to_json()}
    row["html"] = quote(str(row["html"])) if row["html"] else None
    return row


class IndexRows(Sequence[dict[str, Any]]):
    """The index page's rows, read from the working index as they are needed, not held in memory."""

    def __init__(self, work: WorkDB) -> None:
        self.work = work
        self._len = work.count()

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (index_row(r) for r in self.work.records())

    def worst_first(self) -> Iterator[dict[str, Any]]:
        """The rows as the index lists them: failed (no score) first, then by score; sorted on disk."""
        return (index_row(r) for r in self.work.worst_first())

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        return index_row(self.work.record_at(index))


def write_index(path: Path, work: WorkDB, title: str, signature: str, notices: Sequence[str]) -> None:
    """index.html: the articles worst first, with the recurring problems tallied in the working index.

    Raises ReportError (or OSError) when it cannot be written.
    """
    rows = IndexRows(work)
    write_atomic_chunks(path, render_index_chunks(rows, title, signature, notices, worst_first=rows.worst_first,
                                                  tally=SqlitePhraseTally(work.db)))
