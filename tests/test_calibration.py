"""Learned calibration and `mtqc eval`: fitting, thresholds, the file format, metrics, the CLI.

The annotated corpus here is generated from sentences written for these tests: clean news
sentences, and sentences with the kinds of damage the offline signals see (doubled words,
Indonesian words left in, local time formats, garbled word order).

Tests of plumbing (reproducibility, cross-validation, the CLI) fit with a fixed C (FIXED_C); one
test, marked slow, exercises the C grid search. That mtqc's metrics agree with the reference
scorer is checked outside the suite: scripts/check_scorer_agreement.py.
"""
from __future__ import annotations

from dataclasses import replace

import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mtqc.calibration.apply import LOCATE_PMI, MAJOR_SEVERITY_P, CalibrationStep, kind_precision
from mtqc.calibration.model import (
    Calibration, KindStats, LinearHead, calibration_from_json, load_calibration,
)
from mtqc.calibration.features import feature_signal, flag_kind, sentence_features
from mtqc.cli import main
from mtqc.config import load_settings
from mtqc.errors import CalibrationError, GoldError
from mtqc.calibration.evaluate import EvalResult, bootstrap, evaluate, kendall_tau_b, load_gold_dir, parse_gold, pearson
from mtqc.pipeline import CheckerConfig
from mtqc.scoring import run_steps
from mtqc.results import ArticleReport, Flag, SentenceResult, Signature
from mtqc.calibration import fit as fit_module
from mtqc.calibration.fit import C_GRID, Sample, choose_thresholds, cross_validate, fit_calibration, samples_for

CLEAN = [
    "The city council approved the new budget on Monday.",
    "Schools will reopen next week after the holiday.",
    "The minister said the bridge would be finished in March.",
    "Police closed the road for two hours after the accident.",
    "Farmers expect a good harvest this year.",
    "The company hired two hundred new workers.",
    "Prices of rice stayed stable in most markets.",
    "The president met the visiting prime minister at the palace.",
]
MINOR = [
    "The mayor visited the pasar near the station in the morning.",
    "The meeting started at 14.30 WIB in the town hall.",
    "Residents said the the water supply was cut again.",
    "The warga asked the agency to repair the damaged road.",
]
MAJOR = [
    "The officials was at least years be delayed the project of the escape than handling.",
    "Regarding the party of the case that was carried out the examination by the side of the related.",
    "The suspect then the goods secure of the arrest was that the at least amount loss.",
    "That the matter as for the budget which was conveyed by the party is the the reason of.",
    "Warga mengatakan bahwa air sudah surut dan jalan kembali dibuka pada pagi hari.",
]


# Tests of plumbing fit with this C: choosing C by grouped cross-validation refits every head
# for every C in C_GRID, once per fold, which made these tests take minutes.
FIXED_C = 0.1


@pytest.fixture
def fixed_c(monkeypatch: pytest.MonkeyPatch) -> float:
    """For the CLI, which always chooses C: a grid of one, so it fits with FIXED_C."""
    monkeypatch.setattr(fit_module, "C_GRID", (FIXED_C,))
    return FIXED_C


def _article(rng: random.Random, n: int) -> tuple[str, list[dict]]:
    sentences: list[dict] = []
    for _ in range(n):
        kind = rng.choice(["ok", "ok", "minor", "major"])
        pool = {"ok": CLEAN, "minor": MINOR, "major": MAJOR}[kind]
        text = rng.choice(pool)
        errors = [] if kind == "ok" else [{"type": "fluency", "span": text.split()[1], "suggestion": "x"}]
        sentences.append({"text": text, "label": kind, "errors": errors})
    return "\n\n".join(s["text"] for s in sentences) + "\n", sentences


