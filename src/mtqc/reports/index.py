"""The batch index's data: per-article summary extras, and the folder-wide views built from them."""
from __future__ import annotations

import json
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
HISTOGRAM_BINS = 10


def phrase_key(text: str) -> str:
    """How flagged phrases are compared across articles: case, spacing, quotes and a leading "the" aside."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").casefold()
    text = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    return re.sub(r"^the\s+(?!the$)", "", text)  # "the the" (a doubled word) stays itself


def summary_row_extras(report: ArticleReport) -> dict[str, Any]:
    """What the batch index needs from one article beyond its score, for its summary row."""
    return summary_row_extras_from_json(report.to_dict())


def summary_row_extras_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same from a JSON report as written (an unchanged article's, on a rerun).

    `by_type`: flag counts by type; `flagged_phrases`: each distinct flagged phrase once, with
    the first sentence it is in and its flag types (for "recurring problems"); `suppressed`:
    flags not raised again because an editor dismissed them.
    """
    phrases: dict[str, dict[str, Any]] = {}
    for s in data.get("sentences") or []:
        text_of = s.get("text") or ""
        for f in s.get("flags") or []:
            span = f.get("span")
            if not span or len(span) != 2:
                continue
            text = " ".join(text_of[span[0]:span[1]].split())
            key = phrase_key(text)
            if not key or len(key.split()) > MAX_PHRASE_WORDS:
                continue
            entry = phrases.setdefault(key, {"text": text, "key": key, "sentence": s.get("index"), "types": [],
                                             "signals": []})
            if f.get("type") not in entry["types"]:
                entry["types"].append(f.get("type"))
            if f.get("signal") not in entry["signals"]:
                entry["signals"].append(f.get("signal"))
    return {
        "by_type": dict(sorted(((data.get("counts") or {}).get("by_type") or {}).items())),
        "flagged_phrases": list(phrases.values()),
        "suppressed": len(data.get("suppressed") or []),
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
    low: int
    high: int
    count: int
    x: float
    y: float
    height: float


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


def _sort_key(row: Mapping[str, Any]) -> tuple[int, float, str]:
    # worst first: failed articles (no score) need attention before any score
    score = row.get("score")
    return (0, 0.0, str(row.get("name"))) if score is None else (1, float(score), str(row.get("name")))


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
    counts = [0] * HISTOGRAM_BINS
    checked = failed = suppressed = 0
    by_type: Counter[str] = Counter()
    tally = tally if tally is not None else PhraseTally()
    for row in rows:
        suppressed += int(row.get("suppressed") or 0)
        if row.get("error") or row.get("score") is None:
            failed += bool(row.get("error"))
            continue
        checked += 1
        counts[min(HISTOGRAM_BINS - 1, max(0, int(float(row["score"]) // (100 / HISTOGRAM_BINS))))] += 1
        by_type.update({k: int(v) for k, v in (row.get("by_type") or {}).items()})
        for p in row.get("flagged_phrases") or ():
            if set(p.get("signals") or ()) <= STATISTICAL_SIGNALS:
                continue
            s = p.get("sentence")
            href = None if not row.get("html") else f"{row['html']}#s{s}" if s is not None else str(row["html"])
            tally.add(p["key"], p["text"], tuple(p.get("types") or ()), str(row.get("name")), href)
    top = max(counts) if counts else 0
    width, height = 36.0, 100.0
    bars = [Bar(i * 10, i * 10 + 10, c, 30 + i * (width + 4), 10 + height - (height * c / top if top else 0),
                height * c / top if top else 0) for i, c in enumerate(counts)]
    return IndexView(
        rows=_Replay(worst_first), histogram=bars, histogram_max=top,
        type_counts=sorted(by_type.items(), key=lambda kv: -kv[1]), recurring=tally.recurring(MAX_RECURRING),
        checked=checked, failed=failed, suppressed=suppressed,
    )


class _Replay:
    """An iterable that asks for a fresh stream each time it is iterated (the template's loop)."""

    def __init__(self, make: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._make = make

    def __iter__(self) -> Any:
        return iter(self._make())
