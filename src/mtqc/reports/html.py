"""The HTML reports, rendered with Jinja2 templates; all article text is autoescaped."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from ..fs import write_atomic
from ..results import SEVERITY_WORDS, ArticleReport, Flag, SentenceResult
from .index import Tally, build_index_view, headline_of
from .notices import notices_summary

# severity by shape as well as by colour (WCAG 1.4.1): circle, triangle, square
SEVERITY_ICONS = {"minor": "\u25cb", "major": "\u25b2", "critical": "\u25a0"}


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


class _BytecodeCache(FileSystemBytecodeCache):
    """jinja's file cache of compiled templates, except that one it cannot write is not an error."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass  # a read-only or full cache folder: the template is compiled again next time


def _bytecode_cache() -> Any:
    """Compiled templates kept under the cache folder (`<cache>/templates`): compiling them took
    a fifth of a short `mtqc check`. jinja keys each by its source's checksum, so an edited or
    upgraded template is compiled again. None where the cache folder is unusable."""
    from ..config import load_settings
    from ..errors import UsageError

    try:
        folder = Path(load_settings().cache_dir) / "templates"
        folder.mkdir(parents=True, exist_ok=True)
    except (UsageError, OSError):
        return None
    return _BytecodeCache(str(folder))


@lru_cache(maxsize=1)  # compiling the templates costs more than rendering a report
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mtqc", "reports/templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.globals["highlight"] = highlight
    env.globals["signal_values"] = signal_values
    return env


@lru_cache(maxsize=4)
def _script(name: str) -> str:
    """A page's script, verbatim (it is kept as a template file only so that it ships with them)."""
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    if "</script" in source.lower():
        raise ValueError(f"{name} must not contain '</script'")
    return source


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str) -> str:
    """No network, no plugins, no forms; only the page's own inline style and its one inline script."""
    return (f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash(script)}; "
            "base-uri 'none'; form-action 'none'")


def json_for_script(data: Any) -> Markup:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' can end it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def signal_values(sentence: SentenceResult) -> list[tuple[str, list[tuple[str, str]]]]:
    """The values each signal that flagged the sentence computed for it (what its flags rest on)."""
    flagging = list(dict.fromkeys(f.signal for f in sentence.flags if f.signal))
    out = []
    for signal in flagging:
        prefix = f"{signal}."
        items = [(k[len(prefix):], f"{v:.3g}") for k, v in sentence.signals.items() if k.startswith(prefix)]
        if items:
            out.append((signal, items))
    return out


def risk_order(report: ArticleReport) -> dict[tuple[int, int], int]:
    """Each flag's place, (sentence index, flag number) -> 0, 1, ...: riskiest sentence first (as
    "Start here" lists them), a sentence's flags together, its worst flag first."""
    keyed = []
    for s in report.sentences:
        risk = s.risk
        for n, f in enumerate(s.flags, start=1):
            keyed.append(((-risk[0], -risk[1], -risk[2], s.index, -_RANK[f.severity], n), (s.index, n)))
    return {where: i for i, (_, where) in enumerate(sorted(keyed))}


def _flag_data(s: SentenceResult, n: int, f: Flag, rank: int) -> dict[str, Any]:
    return {"id": f"{s.index}.{n}", "type": f.type, "severity": f.severity, "signal": f.signal,
            "span": list(f.span) if f.span else None, "message": f.message, "suggestion": f.suggestion,
            "advice": f.advice, "probability": None if f.probability is None else round(f.probability, 4),
            "glossary_entry": f.glossary_entry, "rank": rank}


def report_page_data(report: ArticleReport, report_id: str | None = None) -> dict[str, Any]:
    """What the report's script works on: the sentences, their flags, and the review's identity."""
    from ..review.file import report_article_sha256, review_file_name

    stem = review_file_name(report.source)[:-len(".review.json")]
    order = risk_order(report)
    return {
        "source": report.source, "signature": str(report.signature), "report_id": report_id,
        "article_sha256": report_article_sha256(report),
        "review_name": review_file_name(report.source), "corrected_name": f"{stem}.corrected.txt",
        "sentences": [{"index": s.index, "text": s.text, "paragraph": s.paragraph, "kind": s.kind,
                       "text_before": s.text_before,
                       "flags": [_flag_data(s, n, f, order[(s.index, n)]) for n, f in enumerate(s.flags, start=1)]}
                      for s in report.sentences],
    }


