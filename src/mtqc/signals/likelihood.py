"""Forced-decoding likelihood, as Prism does for quality estimation.

The id->en model scores the original English given its own Indonesian back-translation (the
pipeline does, in one batch; the scores arrive in `ArticleContext.likelihoods`). Tokens
it finds implausible in context are where the English says something the pseudo-source does not
support: the likely mistranslation. Token log-probabilities are summed per word (via the
engine's character spans); the sentence score is the length-normalised mean.
"""
from __future__ import annotations

from ..engines.base import TokenScores
from ..ingest.lexicon import words_with_offsets
from .base import ArticleContext, Signal, SignalOutput
from .distribution import is_outlier_low, robust_z


def overlaps(span: tuple[int, int], start: int, end: int) -> bool:
    """Does a token's span fall on the word [start, end)? A zero-width span (a piece the
    tokenizer's normalisation added, e.g. the 2nd '.' of '…') belongs to the character it sits on;
    (-1, -1) marks a special token, on no word."""
    s, e = span
    return s >= 0 and s < end and max(e, s + 1) > start


def word_logprobs(text: str, scores: TokenScores) -> list[tuple[int, int, float]]:
    """Sum token log-probabilities over each word of `text` that the tokens overlap."""
    out = []
    for _, start, end in words_with_offsets(text):
        total = sum(lp for lp, span in zip(scores.logprobs, scores.spans) if overlaps(span, start, end))
        out.append((start, end, total))
    return out


class LikelihoodSignal(Signal):
    """Words the id->en model finds implausible given the back-translation (forced decoding)."""

    name = "likelihood"
    requires = ("backtranslations", "likelihoods")  # scores of the English given its back-translation
    needs = ("likelihoods",)  # forced-decoding scores, computed by the pipeline in one batch
    flag_types = ("mistranslation",)
    THRESHOLDS = {
        "min_mean_logprob": -3.0,  # sentence: mean token log-probability under this is implausible
        "relative_z": -2.5,  # ... or this far below the article's median
        "relative_ceiling": -1.0,
        "word_logprob": -8.0,  # a word this improbable is a candidate span
        "word_z": -2.0,  # ... if it also stands out within its sentence
    }

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        assert ctx.likelihoods is not None
        originals = [s.text for s in ctx.sentences]
        all_scores = ctx.likelihoods
        means = [s.mean_logprob for s in all_scores]
        zs = robust_z(means)
        th = self.thresholds
        outputs = []
        for text, scores, mean, z in zip(originals, all_scores, means, zs):
            words = word_logprobs(text, scores)
            word_z = robust_z([w[2] for w in words])
            suspicious = [
                (start, end, lp) for (start, end, lp), wz in zip(words, word_z)
                if lp < th["word_logprob"] and wz <= th["word_z"]
            ]
            values = {"likelihood.mean_logprob": mean, "likelihood.z": z,
                      "likelihood.min_word_logprob": min((w[2] for w in words), default=0.0)}
            flags = []
            sentence_low = is_outlier_low(mean, z, absolute=th["min_mean_logprob"], relative_z=th["relative_z"],
                                          ceiling=th["relative_ceiling"])
            if suspicious or sentence_low:
                worst = min(suspicious, key=lambda w: w[2]) if suspicious else None
                span = (worst[0], worst[1]) if worst else None
                where = f" Least plausible: '{text[worst[0]:worst[1]]}' (log-prob {worst[2]:.1f})." if worst else ""
                flags.append(self.flag(
                    "mistranslation", "major" if sentence_low and worst else "minor", span,
                    f"The translation model finds this English unlikely given its own Indonesian back-translation "
                    f"(mean log-prob {mean:.2f}, z {z:.1f}).{where}",
                    None,
                ))
            outputs.append(SignalOutput(values, tuple(flags)))
        return outputs
