"""Model outputs for one article's sentences, computed in batches before any signal runs."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, AbstractSet, Any, Sequence

from .engines.base import Engine, SentenceAnnotation, TokenScores

if TYPE_CHECKING:
    from .cache import Cache
    from .lm import CausalLM, SentenceLogprob

# The outputs a signal may name in `Signal.needs`; each is an `ArticleContext` field.
MODEL_OUTPUTS: tuple[str, ...] = ("backtranslations", "roundtrips", "likelihoods", "roundtrip_similarities",
                                  "lm_scores", "llm_annotations")


@dataclass(frozen=True)
class ModelOutputs:
    """One value per sentence for each output, or None where it was not computed."""

    backtranslations: tuple[str, ...] | None = None
    roundtrips: tuple[str, ...] | None = None
    likelihoods: tuple[TokenScores, ...] | None = None
    roundtrip_similarities: tuple[float, ...] | None = None
    lm_scores: tuple["SentenceLogprob", ...] | None = None
    llm_annotations: tuple[SentenceAnnotation, ...] | None = None  # MQM errors from an annotating engine
    usage: dict[str, Any] = field(default_factory=dict)  # what the article cost (the engine's accounting)

    def as_context_fields(self) -> dict[str, Any]:
        """Keyword arguments for `ArticleContext` (not `asdict`, which would unpack the scores)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in MODEL_OUTPUTS}


def compute_model_outputs(texts: Sequence[str], *, engine: Engine, lm: "CausalLM | None" = None,
                          cache: "Cache | None" = None, needs: AbstractSet[str] = frozenset(MODEL_OUTPUTS)
                          ) -> ModelOutputs:
    """Back-translate, round-trip, score and embed `texts`: one batched call per model.

    Back-translations and round trips are made whenever the engine translates (the report shows
    them); the others only when named in `needs` (the active signals' needs). An LLM engine
    also annotates MQM errors (`llm_annotations`), and reports what the article cost (`usage`).
    """
    texts = list(texts)  # empty: empty outputs, no model call (every batched call returns early)
    back = trip = likelihoods = similarities = lm_scores = annotations = None
    engine.begin_article()  # the LLM engine's time budget and token count are per article
    if engine.can_annotate and "llm_annotations" in needs:
        annotations = tuple(engine.annotate(texts))
    if engine.can_translate:
        back = tuple(engine.translate(texts, src="en", tgt="id"))
        trip = tuple(engine.translate(list(back), src="id", tgt="en"))
        if "likelihoods" in needs and engine.can_score:
            # Prism-style forced decoding: the English as the id->en model's output for its own back-translation
            likelihoods = tuple(engine.score(list(back), texts, src="id", tgt="en"))
        if "roundtrip_similarities" in needs:
            from .embeddings import cosine_similarities

            similarities = tuple(cosine_similarities(texts, list(trip), cache))
    if lm is not None and "lm_scores" in needs:
        lm_scores = tuple(lm.score(texts, cache))
    return ModelOutputs(back, trip, likelihoods, similarities, lm_scores, annotations, engine.article_usage())