def llm_notes(report: ArticleReport) -> list[str]:
    """What went wrong with the LLM's replies (as the terminal and JSON say it), one note each."""
    usage = report.usage.get("llm") if isinstance(report.usage, dict) else None
    if not isinstance(usage, dict):
        return []
    model = f" ({usage['model']})" if usage.get("model") else ""
    notes = []
    malformed, dropped = usage.get("malformed_replies"), usage.get("dropped_spans")
    if isinstance(malformed, int) and malformed > 0:
        notes.append(f"The LLM{model} gave {malformed} unreadable repl{'ies' if malformed != 1 else 'y'}: "
                     "the sentences they covered have no LLM judgement, so fewer problems may be flagged.")
    if isinstance(dropped, int) and dropped > 0:
        notes.append(f"The LLM{model} named {dropped} error span{'s' if dropped != 1 else ''} not in the text; "
                     f"{'they were' if dropped != 1 else 'it was'} dropped.")
    return notes


def worst_sentences(report: ArticleReport, n: int = 5) -> list[SentenceResult]:
    """The riskiest flagged sentences (`SentenceResult.risk`), for the editor to start with."""
    return sorted((s for s in report.sentences if s.flags), key=lambda s: s.risk, reverse=True)[:n]


def first_flag(s: SentenceResult) -> int:
    """The number of a sentence's worst flag (the first of equals): where "Start here" lands."""
    return 1 + max(range(len(s.flags)), key=lambda i: (_RANK[s.flags[i].severity], -i))


def render_html(report: ArticleReport, report_id: str | None = None, index_href: str | None = None) -> str:
    """The HTML report; `report_id` (when given) is the id its JSON twin carries too; `index_href`
    (in a batch) links back to the batch's index.html.

    A static page that works without JavaScript; its one inline script (allowed by its hash in
    the Content-Security-Policy, nothing else can run or load) makes it a review workspace.
    """
    script = _script("_report.js.j2")
    data = report_page_data(report, report_id)
    flags = report.flags
    values = {k: sorted({getattr(f, k) for f in flags}) for k in ("type", "severity", "signal")}
    values["severity"] = [s for s in ("minor", "major", "critical") if s in values["severity"]]
    return _environment().get_template("report.html.j2").render(
        report=report, counts=report.counts(), sentence_counts=report.sentence_counts(), words=SEVERITY_WORDS,
        worst=worst_sentences(report), report_id=report_id,
        csp=Markup(content_security_policy(script)), script=Markup(script), data_json=json_for_script(data),
        nflags=len(flags), filter_values=values, has_probability=any(f.probability is not None for f in flags),
        review_name=data["review_name"], llm_notes=llm_notes(report), index_href=index_href,
        headline=headline_of(report.metadata, ((s.text, s.paragraph, s.kind) for s in report.sentences)) or report.source, notices_summary=notices_summary(report),
        first_flag=first_flag, icons=SEVERITY_ICONS,
    )


def render_index(rows: Sequence[dict[str, Any]], title: str, signature: str, skipped: Sequence[str]) -> str:
    """The batch index as one string (see `render_index_chunks`)."""
    return "".join(render_index_chunks(rows, title, signature, skipped))


def render_index_chunks(rows: Iterable[dict[str, Any]], title: str, signature: str, skipped: Sequence[str],
                        worst_first: Callable[[], Iterable[dict[str, Any]]] | None = None,
                        tally: Tally | None = None) -> Iterator[str]:
    """The batch index: articles worst first, score histogram, flag counts, recurring problems.

    `rows` are summary.json article records plus `name` and a URL-encoded `html` link; the
    keys of `mtqc.reports.index.summary_row_extras` feed the type counts and recurring problems.
    Rendered piece by piece, so an archive's index is written without holding the page (or,
    with `worst_first` streaming sorted rows, the rows) in memory; `tally` holds the flagged
    phrases (on disk for an archive).
    """
    script = _script("_index.js.j2")
    view = build_index_view(rows, worst_first, tally)
    return _environment().get_template("index.html.j2").generate(
        view=view, title=title, signature=signature, skipped=skipped, csp=Markup(content_security_policy(script)),
        script=Markup(script),
    )


def write_html(report: ArticleReport, path: Path) -> Path:
    """Write the HTML report alone (`write_reports` writes the JSON and HTML pair)."""
    return write_atomic(path, render_html(report))