@pytest.fixture(scope="module")
def gold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gold")
    rng = random.Random(7)
    for i in range(10):
        text, sentences = _article(rng, 12)
        (root / f"art-{i}.txt").write_text(text, encoding="utf-8")
        gold = {"article": f"art-{i}.txt", "not_content": [], "sentences": sentences}
        (root / f"art-{i}.gold.json").write_text(json.dumps(gold), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def raw(gold_dir: Path) -> tuple[list, list[ArticleReport]]:
    golds = load_gold_dir(gold_dir)
    checker = CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()
    return golds, [checker.check_file(g.article_path) for g in golds]


def _samples(raw: tuple[list, list[ArticleReport]]) -> list[Sample]:
    golds, reports = raw
    return [s for g, r in zip(golds, reports) for s in samples_for(g, r)]


# ---------------------------------------------------------------------------- fitting


def test_fit_is_reproducible_byte_for_byte(raw: tuple) -> None:
    samples = _samples(raw)
    first = fit_calibration(samples, name="t", seed=0, folds=3, c=FIXED_C).to_json()
    second = fit_calibration(samples, name="t", seed=0, folds=3, c=FIXED_C).to_json()
    assert first == second
    cal = calibration_from_json(first)
    assert cal.provenance["sentences"] == len(samples) and cal.provenance["articles"] == 10
    assert 0.0 <= cal.flag_threshold <= 1.0 and 0.0 <= cal.major_threshold <= 1.0
    assert cal.provenance["C"] == FIXED_C


@pytest.mark.slow
def test_c_is_the_grid_value_with_the_lowest_grouped_out_of_fold_log_loss(raw: tuple) -> None:
    from sklearn.metrics import log_loss

    samples = _samples(raw)
    cal = fit_calibration(samples, name="t", seed=0, folds=3)  # no c: chosen from C_GRID
    chosen = cal.provenance["C"]
    assert chosen in C_GRID
    y_err, y_maj = [s.is_error for s in samples], [s.is_major for s in samples]
    losses = {}
    for c in C_GRID:
        p_err, p_maj = fit_module._oof(samples, cal.features, 3, c, 0)
        losses[c] = log_loss(y_err, p_err, labels=[False, True]) + log_loss(y_maj, p_maj, labels=[False, True])
    assert losses[chosen] == min(losses.values()), losses
    # choosing C is the only step a fixed c skips
    assert fit_calibration(samples, name="t", seed=0, folds=3, c=chosen).to_json() == cal.to_json()


def test_learned_probabilities_separate_damaged_from_clean_sentences(raw: tuple) -> None:
    samples = _samples(raw)
    cal = fit_calibration(samples, name="t", folds=3, c=FIXED_C)
    p_clean = [cal.predict(s.features).p_error for s in samples if not s.is_error]
    p_bad = [cal.predict(s.features).p_error for s in samples if s.is_error]
    assert sum(p_bad) / len(p_bad) > sum(p_clean) / len(p_clean) + 0.2


def test_calibration_needs_every_kind_of_sentence() -> None:
    samples = [Sample(f"a{i % 3}", {"text:words": float(i)}, True, False, 1) for i in range(30)]
    with pytest.raises(CalibrationError, match="clean|every kind"):
        fit_calibration(samples)


# ---------------------------------------------------------------------------- thresholds


def _s(is_error: bool, is_major: bool = False) -> Sample:
    return Sample("a", {}, is_error, is_major, int(is_error))


def test_flag_threshold_holds_the_false_flag_rate() -> None:
    # ten clean sentences with p_error 0.05 ... 0.95, ten erroneous ones at 0.99; no major flags
    samples = [_s(False) for _ in range(10)] + [_s(True) for _ in range(10)]
    p_error = [0.05 + 0.1 * i for i in range(10)] + [0.99] * 10
    p_major = [0.0] * 20
    flag_t, major_t = choose_thresholds(p_error, p_major, samples, max_false_flag_rate=0.2, major_precision=0.9)
    assert major_t == 1.0  # fewer than MIN_MAJOR_FLAGS sentences: no major flags
    assert flag_t == pytest.approx(0.85)  # the two cleanest-looking clean sentences are the 20% allowed
    assert sum(p >= flag_t for p, s in zip(p_error, samples) if not s.is_error) == 2


def test_major_threshold_keeps_major_flags_precise() -> None:
    # 40 erroneous sentences at p_major 0.9, then 10 clean ones at 0.8 and 10 erroneous at 0.7
    samples = [_s(True, True)] * 40 + [_s(False)] * 10 + [_s(True)] * 10 + [_s(False)] * 10
    p_major = [0.9] * 40 + [0.8] * 10 + [0.7] * 10 + [0.1] * 10
    p_error = [0.5] * 70
    _, major_t = choose_thresholds(p_error, p_major, samples, max_false_flag_rate=0.5, major_precision=0.9)
    # at 0.8 precision is 40/50 = 0.8 < 0.9, at 0.7 it is 50/60; only 0.9 keeps 0.9
    assert major_t == pytest.approx(0.9)


# ---------------------------------------------------------------------------- applying


def _tiny_calibration(flag_t: float, major_t: float, words_coef: float = 1.0, major_bias: float = 0.0) -> Calibration:
    head = LinearHead((words_coef,), 0.0, "logit")
    major = LinearHead((words_coef,), major_bias, "logit")
    return Calibration("tiny", ("text:words",), (10.0,), (5.0,), head, major, LinearHead((0.0,), 0.0, "log"),
                       flag_t, major_t)


def _raw_report(texts: list[str]) -> ArticleReport:
    flag = Flag("fluency", "minor", (0, 3), "odd", None, "fluency")
    hint = Flag("fluency", "minor", (4, 7), "odd pair", None, "fluency")
    sentences = tuple(
        SentenceResult(i, t, 0, len(t), True, flags=(flag,), candidates=(hint,), signals={"fluency.words": 1.0})
        for i, t in enumerate(texts)
    )
    sig = Signature("x", "offline", (), (), (), ("fluency",), ())
    return ArticleReport("x", "a.txt", "offline", 100.0, sig, sentences, word_count=sum(len(t.split()) for t in texts))


def test_diffuse_evidence_is_one_sentence_level_flag_and_below_the_threshold_only_candidates() -> None:
    short, long = "One two three four.", " ".join(["word"] * 30) + "."
    cal = _tiny_calibration(flag_t=0.5, major_t=0.99, major_bias=-10.0)
    out = run_steps(_raw_report([short, long]), [CalibrationStep(cal)])
    low, high = out.sentences
    assert low.flags == () and len(low.candidates) == 2 and low.p_error < 0.5
    assert all(f.probability == pytest.approx(low.p_error) for f in low.candidates)
    # flagged on diffuse evidence: one judgement of the sentence, the word pairs kept as candidates
    assert len(high.flags) == 1 and high.flags[0].signal == "calibration" and len(high.candidates) == 2
    assert high.p_error > 0.5 and high.p_major < MAJOR_SEVERITY_P and high.flags[0].severity == "minor"
    assert "Check the wording" in high.flags[0].message
    assert out.score_method == "expected-penalty" and 0 <= out.score <= 100
    assert out.signature.calibration == "tiny" and ("calibration.flag_p_error", 0.5) in out.signature.thresholds


def test_the_least_likely_pair_is_located_only_when_it_is_very_unlikely() -> None:
    long = " ".join(["word"] * 30) + "."
    cal = _tiny_calibration(flag_t=0.5, major_t=0.99)
    for min_pmi, located in ((LOCATE_PMI - 1, True), (LOCATE_PMI + 1, False)):
        report = _raw_report([long])
        s0 = report.sentences[0]
        s0 = s0.__class__(**{**s0.__dict__, "signals": {**s0.signals, "fluency.min_pmi": min_pmi}})
        out = run_steps(ArticleReport(**{**report.__dict__, "sentences": (s0,)}), [CalibrationStep(cal)])
        (flag,) = out.sentences[0].flags
        assert (flag.span == (0, 3)) is located and (flag.span is None) is not located


def test_severity_words_follow_the_probability_and_pinned_flags_stay_as_written() -> None:
    long = " ".join(["word"] * 30) + "."
    pinned = Flag("terminology", "critical", (0, 4), "house style", "term", "terminology", pinned=True)
    report = _raw_report([long, "A b."])
    s0 = report.sentences[0]
    sentences = (s0.__class__(**{**s0.__dict__, "flags": s0.flags + (pinned,)}), report.sentences[1])
    out = run_steps(ArticleReport(**{**report.__dict__, "sentences": sentences}), [CalibrationStep(_tiny_calibration(0.5, 0.5))])
    first = out.sentences[0]
    assert first.p_major >= MAJOR_SEVERITY_P
    assert {f.signal: f.severity for f in first.flags} == {"terminology": "critical"}  # it points at a place
    assert all(f.probability == pytest.approx(first.p_major) for f in first.flags if f.severity != "minor")
    # a short sentence is below both thresholds: nothing but pinned or strong flags would show
    assert out.sentences[1].flags == ()


def _with_flags(text: str, *flags: Flag, signals: dict[str, float] | None = None) -> ArticleReport:
    sentence = SentenceResult(0, text, 0, len(text), True, flags=tuple(flags), signals=dict(signals or {}))
    ran = {f.signal for f in flags} | {"fluency"} | ({"llm_mqm"} if any(k.startswith("llm_mqm.") for k in signals or {}) else set())
    sig = Signature("x", "offline", (), (), (), tuple(sorted(ran)), ())
    return ArticleReport("x", "a.txt", "offline", 100.0, sig, (sentence,), word_count=len(text.split()))


def test_a_strong_kind_is_shown_whatever_the_sentence_model_says_and_a_weak_one_is_not() -> None:
    cal = _tiny_calibration(flag_t=0.99, major_t=0.999)  # the sentence model flags nothing
    strong = Flag("consistency", "minor", (0, 3), "spelt two ways", "Abc", "consistency.names")
    weak = Flag("consistency", "minor", (4, 7), "currency written two ways", "Rp", "consistency.currencies")
    kinds = {flag_kind(strong): KindStats(40, 39, 5, 0.96, True), flag_kind(weak): KindStats(40, 20, 2, 0.5, False)}
    cal = replace(cal, kinds=kinds)
    (s,) = run_steps(_with_flags("Abc def ghi.", strong, weak), [CalibrationStep(cal)]).sentences
    assert [f.signal for f in s.flags] == ["consistency.names"] and [f.signal for f in s.candidates] == ["consistency.currencies"]
    assert s.p_error == pytest.approx(0.96) and s.flags[0].probability == pytest.approx(0.96)  # the numbers agree
    # a kind never measured starts from the prior: a rule strong, diffuse evidence not
    assert kind_precision(_tiny_calibration(0.5, 0.5), "consistency.he_she:consistency:major")[2]
    assert not kind_precision(_tiny_calibration(0.5, 0.5), "fluency:fluency:major")[2]


def test_without_its_own_calibration_an_engine_judgement_leads() -> None:
    cal = _tiny_calibration(flag_t=0.5, major_t=0.6, words_coef=3.0)  # long sentences look risky offline
    long = " ".join(["word"] * 30) + "."
    engine = Flag("mistranslation", "major", (0, 4), "The LLM marks a major error", "fix", "llm_mqm")
    hinted = Flag("fluency", "minor", (5, 9), "odd pair", None, "fluency")
    judged = {"llm_mqm.judged": 1.0, "llm_mqm.errors": 0.0}
    clean = run_steps(_with_flags(long, hinted, signals=judged), [CalibrationStep(cal)]).sentences[0]
    assert clean.flags == () and clean.p_error < 0.5  # judged clean: the offline hint stays a candidate
    marked = run_steps(_with_flags(long, engine, signals={**judged, "llm_mqm.errors": 1.0}), [CalibrationStep(cal)]).sentences[0]
    assert [f.severity for f in marked.flags] == ["major"] and marked.p_major >= 0.9 and marked.expected_errors == 1.0


def test_a_signal_that_did_not_run_contributes_nothing() -> None:
    cal = Calibration("t", ("value:lm_fluency.slor", "text:words"), (2.0, 10.0), (1.0, 5.0),
                      LinearHead((1.0, 0.0), 0.0, "logit"), LinearHead((1.0, 0.0), 0.0, "logit"),
                      LinearHead((0.0, 0.0), 0.0, "log"), 0.5, 0.9)
    assert cal.standardise({"text:words": 10.0}, ran={"fluency"}) == [0.0, 0.0]  # at its training mean
    assert cal.standardise({"text:words": 10.0}, ran={"lm_fluency"}) == [-2.0, 0.0]  # ran, value absent = 0
    assert feature_signal("value:lm_fluency.slor") == "lm_fluency"
    assert feature_signal("candidates:fluency") == "fluency" and feature_signal("text:words") is None


# ---------------------------------------------------------------------------- the shipped file


def test_shipped_calibration_loads_and_matches_what_the_signals_produce(raw: tuple) -> None:
    cal = load_calibration()
    assert cal.name == "default" and len(cal.sha256) == 64
    assert cal.provenance["data"] == ["train"] and cal.provenance["articles"] >= 100
    produced: set[str] = set()
    for report in raw[1]:
        for s in report.sentences:
            produced |= set(sentence_features(s, len(report.sentences)))
    value_features = {f for f in cal.features if f.startswith(("value:", "text:"))}
    # a renamed signal value without a refit would silently drop out of the model
    assert value_features <= produced, sorted(value_features - produced)


BAD_FILES = [
    ("", "not valid JSON"),
    ("[]", "not an mtqc calibration"),
    ('{"format": "other"}', "not an mtqc calibration"),
    ('{"format": "mtqc-calibration/1", "features": "x"}', "features"),
    ('{"format": "mtqc-calibration/1", "features": ["a"], "mean": [0], "scale": [0]}', "positive"),
    ('{"format": "mtqc-calibration/1", "features": ["a"], "mean": [0], "scale": [1], "thresholds": {}}', "thresholds"),
]


@pytest.mark.parametrize("text,message", BAD_FILES)
def test_malformed_calibration_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        calibration_from_json(text, "bad.json")


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
))
@example({"format": "mtqc-calibration/1", "features": ["a"], "mean": [0], "scale": [1],
          "thresholds": {"flag_p_error": 2, "major_p_major": 0.5}})
