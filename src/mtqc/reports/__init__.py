"""Reports: JSON (the contract other tools read), HTML (for editors), terminal summary."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..fs import write_files
from ..results import ArticleReport
from .html import render_html, render_index, write_html
from .json import report_to_json, write_json


@dataclass(frozen=True)
class WrittenReports:
    """Where one article's reports went, and the id both of them carry."""

    json_path: Path
    html_path: Path
    report_id: str


def write_reports(report: ArticleReport, json_path: Path, html_path: Path, *,
                  stream: TextIO | None = None) -> WrittenReports:
    """Write an article's JSON and HTML reports as a pair.

    Both are rendered and written to temp files before either is renamed into place, and both
    carry one fresh `report_id` (JSON key, HTML `<meta name="mtqc-report-id">`), so reports from
    two runs cannot pass for a pair. A path of '-' streams that report to `stream` (stdout).

    Raises:
        ReportError: a path is not a regular file, or the write failed.
    """
    report_id = uuid.uuid4().hex
    write_files([(json_path, report_to_json(report, report_id)), (html_path, render_html(report, report_id))],
                stream=stream)
    return WrittenReports(json_path, html_path, report_id)


__all__ = ["report_to_json", "write_json", "render_html", "render_index", "write_html", "write_reports",
           "WrittenReports"]
