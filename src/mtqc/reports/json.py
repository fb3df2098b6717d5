"""The JSON report."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from ..fs import write_atomic
from ..results import ArticleReport


def report_to_json(report: ArticleReport, report_id: str | None = None,
                   extra: Mapping[str, Any] | None = None, *, indent: int | None = 2) -> str:
    """The JSON report; `report_id` (when given) is the id its HTML twin carries too.

    `extra` adds fields after the report's own (a batch records the article's content hash there).
    `indent=None` writes it on one line (what `mtqc batch` writes: the same JSON, smaller and faster).
    """
    data = report.to_dict()
    if report_id is not None:
        data["report_id"] = report_id
    for key, value in (extra or {}).items():
        data.setdefault(key, value)  # never replaces a field of the report itself
    if indent is None:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(data, ensure_ascii=False, indent=indent) + "\n"


def write_json(report: ArticleReport, path: Path) -> Path:
    """Write the JSON report alone (`write_reports` writes the JSON and HTML pair)."""
    return write_atomic(path, report_to_json(report))
