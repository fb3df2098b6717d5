"""Signals that use back-translation and LMs, driven by duck-typed stand-ins with known outputs."""
from __future__ import annotations

import pytest

from mtqc.engines.base import Engine, TokenScores
from mtqc.neural.manifest import ModelInfo
from mtqc.glossary.concepts import Glossary
from mtqc.ingest import segment
from mtqc.ingest.lexicon import words_with_offsets
from mtqc.neural.lm import SentenceLogprob
from mtqc.engines.outputs import compute_model_outputs
from mtqc.signals import SIGNALS, ArticleContext
from mtqc.signals.distribution import is_outlier_low, robust_z
from mtqc.signals.likelihood import LikelihoodSignal
from mtqc.signals.lm_fluency import LMFluencySignal
from mtqc.signals.roundtrip import RoundTripSignal, lost_words_span

pytest.importorskip("sentence_transformers")

ARTICLE = (
    "The president visited the flood victims on Monday. "
    "The minister said the price of rice would fall next month. "
    "Farmers welcomed the decision and asked for more support. "
    "The issue which South Korea has repeatedly appointed was discussed. "
    "Police arrested three suspects after the robbery."
)
SURPRISING = "appointed"


class StubEngine(Engine):
    """Round-trips every sentence unchanged except those in `rewrites`; scores one word as implausible."""

    name = "stub"

    def __init__(self, rewrites: dict[str, str]) -> None:
        self.rewrites = rewrites

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        if src == "en":
            return [f"[id] {t}" for t in texts]
        return [self.rewrites.get(t[5:], t[5:]) for t in texts]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        out = []
        for text in targets:
            words = words_with_offsets(text)
            logprobs = tuple(-14.0 if w == SURPRISING else -0.5 for w, _, _ in words)
            out.append(TokenScores(tuple(w for w, _, _ in words), logprobs, tuple((s, e) for _, s, e in words)))
        return out

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return (ModelInfo("stub", "test/stub", "0" * 40),)


def _context(engine: Engine, lm: object = None) -> ArticleContext:
    """The context the pipeline builds: model outputs computed up front, in batches."""
    article = segment(ARTICLE)
    sentences = tuple(article.scored_segments)
    outputs = compute_model_outputs([s.text for s in sentences], engine=engine, lm=lm)  # type: ignore[arg-type]
    return ArticleContext(article, sentences, Glossary(), engine, **outputs.as_context_fields())


def test_roundtrip_flags_only_the_sentence_whose_meaning_changed() -> None:
    engine = StubEngine({"Farmers welcomed the decision and asked for more support.": "The volcano erupted and ash covered the sky."})
    outputs = RoundTripSignal().run(_context(engine))
    flagged = [i for i, o in enumerate(outputs) if o.flags]
    assert flagged == [2]
    flag = outputs[2].flags[0]
    assert flag.type == "meaning" and flag.severity == "major"
    assert outputs[0].values["roundtrip.chrf"] == pytest.approx(100.0)
    assert outputs[0].values["roundtrip.similarity"] > 0.99 > outputs[2].values["roundtrip.similarity"]
    text = segment(ARTICLE).scored_segments[2].text
    assert text[flag.span[0]:flag.span[1]].startswith("Farmers welcomed")


def test_roundtrip_signal_refuses_to_run_without_backtranslations() -> None:
    article = segment(ARTICLE)
    ctx = ArticleContext(article, tuple(article.scored_segments), Glossary(), StubEngine({}))
    with pytest.raises(ValueError, match="needs back-translations"):
        RoundTripSignal().run(ctx)


@pytest.mark.parametrize(
    ("original", "roundtrip", "lost"),
    [
        ("The minister appointed the issue in Jakarta.", "The minister raised the issue in Jakarta.", "appointed"),
        ("She said the migration of the village was stopped.", "She said the village migrants were stopped.", "migration"),
        ("Prices rose sharply on Monday.", "Prices rose sharply on Monday.", None),
        ("Heavy rain caused floods in the city.", "A volcano erupted.", "Heavy rain caused floods in the city"),
    ],
)
def test_lost_words_span(original: str, roundtrip: str, lost: str | None) -> None:
    span = lost_words_span(original, roundtrip)
    assert (original[span[0]:span[1]] if span else None) == lost