def test_any_json_is_a_calibration_or_a_calibration_error(data: object) -> None:
    try:
        cal = calibration_from_json(json.dumps(data))
    except CalibrationError:
        return
    assert len(cal.mean) == len(cal.features)


# ---------------------------------------------------------------------------- annotations and metrics


@settings(max_examples=80, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["article", "sentences", "text", "label", "errors", "type", "span", "x"]), inner, max_size=5),
    max_leaves=25,
))
def test_any_annotation_parses_or_raises_a_gold_error(data: object) -> None:
    try:
        gold = parse_gold(data, Path("/tmp/x.gold.json"))
    except GoldError:
        return
    assert all(s.label in ("ok", "minor", "major") for s in gold.sentences)
    assert gold.article_path.parent == Path("/tmp")  # never a path outside the annotation's folder


def test_gold_folder_problems_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="no \\*.gold.json"):
        load_gold_dir(tmp_path)
    (tmp_path / "a.gold.json").write_text('{"article": "a.txt", "sentences": []}', encoding="utf-8")
    with pytest.raises(GoldError, match="not beside it"):
        load_gold_dir(tmp_path)
    (tmp_path / "a.gold.json").write_text('{"article": "../../etc/passwd", "sentences": []}', encoding="utf-8")
    with pytest.raises(GoldError, match="plain file name"):
        load_gold_dir(tmp_path)


