"""Model outputs for one article's sentences, computed in batches before any signal runs."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, AbstractSet, Any, Mapping, Sequence

from .base import Engine, SentenceAnnotation, TokenScores
from ..errors import EngineError

if TYPE_CHECKING:
    from ..neural.cache import Cache
    from ..neural.lm import CausalLM, SentenceLogprob

# The outputs a signal may name in `Signal.needs`; each is an `ArticleContext` field.
MODEL_OUTPUTS: tuple[str, ...] = ("backtranslations", "roundtrips", "likelihoods", "roundtrip_similarities",
                                  "lm_scores", "llm_annotations")

# The capability (`engines.base.CAPABILITIES`) each output comes from: a signal that reads an
# output must require its capability, so that it is never chosen where the output cannot be made.
OUTPUT_SOURCES: dict[str, str] = {
    "backtranslations": "backtranslations", "roundtrips": "backtranslations",
    "roundtrip_similarities": "backtranslations",  # the round trips, embedded by the pipeline
    "likelihoods": "likelihoods", "lm_scores": "lm_scores", "llm_annotations": "annotations",
}

# Outputs for phrases the signals ask for (`PhraseRequest`), keyed by phrase; also context fields.
PHRASE_OUTPUTS: tuple[str, ...] = ("phrase_backtranslations", "phrase_embeddings")


@dataclass(frozen=True)
class PhraseRequest:
    """Phrases (not whole sentences) a signal wants model outputs for, computed by the pipeline in one batch."""

    translate: tuple[str, ...] = ()  # back-translated en->id, when the engine translates
    embed: tuple[str, ...] = ()  # embedded with the sentence-embedding model, when installed

    def __or__(self, other: "PhraseRequest") -> "PhraseRequest":
        return PhraseRequest(tuple(dict.fromkeys(self.translate + other.translate)),
                             tuple(dict.fromkeys(self.embed + other.embed)))


@dataclass(frozen=True)
class ModelOutputs:
    """One value per sentence for each output (per phrase for the phrase outputs), or None where it was not computed."""

    backtranslations: tuple[str, ...] | None = None
    roundtrips: tuple[str, ...] | None = None
    likelihoods: tuple[TokenScores, ...] | None = None
    roundtrip_similarities: tuple[float, ...] | None = None
    lm_scores: tuple["SentenceLogprob", ...] | None = None
    llm_annotations: tuple[SentenceAnnotation, ...] | None = None  # MQM errors from an annotating engine
    phrase_backtranslations: Mapping[str, str] | None = None
    phrase_embeddings: Mapping[str, tuple[float, ...]] | None = None
    usage: dict[str, Any] = field(default_factory=dict)  # what the article cost (the engine's accounting)

    def as_context_fields(self) -> dict[str, Any]:
        """Keyword arguments for `ArticleContext` (not `asdict`, which would unpack the scores)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in MODEL_OUTPUTS + PHRASE_OUTPUTS}


def compute_model_outputs(texts: Sequence[str], *, engine: Engine, lm: "CausalLM | None" = None,
                          cache: "Cache | None" = None, needs: AbstractSet[str] = frozenset(MODEL_OUTPUTS),
                          phrases: PhraseRequest = PhraseRequest(),
                          published_prefixes: Sequence[str] | None = None) -> ModelOutputs:
    """Back-translate, round-trip, score and embed `texts`: one batched call per model.

    Back-translations and round trips are made whenever the engine translates (the report shows
    them); the others only when named in `needs` (the active signals' needs). An LLM engine
    also annotates MQM errors (`llm_annotations`), and reports what the article cost (`usage`).
    `phrases` asked for by the signals are back-translated (engine permitting) and embedded
    (when the embedding model is installed), each in one more batch. An annotating engine reads
    each sentence with what is printed before it (`published_prefixes`: a lead's dateline), and
    its spans come back relative to the sentence alone.
    """
    texts = list(texts)  # empty: empty outputs, no model call (every batched call returns early)
    back = trip = likelihoods = similarities = lm_scores = annotations = None
    engine.begin_article()  # the LLM engine's time budget and token count are per article
    provides = engine.provides
    if "annotations" in provides and "llm_annotations" in needs:
        prefixes = list(published_prefixes or [""] * len(texts))
        published = [prefix + text for prefix, text in zip(prefixes, texts)]
        annotations = tuple(_without_prefix(a, len(p)) for a, p in zip(engine.annotate(published), prefixes))
    if "backtranslations" in provides:
        back = tuple(engine.translate(texts, src="en", tgt="id"))
        trip = tuple(engine.translate(list(back), src="id", tgt="en"))
        if "likelihoods" in needs and "likelihoods" in provides:
            # Prism-style forced decoding: the English as the id->en model's output for its own back-translation
            likelihoods = tuple(engine.score(list(back), texts, src="id", tgt="en"))
        if "roundtrip_similarities" in needs:
            from ..neural.embeddings import cosine_similarities

            similarities = tuple(cosine_similarities(texts, list(trip), cache))
    if lm is not None and "lm_scores" in needs:
        lm_scores = tuple(lm.score(texts, cache))
    phrase_back: dict[str, str] | None = None
    if "backtranslations" in provides:
        wanted = list(phrases.translate)
        phrase_back = dict(zip(wanted, engine.translate(wanted, src="en", tgt="id"))) if wanted else {}
    phrase_vectors: dict[str, tuple[float, ...]] | None = {}
    if phrases.embed:
        from ..neural.embeddings import embed

        wanted = list(phrases.embed)
        try:
            phrase_vectors = {p: tuple(v) for p, v in zip(wanted, embed(wanted, cache))}
        except EngineError:
            phrase_vectors = None  # no sentence-embedding model installed: signals fall back
    return ModelOutputs(back, trip, likelihoods, similarities, lm_scores, annotations,
                        phrase_back, phrase_vectors, engine.article_usage())


def _without_prefix(annotation: SentenceAnnotation, length: int) -> SentenceAnnotation:
    """An annotation of prefix + sentence, with spans into the sentence; a span inside the prefix is dropped."""
    if not length:
        return annotation
    kept, dropped = [], annotation.dropped
    for error in annotation.errors:
        if error.span is None:
            kept.append(error)
        elif error.span[1] <= length:
            dropped += 1  # about the dateline itself, which the report does not score
        else:
            start, end = error.span
            kept.append(replace(error, span=(max(0, start - length), end - length)))
    return replace(annotation, errors=tuple(kept), dropped=dropped)
