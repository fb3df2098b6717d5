"""Offline fluency: rare English word sequences (symspellpy's unigram/bigram counts) and sentence length.

A bigram of two common words that English almost never puts side by side is where machine
translation most often garbles word order. Long sentences are where it garbles structure, so
length raises the risk too. The signal's own flag thresholds apply when mtqc runs uncalibrated;
normally its values are features of the learned calibration (see `calibration.py`), and its
rarest word pairs are offered as hints that locate the problem in a sentence the calibration flags.
"""
from __future__ import annotations

import math

from ..ingest.lexicon import ngram_counts, words_with_offsets
from .base import ArticleContext, Signal, SignalOutput


class NgramFluencySignal(Signal):
    """Rare English word pairs and long sentences (n-gram counts)."""

    name = "fluency"
    flag_types = ("fluency",)
    THRESHOLDS = {
        "min_unigram_count": 1000.0,  # both words common enough that their pairing is informative
        "rare_pmi": -4.0,  # pointwise mutual information below this: a pairing English avoids
        "long_sentence_words": 18.0,  # words beyond this add risk, one point per `words_per_point`
        "words_per_point": 5.0,
        "flag_risk": 5.0,  # risk at which a sentence is flagged minor (uncalibrated runs)
        "major_risk": 7.0,  # ... and major
    }
    MAX_HINTS = 6  # enough to locate the problems of a long sentence without marking all of it

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        counts = ngram_counts()
        total = counts.total_unigrams
        th = self.thresholds
        outputs = []
        for sentence in ctx.sentences:
            text = sentence.text
            words = words_with_offsets(text)
            scored: list[tuple[float, int, int]] = []
            unseen = 0
            for (w1, s1, e1), (w2, s2, e2) in zip(words, words[1:]):
                if text[e1:s2].strip():
                    continue  # punctuation between: not a sequence
                if (w1[0].isupper() and s1 > 0) or w2[0].isupper():
                    continue  # names say nothing about fluency
                a, b = w1.lower(), w2.lower()
                ca, cb = counts.unigrams.get(a, 0), counts.unigrams.get(b, 0)
                if ca < th["min_unigram_count"] or cb < th["min_unigram_count"]:
                    continue
                pair_count = counts.bigram(a, b)
                unseen += pair_count == 0
                pmi = math.log((pair_count + 0.5) * total / (ca * cb))
                scored.append((pmi, s1, e2))
            rare = sorted(x for x in scored if x[0] < th["rare_pmi"])
            length_risk = max(0.0, (len(words) - th["long_sentence_words"]) / th["words_per_point"])
            risk = len(rare) + length_risk
            values = {
                "fluency.words": float(len(words)),
                "fluency.rare_bigrams": float(len(rare)),
                "fluency.mean_pmi": sum(x[0] for x in scored) / len(scored) if scored else 0.0,
                "fluency.min_pmi": min(x[0] for x in scored) if scored else 0.0,
                "fluency.unseen_share": unseen / len(scored) if scored else 0.0,
                "fluency.risk": risk,
            }
            flags, candidates = [], []
            worst = rare[:2]
            rare_text = ", ".join(f"'{text[s:e]}'" for _, s, e in worst)
            if sentence.kind == "sentence" and risk >= th["flag_risk"]:
                severity = "major" if risk >= th["major_risk"] else "minor"
                span = (worst[0][1], worst[0][2]) if worst else None  # the least likely pair
                reason = f"unusual word sequences ({rare_text})" if worst else "no single odd word pair"
                message = (
                    f"Fluency risk {risk:.1f}: {len(words)} words, {len(rare)} rare word pairs; {reason}. "
                    "Long sentences with unusual word order are where machine translation most often garbles meaning."
                )
                flags.append(self.flag("fluency", severity, span, message, None))
            # the other rare pairs locate further problems should the calibration flag the sentence
            for _, start, end in rare[1 if flags else 0:self.MAX_HINTS]:
                candidates.append(self.flag(
                    "fluency", "minor", (start, end),
                    f"Unusual English word sequence '{text[start:end]}': "
                    "machine translation often keeps the source's word order here.",
                    None,
                ))
            outputs.append(SignalOutput(values, tuple(flags), tuple(candidates)))
        return outputs
