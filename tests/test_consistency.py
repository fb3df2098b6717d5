"""One concept rendered one way: a case per mechanism, and near-misses that must stay unflagged.

Each mechanism is a signal of its own (`consistency.<mechanism>`); `_flags` runs them all, as the
pipeline does, and `_flags_by` says which one raised each flag.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.engines.base import Engine, TokenScores
from mtqc.glossary import BUILTIN_GLOSSARY, Glossary, check_glossary_file, parse_stanzas
from mtqc.ingest import segment
from mtqc.signals import SIGNALS, ArticleContext, select_signals
from collections import Counter

from mtqc.signals.consistency import CONSISTENCY_SIGNALS, EntityPhrasesSignal, HeSheSignal
from mtqc.signals.consistency.common import minority as _minority
from mtqc.signals.consistency.entities import _compose, _demonym
from mtqc.signals.consistency.names import one_char_variant as _one_char_variant

from mtqc.engines.offline import OfflineEngine
from mtqc.pipeline import build_context
from mtqc.signals.terminology import TerminologySignal

from .helpers import run_signal


def _flags_by(text: str, glossary: Glossary | None = None) -> list[tuple[str, str | None, str]]:
    """(flagged text, suggestion, signal) for every consistency flag, mechanism by mechanism."""
    article = segment(text)
    out = []
    for cls in CONSISTENCY_SIGNALS:
        for seg, flags in zip(article.scored_segments, run_signal(cls(), text, glossary)):
            out += [(seg.text[f.span[0]:f.span[1]], f.suggestion, f.signal) for f in flags if f.type == "consistency"]
    return out


def _flags(text: str, glossary: Glossary | None = None) -> list[tuple[str, str | None]]:
    return [(found, suggestion) for found, suggestion, _ in _flags_by(text, glossary)]


def _signals(text: str, glossary: Glossary | None = None) -> set[str]:
    return {signal for _, _, signal in _flags_by(text, glossary)}


def test_every_mechanism_is_a_registered_signal_of_the_consistency_family() -> None:
    names = [cls.name for cls in CONSISTENCY_SIGNALS]
    assert names == ["consistency.names", "consistency.split_names", "consistency.places",
                     "consistency.glossary_forms", "consistency.currencies", "consistency.entities",
                     "consistency.he_she"]
    assert all(SIGNALS[name] is cls for name, cls in zip(names, CONSISTENCY_SIGNALS))


def test_each_mechanism_can_be_turned_off_alone_or_with_its_family() -> None:
    def running(*disabled: str) -> set[str]:
        return {s.name for s in select_signals(set(), False, disabled) if s.name.startswith("consistency")}

    assert running() == set(SIGNALS) & {cls.name for cls in CONSISTENCY_SIGNALS}
    assert running("consistency.he_she") == running() - {"consistency.he_she"}
    assert running("consistency") == set()


def test_a_mechanism_counts_its_own_flags_under_its_own_name() -> None:
    text = "The city budget is Rp 81 trillion. Spending reached Rp 60 trillion. Tax income was IDR 44 trillion."
    signal = SIGNALS["consistency.currencies"]()
    ctx, _ = build_context(segment(text), Glossary(), OfflineEngine(), [signal])
    assert [dict(o.values) for o in signal.run(ctx)] == [{"consistency.currencies.count": c} for c in (0.0, 0.0, 1.0)]


def test_the_entity_index_is_built_once_per_article(monkeypatch: pytest.MonkeyPatch) -> None:
    # the entity mechanism reads the article's entity phrases twice: to ask the pipeline for their
    # outputs (before the context exists), then to flag them
    from functools import cached_property

    from mtqc.signals.consistency import index

    builds: list[tuple[str, ...]] = []
    build = index.ArticleIndex.__dict__["entity_families"].func

    def counted(self: index.ArticleIndex) -> object:
        builds.append(self.texts)
        return build(self)

    prop = cached_property(counted)
    prop.__set_name__(index.ArticleIndex, "entity_families")
    monkeypatch.setattr(index.ArticleIndex, "entity_families", prop)
    index._index.cache_clear()
    text = "Indonesian emigrants reached Perth. Officials met Indonesian wanderers on Monday. Indonesian emigrants asked for help."
    outputs = run_signal(EntityPhrasesSignal(), text, engine=BackTranslator())
    assert [f.suggestion for o in outputs for f in o] == ["Indonesian emigrants"]  # it did read the index
    assert len(builds) == 1


def test_a_name_spelled_two_ways_flags_the_minority_spelling() -> None:
    text = ("Head of the agency Yusuf Hendarto said the dam was safe. Hendarto added that repairs start soon. "
            "According to Hendarto, the budget is ready. Hendorto said workers were hired.")
    assert _flags(text) == []  # "Hendorto" is a substitution, not an insertion: maybe another person
    text = text.replace("Hendorto", "Hendartto")
    assert _flags_by(text) == [("Hendartto", "Hendarto", "consistency.names")]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("Safrudin", "Syafrudin", True), ("Yuli", "Yulie", True), ("Min-seok", "Min Seok", True),
     ("Wulandari", "Wulansari", False), ("Hendarto", "Hendro", False), ("Cianjur", "Cianjuran", False)],
)
def test_one_char_variant(a: str, b: str, same: bool) -> None:
    assert _one_char_variant(a, b) is same


@pytest.mark.parametrize(
    ("counts", "rarer_first", "flagged"),
    [({"Rp": 3, "IDR": 1}, ["IDR", "Rp"], ["IDR"]), ({"Rp": 1, "IDR": 1}, ["IDR", "Rp"], ["IDR"]),
     ({"Rp": 1, "IDR": 1}, ["Rp", "IDR"], ["Rp"]), ({"Rp": 2}, ["Rp"], [])],
)
def test_minority_flags_all_but_the_majority_and_ties_go_against_the_rarer(
    counts: dict[str, int], rarer_first: list[str], flagged: list[str]
) -> None:
    assert _minority(Counter(counts), rarer_first) == flagged


def test_a_tie_between_spellings_flags_the_one_rarer_in_both_languages() -> None:
    text = "Mayor Yuli Santoso opened the market. Yulie Santoso said it cost little."
    assert _flags(text) == [("Yulie", "Yuli")]


def test_place_name_order_is_one_convention_per_article() -> None:
    text = ("Storms hit South Jakarta and East Jakarta on Friday. Trees also fell in Jakarta Barat. "
            "Families in Cibubur Selatan, Pasar Utara and Rawa Timur were moved. North Cibubur was spared.")
    found = dict(_flags(text))
    assert found == {"Jakarta Barat": "West Jakarta", "North Cibubur": "Cibubur Utara"}
    assert _signals(text) == {"consistency.places"}


def test_different_places_with_similar_names_are_not_variants() -> None:
    text = ("Storms hit North Jakarta and South Jakarta. Trees fell in Pasar Utara and Pasar Selatan. "
            "Officials in Pasar Utara said Pasar Selatan was worse.")
    assert _flags(text) == []


GLOSSARY = Glossary(tuple(parse_stanzas(
    "id: IHSG\nen: Jakarta Composite Index\naccept: JCI\n\nid: BUMN\nen: state-owned enterprise\naccept: SOE\n\n"
    "id: pekerja migran Indonesia\nen: Indonesian migrant workers\nwrong: Indonesian migrant\n",
    "t.glossary",
)), ("t.glossary",))


def test_indonesian_form_beside_the_english_form_of_one_concept() -> None:
    text = "The JCI gained 0.8 percent on Tuesday. Traders expect the JCI to climb further. The IHSG ended in the green."
    assert _flags_by(text, GLOSSARY) == [("IHSG", "JCI", "consistency.glossary_forms")]


def test_an_acronym_the_article_introduced_may_be_used() -> None:
    text = ("Most state-owned enterprises (BUMN) paid dividends this year. The BUMN ministry said SOE profits rose. "
            "Lawmakers praised the BUMN plan.")
    assert _flags(text, GLOSSARY) == []


def test_one_currency_written_two_ways() -> None:
    text = "The city budget is Rp 81 trillion. Spending reached Rp 60 trillion. Tax income was IDR 44 trillion."
    assert _flags_by(text) == [("IDR", "Rp", "consistency.currencies")]


def test_entity_phrases_with_near_synonymous_heads_follow_the_glossary() -> None:
    # an agent noun and an action noun for one group ("migrants" / "the migration of"), a typical calque
    text = ("Riyadh promised to protect Indonesian migrants. The migration of Indonesia must not be abused. "
            "Activists said Indonesia's migration faces long hours. Still, Indonesian migrants keep arriving, "
            "and the migration of Indonesia is at risk. Indonesian citizens abroad live in fear.")
    found = _flags(text, GLOSSARY)
    assert found and {t for t, _ in found} == {"The migration of Indonesia", "Indonesia's migration", "the migration of Indonesia"}
    assert {s for _, s in found} == {"Indonesian migrant workers"}
    assert _signals(text, GLOSSARY) == {"consistency.entities"}


def test_two_different_entities_are_not_one_concept() -> None:
    text = ("North Korean soldiers crossed the border. South Korean soldiers fired warning shots. "
            "North Korean soldiers returned. South Korean soldiers stayed on alert.")
    assert _flags(text) == []


class BackTranslator(Engine):
    """Back-translates two different English phrases to one Indonesian term."""

    name = "stub"

    def __init__(self) -> None:
        super().__init__()
        self.phrase_batches: list[list[str]] = []

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        if src == "en" and all(len(t.split()) <= 3 for t in texts):  # phrases, not the article's sentences
            self.phrase_batches.append(list(texts))
        return ["perantau Indonesia" if ("emigrants" in t or "wanderers" in t) else t for t in texts]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise NotImplementedError


def test_phrases_that_back_translate_to_one_term_are_one_concept() -> None:
    text = "Indonesian emigrants reached Perth. Officials met Indonesian wanderers on Monday. Indonesian emigrants asked for help."
    article = segment(text)
    engine = BackTranslator()
    outputs = run_signal(EntityPhrasesSignal(), text, engine=engine)
    flagged = [(article.scored_segments[i].text[f.span[0]:f.span[1]], f.suggestion)
               for i, flags in enumerate(outputs) for f in flags]
    assert flagged == [("Indonesian wanderers", "Indonesian emigrants")]
    # the phrases went to the engine in one batched call, made by the pipeline, not by the signal
    assert engine.phrase_batches == [["Indonesian emigrants", "Indonesian wanderers"]]


def test_the_entity_signal_reads_phrase_outputs_from_its_context_and_calls_no_model() -> None:
    text = "Indonesian emigrants reached Perth. Officials met Indonesian wanderers on Monday. Indonesian emigrants asked for help."
    article = segment(text)
    engine = BackTranslator()
    signal = EntityPhrasesSignal()
    ctx = ArticleContext(article, tuple(article.scored_segments), Glossary(), engine, (), (),
                         phrase_backtranslations={"Indonesian emigrants": "perantau Indonesia",
                                                  "Indonesian wanderers": "perantau Indonesia"})
    flagged = [f for o in signal.run(ctx) for f in o.flags]
    assert [f.suggestion for f in flagged] == ["Indonesian emigrants"] and engine.phrase_batches == []
    # without the outputs (not computed) the mechanism finds nothing, and still calls no model
    bare = ArticleContext(article, tuple(article.scored_segments), Glossary(), engine, (), ())
    assert [f for o in signal.run(bare) for f in o.flags] == [] and engine.phrase_batches == []


def test_he_and_she_for_one_person() -> None:
    text = ("Finance Minister Sri Wahyuningsih presented the budget. She said revenue rose. "
            "Wahyuningsih added that he would cut spending. She thanked parliament.")
    article = segment(text)
    flags = [(i, f) for i, fl in enumerate(run_signal(HeSheSignal(), text)) for f in fl]
    assert len(flags) == 1
    index, flag = flags[0]
    assert article.scored_segments[index].text[flag.span[0]:flag.span[1]] == "he" and flag.severity == "major"
    assert flag.signal == "consistency.he_she" and _flags(text) == [("he", None)]  # no other mechanism fires


def test_two_people_with_different_pronouns_are_fine() -> None:
    text = ("Minister Sri Wahyuningsih spoke first. She praised the plan. "
            "Governor Ridwan Hakim spoke next. He criticised it.")
    assert run_signal(HeSheSignal(), text) == [[], [], [], []]


def test_glossary_check_command_lists_problems_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.glossary"
    bad.write_text("id: a\nen: b\nwrong: c\n\nen: x\nbogus: y\n\nid: q\nwrong: r\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["glossary", "check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:6: expected 'key: value'" in result.stdout and f"{bad}:8: concept has no 'en'" in result.stdout
    good = tmp_path / "good.csv"
    good.write_text("id,en,wrong\nawak media,reporters,media crew\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["glossary", "check", str(good)])
    assert result.exit_code == 0 and "ok, 1 concepts" in result.stdout


# --- one name written as one word and as two ------------------------------------------------


def test_a_name_written_as_one_word_and_as_two_flags_the_minority_form() -> None:
    text = ("The clinic chain Mitrasehat opened a branch in Depok. Mitrasehat said it hired 40 nurses. "
            "A spokesman for Mitra Sehat said prices would stay low. Mitrasehat plans ten more branches.")
    assert _flags_by(text) == [("Mitra Sehat", "Mitrasehat", "consistency.split_names")]
    # the other way round: the split form is the article's usual one
    text = ("Mitra Sehat opened a branch in Depok. Mitra Sehat hired 40 nurses. "
            "Mitrasehat said prices would stay low.")
    assert _flags(text) == [("Mitrasehat", "Mitra Sehat")]


def test_camel_case_and_hyphenated_forms_are_the_same_name() -> None:
    text = "Tirta Mulya won the league. Tirta Mulya then lost a friendly. TirtaMulya and Tirta-Mulya fans cheered."
    assert sorted(_flags(text)) == [("Tirta-Mulya", "Tirta Mulya"), ("TirtaMulya", "Tirta Mulya")]


def test_a_tie_between_joined_and_split_goes_against_the_later_form() -> None:
    text = "Kotajaya Group bought the mill. The buyer, Kota Jaya Group, did not comment."
    assert _flags(text) == [("Kota Jaya", "Kotajaya")]


def test_names_that_only_share_a_word_are_not_one_name() -> None:
    text = ("Mitra Sehat opened a clinic. Mitra Sejahtera opened a bank. Mitra said both grew. "
            "Mitra Sehat hired nurses, and Sehat Mitra, a different firm, sold drugs.")
    assert _flags(text) == []


def test_a_common_english_compound_is_not_a_split_name() -> None:
    assert _flags("The Week End festival opened. The Weekend crowd was large. Weekend tickets sold out.") == []


_syllables = st.sampled_from(["ma", "ra", "ti", "ko", "su", "wa", "ni", "de", "lu", "pa", "ja", "ya"])
_part = st.lists(_syllables, min_size=2, max_size=3).map(lambda s: "".join(s).capitalize())


@settings(max_examples=30, deadline=None)
@given(first=_part, second=_part, other=_part)
def test_joined_and_split_forms_of_any_invented_name(first: str, second: str, other: str) -> None:
    joined = first + second.lower()
    text = f"{joined} opened an office. {joined} hired staff. The head of {first} {second} spoke on Monday."
    assert _flags(text) == [(f"{first} {second}", joined)]
    # a different second word is a different name, whatever the letters
    if other.lower() != second.lower():
        near_miss = f"{first} {second} opened an office. {first} {other} hired staff. {first} {second} grew."
        assert _flags(near_miss) == []


def test_the_premodified_rendering_is_suggested_over_the_calqued_order_even_when_rarer() -> None:
    # a group of people calqued head-first ("the exiles of Ruritania", "Ruritania's exiles") three times,
    # and named as English names a group ("Ruritanian refugees") twice: the calques are the ones to fix
    text = ("Ruritanian refugees reached the coast on Monday. Officials said the exiles of Ruritania need tents. "
            "Ruritania's exiles worry the navy. Aid groups met Ruritanian refugees in the camps. "
            "The exiles of Ruritania stayed through the week.")
    flagged = _flags(text)
    assert {t for t, _ in flagged} == {"the exiles of Ruritania", "Ruritania's exiles", "The exiles of Ruritania"}
    assert {s for _, s in flagged} == {"Ruritanian refugees"}
    # both renderings premodified: the minority is flagged, as before
    both_natural = text.replace("the exiles of Ruritania", "Ruritanian exiles").replace("Ruritania's exiles", "Ruritanian exiles")
    both_natural = both_natural.replace("The exiles of Ruritania", "Ruritanian exiles")
    assert {s for _, s in _flags(both_natural)} <= {"Ruritanian exiles"}


@pytest.mark.parametrize(("place", "demonym"), [("Ruritania", "Ruritanian"), ("Zembla", "Zemblan")])
def test_a_demonym_is_not_a_spelling_variant_of_its_place(place: str, demonym: str) -> None:
    assert not _one_char_variant(place, demonym) and not _one_char_variant(demonym, place)
    assert _flags(f"{demonym} farmers met in {place} on Monday. The {demonym} harvest was poor in {place}.") == []


# --- a concept the glossary knows: its preferred term, not another rendering from the article ---------

def _user_glossary(text: str) -> Glossary:
    return Glossary(tuple(parse_stanzas(text, "user.glossary")), ("user.glossary",))


# people who fled an invented state, rendered three ways: one premodified but with a wrong head,
# two calqued head-first from the Indonesian order
_FLED = ("Ruritanian fugitives crossed the river at night. The government urged its neighbour to stop returning them. "
         "Aid groups raised the issue of the escape of Ruritania detained in border camps. "
         "Ruritanian fugitives face prison if sent back. Lawyers said Ruritania's escape deserve protection. "
         "A court heard the case of the escape of Ruritania on Monday.")
_DEFECTOR = _user_glossary("id: pembelot\nen: defector\nwrong: Ruritanian fugitive\nseverity: major\n")


def test_the_glossary_preferred_term_is_suggested_not_another_rendering_from_the_article() -> None:
    # without a glossary the calques point to the premodified rendering, whatever its head
    assert {s for _, s, _ in _flags_by(_FLED)} == {"Ruritanian fugitives"}
    flagged = _flags_by(_FLED, _DEFECTOR)
    assert {t for t, _, _ in flagged} == {"the escape of Ruritania", "Ruritania's escape"}
    # the preferred head, premodified as the article names the group, plural for a group of people
    assert {s for _, s, _ in flagged} == {"Ruritanian defectors"}
    # the known wrong rendering is the terminology signal's, with the same replacement
    article = segment(_FLED)
    terms = [(seg.text[f.span[0]:f.span[1]], f.suggestion) for seg, flags in
             zip(article.scored_segments, run_signal(TerminologySignal(), _FLED, _DEFECTOR)) for f in flags]
    assert terms == [("Ruritanian fugitives", "Ruritanian defectors")] * 2


def test_accepting_a_suggestion_reads_correctly_in_its_sentence() -> None:
    article = segment(_FLED)
    fixed = []
    for cls in (EntityPhrasesSignal, TerminologySignal):
        for seg, flags in zip(article.scored_segments, run_signal(cls(), _FLED, _DEFECTOR)):
            for f in flags:
                fixed.append(seg.text[:f.span[0]] + (f.suggestion or "") + seg.text[f.span[1]:])
    assert "Aid groups raised the issue of Ruritanian defectors detained in border camps." in fixed
    assert "Lawyers said Ruritanian defectors deserve protection." in fixed
    assert "Ruritanian defectors crossed the river at night." in fixed
    assert not [s for s in fixed if re.search(r"\b(\w+) \1\b", s, re.IGNORECASE)]  # no "the the", "defectors defectors"


def test_a_rendering_in_the_glossary_wins_over_the_article_majority_in_the_number_each_needs() -> None:
    text = ("Ruritanian deserters crossed the river at night. Ruritanian defectors said the guards fired. "
            "Officials counted Ruritanian deserters in three camps. A Ruritanian deserter told reporters he was beaten. "
            "Ruritanian defectors asked for asylum.")
    # without a glossary the minority is flagged, pointing to the majority
    assert {(t, s) for t, s in _flags(text)} == {("Ruritanian defectors", "Ruritanian deserters")}
    found = _flags(text, _user_glossary("id: pembelot\nen: defector\n"))
    assert sorted(set(found)) == [("Ruritanian deserter", "Ruritanian defector"), ("Ruritanian deserters", "Ruritanian defectors")]


def test_a_one_word_accepted_term_does_not_pull_in_its_concept() -> None:
    # "fugitive" is also a wanted person: a concept that merely accepts the word says nothing about this group
    wanted = _user_glossary("id: DPO\nen: wanted list\naccept: fugitive; wanted person\n")
    assert {s for _, s in _flags(_FLED, wanted)} == {"Ruritanian fugitives"}


@pytest.mark.parametrize(("span", "plural", "expected"), [
    ("the escape of Ruritania", True, "Ruritanian defectors"),
    ("The escape of Ruritania", True, "Ruritanian defectors"),
    ("the defector of Ruritania", False, "the Ruritanian defector"),
    ("Ruritania's escape", True, "Ruritanian defectors"),
])
def test_a_composed_suggestion_replaces_its_span_exactly(span: str, plural: bool, expected: str) -> None:
    assert _compose("defector", "Ruritanian", "Ruritania", plural, span) == expected
    # a preferred term that already says whose is not premodified again
    assert _compose("Ruritanian defector", "Ruritanian", "Ruritania", plural, span).count("Ruritanian") == 1


@pytest.mark.parametrize(("entity", "text", "expected"), [
    ("Ruritania", "Ruritanian officials said so.", "Ruritanian"),
    ("Ruritania", "Officials of Ruritania said so.", None),  # the article never makes an adjective of it
    ("Papua", "The Papuan governor said so.", "Papuan"),
    ("Aceh", "Aceh officials said so.", None),
])
def test_a_demonym_is_used_only_where_the_article_writes_it(entity: str, text: str, expected: str | None) -> None:
    assert _demonym(entity, [text]) == expected


def test_a_name_spelling_the_glossary_gives_wins_however_rare() -> None:
    text = ("Head of the agency Yusuf Hendartto said the dam was safe. Hendartto added that repairs start soon. "
            "According to Hendarto, the budget is ready.")
    assert _flags(text) == [("Hendarto", "Hendartto")]
    # the glossary's spelling is not flagged; the misspelling it lists is the terminology signal's alone
    names = _user_glossary("en: Hendarto\nwrong: Hendartto\n")
    assert _flags(text, names) == []
    assert [[f.suggestion for f in flags] for flags in run_signal(TerminologySignal(), text, names)] == [["Hendarto"], ["Hendarto"], []]


def test_the_shipped_glossary_passes_glossary_check() -> None:
    shipped = Path(str(resources.files("mtqc") / "data" / f"{BUILTIN_GLOSSARY}.glossary"))
    assert check_glossary_file(shipped) == []
    result = CliRunner().invoke(main, ["glossary", "check", str(shipped)])
    assert result.exit_code == 0 and "ok," in result.stdout
