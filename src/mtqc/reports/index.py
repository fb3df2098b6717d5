"""The batch index's data: per-article summary extras, and the folder-wide views built from them."""
from __future__ import annotations

import json
import math
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol

from ..results import ArticleReport

# flags whose span is a statistical pick (the least likely word pair), not a phrase a newsroom
# would fix in its MT glossary: they stay in each article's report but not in "recurring problems"
STATISTICAL_SIGNALS = frozenset({"fluency", "lm_fluency", "likelihood", "calibration"})
MAX_PHRASE_WORDS = 8
MAX_RECURRING = 200  # phrases listed
MAX_OCCURRENCES = 50  # links listed per phrase; the rest are counted
HISTOGRAM_BINS = 10  # at most
_BIN_WIDTHS = (1.0, 2.0, 5.0, 10.0, 20.0)


def histogram_bins(scores: list[float]) -> tuple[float, float, int]:
    """(start, width, bins) of a score histogram that fits the data: the narrowest round width that
    covers the scores in at most HISTOGRAM_BINS bins (a batch scored 88-99 is not one 10-point bar)."""
    if not scores:
        return 0.0, 10.0, HISTOGRAM_BINS
    low, high = min(scores), max(scores)
    for width in _BIN_WIDTHS:
        start = math.floor(low / width) * width
        bins = max(1, math.floor((high - start) / width) + 1)
        if start + (bins - 1) * width >= 100 and bins > 1:
            bins -= 1  # 100 goes in the last bin (closed above), as a 10-point histogram's 90-100 does
        if bins <= HISTOGRAM_BINS:
            return start, width, bins
    return 0.0, 10.0, HISTOGRAM_BINS