def test_metrics_by_hand(tmp_path: Path) -> None:
    text = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu. Nu xi omicron pi."
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    sents = text.split(". ")
    sents = [s if s.endswith(".") else s + "." for s in sents]
    gold = parse_gold({"article": "a.txt", "sentences": [
        {"text": sents[0], "label": "major", "errors": [{"type": "mistranslation", "span": "gamma"}]},
        {"text": sents[1], "label": "minor", "errors": [{"type": "fluency", "span": "zeta eta"}]},
        {"text": sents[2], "label": "ok", "errors": []},
        {"text": sents[3], "label": "ok", "errors": []},
    ]}, tmp_path / "a.gold.json")
    hit = Flag("fluency", "major", (6, 10), "m", None, "x")  # "beta": not the annotated span
    on_span = Flag("fluency", "minor", (8, 12), "m", None, "x")  # "zeta"
    sentences = (
        SentenceResult(0, sents[0], 0, 0, True, flags=(hit,)),
        SentenceResult(1, sents[1], 0, 0, True, flags=(on_span,)),
        SentenceResult(2, sents[2], 0, 0, True, flags=(on_span,)),
        SentenceResult(3, sents[3], 0, 0, True),
    )
    report = ArticleReport("x", "a.txt", "offline", 80.0, Signature("x", "o", (), (), (), (), ()), sentences)
    r = evaluate([(gold, report)])
    assert (r.precision, r.recall, r.major_recall, r.false_flag_rate, r.span_recall) == (2 / 3, 1.0, 1.0, 0.5, 0.5)
    assert r.span_recall_by_type["fluency"] == 1.0 and r.span_recall_by_type["mistranslation"] == 0.0
    major = evaluate([(gold, report)], "major")
    assert (major.precision, major.recall, major.false_flag_rate) == (1.0, 0.5, 0.0)
    # 16 words; penalty: 2 errors + 4 for the major sentence
    assert gold.quality() == pytest.approx(100 * (1 - 6 / 16))


