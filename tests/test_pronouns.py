"""Gendered pronouns (`gendered_pronouns`): counted as features for the calibration; never shown as flags."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.engines.offline import OfflineEngine
from mtqc.glossary.concepts import Glossary
from mtqc.ingest import segment
from mtqc.pipeline import build_context
from mtqc.signals.gendered_pronouns import GenderedPronounSignal


def _values(text: str) -> list[dict[str, float]]:
    signal = GenderedPronounSignal()
    ctx, _ = build_context(segment(text), Glossary(), OfflineEngine(), [signal])
    outputs = signal.run(ctx)
    assert all(not o.flags and not o.candidates for o in outputs)  # a feature, never a flag or candidate
    return [dict(o.values) for o in outputs]


@pytest.mark.parametrize("sentence", [
    '"The dam is safe," he said.', "He also said the road would reopen on Monday.",
    "According to him, the budget was approved.", '"We are ready," said she, smiling.',
    "She added that repairs would start soon.",
])
def test_a_pronoun_attributing_speech_is_counted(sentence: str) -> None:
    [values] = _values(sentence)
    assert values["gendered_pronouns.attributing"] == 1.0


def test_pronouns_are_counted_by_gender_and_only_speech_attributions_as_attributing() -> None:
    [values] = _values("He went home after his meeting, and she thanked him for her invitation.")
    assert values == {"gendered_pronouns.masculine": 3.0, "gendered_pronouns.feminine": 2.0, "gendered_pronouns.attributing": 0.0}
    [plain] = _values("The committee approved the plan on Tuesday.")
    assert plain == {"gendered_pronouns.masculine": 0.0, "gendered_pronouns.feminine": 0.0, "gendered_pronouns.attributing": 0.0}
    # words that merely contain a pronoun are not pronouns
    [words] = _values("The shepherd said the theme of the helmet was heroic.")
    assert words["gendered_pronouns.masculine"] == 0.0 and words["gendered_pronouns.attributing"] == 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["he said", "she added", "according to him", "the minister", "told reporters",
                                 "said he", "his office", "her", "yesterday", ",", "and"]), min_size=1, max_size=12))
def test_counts_never_exceed_the_pronouns_present(words: list[str]) -> None:
    for values in _values("Officials " + " ".join(words) + "."):
        pronouns = values["gendered_pronouns.masculine"] + values["gendered_pronouns.feminine"]
        assert 0 <= values["gendered_pronouns.attributing"] <= pronouns