def phrase_key(text: str) -> str:
    """How flagged phrases are compared across articles: case, spacing, quotes and a leading "the" aside."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").casefold()
    text = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    return re.sub(r"^the\s+(?!the$)", "", text)  # "the the" (a doubled word) stays itself


def summary_row_extras(report: ArticleReport) -> dict[str, Any]:
    """What the batch index needs from one article beyond its score, for its summary row."""
    return summary_row_extras_from_json(report.to_dict())


_SEVERITY_RANK = {"minor": 1, "major": 2, "critical": 3}
MAX_HEADLINE = 160


MAX_LEAD = 100  # a headline taken from the body's first sentence is cut here
# a dateline, a "Share:" label or boilerplate line before the article says nothing about it
NOT_HEADLINE_KINDS = frozenset({"dateline", "label", "boilerplate"})


def _cut(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "\u2026"


def headline_of(metadata: Mapping[str, Any], sentences: Iterable[tuple[Any, Any, Any]]) -> str | None:
    """The article's headline: its title metadata; else its first paragraph when that is one line
    without a full stop (a headline); else the start of its first sentence. `sentences` are
    (text, paragraph, kind) triples; datelines, labels and boilerplate are passed over."""
    title = metadata.get("title")
    if isinstance(title, str) and title.strip():
        return _cut(" ".join(title.split()), MAX_HEADLINE)
    lead: list[str] = []
    first: Any = None
    for text, paragraph, kind in sentences:
        if not isinstance(text, str) or kind in NOT_HEADLINE_KINDS:
            continue
        if lead and (first is None or paragraph != first):
            break
        first = paragraph if not lead else first
        lead.append(" ".join(text.split()))
    if not lead or not lead[0]:
        return None
    if len(lead) == 1 and not lead[0].endswith("."):
        return _cut(lead[0], MAX_HEADLINE)
    return _cut(lead[0], MAX_LEAD)  # body text: its first sentence stands for the article


def _sentence_risk(s: Mapping[str, Any]) -> tuple[int, float, float]:
    """`SentenceResult.risk` from a JSON sentence."""
    worst = max((_SEVERITY_RANK.get(f.get("severity"), 0) for f in s.get("flags") or []), default=0)
    return worst, float(s.get("p_major") or 0.0), float(s.get("p_error") or 0.0)


def summary_row_extras_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same from a JSON report as written (an unchanged article's, on a rerun).

    `by_type`: flag counts by type; `flagged_phrases`: each distinct flagged phrase once, with
    the first sentence it is in, its flag's number there and its flag types (for "recurring
    problems"); `suppressed`: flags not raised again because an editor dismissed them.
    For ranking the articles by what an editor has to fix: `headline`; `to_fix`, the sentences
    whose worst flag is major or critical (likely wrong); `to_check`, those with minor flags
    only; `expected_wrong`, the sum of the sentences' calibrated P(major) (None uncalibrated);
    `top_issue`, the riskiest sentence's worst flag (type, severity, flagged text, sentence, flag).
    """
    phrases: dict[str, dict[str, Any]] = {}
    to_fix = to_check = 0
    expected: float | None = None
    riskiest: tuple[tuple[int, float, float], Mapping[str, Any]] | None = None  # the first of equals
    for s in data.get("sentences") or []:
        text_of = s.get("text") or ""
        if s.get("p_major") is not None:
            expected = (expected or 0.0) + float(s["p_major"])
        risk = _sentence_risk(s)
        to_fix += risk[0] >= 2
        to_check += risk[0] == 1
        if risk[0] and (riskiest is None or risk > riskiest[0]):
            riskiest = (risk, s)
        for n, f in enumerate(s.get("flags") or [], start=1):
            span = f.get("span")
            if not span or len(span) != 2:
                continue
            text = " ".join(text_of[span[0]:span[1]].split())
            key = phrase_key(text)
            if not key or len(key.split()) > MAX_PHRASE_WORDS:
                continue
            entry = phrases.setdefault(key, {"text": text, "key": key, "sentence": s.get("index"), "flag": n,
                                             "types": [], "signals": []})
            if f.get("type") not in entry["types"]:
                entry["types"].append(f.get("type"))
            if f.get("signal") not in entry["signals"]:
                entry["signals"].append(f.get("signal"))
    top = None
    if riskiest is not None:
        s = riskiest[1]
        flags = list(s.get("flags") or [])
        n = max(range(len(flags)), key=lambda i: (_SEVERITY_RANK.get(flags[i].get("severity"), 0), -i))
        f, span = flags[n], flags[n].get("span")
        flagged = " ".join((s.get("text") or "")[span[0]:span[1]].split()) if span and len(span) == 2 else None
        top = {"type": f.get("type"), "severity": f.get("severity"), "sentence": s.get("index"), "flag": n + 1,
               "text": _cut(flagged, 80) if flagged else None}
    return {
        "by_type": dict(sorted(((data.get("counts") or {}).get("by_type") or {}).items())),
        "flagged_phrases": list(phrases.values()),
        "suppressed": len(data.get("suppressed") or []),
        "headline": headline_of(data.get("metadata") or {}, ((s.get("text"), s.get("paragraph"), s.get("kind"))
                                                             for s in data.get("sentences") or [] if isinstance(s, dict))),
        "to_fix": to_fix,
        "to_check": to_check,
        "expected_wrong": None if expected is None else round(expected, 2),
        "top_issue": top,
    }


@dataclass(frozen=True)
class Occurrence:
    name: str
    href: str  # URL-encoded, relative to index.html, with the sentence anchor


@dataclass(frozen=True)
class RecurringProblem:
    text: str
    key: str
    types: tuple[str, ...]
    articles: int
    occurrences: tuple[Occurrence, ...]  # at most MAX_OCCURRENCES


@dataclass(frozen=True)
class Bar:
    low: float
    high: float
    count: int
    x: float
    y: float
    height: float

    @property
    def label(self) -> str:
        return f"{self.low:g}"


