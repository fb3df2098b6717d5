"""Neural fluency: SLOR of each sentence under a causal LM (replaces the n-gram score when present).

SLOR (syntactic log-odds ratio) = (log P_LM(s) - log P_unigram(s)) / |s|: the LM's surprise
corrected for word rarity, so names and rare words do not count as disfluency.
"""
from __future__ import annotations

from typing import ClassVar

from ..ingest.lexicon import words_with_offsets
from ..neural.lm import unigram_logprob
from .base import ArticleContext, Signal, SignalOutput
from .distribution import is_outlier_low, robust_z
from .likelihood import overlaps


class LMFluencySignal(Signal):
    """Sentences a causal language model finds unusual English (SLOR)."""

    name = "lm_fluency"
    replaces = "fluency"  # takes the n-gram signal's place when the LM is loaded
    requires = ("lm_scores",)
    needs = ("lm_scores",)  # computed by the pipeline with the LM, batched
    flag_types = ("fluency",)
    THRESHOLDS: ClassVar[dict[str, float]] = {
        "min_slor": 0.5,  # sentence SLOR under this is disfluent
        "major_slor": -0.5,
        "relative_z": -2.0,  # ... or this far below the article's median
        "relative_ceiling": 4.0,  # uncalibrated: no real LM weights could be fetched here
        "word_logprob": -10.0,  # a word the LM finds this surprising is the span candidate
    }

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        assert ctx.lm_scores is not None
        texts = [s.text for s in ctx.sentences]
        scored = ctx.lm_scores
        slors, word_scores = [], []
        for text, sent in zip(texts, scored):
            words = words_with_offsets(text)
            per_word = [
                (start, end, sum(lp for lp, span in zip(sent.logprobs, sent.spans) if overlaps(span, start, end)))
                for _, start, end in words
            ]
            lm_total = sum(sent.logprobs)
            uni_total = sum(unigram_logprob(w) for w, _, _ in words)
            slors.append((lm_total - uni_total) / max(1, len(sent.logprobs)))
            word_scores.append(per_word)
        zs = robust_z(slors)
        th = self.thresholds
        outputs = []
        for seg, text, slor, z, per_word in zip(ctx.sentences, texts, slors, zs, word_scores):
            values = {"lm_fluency.slor": slor, "lm_fluency.slor_z": z}
            flags = []
            if seg.kind == "sentence" and is_outlier_low(slor, z, absolute=th["min_slor"], relative_z=th["relative_z"],
                                                         ceiling=th["relative_ceiling"]):
                worst = min(per_word, key=lambda w: w[2], default=None)
                span = (worst[0], worst[1]) if worst and worst[2] < th["word_logprob"] else None
                where = f" Most surprising: '{text[span[0]:span[1]]}'." if span else ""
                flags.append(self.flag(
                    "fluency", "major" if slor < th["major_slor"] else "minor", span,
                    f"The language model finds this sentence unusual English (SLOR {slor:.2f}, z {z:.1f}).{where}",
                    None,
                ))
            outputs.append(SignalOutput(values, tuple(flags)))
        return outputs
