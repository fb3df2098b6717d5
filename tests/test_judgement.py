"""What an editor is shown, through the shipped calibration: strong evidence leads, weak evidence hints.

Each article is short and written for these tests: a short sentence has a low probability of
error under the sentence model, so a flag that shows here shows because its kind of evidence is
strong (its measured precision, `calibration/apply.py`), not because the sentence looks risky.
"""
from __future__ import annotations

import pytest

from mtqc.calibration.apply import kind_precision
from mtqc.calibration.features import flag_kind
from mtqc.config import load_settings
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.results import ArticleReport

from .helpers import check_text


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline").build()


def _shown(report: ArticleReport) -> list[tuple[str, str]]:
    return [(s.text[f.span[0]:f.span[1]] if f.span else "", f.signal) for s in report.sentences for f in s.flags]


def _candidates(report: ArticleReport) -> list[str]:
    return [f.signal for s in report.sentences for f in s.candidates]


def test_a_brand_spelled_three_ways_is_flagged_in_a_short_article(checker: Checker) -> None:
    text = ("The bakery Rotimanis opened in Bogor. Rotimanis sells bread. Roti Manis hired cooks. "
            "Rotimanis grew fast. Rotimaniss sold cakes.")
    report = check_text(checker, text, "bakery.txt")
    shown = _shown(report)
    assert ("Roti Manis", "consistency.split_names") in shown and ("Rotimaniss", "consistency.names") in shown
    assert not any(c.startswith("consistency.") for c in _candidates(report))  # none left hidden
    for s in report.sentences:
        for f in s.flags:
            if f.signal.startswith("consistency."):
                precision, _, strong = kind_precision(checker.calibration, flag_kind(f))  # type: ignore[arg-type]
                assert strong and s.p_error >= precision  # the sentence's number agrees with what is shown


def test_she_then_him_for_one_minister_is_flagged_in_a_short_article(checker: Checker) -> None:
    text = ("Finance Minister Ratna Kusumawati opened the fair. She said exports grew. "
            "According to him, the fair drew buyers.")
    report = check_text(checker, text, "fair.txt")
    assert ("him", "consistency.he_she") in _shown(report)


def test_weak_evidence_alone_stays_a_candidate(checker: Checker) -> None:
    # one rare word pair in a short, plain sentence: a hint, not something to show an editor
    text = "The mayor opened the market. Traders sold fruit. Buyers came early."
    report = check_text(checker, text, "market.txt")
    assert all(f.signal != "fluency" for s in report.sentences for f in s.flags)


def test_major_is_said_only_at_a_probability_above_one_half(checker: Checker) -> None:
    text = ("The council the budget yesterday approve was after long debate with members many of town and "
            "the the mayor said it was at least years be done, according to him the regency the plan.")
    report = check_text(checker, text, "council.txt")
    for s in report.sentences:
        for f in s.flags:
            if f.severity == "major":
                assert s.p_major is not None and s.p_major >= 0.5 and f.probability == s.p_major


def _shipped_kinds() -> list[str]:
    from mtqc.calibration.model import load_calibration

    return sorted(load_calibration().kinds)


@pytest.mark.parametrize("kind", _shipped_kinds())
def test_each_shipped_kind_is_shown_by_its_own_measured_precision(checker: Checker, kind: str) -> None:
    from dataclasses import replace

    from mtqc.calibration.apply import CalibrationStep
    from mtqc.results import Flag, Signature, SentenceResult
    from mtqc.scoring import run_steps

    cal = checker.calibration
    assert cal is not None
    silent = replace(cal, flag_threshold=1.0, major_threshold=1.0)  # the sentence model flags nothing here
    signal, flag_type, severity = kind.split(":")
    text = "Abc def ghi jkl."
    flag = Flag(flag_type, severity, (0, 3), "written for the test", None, signal)  # type: ignore[arg-type]
    sentence = SentenceResult(0, text, 0, len(text), True, flags=(flag,))
    report = ArticleReport("x", "a.txt", "offline", 100.0, Signature("x", "offline", (), (), (), (signal,), ()),
                           (sentence,), word_count=4)
    (out,) = run_steps(report, [CalibrationStep(silent)]).sentences
    stats = cal.kinds[kind]
    shown = [f for f in out.flags if f.signal == signal]
    if stats.strong:
        assert shown and out.p_error is not None and out.p_error >= stats.precision  # shown, and the numbers agree
    else:
        assert not shown and [f.signal for f in out.candidates] == [signal]  # weighed by the sentence model
