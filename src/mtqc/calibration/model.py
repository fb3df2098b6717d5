"""Learned calibration: from the signals' per-sentence values to probabilities, flags and a score.

The signals see symptoms (a rare word pair, a glossary hit, a long sentence); whether a sentence
is really wrong is learned from annotated articles. Three linear models over one standardised
feature vector give, per sentence, the probability that an editor marks it erroneous
(`p_error`), that it holds a major error (`p_major`), and the expected number of errors. A
sentence is flagged when `p_error` or `p_major` reaches its threshold; thresholds are chosen on
out-of-fold predictions so that the false-flag rate and the precision of major flags hold on
articles the models never saw. The article score is 100 x (1 - expected MQM penalty per word).

Models are fitted with scikit-learn and stored as plain JSON coefficients (loading a pickle
would run code), so applying a calibration needs only numpy, and the file is reproducible
byte for byte from the same data and seed.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

from ..errors import CalibrationError
from .features import feature_signal

FORMAT = "mtqc-calibration/1"
DEFAULT_CALIBRATION = "default-calibration.json"
# Gold quality counts each error once and a major sentence's first error five times (see
# `evaluation.gold_quality`): the expected penalty uses the same weights.
DEFAULT_SEED = 0
# The goals are at most 20% of clean sentences flagged and major flags at least 90% right; the
# targets sit inside them, because thresholds chosen on inner folds land within about +-0.007 of
# their target on unseen articles (grouped cross-validation on train/: 0.195 gave 0.201).
DEFAULT_MAX_FALSE_FLAG_RATE = 0.19
DEFAULT_MAJOR_PRECISION = 0.905
MIN_FEATURE_SUPPORT = 5  # a feature non-zero in fewer training sentences cannot be learned


@dataclass(frozen=True)
class LinearHead:
    """A linear model over the standardised features: logistic (probability) or Poisson (count)."""

    coef: tuple[float, ...]
    intercept: float
    link: str  # "logit" | "log"

    def predict(self, z: Sequence[float]) -> float:
        eta = self.intercept + sum(c * x for c, x in zip(self.coef, z))
        if self.link == "logit":
            return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, eta))))
        return math.exp(max(-30.0, min(10.0, eta)))

    def to_dict(self) -> dict[str, Any]:
        return {"link": self.link, "intercept": _r(self.intercept), "coef": [_r(c) for c in self.coef]}


@dataclass(frozen=True)
class SentencePrediction:
    p_error: float
    p_major: float
    expected_errors: float


@dataclass(frozen=True)
class KindStats:
    """How often one kind of flag (`features.flag_kind`) sat on a sentence editors corrected."""

    flags: int  # annotated sentences it was raised on
    in_error: int  # of those, sentences annotated erroneous
    in_major: int  # ... and annotated major
    precision: float  # estimated share of its sentences that are erroneous (with the prior, `fit.kind_stats`)
    strong: bool  # precise enough to be shown whatever the sentence's probability

    def to_dict(self) -> dict[str, Any]:
        return {"flags": self.flags, "in_error": self.in_error, "in_major": self.in_major,
                "precision": _r(self.precision), "strong": self.strong}


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration: feature standardisation, three heads, two thresholds, provenance."""

    name: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    error_head: LinearHead
    major_head: LinearHead
    count_head: LinearHead
    flag_threshold: float  # p_error at or above which a sentence is flagged
    major_threshold: float  # p_major at or above which its flags are major
    provenance: Mapping[str, Any] = field(default_factory=dict)
    sha256: str = ""  # of the file as stored; set by `load_calibration`/`to_json`
    # measured precision of each kind of flag (`features.flag_kind`); kinds never seen in the
    # annotated data fall back to `apply.PRIOR_KINDS`
    kinds: Mapping[str, KindStats] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.sha256[:12]}" if self.sha256 else self.name

    def thresholds(self) -> tuple[tuple[str, float], ...]:
        return (("calibration.flag_p_error", self.flag_threshold), ("calibration.major_p_major", self.major_threshold))

    def standardise(self, features: Mapping[str, float], ran: Collection[str] | None = None) -> list[float]:
        """Standardised feature vector. A missing feature is 0, as in training (no flag, no candidate),
        except that the features of a signal that did not run (not in `ran`) sit at their training
        mean, so that they contribute nothing."""
        out = []
        for name, mu, sd in zip(self.features, self.mean, self.scale):
            signal = feature_signal(name)
            if ran is not None and signal is not None and signal not in ran:
                out.append(0.0)
            else:
                out.append((features.get(name, 0.0) - mu) / sd)
        return out

    def predict(self, features: Mapping[str, float], ran: Collection[str] | None = None) -> SentencePrediction:
        z = self.standardise(features, ran)
        return SentencePrediction(self.error_head.predict(z), self.major_head.predict(z), self.count_head.predict(z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "features": list(self.features),
            "mean": [_r(x) for x in self.mean],
            "scale": [_r(x) for x in self.scale],
            "heads": {
                "error": self.error_head.to_dict(),
                "major": self.major_head.to_dict(),
                "errors_count": self.count_head.to_dict(),
            },
            "thresholds": {"flag_p_error": _r(self.flag_threshold), "major_p_major": _r(self.major_threshold)},
            "kinds": {k: v.to_dict() for k, v in sorted(self.kinds.items())},
            "provenance": dict(self.provenance),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _r(x: float) -> float:
    # rounding keeps the file identical across BLAS builds whose last bits differ
    return float(f"{x:.8g}")


def _head(raw: Any, n: int, where: str) -> LinearHead:
    if not isinstance(raw, dict) or raw.get("link") not in ("logit", "log"):
        raise CalibrationError(f"{where}: expected a head with link 'logit' or 'log'")
    coef = raw.get("coef")
    if not isinstance(coef, list) or len(coef) != n or not all(isinstance(c, (int, float)) for c in coef):
        raise CalibrationError(f"{where}: expected {n} numeric coefficients")
    intercept = raw.get("intercept")
    if not isinstance(intercept, (int, float)):
        raise CalibrationError(f"{where}: expected a numeric intercept")
    return LinearHead(tuple(float(c) for c in coef), float(intercept), raw["link"])


def calibration_from_json(text: str, source: str = "<calibration>") -> Calibration:
    """Parse and validate a calibration file's text; raises CalibrationError with what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CalibrationError(f"{source}: not valid JSON ({exc}); rebuild it with `mtqc calibrate`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CalibrationError(f"{source}: not an mtqc calibration (expected \"format\": \"{FORMAT}\")")
    features = data.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise CalibrationError(f"{source}: 'features' must be a list of names")
    n = len(features)
    vectors = {}
    for key in ("mean", "scale"):
        vec = data.get(key)
        if not isinstance(vec, list) or len(vec) != n or not all(isinstance(x, (int, float)) for x in vec):
            raise CalibrationError(f"{source}: '{key}' must hold {n} numbers")
        vectors[key] = tuple(float(x) for x in vec)
    if any(s <= 0 for s in vectors["scale"]):
        raise CalibrationError(f"{source}: 'scale' values must be positive")
    heads = data.get("heads") or {}
    thresholds = data.get("thresholds") or {}
    try:
        flag_t, major_t = float(thresholds["flag_p_error"]), float(thresholds["major_p_major"])
    except (KeyError, TypeError, ValueError):
        raise CalibrationError(f"{source}: 'thresholds' needs flag_p_error and major_p_major") from None
    if not (0 <= flag_t <= 1 and 0 <= major_t <= 1):
        raise CalibrationError(f"{source}: thresholds must be probabilities between 0 and 1")
    return Calibration(
        name=str(data.get("name") or Path(source).stem),
        features=tuple(features),
        mean=vectors["mean"],
        scale=vectors["scale"],
        error_head=_head(heads.get("error"), n, f"{source}: heads.error"),
        major_head=_head(heads.get("major"), n, f"{source}: heads.major"),
        count_head=_head(heads.get("errors_count"), n, f"{source}: heads.errors_count"),
        flag_threshold=flag_t,
        major_threshold=major_t,
        provenance=provenance if isinstance(provenance := data.get("provenance"), dict) else {},
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kinds=_kinds(data.get("kinds") or {}, source),
    )


def _kinds(raw: Any, source: str) -> dict[str, KindStats]:
    """The 'kinds' table (absent from files written before it existed: then empty)."""
    if not isinstance(raw, dict):
        raise CalibrationError(f"{source}: 'kinds' must map flag kinds to their counts")
    out = {}
    for kind, v in raw.items():
        entry: dict[str, Any] = v if isinstance(v, dict) else {}
        counts = [entry.get(k) for k in ("flags", "in_error", "in_major")]
        precision, strong = entry.get("precision"), entry.get("strong")
        whole = [c for c in counts if isinstance(c, int) and not isinstance(c, bool) and c >= 0]
        if len(whole) != 3 or not whole[0] >= whole[1] >= whole[2] or not isinstance(strong, bool) \
                or not isinstance(precision, (int, float)) or isinstance(precision, bool) or not 0 <= precision <= 1:
            raise CalibrationError(f"{source}: kinds.{kind} needs flags >= in_error >= in_major >= 0, "
                                   "a precision between 0 and 1, and 'strong'")
        out[str(kind)] = KindStats(whole[0], whole[1], whole[2], float(precision), strong)
    return out


def load_calibration(path: Path | None = None) -> Calibration:
    """A calibration file, or the shipped default (fitted on the train corpus) when `path` is None."""
    if path is None:
        text = resources.files("mtqc").joinpath("data", DEFAULT_CALIBRATION).read_text(encoding="utf-8")
        return calibration_from_json(text, DEFAULT_CALIBRATION)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read calibration ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CalibrationError(f"{path}: a calibration file is UTF-8 JSON; this one is not") from None
    return calibration_from_json(text, str(path))
