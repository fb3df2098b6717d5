"""What every signal shares: the article context it reads, the output it returns, its base class."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from ..engines.base import CAPABILITIES, Engine, SentenceAnnotation, TokenScores
from ..glossary.concepts import Glossary
from ..ingest import Article, Segment
from ..neural.lm import SentenceLogprob
from ..engines.outputs import MODEL_OUTPUTS, OUTPUT_SOURCES, PhraseRequest
from ..results import Flag, FlagType


@dataclass(frozen=True)
class ArticleContext:
    """Everything a signal may read about one article.

    Model outputs are computed by the pipeline, batched over the article
    (`mtqc.model_outputs`), one per sentence; each is None when it was not computed (offline
    mode, no LM, or no active signal reads it). Signals read them; they never call models.
    """

    article: Article
    sentences: tuple[Segment, ...]
    glossary: Glossary
    engine: Engine
    backtranslations: tuple[str, ...] | None = None
    roundtrips: tuple[str, ...] | None = None
    likelihoods: tuple[TokenScores, ...] | None = None  # id->en forced decoding: sentence given its back-translation
    roundtrip_similarities: tuple[float, ...] | None = None  # MiniLM cosine of sentence and round trip
    lm_scores: tuple[SentenceLogprob, ...] | None = None  # per-token LM log-probabilities
    llm_annotations: tuple[SentenceAnnotation, ...] | None = None  # MQM errors from an LLM engine, spans verified
    # outputs for the phrases signals asked for (`Signal.phrase_requests`); None: not computed
    phrase_backtranslations: Mapping[str, str] | None = None
    phrase_embeddings: Mapping[str, tuple[float, ...]] | None = None


@dataclass(frozen=True)
class SignalOutput:
    """One sentence's values and flags from one signal."""

    values: Mapping[str, float] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    # weaker evidence than a flag (below the signal's own threshold): the calibration may
    # still raise it when the sentence as a whole looks erroneous, so it needs a location
    candidates: tuple[Flag, ...] = ()


class Signal(ABC):
    """A per-sentence check. Subclasses set `name`, `THRESHOLDS` and implement `_compute`.

    A signal declares what it needs, and the registry (`registry.select_signals`) runs it only
    where a run provides that; nobody keeps lists of which signal runs with which engine.
    """

    name: ClassVar[str]
    # the capabilities (engines.base.CAPABILITIES) without which the signal cannot run
    requires: ClassVar[tuple[str, ...]] = ()
    # capabilities it uses when the run has them, and does without otherwise
    optional: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[tuple[str, ...]] = ()  # the model outputs (ArticleContext fields) it reads
    # the flag types it raises; `run` refuses others, so `mtqc signals` can tell the user
    flag_types: ClassVar[tuple[FlagType, ...]] = ()
    # a signal this one stands in for when its requirements are met (lm_fluency for fluency);
    # turning either off turns both off
    replaces: ClassVar[str | None] = None
    needs_backtranslation: ClassVar[bool] = False  # derived from `requires` (the pipeline reads it)
    THRESHOLDS: ClassVar[dict[str, float]] = {}
    # flags the user asked for explicitly (an LLM's annotation): shown whatever the calibration
    # predicts for the sentence (calibration.py honours this)
    flags_pinned: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check the declarations once, at import: a wrong one would silently never run the signal."""
        super().__init_subclass__(**kwargs)
        cls.needs_backtranslation = "backtranslations" in cls.requires
        unknown = set(cls.requires + cls.optional) - set(CAPABILITIES)
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
        unknown = set(cls.needs) - set(MODEL_OUTPUTS)
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown model outputs {sorted(unknown)}; known: {list(MODEL_OUTPUTS)}")
        unmet = [n for n in cls.needs if OUTPUT_SOURCES[n] not in cls.requires]
        if unmet:
            raise TypeError(f"{cls.__name__} reads {unmet} but does not require "
                            f"{sorted({OUTPUT_SOURCES[n] for n in unmet})}")

    def __init__(self, **thresholds: float) -> None:
        unknown = set(thresholds) - set(self.THRESHOLDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown thresholds {sorted(unknown)}; known: {sorted(self.THRESHOLDS)}")
        self.thresholds = {**self.THRESHOLDS, **thresholds}

    def signature_fields(self) -> dict[str, Any]:
        """The signal's part of a report signature: its name and thresholds."""
        return {"signals": (self.name,),
                "thresholds": tuple((f"{self.name}.{k}", v) for k, v in sorted(self.thresholds.items()))}

    def phrase_requests(self, texts: Sequence[str], *, can_translate: bool) -> PhraseRequest:
        """Phrases of the article's sentences (`texts`) this signal will read model outputs for.

        The pipeline computes them batched with the sentences' outputs and puts them in the
        context (`phrase_backtranslations`, `phrase_embeddings`); by default none.
        """
        return PhraseRequest()

    def missing(self, ctx: ArticleContext) -> list[str]:
        """The model outputs this signal reads that `ctx` lacks (a back-translation signal also
        lacks the round trips, without which its outputs mean nothing)."""
        wanted = (*(("roundtrips",) if self.needs_backtranslation else ()), *self.needs)
        return [name for name in dict.fromkeys(wanted) if getattr(ctx, name) is None]

    def applies(self, ctx: ArticleContext) -> bool:
        return not self.missing(ctx)

    def run(self, ctx: ArticleContext) -> list[SignalOutput]:
        """Compute outputs for every sentence and check they are well-formed."""
        missing = self.missing(ctx)
        if "roundtrips" in missing:
            raise ValueError(f"signal {self.name!r} needs back-translations, and none were made")
        if missing:
            raise ValueError(f"signal {self.name!r} needs model outputs {missing} in its context; "
                             "compute them with mtqc.model_outputs.compute_model_outputs")
        for name in self.needs:
            value = getattr(ctx, name)
            if len(value) != len(ctx.sentences):
                raise ValueError(f"signal {self.name!r}: context has {len(value)} {name} for "
                                 f"{len(ctx.sentences)} sentences")
        outputs = self._compute(ctx)
        if len(outputs) != len(ctx.sentences):
            raise RuntimeError(f"signal {self.name!r} returned {len(outputs)} outputs for {len(ctx.sentences)} sentences")
        prefix = f"{self.name}."
        for sentence, output in zip(ctx.sentences, outputs):
            # the calibration files a value under the signal its key starts with, and ignores the
            # values of a signal that did not run: a key under another signal's name would be
            # ignored exactly when this one ran
            stray = [key for key in output.values if not key.startswith(prefix)]
            if stray:
                raise RuntimeError(f"signal {self.name!r} wrote values {stray}: a value key starts with "
                                   f"its signal's name and a dot ({prefix!r})")
            for flag in (*output.flags, *output.candidates):
                if flag.span and flag.span[1] > len(sentence.text):
                    raise RuntimeError(f"signal {self.name!r} produced span {flag.span} outside its sentence")
                if flag.type not in self.flag_types:
                    raise RuntimeError(f"signal {self.name!r} raised a {flag.type!r} flag; it declares "
                                       f"{list(self.flag_types)}")
        return outputs

    def flag(self, type_: str, severity: str, span: tuple[int, int] | None, message: str,
             suggestion: str | None = None, *, pinned: bool = False, advice: str | None = None) -> Flag:
        # a signal whose judgement the user asked for explicitly is shown as given (see calibration);
        # `suggestion` replaces the span, `advice` only tells the editor what to do
        return Flag(type_, severity, span, message, suggestion, self.name,  # type: ignore[arg-type]
                    pinned=pinned or self.flags_pinned, advice=advice)

    @abstractmethod
    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]: ...