def test_likelihood_points_at_the_implausible_word() -> None:
    outputs = LikelihoodSignal().run(_context(StubEngine({})))
    flagged = [(i, o.flags[0]) for i, o in enumerate(outputs) if o.flags]
    assert len(flagged) == 1
    index, flag = flagged[0]
    text = segment(ARTICLE).scored_segments[index].text
    assert flag.type == "mistranslation" and text[flag.span[0]:flag.span[1]] == SURPRISING
    assert outputs[0].values["likelihood.mean_logprob"] == pytest.approx(-0.5)


class StubLM:
    """Gives every token of a sentence containing `odd` a low log-probability."""

    info = ModelInfo("stub-lm", "test/stub-lm", "1" * 40)

    def __init__(self, odd: str) -> None:
        self.odd = odd

    def score(self, texts: list[str], cache: object = None) -> list[SentenceLogprob]:
        out = []
        for text in texts:
            words = words_with_offsets(text)
            lps = tuple(-25.0 if w == self.odd else -2.0 for w, _, _ in words)
            out.append(SentenceLogprob(lps, tuple((s, e) for _, s, e in words)))
        return out


def test_lm_fluency_flags_the_surprising_sentence_and_word() -> None:
    article = segment(ARTICLE)
    outputs = LMFluencySignal().run(_context(StubEngine({}), StubLM("appointed")))
    flagged = [i for i, o in enumerate(outputs) if o.flags]
    assert flagged == [3]
    flag = outputs[3].flags[0]
    assert flag.type == "fluency" and article.scored_segments[3].text[flag.span[0]:flag.span[1]] == "appointed"
    assert all("lm_fluency.slor" in o.values for o in outputs)


@pytest.mark.parametrize(
    ("values", "expected_min_index"),
    [([0.9, 0.91, 0.89, 0.9, 0.2], 4), ([1.0, 1.0, 1.0], None)],
)
def test_robust_z_finds_the_article_outlier(values: list[float], expected_min_index: int | None) -> None:
    zs = robust_z(values)
    if expected_min_index is None:
        assert zs == [0.0, 0.0, 0.0]
    else:
        assert min(range(len(zs)), key=zs.__getitem__) == expected_min_index and zs[expected_min_index] < -3


def test_outlier_rule_combines_absolute_and_relative() -> None:
    assert is_outlier_low(0.5, 0.0, absolute=0.7, relative_z=-2.5, ceiling=0.85)  # absolute
    assert is_outlier_low(0.8, -3.0, absolute=0.7, relative_z=-2.5, ceiling=0.85)  # relative
    assert not is_outlier_low(0.9, -3.0, absolute=0.7, relative_z=-2.5, ceiling=0.85)  # above the ceiling
    assert not is_outlier_low(0.8, -1.0, absolute=0.7, relative_z=-2.5, ceiling=0.85)


# --- issue 8, item 22: a uniform registry; signals read model outputs, never call models ----------

@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_every_registered_signal_is_built_with_no_arguments(name: str) -> None:
    signal = SIGNALS[name]()
    assert signal.name == name and signal.thresholds == type(signal).THRESHOLDS


class ExplodingEngine(StubEngine):
    """An engine whose models must not be reached once the context is built."""

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        raise AssertionError("a signal called the translation model")

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise AssertionError("a signal called the scoring model")


def test_neural_signals_read_their_context_and_call_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import mtqc.neural.embeddings

    ctx = _context(StubEngine({}), StubLM("appointed"))
    ctx = dataclasses.replace(ctx, engine=ExplodingEngine({}))

    def no_embedding(*args: object, **kwargs: object) -> object:
        raise AssertionError("a signal called the embedding model")

    monkeypatch.setattr(mtqc.neural.embeddings, "embed", no_embedding)
    monkeypatch.setattr(mtqc.neural.embeddings, "cosine_similarities", no_embedding)
    for name in ("roundtrip", "likelihood", "lm_fluency"):
        outputs = SIGNALS[name]().run(ctx)
        assert len(outputs) == len(ctx.sentences) and all(o.values for o in outputs)


