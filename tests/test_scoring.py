from __future__ import annotations

import pytest

from mtqc.results import Flag
from mtqc.scoring import SCORE_HALF_LIFE, merge_flags, mqm_penalty, penalty_score


def _flag(severity: str, span: tuple[int, int] | None = None, type_: str = "fluency", suggestion: str | None = None) -> Flag:
    return Flag(type_, severity, span, "m", suggestion)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severities", "penalty"),
    [([], 0.0), (["minor"], 1.0), (["major"], 5.0), (["critical"], 10.0), (["minor", "major", "critical"], 16.0)],
)
def test_mqm_penalty_uses_the_dqf_weights(severities: list[str], penalty: float) -> None:
    assert mqm_penalty([_flag(s) for s in severities]) == penalty


@pytest.mark.parametrize(
    ("penalty", "words", "expected"),
    [(0.0, 100, 100.0), (SCORE_HALF_LIFE, 100, 50.0), (2 * SCORE_HALF_LIFE, 100, 25.0),
     (SCORE_HALF_LIFE, 200, 100 * 0.5 ** 0.5), (0.0, 0, 100.0), (3.0, 0, 0.0)],
)
def test_penalty_score_halves_every_half_life(penalty: float, words: int, expected: float) -> None:
    assert penalty_score(penalty, words) == pytest.approx(expected)


def test_penalty_score_spreads_and_keeps_the_order() -> None:
    scores = [penalty_score(p, 300) for p in range(0, 60, 3)]
    assert scores == sorted(scores, reverse=True) and scores[0] == 100.0
    assert scores[0] - scores[-1] > 50  # what a per-word deduction squeezes into a few points


def test_merge_keeps_the_flag_with_a_suggestion_over_an_overlapping_one() -> None:
    generic = _flag("minor", (0, 5), "untranslated")
    glossary = _flag("minor", (0, 9), "untranslated", suggestion="acting")
    assert merge_flags([generic, glossary]) == (glossary,)


def test_merge_keeps_different_errors_apart() -> None:
    a = _flag("minor", (0, 5), "fluency")
    b = _flag("major", (10, 15), "fluency")
    c = _flag("minor", (2, 4), "other")
    assert set(merge_flags([a, b, c])) == {a, b, c}


def test_flag_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        Flag("spelling", "minor", None, "m")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Flag("fluency", "huge", None, "m")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Flag("fluency", "minor", (5, 5), "m")
