"""The HTML reports, rendered with Jinja2 templates; all article text is autoescaped."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, PackageLoader, select_autoescape

from ..atomic import write_atomic
from ..results import ArticleReport, SentenceResult


@dataclass(frozen=True)
class Piece:
    """A run of sentence text, highlighted when flags cover it."""

    text: str
    flag_numbers: tuple[int, ...]
    severity: str | None


_RANK = {"minor": 0, "major": 1, "critical": 2}


def highlight(sentence: SentenceResult) -> list[Piece]:
    """Cut the sentence at every flag boundary; each piece knows which flags cover it."""
    text = sentence.text
    cuts = {0, len(text)}
    for flag in sentence.flags:
        if flag.span:
            cuts.update(flag.span)
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    pieces = []
    for start, end in zip(bounds, bounds[1:]):
        covering = [
            (n, f) for n, f in enumerate(sentence.flags, start=1)
            if f.span and f.span[0] <= start and end <= f.span[1]
        ]
        severity = max((f.severity for _, f in covering), key=_RANK.__getitem__, default=None)
        pieces.append(Piece(text[start:end], tuple(n for n, _ in covering), severity))
    return pieces


@lru_cache(maxsize=1)  # compiling the templates costs more than rendering a report
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mtqc", "reports/templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["highlight"] = highlight
    return env


def worst_sentences(report: ArticleReport, n: int = 5) -> list[SentenceResult]:
    """The flagged sentences with the largest MQM penalty, for the editor to start with."""
    from ..scoring import SEVERITY_WEIGHTS

    flagged = [s for s in report.sentences if s.flags]
    return sorted(flagged, key=lambda s: -((s.p_major or 0.0) * 10 + sum(SEVERITY_WEIGHTS[f.severity] for f in s.flags)))[:n]


def render_html(report: ArticleReport, report_id: str | None = None) -> str:
    """The HTML report; `report_id` (when given) is the id its JSON twin carries too."""
    return _environment().get_template("report.html.j2").render(
        report=report, counts=report.counts(), worst=worst_sentences(report), report_id=report_id
    )


def render_index(rows: Sequence[dict[str, Any]], title: str, signature: str, skipped: Sequence[str]) -> str:
    return _environment().get_template("index.html.j2").render(rows=rows, title=title, signature=signature, skipped=skipped)


def write_html(report: ArticleReport, path: Path) -> Path:
    """Write the HTML report alone (`write_reports` writes the JSON and HTML pair)."""
    return write_atomic(path, render_html(report))
