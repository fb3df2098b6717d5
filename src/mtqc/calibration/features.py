"""The calibration's features: what it may learn from a sentence of an uncalibrated report."""
from __future__ import annotations

import math
from functools import lru_cache

from ..ingest.lexicon import words_with_offsets, zipf_en, zipf_id
from ..results import Flag, SentenceResult
from ..signals.registry import SIGNALS


def sentence_features(sentence: SentenceResult, n_sentences: int) -> dict[str, float]:
    """Everything the calibration may learn from: signal values, raised flags and candidates, text shape.

    Reads an uncalibrated sentence result (its `flags` are the signals' own flags, its
    `candidates` the weaker ones). Feature names are stable strings; a calibration file lists the
    ones it uses, so a signal that did not run simply contributes its training mean.
    """
    features: dict[str, float] = {f"value:{k}": float(v) for k, v in sentence.signals.items() if math.isfinite(v)}

    def bump(key: str, by: float = 1.0) -> None:
        features[key] = features.get(key, 0.0) + by

    for flag in sentence.flags:
        bump(f"flags:{flag.signal}")
        bump(f"flag_type:{flag.type}")
        if flag.severity != "minor":
            bump(f"major_flags:{flag.signal}")
        if flag.suggestion or flag.advice:  # as fitted: advice was a suggestion before it had its own field
            bump("flags_with_suggestion")
    for candidate in sentence.candidates:
        bump(f"candidates:{candidate.signal}")

    text = sentence.text
    words = words_with_offsets(text)
    n = max(1, len(words))
    lower = [w.lower() for k, (w, _, _) in enumerate(words) if k == 0 or not w[0].isupper()]
    zipfs = [zipf_en(w) for w in lower] or [0.0]
    features.update({
        "text:words": float(len(words)),
        "text:log_words": math.log1p(len(words)),
        "text:commas": float(text.count(",")),
        "text:quotes": float(sum(text.count(q) for q in ('"', "\u201c", "\u201d"))),
        "text:parentheses": float(text.count("(")),
        "text:has_digit": float(any(c.isdigit() for c in text)),
        "text:heading": float(sentence.kind == "heading"),
        "text:position": sentence.index / max(1, n_sentences),
        "text:starts_lowercase": float(text[:1].islower()),
        "text:no_final_punctuation": float(text.rstrip()[-1:] not in ('.', '!', '?', '"', "\u201d", ")")),
        "text:capitalised_share": sum(w[0].isupper() for w, _, _ in words) / n,
        "text:min_zipf_en": min(zipfs),
        "text:mean_zipf_en": sum(zipfs) / len(zipfs),
        "text:rare_en_words": float(sum(z < 3.0 for z in zipfs)),
        "text:indonesian_leaning_words": float(sum(zipf_id(w) > zipf_en(w) for w in lower)),
        "text:of_share": sum(w == "of" for w in lower) / n,
    })
    return features


# A kind of flag is strong evidence, shown whatever its sentence's probability, when the
# sentences it points at are ones editors corrected at least this often (posterior mean): as
# often as the sentences the sentence model itself flags (its threshold sits near 0.83).
STRONG_PRECISION = 0.85
# Before the data speaks, a rule (a glossary, a consistency or mechanics check, an untranslated
# word, an engine's explicit judgement) is taken to be right nineteen times in twenty, with the
# weight of ten annotated flags; so a rule seen twice, wrong once, is still believed, and one
# wrong three times in ten is not. Diffuse evidence (fluency, round-trip and likelihood scores)
# is never strong on its own: the sentence model weighs it.
RULE_PRIOR = (9.5, 0.5)
DIFFUSE_SIGNALS = frozenset({"fluency", "lm_fluency", "roundtrip", "likelihood", "calibration"})


@lru_cache(maxsize=None)  # a calibration's few feature names, looked up for every sentence
def feature_signal(name: str) -> str | None:
    """The signal a feature comes from ("value:fluency.words" -> "fluency"), None for text features.

    A value's key starts with its signal's name and a dot (`Signal.run` checks it), and names may
    hold dots themselves ("consistency.names"), so the longest registered name that prefixes the
    key is its signal. A key of no registered signal (a calibration from an older mtqc) is filed
    under its first part, which names no signal that runs: its feature then contributes nothing.
    """
    kind, _, rest = name.partition(":")
    if kind == "value":
        owners = [signal for signal in SIGNALS if rest.startswith(signal + ".")]
        return max(owners, key=len) if owners else rest.split(".", 1)[0]
    if kind in ("flags", "major_flags", "candidates"):
        return rest
    return None


def flag_kind(flag: Flag) -> str:
    """What kind of evidence a signal's flag is: its signal, type and severity as the signal raised it.

    The signal names the check (`consistency.names`), and type and raised severity tell its
    mechanisms apart where one signal has several (`untranslated:untranslated:major` is a whole
    sentence left in Indonesian, `...:minor` a single word). Each kind's precision is measured
    on annotated articles (`fit.kind_stats`), so strong evidence can be shown on its own.
    """
    return f"{flag.signal}:{flag.type}:{flag.severity}"
