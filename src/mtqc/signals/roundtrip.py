"""Round trip: does the meaning survive English -> Indonesian -> English?

chrF++ and BLEU (sacrebleu sentence scores) measure surface overlap; MiniLM cosine similarity
measures meaning. A sentence whose similarity is low in absolute terms, or far below the rest of
its article, is flagged `meaning`, with the longest run of original words that the round trip lost
as the span.
"""
from __future__ import annotations

from ..ingest.lexicon import words_with_offsets
from .base import ArticleContext, Signal, SignalOutput
from .distribution import is_outlier_low, robust_z

_STOPWORDS = frozenset(
    "a an the of to in on at for and or but is are was were be been by with as that this it its from he she they".split()
)


def _stem(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    for suffix in ("'s", "ies", "es", "s", "ed", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def lost_words_span(original: str, roundtrip: str) -> tuple[int, int] | None:
    """The longest run of content words of `original` absent from `roundtrip` (stopwords may sit inside)."""
    kept = {_stem(w) for w, _, _ in words_with_offsets(roundtrip)}
    best: tuple[int, int] | None = None
    run_start = run_end = -1
    content_in_run = 0
    best_content = 0
    for word, start, end in words_with_offsets(original):
        lower = word.lower()
        if lower in _STOPWORDS and run_start >= 0:
            continue  # a stopword neither breaks nor starts a run
        if lower not in _STOPWORDS and _stem(word) not in kept:
            if run_start < 0:
                run_start, content_in_run = start, 0
            run_end = end
            content_in_run += 1
            if content_in_run > best_content:
                best, best_content = (run_start, run_end), content_in_run
        else:
            run_start = -1
    return best


class RoundTripSignal(Signal):
    """Meaning lost in the round trip English -> Indonesian -> English (MiniLM similarity)."""

    name = "roundtrip"
    requires = ("backtranslations",)
    needs = ("roundtrips", "roundtrip_similarities")  # the pipeline embeds both sides in one batch
    flag_types = ("meaning",)
    THRESHOLDS = {
        "min_similarity": 0.70,  # below this the round trip lost the meaning
        "major_similarity": 0.50,
        "relative_z": -2.5,  # ... or this far below the article's median similarity
        "relative_ceiling": 0.85,  # but never flag a sentence that is this similar
    }

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        import sacrebleu

        assert ctx.roundtrips is not None and ctx.roundtrip_similarities is not None
        originals = [s.text for s in ctx.sentences]
        similarities = list(ctx.roundtrip_similarities)
        zs = robust_z(similarities)
        th = self.thresholds
        outputs = []
        for original, roundtrip, sim, z in zip(originals, ctx.roundtrips, similarities, zs):
            values = {
                "roundtrip.chrf": sacrebleu.sentence_chrf(roundtrip, [original], word_order=2).score,
                "roundtrip.bleu": sacrebleu.sentence_bleu(roundtrip, [original]).score,
                "roundtrip.similarity": sim,
                "roundtrip.similarity_z": z,
            }
            flags = []
            if is_outlier_low(sim, z, absolute=th["min_similarity"], relative_z=th["relative_z"], ceiling=th["relative_ceiling"]):
                severity = "major" if sim < th["major_similarity"] else "minor"
                span = lost_words_span(original, roundtrip)
                lost = f" The round trip lost '{original[span[0]:span[1]]}'." if span else ""
                flags.append(self.flag(
                    "meaning", severity, span,
                    f"Meaning did not survive the round trip (similarity {sim:.2f}, article median-relative z {z:.1f}).{lost} "
                    f"Round trip: \u201c{roundtrip}\u201d",
                    None,
                ))
            outputs.append(SignalOutput(values, tuple(flags)))
        return outputs
