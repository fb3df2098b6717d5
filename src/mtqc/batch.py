"""Batch: check every article in a folder; one bad file is recorded, never fatal."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .atomic import write_atomic
from .errors import InputError, MtqcError
from .ingest import SUPPORTED_SUFFIXES
from .pipeline import Checker
from .reports import render_index, write_html, write_json


@dataclass(frozen=True)
class BatchItem:
    """One file's outcome: a score and report paths, or an error."""

    path: Path
    score: float | None = None
    json_path: Path | None = None
    html_path: Path | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "score": None if self.score is None else round(self.score, 2),
            "json": self.json_path.name if self.json_path else None,
            "html": self.html_path.name if self.html_path else None,
            "by_severity": self.by_severity,
            "error": self.error,
        }


@dataclass(frozen=True)
class BatchResult:
    items: tuple[BatchItem, ...]
    summary_path: Path
    index_path: Path

    @property
    def failures(self) -> list[BatchItem]:
        return [i for i in self.items if i.error]


def find_articles(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def _report_stem(path: Path, taken: set[str]) -> str:
    # "a.txt" and "a.md" in one folder must not overwrite each other's reports
    stem = path.stem if path.stem not in taken else path.name.replace(".", "_")
    taken.add(stem)
    return stem


def run_batch(
    checker: Checker,
    directory: Path,
    out_dir: Path,
    *,
    on_item: Callable[[BatchItem], None] | None = None,
    files: list[Path] | None = None,
) -> BatchResult:
    """Check each article in `directory`, writing `<stem>.json`/`.html`, `summary.json`, `index.html`."""
    paths = files if files is not None else find_articles(directory)
    items: list[BatchItem] = []
    taken: set[str] = set()
    for path in paths:
        stem = _report_stem(path, taken)
        try:
            report = checker.check_file(path)
            json_path = write_json(report, out_dir / f"{stem}.json")
            html_path = write_html(report, out_dir / f"{stem}.html")
            item = BatchItem(path, report.score, json_path, html_path, report.counts()["by_severity"])
        except MtqcError as exc:
            item = BatchItem(path, error=str(exc))
        items.append(item)
        if on_item:
            on_item(item)
    signature = str(checker.signature())
    summary = {
        "signature": signature,
        "engine": checker.engine_choice.engine.name,
        "skipped": list(checker.engine_choice.notes),
        "checked": sum(1 for i in items if not i.error),
        "failed": sum(1 for i in items if i.error),
        "articles": [i.to_dict() for i in items],
    }
    summary_path = write_atomic(out_dir / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    rows = [{"name": i.path.name, **i.to_dict()} for i in items]
    index_path = write_atomic(
        out_dir / "index.html", render_index(rows, str(directory), signature, checker.engine_choice.notes)
    )
    return BatchResult(tuple(items), summary_path, index_path)
