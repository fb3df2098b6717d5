"""Terminal summary with rich.

Everything that comes from input (article text, file names, metadata, notes naming paths) is
printed as `rich.text.Text`, never as a markup string: "[/foo]" in an article would otherwise
raise, "[sic]" vanish, "[bold red]" style text and ":smile:" turn into an emoji.
"""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from typing import TYPE_CHECKING

from ..results import SEVERITY_WORDS, ArticleReport, SentenceResult
from .notices import notices_summary, pull_command

if TYPE_CHECKING:
    from ..calibration.evaluate import Bootstrap, EvalResult

_STYLE = {"minor": "yellow", "major": "dark_orange", "critical": "bold red"}


def _print_notes(report: ArticleReport, console: Console, *, verbose: bool) -> None:
    """What did not run: every note with `verbose`, else one line and how to enable it.

    The notes name models, folders and the Hugging Face cache: what an administrator needs, not
    an editor reading the summary; the report's `skipped` keeps them all.
    """
    if verbose or not report.skipped:
        for note in report.skipped:
            console.print(Text.assemble("  ", ("note:", "cyan"), " ", note))
        return
    line = Text.assemble("  ", ("note:", "cyan"), " ", notices_summary(report))
    pull = pull_command(report.skipped)
    if pull:
        line.append(f"; to enable: {pull} (on a connected machine)")
    line.append("; details: --verbose", style="dim")
    console.print(line)


def print_summary(report: ArticleReport, console: Console, *, worst: int = 5, verbose: bool = False) -> None:
    """Score, flag counts and the worst sentences with their flags (all notes on skipped checks with `verbose`)."""
    counts = report.counts()
    console.print(Text(report.source, style="bold"))
    how = "calibrated" if report.score_method == "expected-penalty" else "uncalibrated flag count"
    console.print(Text(f"  score {report.score:.1f}/100 ({how})  ·  engine {report.engine}  ·  {report.word_count} words"))
    line = Text("  sentences: ")
    shown = [(severity, n) for severity, n in reversed(list(report.sentence_counts().items())) if n]
    for i, (severity, n) in enumerate(shown):
        line.append(", " if i else "")
        line.append(f"{n} {SEVERITY_WORDS[severity]}", style=_STYLE[severity])
    checked = sum(1 for s in report.sentences if s.scored)
    line.append(f"{'' if shown else 'none flagged'} (of {checked})")
    types = ", ".join(f"{k} {v}" for k, v in sorted(counts["by_type"].items())) or "none"
    line.append(f"  ·  {sum(counts['by_severity'].values())} flags: {types}")
    console.print(line)
    _print_notes(report, console, verbose=verbose)
    if report.usage.get("llm"):
        console.print(f"  {llm_usage_line(report.usage['llm'])}", markup=False)
    flagged = sorted((s for s in report.sentences if s.flags), key=lambda s: s.risk, reverse=True)[:worst]
    if not flagged:
        console.print(Text("  no sentence flagged"))
        return
    table = Table(show_header=True, header_style="bold", expand=True, title="worst sentences")
    table.add_column("#", width=4)
    table.add_column("sentence", ratio=3)
    table.add_column("flags", ratio=2)
    for s in flagged:
        table.add_row(str(s.index), Text(s.text), Text("\n").join(_flag_lines(s)))
    console.print(table)


MAX_SPANS_PER_LINE = 4


