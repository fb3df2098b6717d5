"""The pipeline: ingest, back-translate (when an engine can), run the signals, then the report steps.

`CheckerConfig.build()` is the one place a checker is assembled (the CLI, batch workers and tests
all go through it); `Checker.check_article` is the one path from an article to its report.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import __version__
from .calibration.apply import CalibrationStep
from .calibration.model import Calibration, load_calibration
from .config import Settings
from .engines import EngineChoice, select_engine
from .engines.base import Engine
from .engines.outputs import ModelOutputs, PhraseRequest, compute_model_outputs
from .errors import EngineError
from .glossary import Glossary, load_glossaries
from .ingest import Article, Segment, load_article
from .neural.cache import Cache
from .neural.embeddings import embedding_model_label
from .neural.lm import CausalLM, load_lm
from .results import ArticleReport, Flag, SentenceResult, Signature
from .scoring import FLAG_COUNT, SEVERITY_WEIGHTS, ReportStep, merge_flags, run_steps
from .signals import ArticleContext, Signal, select_signals
from .signals.registry import disabled_signals
from .signals.lm_fluency import LMFluencySignal


def build_context(article: Article, glossary: Glossary, engine: Engine, signals: Sequence[Signal], *,
                  lm: CausalLM | None = None, cache: Cache | None = None) -> tuple[ArticleContext, ModelOutputs]:
    """The context `signals` read: every model output they need, computed batched over the article."""
    scored = tuple(article.scored_segments)
    texts = [s.text for s in scored]
    phrases = PhraseRequest()
    for signal in signals:
        phrases |= signal.phrase_requests(texts, can_translate=engine.can_translate)
    outputs = compute_model_outputs(texts, engine=engine, lm=lm, cache=cache,
                                    needs={n for s in signals for n in s.needs}, phrases=phrases,
                                    published_prefixes=dateline_prefixes(article, scored))
    return ArticleContext(article, scored, glossary, engine, **outputs.as_context_fields()), outputs


def dateline_prefixes(article: Article, scored: Sequence[Segment]) -> list[str]:
    """For each scored sentence, the dateline printed before it in its paragraph ("JAKARTA - "), else "".

    An annotating engine reads the lead sentence as published: the dateline says it is the lead
    and where the news is from, and an annotator's copy of the sentence includes it.
    """
    segments = list(article.segments)
    before = {id(segment): prev for prev, segment in zip(segments, segments[1:])}
    prefixes = []
    for segment in scored:
        prev = before.get(id(segment))
        is_lead = prev is not None and prev.kind == "dateline" and prev.paragraph == segment.paragraph
        prefixes.append(article.text[prev.start:segment.start] if prev is not None and is_lead else "")
    return prefixes


@dataclass(frozen=True)
class CheckerConfig:
    """Everything a checker is built from: picklable, so each batch worker builds its own once."""

    settings: Settings = field(default_factory=Settings)
    engine: str = "auto"
    glossaries: tuple[Path, ...] = ()
    builtin_glossary: bool = True
    disabled: tuple[str, ...] = ()
    calibration: Path | None = None  # None: the shipped calibration
    calibrated: bool = True  # False: the signals' own flags (what `mtqc calibrate` learns from)
    reviews: tuple[Path, ...] = ()  # editors' review files: flags they dismissed are not raised again

    def build(self) -> "Checker":
        """The checker. Inputs that can be wrong (glossaries, calibration, reviews) fail before any model loads.

        Raises:
            UsageError, GlossaryError, CalibrationError, ReviewError, EngineError: one line each.
        """
        disabled_signals(self.disabled)  # an unknown name fails before anything loads
        glossary = load_glossaries(self.glossaries, include_builtin=self.builtin_glossary)
        steps = self._report_steps()
        choice = select_engine(self.engine, self.settings)
        notes = list(choice.notes)
        lm: CausalLM | None = None
        if self.engine != "offline":
            try:
                lm = load_lm(self.settings)
            except EngineError as exc:
                notes.append(f"Neural fluency skipped (n-gram fluency ran instead): {exc}")
        signals = select_signals(choice.engine.provides, lm is not None, self.disabled)
        # model outputs (embeddings, LM scores) are cached like translations
        cache = Cache.for_settings(self.settings) if self.settings.use_cache else None
        return Checker(EngineChoice(choice.engine, tuple(notes)), glossary, tuple(signals), self.settings, cache, lm,
                       steps)

    def _report_steps(self) -> tuple[ReportStep, ...]:
        steps: list[ReportStep] = []
        if self.calibrated:
            steps.append(CalibrationStep(load_calibration(self.calibration)))
        if self.reviews:
            from .review.file import load_review
            from .review.suppress import SuppressDismissed

            step = SuppressDismissed.from_reviews(load_review(p) for p in self.reviews)
            if step.suppression:
                steps.append(step)
        return tuple(steps)


@dataclass(frozen=True)
class Checker:
    """Checks articles with one engine, glossary, signal set and tuple of report steps (reused across a batch)."""

    engine_choice: EngineChoice
    glossary: Glossary
    signals: tuple[Signal, ...]
    settings: Settings = field(default_factory=Settings)
    cache: Cache | None = None  # model outputs (embeddings, LM scores) are cached like translations
    lm: CausalLM | None = None  # scores sentences for `lm_fluency`; None: n-gram fluency instead
    steps: tuple[ReportStep, ...] = ()  # from the signals' report to the one shown, in order

    @property
    def calibration(self) -> Calibration | None:
        return next((s.calibration for s in self.steps if isinstance(s, CalibrationStep)), None)

    def uncalibrated(self) -> "Checker":
        """The same checker reporting the signals' own flags (for fitting and cross-validation)."""
        return replace(self, steps=tuple(s for s in self.steps if not isinstance(s, CalibrationStep)))

    @property
    def active_signals(self) -> list[Signal]:
        translating = self.engine_choice.engine.can_translate
        return [s for s in self.signals if translating or not s.needs_backtranslation]

    def _signature_parts(self) -> list[Mapping[str, Any]]:
        """Each component's own signature fields, before any report step."""
        engine = self.engine_choice.engine
        active = self.active_signals
        parts: list[Mapping[str, Any]] = [engine.signature_fields()]
        if self.lm is not None and any(isinstance(s, LMFluencySignal) for s in active):
            parts.append({"models": (str(self.lm.info),)})
        embedder = embedding_model_label()  # used by the round-trip and consistency signals
        if embedder:
            parts.append({"models": (embedder,)})
        parts.append({"glossaries": self.glossary.names})
        parts += [s.signature_fields() for s in active]
        parts.append({"weights": tuple(SEVERITY_WEIGHTS.items())})
        return parts

    @cached_property
    def _base_signature(self) -> Signature:
        return Signature.assemble(__version__, self._signature_parts())

    def signature(self) -> Signature:
        """What reproduces this checker's scores: its components' fields, then its report steps'."""
        signature = self._base_signature
        for step in self.steps:
            signature = signature.extended(step.signature_fields())
        return signature

    def check_file(self, path: Path) -> ArticleReport:
        return self.check_article(load_article(path, self.settings.max_bytes))

    def check_article(self, article: Article) -> ArticleReport:
        scored = tuple(article.scored_segments)
        engine = self.engine_choice.engine
        # every model runs here, batched over the article; signals only read the outputs
        ctx, outputs = build_context(article, self.glossary, engine, self.active_signals, lm=self.lm, cache=self.cache)
        backtranslations, roundtrips = outputs.backtranslations, outputs.roundtrips

        values: list[dict[str, float]] = [{} for _ in scored]
        flags: list[list[Flag]] = [[] for _ in scored]
        candidates: list[list[Flag]] = [[] for _ in scored]
        for signal in self.active_signals:
            for i, output in enumerate(signal.run(ctx)):
                values[i].update(output.values)
                flags[i].extend(output.flags)
                candidates[i].extend(output.candidates)

        results: list[SentenceResult] = []
        scored_index = {id(s): i for i, s in enumerate(scored)}
        previous_end = 0
        for index, seg in enumerate(article.segments):
            pos = scored_index.get(id(seg))
            text_before, previous_end = article.text[previous_end:seg.start], seg.end
            if pos is None:
                results.append(SentenceResult(index, seg.text, seg.start, seg.end, False, seg.kind,
                                              paragraph=seg.paragraph, text_before=text_before))
                continue
            results.append(SentenceResult(
                index, seg.text, seg.start, seg.end, True, seg.kind,
                backtranslation=backtranslations[pos] if backtranslations else None,
                roundtrip=roundtrips[pos] if roundtrips else None,
                signals=values[pos],
                flags=merge_flags(flags[pos]),
                candidates=tuple(candidates[pos]),
                paragraph=seg.paragraph,
                text_before=text_before,
            ))
        raw = ArticleReport(
            mtqc_version=__version__,
            source=article.source,
            engine=engine.name,
            score=100.0,  # `run_steps` scores the report once every step has run
            signature=self._base_signature,
            sentences=tuple(results),
            metadata=dict(article.metadata),
            skipped=self.engine_choice.notes,
            word_count=article.word_count,
            score_method=FLAG_COUNT,
            usage=outputs.usage,
        )
        return run_steps(raw, self.steps)
