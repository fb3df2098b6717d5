"""The batch index's data: per-article summary extras, and the folder-wide views built from them."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

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


def build_index_view(rows: Iterable[Mapping[str, Any]],
                     worst_first: Callable[[], Iterable[Mapping[str, Any]]] | None = None) -> IndexView:
    """Everything the index page shows, from the summary rows (each with `summary_row_extras` keys).

    One pass over `rows` keeps counts and at most MAX_OCCURRENCES links per flagged phrase, never
    the rows themselves. `worst_first`, when given, streams the rows again sorted worst first
    (an archive sorts them on disk); otherwise they are sorted here, in memory.
    """
    if worst_first is None:
        ordered = sorted(rows, key=_sort_key)
        rows, worst_first = ordered, lambda: ordered
    counts = [0] * HISTOGRAM_BINS
    checked = failed = suppressed = 0
    by_type: Counter[str] = Counter()
    found: dict[str, dict[str, Any]] = {}
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
            item = found.setdefault(p["key"], {"forms": Counter(), "types": set(), "articles": 0, "occ": []})
            item["forms"][p["text"]] += 1
            item["types"].update(p.get("types") or ())
            item["articles"] += 1
            if row.get("html") and len(item["occ"]) < MAX_OCCURRENCES:
                s = p.get("sentence")
                item["occ"].append(Occurrence(str(row.get("name")), f"{row['html']}#s{s}" if s is not None else str(row["html"])))
    top = max(counts) if counts else 0
    width, height = 36.0, 100.0
    bars = [Bar(i * 10, i * 10 + 10, c, 30 + i * (width + 4), 10 + height - (height * c / top if top else 0),
                height * c / top if top else 0) for i, c in enumerate(counts)]
    recurring = [
        RecurringProblem(item["forms"].most_common(1)[0][0], key, tuple(sorted(item["types"])), item["articles"],
                         tuple(item["occ"]))
        for key, item in found.items() if item["articles"] >= 2
    ]
    recurring.sort(key=lambda p: (-p.articles, p.key))
    return IndexView(
        rows=_Replay(worst_first), histogram=bars, histogram_max=top,
        type_counts=sorted(by_type.items(), key=lambda kv: -kv[1]), recurring=recurring[:MAX_RECURRING],
        checked=checked, failed=failed, suppressed=suppressed,
    )


class _Replay:
    """An iterable that asks for a fresh stream each time it is iterated (the template's loop)."""

    def __init__(self, make: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._make = make

    def __iter__(self) -> Any:
        return iter(self._make())