def _flag_lines(s: SentenceResult) -> list[Text]:
    """A sentence's flags, one line per flag with a suggestion; flags of one kind without one
    (the fluency signal's word pairs) share a line, so five weak picks do not read as five errors."""
    lines: list[Text] = []
    shared: dict[tuple[str, str, float | None], list[str]] = {}
    for f in s.flags:
        span = s.text[f.span[0]:f.span[1]] if f.span else None
        if span is not None and not f.suggestion and not f.advice:
            shared.setdefault((f.severity, f.type, f.probability), []).append(f"'{span}'")
            continue
        text = _flag_head(f.severity, f.type, f.probability, s.p_error)
        if span is not None:
            text.append(f" '{span}'")
        if f.suggestion:
            text.append(f" → {f.suggestion}", style="green")
        elif f.advice:  # what to do, not a replacement: no arrow
            text.append(f" ({f.advice})", style="dim")
        lines.append(text)
    for (severity, type_, probability), spans in shared.items():
        text = _flag_head(severity, type_, probability, s.p_error)
        more = len(spans) - MAX_SPANS_PER_LINE
        text.append(" " + ", ".join(spans[:MAX_SPANS_PER_LINE]) + (f" (+{more} more)" if more > 0 else ""))
        lines.append(text)
    return lines


def _flag_head(severity: str, type_: str, probability: float | None, p_error: float | None) -> Text:
    text = Text(SEVERITY_WORDS[severity], style=_STYLE[severity])
    text.append(f" · {type_}")
    if probability is not None:  # the numbers behind the words, one step back
        numbers = f"P({'major' if severity != 'minor' else 'error'}) {probability:.2f}"
        if severity != "minor" and p_error is not None:
            numbers += f", P(error) {p_error:.2f}"
        text.append(f" ({numbers})", style="dim")
    return text


def llm_usage_line(u: dict) -> str:
    """What the LLM cost this article, in one line."""
    cost = f", ${u['cost_usd']:.4f}" if u.get("cost_usd") is not None else ""
    issues = [f"{u[k]} {label}" for k, label in (("dropped_spans", "error spans not in the text dropped"),
                                                 ("malformed_replies", "unreadable replies")) if u.get(k)]
    return (f"llm {u['model']}: {u['requests']} requests ({u['cache_hits']} from the cache), {u['total_tokens']:,} tokens "
            f"({u['prompt_tokens']:,} in, {u['completion_tokens']:,} out){cost}" + "".join(f"; {i}" for i in issues))


def _short(x: float) -> str:
    """0.83 as '.83' and -0.33 as '-.33': an interval fits under its value in a narrow column."""
    text = f"{x:.2f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def print_eval(result: "EvalResult", major: "EvalResult", how: str, console: Console,
               intervals: "tuple[Bootstrap, Bootstrap] | None" = None) -> None:
    """The metrics of `mtqc eval` as a table, with bootstrap intervals under each value when given."""
    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731

    def cell(r: "EvalResult", name: str, boot: "Bootstrap | None") -> str:
        value = fmt(getattr(r, name))
        ci = boot.intervals.get(name) if boot else None
        return value if ci is None else f"{value}\n{_short(ci[0])}–{_short(ci[1])}"

    console.print(Text(f"{result.articles} articles, {result.sentences} annotated sentences; {how}", style="bold"))
    # two-line headers: the table fits an 80-column terminal without cutting a name short
    table = Table("flags\ncounted", "precision", "recall", "F1", "major\nrecall", "false-flag\nrate", "span\nrecall")
    for label, r, boot in (("all", result, intervals[0] if intervals else None),
                           ("major only", major, intervals[1] if intervals else None)):
        table.add_row(label, *(cell(r, name, boot) for name in
                               ("precision", "recall", "f1", "major_recall", "false_flag_rate", "span_recall")))
    console.print(table)
    types = Table("error type", "span recall")
    for name, value in result.span_recall_by_type.items():
        types.add_row(name, fmt(value))
    console.print(types)
    boot = intervals[0] if intervals else None

    def inline(name: str) -> str:
        ci = boot.intervals.get(name) if boot else None
        return fmt(getattr(result, name)) + ("" if ci is None else f" ({_short(ci[0])} to {_short(ci[1])})")

    console.print(f"article score vs annotated quality: Pearson {inline('article_pearson')}, "
                  f"Kendall tau-b {inline('article_kendall')}")
    if boot:
        console.print(f"under each value: its {boot.level:.0%} interval from {boot.resamples} resamples of the articles")
