"""Gendered pronouns: counted as a feature, and offered as a hint where they attribute speech."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.engines.offline import OfflineEngine
from mtqc.glossary import Glossary
from mtqc.ingest import segment
from mtqc.pipeline import build_context
from mtqc.signals.pronouns import PronounSignal


def _run(text: str) -> list:
    signal = PronounSignal()
    ctx, _ = build_context(segment(text), Glossary(), OfflineEngine(), [signal])
    return [(s.text, out) for s, out in zip(ctx.sentences, signal.run(ctx))]


@pytest.mark.parametrize(("sentence", "span", "suggestion"), [
    ('"The dam is safe," he said.', "he said", "she said"),
    ("He also said the road would reopen on Monday.", "He also said", "She also said"),
    ("According to him, the budget was approved.", "According to him", "According to her"),
    ('"We are ready," said she, smiling.', "said she", "said he"),
    ("She added that repairs would start soon.", "She added", "He added"),
])
def test_a_pronoun_attributing_speech_is_a_hint_with_the_other_gender_as_suggestion(
        sentence: str, span: str, suggestion: str) -> None:
    [(text, out)] = _run(sentence)
    assert not out.flags  # a hint: the calibration decides whether the editor sees it
    [hint] = out.hints
    assert text[hint.span[0]:hint.span[1]] == span and hint.suggestion == suggestion
    assert hint.type == "mistranslation"


def test_pronouns_are_counted_and_only_speech_attributions_become_hints() -> None:
    [(_, out)] = _run("He went home after his meeting, and she thanked him for her invitation.")
    assert out.values == {"pronouns.masculine": 3.0, "pronouns.feminine": 2.0, "pronouns.attributing": 0.0}
    assert out.hints == ()
    [(_, plain)] = _run("The committee approved the plan on Tuesday.")
    assert plain.values["pronouns.masculine"] == plain.values["pronouns.feminine"] == 0.0
    # words that merely contain a pronoun are not pronouns
    [(_, words)] = _run("The shepherd said the theme of the helmet was heroic.")
    assert words.values["pronouns.masculine"] == 0.0 and words.hints == ()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["he said", "she added", "according to him", "the minister", "told reporters",
                                 "said he", "his office", "her", "yesterday", ",", "and"]), min_size=1, max_size=12))
def test_hints_lie_inside_their_sentence_and_change_only_the_pronoun(words: list[str]) -> None:
    sentence = "Officials " + " ".join(words) + "."
    for text, out in _run(sentence):
        for hint in out.hints:
            start, end = hint.span
            assert 0 <= start < end <= len(text)
            original = text[start:end].split()
            changed = hint.suggestion.split()
            assert len(original) == len(changed)
            assert sum(a != b for a, b in zip(original, changed)) == 1