def test_article_correlations_by_hand(tmp_path: Path) -> None:
    """article_pearson and article_kendall (tau-b, with a tie) of gold quality against the report score."""
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa."
    words = text.rstrip(".").split()
    pairs = []
    for i, (n_errors, score) in enumerate([(0, 95.0), (1, 70.0), (2, 70.0), (3, 60.0)]):
        (tmp_path / f"a{i}.txt").write_text(text, encoding="utf-8")
        gold = parse_gold({"article": f"a{i}.txt", "sentences": [
            {"text": text, "label": "minor" if n_errors else "ok",
             "errors": [{"type": "fluency", "span": w} for w in words[:n_errors]]},
        ]}, tmp_path / f"a{i}.gold.json")
        sentence = SentenceResult(0, text, 0, len(text), True)
        pairs.append((gold, ArticleReport(f"a{i}", f"a{i}.txt", "offline", score,
                                          Signature("x", "o", (), (), (), (), ()), (sentence,))))
    # quality 100, 90, 80, 70 (10 words, one point per error) against scores 95, 70, 70, 60
    assert [g.quality() for g, _ in pairs] == pytest.approx([100.0, 90.0, 80.0, 70.0])
    r = evaluate(pairs)
    # deviations from the means (85; 73.75): x = 15, 5, -5, -15; y = 21.25, -3.75, -3.75, -13.75
    assert r.article_pearson == pytest.approx(525 / math.sqrt(500 * 668.75))
    # of the 6 pairs, 5 are concordant, 0 discordant, 1 tied in the score only: 5 / sqrt(5 * 6)
    assert r.article_kendall == pytest.approx(5 / math.sqrt(30))
    assert (r.to_dict()["article_pearson"], r.to_dict()["article_kendall"]) == (0.908, 0.913)
    # fewer than three articles, or a constant score, have no correlation
    assert pearson([(1.0, 2.0), (2.0, 3.0)]) is None and kendall_tau_b([(1.0, 2.0), (2.0, 3.0)]) is None
    assert pearson([(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]) is None


def _result_of(rows: list[dict]) -> EvalResult:
    """An EvalResult whose point metrics are computed from `rows` as `evaluate` computes them."""
    tot = {k: sum(r[k] for r in rows) for k in ("tp", "fp", "fn", "tn", "major", "major_hit", "spans", "spans_hit")}
    p, r = tot["tp"] / (tot["tp"] + tot["fp"]), tot["tp"] / (tot["tp"] + tot["fn"])
    return EvalResult(len(rows), sum(tot[k] for k in ("tp", "fp", "fn", "tn")), p, r, 2 * p * r / (p + r),
                      tot["major_hit"] / tot["major"] if tot["major"] else None,
                      tot["fp"] / (tot["fp"] + tot["tn"]) if tot["fp"] + tot["tn"] else None,
                      tot["spans_hit"] / tot["spans"], {}, None, None, per_article=tuple(rows))


def _articles(n: int, seed: int = 1, clean: bool = True) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        major = rng.randint(0, 3)
        quality = rng.uniform(80, 98)
        rows.append({"article": f"a{i}", "tp": rng.randint(3, 8), "fp": rng.randint(0, 2) if clean else 0,
                     "fn": rng.randint(1, 6), "tn": rng.randint(2, 6) if clean else 0, "major": major,
                     "major_hit": rng.randint(0, major), "spans": 10, "spans_hit": rng.randint(2, 6),
                     "gold_quality": quality, "score": quality + rng.gauss(0, 4)})
    return rows


def test_bootstrap_intervals_hold_the_estimate_and_narrow_with_more_articles() -> None:
    few = _result_of(_articles(20))
    many = _result_of(_articles(20) * 9)  # the same articles, nine times over: same estimates, more data
    b_few, b_many = bootstrap(few, 200, seed=3), bootstrap(many, 200, seed=3)
    for name in ("precision", "recall", "f1", "major_recall", "false_flag_rate", "span_recall"):
        lo, hi = b_few.intervals[name]
        assert lo <= getattr(few, name) <= hi, name
        lo9, hi9 = b_many.intervals[name]
        assert hi9 - lo9 < 0.6 * (hi - lo), name  # about 1/3 as wide
    lo, hi = b_few.intervals["article_pearson"]
    assert 0 < lo < hi <= 1  # the scores were drawn to follow the quality
    assert bootstrap(few, 200, seed=3) == b_few and bootstrap(few, 200, seed=4) != b_few
    # a metric that no resample can define has no interval
    assert bootstrap(_result_of(_articles(10, clean=False)), 200).intervals["false_flag_rate"] is None
    with pytest.raises(ValueError):
        bootstrap(few, 0)


def test_cross_validation_scores_every_article_once_with_a_model_fitted_without_it(raw: tuple) -> None:
    golds, reports = raw
    seen: list[int] = []
    result, major, held_out = cross_validate(golds, reports, folds=5, c=FIXED_C, on_fold=seen.append)
    assert seen == [0, 1, 2, 3, 4] and len(held_out) == len(golds)
    assert all(r.signature.calibration and r.signature.calibration.startswith("fold") for r in held_out)
    assert result.articles == 10 and major.min_severity == "major"


# ---------------------------------------------------------------------------- CLI


def test_calibrate_then_check_and_eval_with_the_new_file(gold_dir: Path, tmp_path: Path, fixed_c: float) -> None:
    out = tmp_path / "newsroom.json"
    runner = CliRunner()
    res = runner.invoke(main, ["calibrate", str(gold_dir), "--out", str(out), "--engine", "offline"])
    assert res.exit_code == 0, res.output
    cal = load_calibration(out)
    assert cal.name == "newsroom" and len(cal.provenance["data_sha256"]) == 64 and cal.provenance["C"] == fixed_c
    article = gold_dir / "art-0.txt"
    res = runner.invoke(main, ["check", str(article), "--calibration", str(out), "--engine", "offline", "-q",
                               "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["signature_fields"]["calibration"] == cal.label and f"calibration:{cal.label}" in data["signature"]
    assert data["score_method"] == "expected-penalty"
    assert all(f["probability"] is not None for s in data["sentences"] for f in s["flags"])
    res = runner.invoke(main, ["eval", str(gold_dir), "--calibration", str(out), "--engine", "offline", "--json",
                               "--bootstrap", "0"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    assert metrics["evaluated_with"] == f"calibration {cal.label}"
    assert set(metrics["all_flags"]["span_recall_by_type"]) >= {"fluency"}


def test_eval_with_folds_and_uncalibrated_runs(gold_dir: Path, fixed_c: float) -> None:
    # 1000 resamples by default; fewer here, as each resample costs a few milliseconds
    assert next(p for p in main.commands["eval"].params if p.name == "resamples").default == 1000
    runner = CliRunner()
    res = runner.invoke(main, ["eval", str(gold_dir), "--folds", "2", "--engine", "offline", "--json",
                               "--bootstrap", "200"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["evaluated_with"].startswith("2-fold cross-validation")
    boot = data["bootstrap"]["all_flags"]
    assert boot["resamples"] == 200 and boot["by_article"] and boot["level"] == 0.95
    lo, hi = boot["intervals"]["recall"]
    assert lo <= data["all_flags"]["recall"] <= hi
    res = runner.invoke(main, ["eval", str(gold_dir), "--folds", "2", "--engine", "offline", "--json", "--bootstrap", "0"])
    assert res.exit_code == 0 and "bootstrap" not in json.loads(res.output)
    res = runner.invoke(main, ["eval", str(gold_dir), "--no-calibration", "--engine", "offline", "--bootstrap", "50"])
    assert res.exit_code == 0 and "uncalibrated" in res.output


def test_bad_calibration_and_gold_inputs_exit_2_in_one_line(gold_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    res = runner.invoke(main, ["check", str(gold_dir / "art-0.txt"), "--calibration", str(bad), "-q"])
    assert res.exit_code == 2 and "not valid JSON" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, ["eval", str(tmp_path)])
    assert res.exit_code == 2 and "no *.gold.json" in res.output
    res = runner.invoke(main, ["calibrate", str(gold_dir), "--out", str(gold_dir / "art-1.txt")])
    assert res.exit_code == 2 and "annotated inputs" in res.output
    res = runner.invoke(main, ["check", str(gold_dir / "art-0.txt"), "--calibration", str(bad), "--no-calibration"])
    assert res.exit_code == 2


@pytest.mark.parametrize("kinds", [
    {"x:y:minor": {"flags": 2, "in_error": 3, "in_major": 0, "precision": 0.5, "strong": False}},  # more hits than flags
    {"x:y:minor": {"flags": 2, "in_error": 1, "in_major": 0, "precision": 1.5, "strong": False}},
    {"x:y:minor": {"flags": 2, "in_error": 1, "in_major": 0, "precision": 0.5, "strong": "yes"}},
    {"x:y:minor": [2, 1, 0]},
    ["x:y:minor"],
])
def test_a_damaged_kinds_table_is_refused_in_one_line(kinds: object) -> None:
    data = json.loads(load_calibration().to_json())
    data["kinds"] = kinds
    with pytest.raises(CalibrationError, match="kinds"):
        calibration_from_json(json.dumps(data), "bad.json")


def test_the_kinds_table_survives_the_file_format() -> None:
    shipped = load_calibration()
    again = calibration_from_json(shipped.to_json(), "again.json")
    assert again.kinds == shipped.kinds and any(k.strong for k in shipped.kinds.values())
