"""The pipeline: ingest, back-translate (when an engine can), run the signals, score."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from . import __version__
from .neural.cache import Cache
from .calibration.model import Calibration, calibrate_report, load_calibration
from .config import Settings
from .neural.embeddings import embedding_model_label
from .engines import Engine, EngineChoice, select_engine
from .errors import EngineError, UsageError
from .glossary.concepts import Glossary, load_glossaries
from .ingest import Article, load_article
from .neural.lm import CausalLM, load_lm
from .engines.outputs import ModelOutputs, PhraseRequest, compute_model_outputs
from .results import ArticleReport, Flag, SentenceResult, Signature
from .scoring import SEVERITY_WEIGHTS, merge_flags, mqm_score
from .signals import ANNOTATION_SIGNALS, BACKTRANSLATION_SIGNALS, OFFLINE_SIGNALS, SIGNALS, ArticleContext, Signal
from .signals.fluency import NgramFluencySignal
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
                                    needs={n for s in signals for n in s.needs}, phrases=phrases)
    return ArticleContext(article, scored, glossary, engine, **outputs.as_context_fields()), outputs


@dataclass
class Checker:
    """Checks articles with one engine, glossary and signal set (reused across a batch)."""

    engine_choice: EngineChoice
    glossary: Glossary
    signals: Sequence[Signal]
    settings: Settings = field(default_factory=Settings)
    cache: Cache | None = None  # model outputs (embeddings, LM scores) are cached like translations
    lm: CausalLM | None = None  # scores sentences for `lm_fluency`; None: n-gram fluency instead
    calibration: Calibration | None = None  # None: the signals' own flags and the flag-count score

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        engine: str = "auto",
        glossaries: Sequence[Path] = (),
        builtin_glossary: bool = True,
        disabled: Sequence[str] = (),
        calibration: Path | None = None,
        calibrated: bool = True,
    ) -> "Checker":
        """A checker; `calibration` names a calibration file (default: the shipped one).

        `calibrated=False` reports the signals' own flags, uncalibrated (what `mtqc calibrate` learns from).
        """
        glossary = load_glossaries(glossaries, include_builtin=builtin_glossary)
        choice = select_engine(engine, settings)
        notes = list(choice.notes)
        signals: list[Signal] = [SIGNALS[name]() for name in OFFLINE_SIGNALS]
        if choice.engine.can_translate:  # forced decoding only where the engine gives token scores
            signals += [SIGNALS[name]() for name in BACKTRANSLATION_SIGNALS
                        if choice.engine.can_score or "likelihoods" not in SIGNALS[name].needs]
        if choice.engine.can_annotate:
            signals += [SIGNALS[name]() for name in ANNOTATION_SIGNALS]
        lm: CausalLM | None = None
        if engine != "offline":
            try:
                lm = load_lm(settings)
            except EngineError as exc:
                notes.append(f"Neural fluency skipped (n-gram fluency ran instead): {exc}")
            else:
                signals = [LMFluencySignal() if s.name == NgramFluencySignal.name else s for s in signals]
        unknown = set(disabled) - set(SIGNALS)
        if unknown:
            raise UsageError(f"unknown signal(s) {sorted(unknown)}; known: {', '.join(sorted(SIGNALS))}")
        # the LM signal stands in for `fluency`: disabling either disables both
        off = set(disabled) | ({"fluency", "lm_fluency"} if {"fluency", "lm_fluency"} & set(disabled) else set())
        signals = [s for s in signals if s.name not in off]
        # model outputs (embeddings, LM scores) are cached like translations
        cache = Cache.for_settings(settings) if settings.use_cache else None
        cal = load_calibration(calibration) if calibrated else None
        return cls(EngineChoice(choice.engine, tuple(notes)), glossary, signals, settings, cache, lm, cal)

    def uncalibrated(self) -> "Checker":
        """The same checker reporting the signals' own flags (for fitting and cross-validation)."""
        return replace(self, calibration=None)

    @property
    def active_signals(self) -> list[Signal]:
        translating = self.engine_choice.engine.can_translate
        return [s for s in self.signals if translating or not s.needs_backtranslation]

    def signature(self) -> Signature:
        engine = self.engine_choice.engine
        models = [str(m) for m in engine.models]
        if self.lm is not None and any(isinstance(s, LMFluencySignal) for s in self.active_signals):
            models.append(str(self.lm.info))
        embedder = embedding_model_label()  # used by the round-trip and consistency signals
        if embedder:
            models.append(embedder)
        signature = Signature(
            version=__version__,
            engine=engine.name + (f"({engine.settings_key()})" if engine.settings_key() else ""),
            models=tuple(models),
            thresholds=tuple(
                (f"{s.name}.{k}", v) for s in self.active_signals for k, v in sorted(s.thresholds.items())
            ),
            glossaries=self.glossary.names,
            signals=tuple(s.name for s in self.active_signals),
            weights=tuple(SEVERITY_WEIGHTS.items()),
        )
        if self.calibration is None:
            return signature
        return replace(
            signature, calibration=self.calibration.label,
            thresholds=signature.thresholds + self.calibration.thresholds(),
        )

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
        hints: list[list[Flag]] = [[] for _ in scored]
        for signal in self.active_signals:
            for i, output in enumerate(signal.run(ctx)):
                values[i].update(output.values)
                flags[i].extend(output.flags)
                hints[i].extend(output.hints)

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
                candidates=tuple(hints[pos]),
                paragraph=seg.paragraph,
                text_before=text_before,
            ))
        all_flags = [f for r in results for f in r.flags]
        words = article.word_count
        raw = ArticleReport(
            mtqc_version=__version__,
            source=article.source,
            engine=engine.name,
            score=mqm_score(all_flags, words),
            signature=self.uncalibrated().signature(),
            sentences=tuple(results),
            metadata=dict(article.metadata),
            skipped=self.engine_choice.notes,
            word_count=words,
            usage=outputs.usage,
        )
        return calibrate_report(raw, self.calibration) if self.calibration else raw
