"""Small helpers to run signals on text written in a test."""
from __future__ import annotations

from click.testing import CliRunner

from mtqc.engines.base import Engine
from mtqc.engines.offline import OfflineEngine
from mtqc.glossary import Glossary
from mtqc.ingest import article_from_text, segment
from mtqc.pipeline import Checker, build_context
from mtqc.results import ArticleReport, Flag
from mtqc.cli import main
from mtqc.signals import Signal

from .conftest import ARTICLE


def run_signal(signal: Signal, text: str, glossary: Glossary | None = None, engine: Engine | None = None) -> list[list[Flag]]:
    """The signal's flags per sentence, its context built as the pipeline builds it."""
    ctx, _ = build_context(segment(text), glossary or Glossary(), engine or OfflineEngine(), [signal])
    return [list(o.flags) for o in signal.run(ctx)]


def flagged_texts(signal: Signal, text: str, glossary: Glossary | None = None) -> list[str]:
    article = segment(text)
    out = []
    for seg, flags in zip(article.scored_segments, run_signal(signal, text, glossary)):
        out.extend(seg.text[f.span[0]:f.span[1]] for f in flags if f.span)
    return out


def check_text(checker: Checker, text: str, source: str = "<text>") -> ArticleReport:
    """Check text written in a test as the CLI checks a file (format, size limit, language check)."""
    return checker.check_article(article_from_text(text, source, max_bytes=checker.settings.max_bytes))


def run_cli(*args: str) -> tuple[int, str, str]:
    """`mtqc ARGS...` in-process: exit code, standard output, standard error."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def numbered_article(i: int) -> str:
    """The shared test article, made distinct by a number (so each copy is a different article)."""
    return ARTICLE.replace("12 villages", f"{i + 2} villages")
