from __future__ import annotations

import pytest

from mtqc.results import Flag
from mtqc.scoring import merge_flags, mqm_score


def _flag(severity: str, span: tuple[int, int] | None = None, type_: str = "fluency", suggestion: str | None = None) -> Flag:
    return Flag(type_, severity, span, "m", suggestion)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("severities", "words", "expected"),
    [
        ([], 100, 100.0),
        (["minor"], 100, 99.0),
        (["major"], 100, 95.0),
        (["critical"], 100, 90.0),
        (["minor", "major", "critical"], 200, 92.0),
        (["critical"] * 20, 100, 0.0),  # floored
        ([], 0, 100.0),
    ],
)
def test_mqm_score(severities: list[str], words: int, expected: float) -> None:
    assert mqm_score([_flag(s) for s in severities], words) == pytest.approx(expected)


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
