"""Fit calibrations on annotated articles, and cross-validate them grouped by article.

scikit-learn is imported here only: applying a calibration (`calibration.py`) needs numpy alone.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .apply import CalibrationStep
from .model import (
    DEFAULT_MAJOR_PRECISION, DEFAULT_MAX_FALSE_FLAG_RATE, DEFAULT_SEED, FORMAT,
    MIN_FEATURE_SUPPORT, Calibration, KindStats, LinearHead, calibration_from_json,
)
from .features import DIFFUSE_SIGNALS, RULE_PRIOR, STRONG_PRECISION, flag_kind, sentence_features
from ..errors import CalibrationError
from .evaluate import EvalResult, GoldArticle, align, evaluate
from ..results import ArticleReport
from ..scoring import run_steps

MIN_MAJOR_FLAGS = 20  # a major threshold chosen on fewer sentences than this is noise
ENGINE_FEATURE = "value:llm_mqm.judged"
ENGINE_EXTRA_FALSE_FLAGS = 0.01


def _engine_false_flag_rate(samples: Sequence[Sample]) -> float | None:
    """The share of clean sentences an annotating engine flagged on its own; None if none ran."""
    judged = [s for s in samples if not s.is_error and s.features.get(ENGINE_FEATURE)]
    if not judged:
        return None
    return sum(1 for s in judged if s.features.get("value:llm_mqm.errors", 0) > 0) / len(judged)


def kind_stats(samples: Sequence[Sample]) -> dict[str, KindStats]:
    """Each kind's counts on the annotated sentences, its precision, and whether it is strong.

    A sentence counts once per kind, however many flags of that kind it holds: the question is
    whether a sentence such a flag points at is one editors corrected.
    """
    counts: dict[str, list[int]] = {}
    for s in samples:
        for kind in s.kinds:
            c = counts.setdefault(kind, [0, 0, 0])
            c[0] += 1
            c[1] += s.is_error
            c[2] += s.is_major
    out = {}
    for kind, (n, err, maj) in sorted(counts.items()):
        diffuse = kind.split(":", 1)[0] in DIFFUSE_SIGNALS
        a, b = (1.0, 1.0) if diffuse else RULE_PRIOR
        precision = (a + err) / (a + b + n)
        out[kind] = KindStats(n, err, maj, precision, strong=not diffuse and precision >= STRONG_PRECISION)
    return out


@dataclass(frozen=True)
class Sample:
    """One annotated sentence with the features of the report sentence that covers it."""

    article: str
    features: Mapping[str, float]
    is_error: bool
    is_major: bool
    n_errors: int
    kinds: frozenset[str] = frozenset()  # the kinds of the flags and candidates signals raised on it (`flag_kind`)


def samples_for(gold: GoldArticle, raw: ArticleReport) -> list[Sample]:
    """Pair each annotated sentence with the uncalibrated report sentence covering most of it."""
    n = len(raw.sentences)
    out = []
    for aligned in align(raw, gold):
        best = aligned.best
        if best is None or not best.scored:
            continue
        out.append(Sample(
            gold.name, sentence_features(best, n), aligned.gold.label != "ok", aligned.gold.label == "major",
            len(aligned.gold.errors), frozenset(flag_kind(f) for f in (*best.flags, *best.candidates)),
        ))
    return out


def corpus_sha256(golds: Sequence[GoldArticle]) -> str:
    """Hash of the annotations and article texts, in name order: names the training data."""
    h = hashlib.sha256()
    for gold in sorted(golds, key=lambda g: g.name):
        for path in (gold.gold_path, gold.article_path):
            h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _matrix(samples: Sequence[Sample], features: Sequence[str]) -> Any:
    import numpy as np

    return np.array([[s.features.get(f, 0.0) for f in features] for s in samples], dtype=float)


def _fit_heads(X: Any, samples: Sequence[Sample], c: float, seed: int) -> tuple[Any, Any, Any]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression, PoissonRegressor

    y_err = np.array([s.is_error for s in samples])
    y_maj = np.array([s.is_major for s in samples])
    y_cnt = np.array([s.n_errors for s in samples], dtype=float)
    if len(set(y_err)) < 2 or len(set(y_maj)) < 2:
        raise CalibrationError(
            "calibration needs annotated sentences of every kind: clean ones, erroneous ones and major ones; "
            f"found {int(y_err.sum())} erroneous and {int(y_maj.sum())} major of {len(samples)}"
        )
    from threadpoolctl import threadpool_limits

    # thousands of rows by ~50 features: BLAS threads only add overhead (20x slower on a busy 2-core machine)
    with threadpool_limits(1):
        err = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(X, y_err)
        maj = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(X, y_maj)
        cnt = PoissonRegressor(alpha=1.0 / (c * len(samples)), max_iter=1000).fit(X, y_cnt)
    return err, maj, cnt


def choose_thresholds(
    p_error: Sequence[float], p_major: Sequence[float], samples: Sequence[Sample],
    max_false_flag_rate: float, major_precision: float, preflagged: Sequence[bool] | None = None,
) -> tuple[float, float]:
    """Thresholds from out-of-fold probabilities.

    The major threshold is the lowest at which sentences given a major flag are erroneous at
    least `major_precision` of the time (over at least MIN_MAJOR_FLAGS sentences; else no
    major flags). The flag threshold is then the lowest at which clean sentences flagged
    (minor or major) stay at or under `max_false_flag_rate`.
    """
    order = sorted(range(len(samples)), key=lambda i: -p_major[i])
    major_t, hits = 1.0 + 1e-9, 0
    for k, i in enumerate(order, start=1):
        hits += samples[i].is_error
        at_tie = k < len(order) and p_major[order[k]] == p_major[i]
        if not at_tie and k >= MIN_MAJOR_FLAGS and hits / k >= major_precision:
            major_t = p_major[i]
    clean = [i for i, s in enumerate(samples) if not s.is_error]
    if not clean:
        raise CalibrationError("calibration needs clean (label 'ok') sentences to bound false flags")
    # strong evidence is shown whatever the thresholds: it spends the false-flag budget first
    shown = preflagged or [False] * len(samples)
    clean = [i for i in clean if not shown[i]]
    already = sum(shown[i] for i, s in enumerate(samples) if not s.is_error) + sum(p_major[i] >= major_t for i in clean)
    budget = max_false_flag_rate * len(clean)
    flag_t = 1.0 + 1e-9
    for p in sorted({p_error[i] for i in clean if p_major[i] < major_t}, reverse=True):
        flagged = already + sum(p_error[i] >= p for i in clean if p_major[i] < major_t)
        if flagged > budget:
            break
        flag_t = p
    return min(flag_t, 1.0), min(major_t, 1.0)


def _oof(samples: Sequence[Sample], features: Sequence[str], folds: int, c: float, seed: int) -> tuple[list[float], list[float]]:
    import numpy as np
    from sklearn.model_selection import GroupKFold

    groups = [s.article for s in samples]
    k = min(folds, len(set(groups)))
    if k < 2:
        raise CalibrationError("choosing thresholds needs annotated sentences from at least 2 articles")
    X = _matrix(samples, features)
    p_err, p_maj = np.zeros(len(samples)), np.zeros(len(samples))
    for train, test in GroupKFold(n_splits=k).split(X, groups=groups):
        sub = [samples[i] for i in train]
        mean, scale = _standardiser(X[train])
        err, maj, _ = _fit_heads((X[train] - mean) / scale, sub, c, seed)
        Z = (X[test] - mean) / scale
        p_err[test] = err.predict_proba(Z)[:, 1]
        p_maj[test] = maj.predict_proba(Z)[:, 1]
    return list(p_err), list(p_maj)


C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


def choose_c(samples: Sequence[Sample], features: Sequence[str], folds: int, seed: int) -> float:
    """The regularisation with the lowest grouped out-of-fold log-loss (error + major heads)."""
    from sklearn.metrics import log_loss

    y_err = [s.is_error for s in samples]
    y_maj = [s.is_major for s in samples]
    best_c, best_loss = C_GRID[0], float("inf")
    for c in C_GRID:
        p_err, p_maj = _oof(samples, features, folds, c, seed)
        loss = log_loss(y_err, p_err, labels=[False, True]) + log_loss(y_maj, p_maj, labels=[False, True])
        if loss < best_loss - 1e-9:
            best_c, best_loss = c, loss
    return best_c


def _standardiser(X: Any) -> tuple[Any, Any]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fit_calibration(
    samples: Sequence[Sample],
    *,
    name: str = "calibration",
    seed: int = DEFAULT_SEED,
    folds: int = 5,
    c: float | None = None,
    max_false_flag_rate: float = DEFAULT_MAX_FALSE_FLAG_RATE,
    major_precision: float = DEFAULT_MAJOR_PRECISION,
    provenance: Mapping[str, Any] | None = None,
) -> Calibration:
    """Fit the three heads on all samples; thresholds from grouped out-of-fold predictions.

    `c` (inverse L2 strength) is chosen from C_GRID by grouped cross-validation when None.
    """
    import sklearn

    if not samples:
        raise CalibrationError("no annotated sentence could be matched to a report sentence")
    support: dict[str, int] = {}
    for s in samples:
        for key, value in s.features.items():
            if value:
                support[key] = support.get(key, 0) + 1
    features = sorted(k for k, n in support.items() if n >= MIN_FEATURE_SUPPORT)
    if not features:
        raise CalibrationError("no feature varies across the annotated sentences")
    if c is None:
        c = choose_c(samples, features, folds, seed)
    X = _matrix(samples, features)
    mean, scale = _standardiser(X)
    err, maj, cnt = _fit_heads((X - mean) / scale, samples, c, seed)
    p_err, p_maj = _oof(samples, features, folds, c, seed)
    kinds = kind_stats(samples)
    strong = [any(kinds[k].strong for k in s.kinds) for s in samples]
    engine_rate = _engine_false_flag_rate(samples)
    if engine_rate is not None:  # the engine's own false flags are the budget; weak evidence may add one point
        max_false_flag_rate = min(max_false_flag_rate, engine_rate + ENGINE_EXTRA_FALSE_FLAGS)
    flag_t, major_t = choose_thresholds(p_err, p_maj, samples, max_false_flag_rate, major_precision, strong)
    calibration = Calibration(
        name=name,
        features=tuple(features),
        mean=tuple(float(x) for x in mean),
        scale=tuple(float(x) for x in scale),
        error_head=LinearHead(tuple(float(x) for x in err.coef_[0]), float(err.intercept_[0]), "logit"),
        major_head=LinearHead(tuple(float(x) for x in maj.coef_[0]), float(maj.intercept_[0]), "logit"),
        count_head=LinearHead(tuple(float(x) for x in cnt.coef_), float(cnt.intercept_), "log"),
        flag_threshold=flag_t,
        major_threshold=major_t,
        kinds=kinds,
        provenance={
            "articles": len({s.article for s in samples}),
            "sentences": len(samples),
            "seed": seed,
            "folds_for_thresholds": folds,
            "C": c,
            "max_false_flag_rate": max_false_flag_rate,
            "major_precision": major_precision,
            "model": "standardised features; LogisticRegression (error, major), PoissonRegressor (error count)",
            "scikit_learn": sklearn.__version__,
            **dict(provenance or {}),
        },
    )
    # round-trip through the file format so what is used is exactly what is stored
    return calibration_from_json(calibration.to_json(), name)


def cross_validate(
    golds: Sequence[GoldArticle],
    raw_reports: Sequence[ArticleReport],
    *,
    folds: int,
    seed: int = DEFAULT_SEED,
    c: float | None = None,
    max_false_flag_rate: float = DEFAULT_MAX_FALSE_FLAG_RATE,
    major_precision: float = DEFAULT_MAJOR_PRECISION,
    on_fold: Callable[[int], None] | None = None,
) -> tuple[EvalResult, EvalResult, list[ArticleReport]]:
    """Grouped by article: each article is scored by a calibration fitted without it.

    Returns the metrics at any severity, at major severity, and the held-out reports.
    """
    from sklearn.model_selection import GroupKFold

    if len(golds) < max(2, folds):
        raise CalibrationError(f"--folds {folds} needs at least {max(2, folds)} annotated articles; found {len(golds)}")
    samples = [samples_for(g, r) for g, r in zip(golds, raw_reports)]
    held_out: list[ArticleReport | None] = [None] * len(golds)
    splitter = GroupKFold(n_splits=folds)
    indices = list(range(len(golds)))
    for fold, (train, test) in enumerate(splitter.split(indices, groups=indices)):
        cal = fit_calibration(
            [s for i in train for s in samples[i]], name=f"fold{fold}", seed=seed, folds=folds, c=c,
            max_false_flag_rate=max_false_flag_rate, major_precision=major_precision,
        )
        for i in test:
            held_out[i] = run_steps(raw_reports[i], [CalibrationStep(cal)])
        if on_fold:
            on_fold(fold)
    reports = [r for r in held_out if r is not None]
    pairs = list(zip(golds, reports))
    return evaluate(pairs, "minor"), evaluate(pairs, "major"), reports


__all__ = ["Sample", "samples_for", "fit_calibration", "cross_validate", "choose_thresholds", "corpus_sha256", "FORMAT"]
