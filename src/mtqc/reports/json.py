"""The JSON report."""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_atomic
from ..results import ArticleReport


def report_to_json(report: ArticleReport, report_id: str | None = None) -> str:
    """The JSON report; `report_id` (when given) is the id its HTML twin carries too."""
    data = report.to_dict()
    if report_id is not None:
        data["report_id"] = report_id
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_json(report: ArticleReport, path: Path) -> Path:
    """Write the JSON report alone (`write_reports` writes the JSON and HTML pair)."""
    return write_atomic(path, report_to_json(report))
