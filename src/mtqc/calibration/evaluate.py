"""Measure mtqc against annotated articles: read annotations, align sentences, compute metrics.

The metrics are the ones `shared/eval/score_flags.py` defines (its docstring): sentence-level
precision, recall and F1 of flagged against annotated sentences, recall of major sentences, the
false-flag rate on clean sentences, span recall (annotated error spans that a flag's span
overlaps), and Pearson and Kendall tau-b between the report score and an MQM-style gold quality
per article. Sentences are matched by position in the whitespace- and quote-normalised article,
so mtqc's segmentation may differ from the annotation's.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import GoldError
from ..results import ArticleReport, SentenceResult

LABELS = ("ok", "minor", "major")
ERROR_TYPES = ("terminology", "mistranslation", "fluency", "untranslated", "consistency", "other")
SEVERITY_RANK = {"minor": 1, "major": 2, "critical": 3}
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-", "\u2014": "-"})


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


# ---------------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class GoldSpan:
    type: str
    span: str
    suggestion: str = ""


@dataclass(frozen=True)
class GoldSentence:
    text: str
    label: str  # ok | minor | major
    errors: tuple[GoldSpan, ...] = ()


@dataclass(frozen=True)
class GoldArticle:
    """One annotated article: where its text is, and its sentence annotations."""

    gold_path: Path
    article_path: Path
    sentences: tuple[GoldSentence, ...]

    @property
    def name(self) -> str:
        return self.article_path.name

    def quality(self) -> float | None:
        """MQM-style gold quality: 100 x (1 - penalty / words); each error 1, a major sentence +4."""
        words = sum(len(s.text.split()) for s in self.sentences)
        penalty = sum(len(s.errors) + (4 if s.label == "major" else 0) for s in self.sentences)
        return 100.0 * (1.0 - penalty / words) if words else None


def parse_gold(data: Any, gold_path: Path) -> GoldArticle:
    """Validate one parsed annotation; raises GoldError naming the first problem."""
    where = str(gold_path)
    if not isinstance(data, dict):
        raise GoldError(f"{where}: expected a JSON object with 'article' and 'sentences'")
    article = data.get("article")
    if not isinstance(article, str) or not article.strip() or "/" in article or "\\" in article or article in (".", ".."):
        raise GoldError(f"{where}: 'article' must name the article file beside it (a plain file name)")
    raw_sentences = data.get("sentences")
    if not isinstance(raw_sentences, list):
        raise GoldError(f"{where}: 'sentences' must be a list")
    sentences = []
    for i, s in enumerate(raw_sentences):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str) or s.get("label") not in LABELS:
            raise GoldError(f"{where}: sentence {i}: needs 'text' (string) and 'label' (one of {', '.join(LABELS)})")
        errors = []
        for j, e in enumerate(s.get("errors") or []):
            if not isinstance(e, dict) or not isinstance(e.get("span"), str) or not isinstance(e.get("type"), str):
                raise GoldError(f"{where}: sentence {i}, error {j}: needs 'type' and 'span' strings")
            suggestion = e.get("suggestion")
            errors.append(GoldSpan(e["type"], e["span"], suggestion if isinstance(suggestion, str) else ""))
        sentences.append(GoldSentence(s["text"], s["label"], tuple(errors)))
    return GoldArticle(gold_path, gold_path.parent / article, tuple(sentences))


def load_gold_dir(directory: Path) -> list[GoldArticle]:
    """Every `*.gold.json` in a folder, validated, with its article present."""
    if not directory.is_dir():
        raise GoldError(f"{directory}: not a folder of *.gold.json annotations")
    golds = []
    for path in sorted(directory.glob("*.gold.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise GoldError(f"{path}: cannot read annotation ({exc})") from None
        gold = parse_gold(data, path)
        if not gold.article_path.is_file():
            raise GoldError(f"{path}: its article {gold.article_path.name} is not beside it")
        golds.append(gold)
    if not golds:
        raise GoldError(f"{directory}: no *.gold.json annotations found")
    return golds


def load_gold_dirs(directories: Sequence[Path]) -> list[GoldArticle]:
    golds = [g for d in directories for g in load_gold_dir(d)]
    names = [g.name for g in golds]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GoldError(f"the same article is annotated twice across folders: {', '.join(dupes[:5])}")
    return golds


# ---------------------------------------------------------------------------- alignment


def locate(article: str, pieces: Sequence[str]) -> list[tuple[int, int] | None]:
    """Character range of each piece in the normalised article, searched in order."""
    out: list[tuple[int, int] | None] = []
    pos = 0
    for piece in pieces:
        p = normalise(piece)
        i = article.find(p, pos) if p else -1
        if i < 0 and p:
            i = article.find(p)
        if i < 0:
            out.append(None)
            continue
        out.append((i, i + len(p)))
        pos = i + len(p)
    return out


@dataclass(frozen=True)
class AlignedSentence:
    """A gold sentence with the report sentences that cover it (the best-overlapping first)."""

    gold: GoldSentence
    gold_range: tuple[int, int]
    matches: tuple[tuple[SentenceResult, tuple[int, int]], ...]

    @property
    def best(self) -> SentenceResult | None:
        return self.matches[0][0] if self.matches else None


def align(report: ArticleReport, gold: GoldArticle, article_text: str | None = None) -> list[AlignedSentence]:
    text = normalise(article_text if article_text is not None else gold.article_path.read_text(encoding="utf-8"))
    rsents = list(report.sentences)
    rranges = locate(text, [s.text for s in rsents])
    granges = locate(text, [s.text for s in gold.sentences])
    out = []
    for gs, gr in zip(gold.sentences, granges):
        if gr is None:
            continue
        overlapping = []
        for s, r in zip(rsents, rranges):
            if r is None:
                continue
            overlap = min(r[1], gr[1]) - max(r[0], gr[0])
            if overlap > 0.5 * min(r[1] - r[0], gr[1] - gr[0]):
                overlapping.append((overlap, s, r))
        overlapping.sort(key=lambda t: -t[0])
        out.append(AlignedSentence(gs, gr, tuple((s, r) for _, s, r in overlapping)))
    return out


# ---------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class EvalResult:
    """Sentence- and article-level agreement of reports with annotations."""

    articles: int
    sentences: int
    precision: float
    recall: float
    f1: float
    major_recall: float | None
    false_flag_rate: float | None
    span_recall: float | None
    span_recall_by_type: dict[str, float | None]
    article_pearson: float | None
    article_kendall: float | None
    min_severity: str = "minor"
    per_article: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        r = lambda x: None if x is None else round(x, 3)  # noqa: E731
        return {
            "articles": self.articles,
            "sentences": self.sentences,
            "min_severity": self.min_severity,
            "precision": r(self.precision),
            "recall": r(self.recall),
            "f1": r(self.f1),
            "major_recall": r(self.major_recall),
            "false_flag_rate": r(self.false_flag_rate),
            "span_recall": r(self.span_recall),
            "span_recall_by_type": {k: r(v) for k, v in self.span_recall_by_type.items()},
            "article_pearson": r(self.article_pearson),
            "article_kendall": r(self.article_kendall),
            "per_article": list(self.per_article),
        }


def evaluate(pairs: Iterable[tuple[GoldArticle, ArticleReport]], min_severity: str = "minor") -> EvalResult:
    """Score reports against their annotations, as `score_flags.py` does."""
    floor = SEVERITY_RANK[min_severity]
    tp = fp = fn = tn = 0
    major_total = major_hit = 0
    spans: dict[str, list[int]] = {t: [0, 0] for t in ERROR_TYPES}
    per_article = []
    pairs_q: list[tuple[float, float]] = []  # (annotated quality, report score) per article
    for gold, report in pairs:
        a_tp = a_fp = a_fn = a_tn = a_major = a_major_hit = a_spans = a_spans_hit = 0
        for aligned in align(report, gold):
            flags = [(f, r) for s, r in aligned.matches for f in s.flags if SEVERITY_RANK[f.severity] >= floor]
            bad, flagged = aligned.gold.label != "ok", bool(flags)
            if bad and flagged:
                tp += 1; a_tp += 1  # noqa: E702
            elif bad:
                fn += 1; a_fn += 1  # noqa: E702
            elif flagged:
                fp += 1; a_fp += 1  # noqa: E702
            else:
                tn += 1; a_tn += 1  # noqa: E702
            if aligned.gold.label == "major":
                major_total += 1; a_major += 1  # noqa: E702
                major_hit += flagged; a_major_hit += flagged  # noqa: E702
            for err in aligned.gold.errors:
                counter = spans.setdefault(err.type, [0, 0])
                counter[0] += 1; a_spans += 1  # noqa: E702
                start = normalise(aligned.gold.text).find(normalise(err.span))
                if start < 0:
                    continue
                g0 = aligned.gold_range[0] + start
                g1 = g0 + len(normalise(err.span))
                if any(f.span and min(r[0] + f.span[1], g1) > max(r[0] + f.span[0], g0) for f, r in flags):
                    counter[1] += 1; a_spans_hit += 1  # noqa: E702
        quality = gold.quality()
        per_article.append({"article": gold.name, "tp": a_tp, "fp": a_fp, "fn": a_fn,
                            "gold_quality": quality, "score": report.score,
                            "tn": a_tn, "major": a_major, "major_hit": a_major_hit,
                            "spans": a_spans, "spans_hit": a_spans_hit})
        if quality is not None:
            pairs_q.append((quality, report.score))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    total_spans = sum(c[0] for c in spans.values())
    return EvalResult(
        articles=len(per_article),
        sentences=tp + fp + fn + tn,
        precision=p,
        recall=r,
        f1=2 * p * r / (p + r) if p + r else 0.0,
        major_recall=major_hit / major_total if major_total else None,
        false_flag_rate=fp / (fp + tn) if fp + tn else None,
        span_recall=sum(c[1] for c in spans.values()) / total_spans if total_spans else None,
        span_recall_by_type={t: (c[1] / c[0] if c[0] else None) for t, c in sorted(spans.items())},
        article_pearson=pearson(pairs_q),
        article_kendall=kendall_tau_b(pairs_q),
        min_severity=min_severity,
        per_article=tuple(per_article),
    )


def pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 3:
        return None
    from scipy.stats import pearsonr

    xs, ys = zip(*pairs)
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return float(pearsonr(xs, ys).statistic)


def kendall_tau_b(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 3:
        return None
    from scipy.stats import kendalltau

    xs, ys = zip(*pairs)
    tau = kendalltau(xs, ys, variant="b").statistic
    return None if tau is None or math.isnan(tau) else float(tau)


# ---------------------------------------------------------------------------- uncertainty


BOOTSTRAP_METRICS = ("precision", "recall", "f1", "major_recall", "false_flag_rate", "span_recall",
                     "article_pearson", "article_kendall")


@dataclass(frozen=True)
class Bootstrap:
    """Percentile intervals of the metrics when the articles are resampled with replacement.

    Articles, not sentences, are resampled: errors cluster in articles (one translation run,
    one topic), so a sentence-level bootstrap would claim more certainty than the data gives.
    A metric undefined in some resamples (no clean sentence drawn, say) is left out of those.
    """

    resamples: int
    seed: int
    level: float
    intervals: dict[str, tuple[float, float] | None]

    def to_dict(self) -> dict[str, Any]:
        return {"resamples": self.resamples, "seed": self.seed, "level": self.level,
                "by_article": True,
                "intervals": {k: None if v is None else [round(v[0], 3), round(v[1], 3)]
                              for k, v in self.intervals.items()}}


def bootstrap(result: EvalResult, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> Bootstrap:
    """Confidence intervals for `result`'s metrics, from its per-article counts."""
    import numpy as np

    if resamples < 1 or not 0 < level < 1:
        raise ValueError("need at least one resample and a level between 0 and 1")
    rows = result.per_article
    counts = {k: np.array([float(r[k]) for r in rows]) for k in
              ("tp", "fp", "fn", "tn", "major", "major_hit", "spans", "spans_hit")}
    rated = [(float(r["gold_quality"]), float(r["score"])) for r in rows if r["gold_quality"] is not None]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(rows), size=(resamples, len(rows))) if rows else np.zeros((resamples, 0), int)
    s = {k: v[picks].sum(axis=1) for k, v in counts.items()}

    def ratio(num: Any, den: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    precision, recall = ratio(s["tp"], s["tp"] + s["fp"]), ratio(s["tp"], s["tp"] + s["fn"])
    samples: dict[str, Any] = {
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "major_recall": ratio(s["major_hit"], s["major"]),
        "false_flag_rate": ratio(s["fp"], s["fp"] + s["tn"]),
        "span_recall": ratio(s["spans_hit"], s["spans"]),
    }
    pearsons, kendalls = np.full(resamples, np.nan), np.full(resamples, np.nan)
    if len(rated) >= 3:
        quality, score = np.array(rated).T
        draws = rng.integers(0, len(rated), size=(resamples, len(rated)))
        for i, d in enumerate(draws):
            pairs = list(zip(quality[d], score[d]))
            # the same statistics as the point estimates; None (a constant resample) stays NaN
            pearsons[i] = np.nan if (r := pearson(pairs)) is None else r
            kendalls[i] = np.nan if (t := kendall_tau_b(pairs)) is None else t
    samples["article_pearson"], samples["article_kendall"] = pearsons, kendalls
    tail = (1 - level) / 2 * 100
    intervals: dict[str, tuple[float, float] | None] = {}
    for name in BOOTSTRAP_METRICS:
        values = samples[name][~np.isnan(samples[name])]
        intervals[name] = (None if len(values) < resamples / 2 else
                           (float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))))
    return Bootstrap(resamples, seed, level, intervals)
