"""The JSON report."""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_atomic
from ..results import ArticleReport


def report_to_json(report: ArticleReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def write_json(report: ArticleReport, path: Path) -> Path:
    return write_atomic(path, report_to_json(report))
