"""The notes on checks that did not run, said in one line (the HTML's collapsed line, the terminal's)."""
from __future__ import annotations

import re

from ..results import ArticleReport

_PULL = re.compile(r"`mtqc models pull ([^`]+)`")


def notices_summary(report: ArticleReport) -> str:
    """The one line that stands for the notes on checks that did not run."""
    if report.engine == "offline":
        return "Meaning checks off (offline engine)"
    n = len(report.skipped)
    return f"{n} check{'s' if n != 1 else ''} did not run"


def pull_command(notes: tuple[str, ...] | list[str]) -> str | None:
    """One `mtqc models pull` for every model the notes say is missing, or None when none is."""
    names: list[str] = []
    for note in notes:
        for match in _PULL.finditer(note):
            names += [n for n in match.group(1).split() if n not in names]
    return f"mtqc models pull {' '.join(names)}" if names else None