def test_a_signal_without_its_model_outputs_says_which_are_missing() -> None:
    article = segment(ARTICLE)
    ctx = ArticleContext(article, tuple(article.scored_segments), Glossary(), StubEngine({}), ("x",) * 5, ("x",) * 5)
    assert not LMFluencySignal().applies(ctx)
    with pytest.raises(ValueError, match="lm_scores"):
        LMFluencySignal().run(ctx)
    with pytest.raises(ValueError, match="likelihoods"):
        LikelihoodSignal().run(ctx)


class CountingEngine(StubEngine):
    def __init__(self) -> None:
        super().__init__({})
        self.calls: list[tuple[str, int]] = []

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        self.calls.append((f"translate {src}->{tgt}", len(texts)))
        return super()._translate(texts, src=src, tgt=tgt)

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        self.calls.append((f"score {src}->{tgt}", len(sources)))
        return super()._score(sources, targets, src=src, tgt=tgt)


class CountingLM(StubLM):
    def __init__(self) -> None:
        super().__init__("appointed")
        self.calls: list[int] = []

    def score(self, texts: list[str], cache: object = None) -> list[SentenceLogprob]:
        self.calls.append(len(texts))
        return super().score(texts, cache)


def test_model_outputs_are_computed_in_one_batch_per_model_and_only_when_needed() -> None:
    texts = [s.text for s in segment(ARTICLE).scored_segments]
    engine, lm = CountingEngine(), CountingLM()
    out = compute_model_outputs(texts, engine=engine, lm=lm)  # type: ignore[arg-type]
    n = len(texts)
    assert engine.calls == [("translate en->id", n), ("translate id->en", n), ("score id->en", n)]
    assert lm.calls == [n]
    assert out.likelihoods is not None and len(out.likelihoods) == n
    assert out.lm_scores is not None and out.roundtrip_similarities is not None
    engine, lm = CountingEngine(), CountingLM()
    out = compute_model_outputs(texts, engine=engine, lm=lm, needs=set())  # type: ignore[arg-type]
    assert [c[0] for c in engine.calls] == ["translate en->id", "translate id->en"]  # shown in the report
    assert lm.calls == [] and out.likelihoods is None and out.lm_scores is None and out.roundtrip_similarities is None
    empty = compute_model_outputs([], engine=CountingEngine(), lm=None)
    assert empty.backtranslations == () and empty.likelihoods == ()


# --- a calibration fitted with the LM must read the LM's own features ----------------------------

def test_a_calibration_fitted_with_the_lm_uses_the_lm_values_when_the_lm_ran() -> None:
    from mtqc.calibration.model import Calibration, LinearHead

    outputs = LMFluencySignal().run(_context(StubEngine({}), StubLM("appointed")))
    values = dict(outputs[3].values)  # the sentence the LM finds surprising: values far from 0
    features = tuple(f"value:{k}" for k in sorted(values))
    n = len(features)
    cal = Calibration("t", features, (0.0,) * n, (1.0,) * n, LinearHead((1.0,) * n, 0.0, "logit"),
                      LinearHead((1.0,) * n, 0.0, "logit"), LinearHead((0.0,) * n, 0.0, "log"), 0.5, 0.9)
    observed = {f"value:{k}": v for k, v in values.items()}
    expected = [values[k] for k in sorted(values)]
    assert any(abs(x) > 0.5 for x in expected)
    # the LM ran (and the n-gram fluency signal did not): its values are read as they are
    assert cal.standardise(observed, ran={"lm_fluency", "untranslated"}) == pytest.approx(expected)
    # the n-gram fluency signal ran instead: the LM's features sit at their training mean
    assert cal.standardise(observed, ran={"fluency", "untranslated"}) == [0.0] * n