@dataclass(frozen=True)
class IndexView:
    rows: Iterable[Mapping[str, Any]]  # worst first; may be a lazy stream (an archive's rows)
    histogram: list[Bar]
    histogram_max: int
    type_counts: list[tuple[str, int]]
    recurring: list[RecurringProblem]
    checked: int
    failed: int
    suppressed: int = 0
    scores: list[float] = field(default_factory=list)


def _number(value: Any) -> float:
    """A count or sum from a row that may be older (missing) or hand-edited (not a number): 0."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _sort_key(row: Mapping[str, Any]) -> tuple[int, float, float, str]:
    """What to fix first: failed articles (no score), then the most likely-wrong sentences, then the
    lowest score (which weighs every sentence's probabilities per word). Keep in step with
    workdb's `_WORST_FIRST`."""
    score = row.get("score")
    if score is None:
        return (0, 0.0, 0.0, str(row.get("name")))
    return (1, -_number(row.get("to_fix")), float(score), str(row.get("name")))


class Tally(Protocol):
    """Flagged phrases across a folder: per phrase its forms, types, article count and first links."""

    def add(self, key: str, text: str, types: tuple[str, ...], name: str, href: str | None) -> None:
        """One article's flagged phrase (each article adds a phrase once)."""

    def recurring(self, limit: int) -> list[RecurringProblem]:
        """Phrases flagged in two articles or more, most widespread first (ties by key), at most `limit`."""


class PhraseTally:
    """A `Tally` held in memory; `SqlitePhraseTally` keeps the same on disk for an archive, whose
    distinct phrases grow with its size."""

    def __init__(self) -> None:
        self._found: dict[str, dict[str, Any]] = {}

    def add(self, key: str, text: str, types: tuple[str, ...], name: str, href: str | None) -> None:
        item = self._found.setdefault(key, {"forms": Counter(), "types": set(), "articles": 0, "occ": []})
        item["forms"][text] += 1
        item["types"].update(types)
        item["articles"] += 1
        if href is not None and len(item["occ"]) < MAX_OCCURRENCES:
            item["occ"].append(Occurrence(name, href))

    def recurring(self, limit: int) -> list[RecurringProblem]:
        found = [
            RecurringProblem(item["forms"].most_common(1)[0][0], key, tuple(sorted(item["types"])), item["articles"],
                             tuple(item["occ"]))
            for key, item in self._found.items() if item["articles"] >= 2
        ]
        found.sort(key=lambda p: (-p.articles, p.key))
        return found[:limit]


class SqlitePhraseTally:
    """A `Tally` in SQLite tables of `db` (created here), so memory stays flat in the archive's size."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript("""
            DROP TABLE IF EXISTS phrase; DROP TABLE IF EXISTS phrase_form; DROP TABLE IF EXISTS phrase_occ;
            CREATE TABLE phrase (key TEXT PRIMARY KEY, articles INTEGER, types TEXT);
            CREATE TABLE phrase_form (key TEXT, form TEXT, n INTEGER, first INTEGER, PRIMARY KEY (key, form));
            CREATE TABLE phrase_occ (key TEXT, seq INTEGER, name TEXT, href TEXT);
            CREATE INDEX phrase_occ_key ON phrase_occ (key, seq);
        """)
        self._seq = 0

    def add(self, key: str, text: str, types: tuple[str, ...], name: str, href: str | None) -> None:
        self._seq += 1
        db = self.db
        found = db.execute("SELECT articles, types FROM phrase WHERE key = ?", (key,)).fetchone()
        if found is None:
            db.execute("INSERT INTO phrase VALUES (?, 1, ?)", (key, json.dumps(sorted(set(types)))))
            occurrences = 0
        else:
            merged = sorted(set(json.loads(found[1])) | set(types))
            db.execute("UPDATE phrase SET articles = articles + 1, types = ? WHERE key = ?", (json.dumps(merged), key))
            occurrences = db.execute("SELECT COUNT(*) FROM phrase_occ WHERE key = ?", (key,)).fetchone()[0]
        db.execute("INSERT INTO phrase_form VALUES (?, ?, 1, ?) ON CONFLICT (key, form) DO UPDATE SET n = n + 1",
                   (key, text, self._seq))
        if href is not None and occurrences < MAX_OCCURRENCES:
            db.execute("INSERT INTO phrase_occ VALUES (?, ?, ?, ?)", (key, self._seq, name, href))

    def recurring(self, limit: int) -> list[RecurringProblem]:
        out = []
        for key, articles, types in self.db.execute(
                "SELECT key, articles, types FROM phrase WHERE articles >= 2 ORDER BY articles DESC, key LIMIT ?",
                (limit,)).fetchall():
            # the most frequent form; a tie goes to the one seen first, as Counter.most_common does
            form = self.db.execute("SELECT form FROM phrase_form WHERE key = ? ORDER BY n DESC, first LIMIT 1",
                                   (key,)).fetchone()[0]
            occ = tuple(Occurrence(n, h) for n, h in self.db.execute(
                "SELECT name, href FROM phrase_occ WHERE key = ? ORDER BY seq", (key,)))
            out.append(RecurringProblem(form, key, tuple(json.loads(types)), articles, occ))
        return out


def build_index_view(rows: Iterable[Mapping[str, Any]],
                     worst_first: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
                     tally: Tally | None = None) -> IndexView:
    """Everything the index page shows, from the summary rows (each with `summary_row_extras` keys).

    One pass over `rows` keeps counts, and the flagged phrases in `tally` (in memory unless one
    on disk is given), never the rows themselves. `worst_first`, when given, streams the rows
    again sorted worst first (an archive sorts them on disk); otherwise they are sorted here, in memory.
    """
    if worst_first is None:
        ordered = sorted(rows, key=_sort_key)
        rows, worst_first = ordered, lambda: ordered
    scores: list[float] = []  # a float per article: small beside the rows, which are not kept
    checked = failed = suppressed = 0
    by_type: Counter[str] = Counter()
    tally = tally if tally is not None else PhraseTally()
    for row in rows:
        suppressed += int(row.get("suppressed") or 0)
        if row.get("error") or row.get("score") is None:
            failed += bool(row.get("error"))
            continue
        checked += 1
        scores.append(float(row["score"]))
        by_type.update({k: int(v) for k, v in (row.get("by_type") or {}).items()})
        for p in row.get("flagged_phrases") or ():
            if set(p.get("signals") or ()) <= STATISTICAL_SIGNALS:
                continue
            s = p.get("sentence")
            n = p.get("flag")  # land on the flag itself where the record says which it is
            anchor = f"#f{s}-{n}" if s is not None and isinstance(n, int) else f"#s{s}" if s is not None else ""
            href = None if not row.get("html") else f"{row['html']}{anchor}"
            tally.add(p["key"], p["text"], tuple(p.get("types") or ()), str(row.get("name")), href)
    start, step, nbins = histogram_bins(scores)
    counts = [0] * nbins
    for score in scores:
        counts[min(nbins - 1, max(0, int((score - start) // step)))] += 1
    top = max(counts) if counts else 0
    width, height = 36.0, 100.0
    bars = [Bar(start + i * step, start + (i + 1) * step, c, 30 + i * (width + 4),
                10 + height - (height * c / top if top else 0), height * c / top if top else 0)
            for i, c in enumerate(counts)]
    return IndexView(
        rows=_Replay(worst_first), histogram=bars, histogram_max=top,
        type_counts=sorted(by_type.items(), key=lambda kv: -kv[1]), recurring=tally.recurring(MAX_RECURRING),
        checked=checked, failed=failed, suppressed=suppressed, scores=scores,
    )


class _Replay:
    """An iterable that asks for a fresh stream each time it is iterated (the template's loop)."""

    def __init__(self, make: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._make = make

    def __iter__(self) -> Any:
        return iter(self._make())
