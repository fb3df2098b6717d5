"""One concept rendered one way: a case per mechanism, and near-misses that must stay unflagged."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.engines.base import Engine, TokenScores
from mtqc.glossary import Glossary, parse_stanzas
from mtqc.ingest import segment
from mtqc.signals import ArticleContext
from collections import Counter

from mtqc.signals.consistency import ConsistencySignal, _minority, _one_char_variant

from .helpers import run_signal


def _flags(text: str, glossary: Glossary | None = None) -> list[tuple[str, str | None]]:
    article = segment(text)
    out = []
    for seg, flags in zip(article.scored_segments, run_signal(ConsistencySignal(), text, glossary)):
        out += [(seg.text[f.span[0]:f.span[1]], f.suggestion) for f in flags if f.type == "consistency"]
    return out


def test_a_name_spelled_two_ways_flags_the_minority_spelling() -> None:
    text = ("Head of the agency Rahmadi Sutanto said the dam was safe. Sutanto added that repairs start soon. "
            "According to Sutanto, the budget is ready. Sutonto said workers were hired.")
    assert _flags(text) == []  # "Sutonto" is a substitution, not an insertion: maybe another person
    text = text.replace("Sutonto", "Suttanto")
    assert _flags(text) == [("Suttanto", "Sutanto")]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("Safrudin", "Syafrudin", True), ("Budi", "Budie", True), ("Jae-hyeong", "Jae Hyeong", True),
     ("Mulyani", "Mulyadi", False), ("Hartanto", "Hartono", False), ("Bandung", "Bandungan", False)],
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
    text = "Mayor Budi Santoso opened the market. Budie Santoso said it cost little."
    assert _flags(text) == [("Budie", "Budi")]


def test_place_name_order_is_one_convention_per_article() -> None:
    text = ("Floods hit North Jakarta and West Jakarta on Monday. Water also reached Jakarta Pusat. "
            "Residents of Cempaka Utara, Gandaria Selatan and Kebon Timur were moved. North Mampang was dry.")
    found = dict(_flags(text))
    assert found == {"Jakarta Pusat": "Central Jakarta", "North Mampang": "Mampang Utara"}


def test_different_places_with_similar_names_are_not_variants() -> None:
    text = ("Floods hit North Jakarta and South Jakarta. Water reached Kebon Utara and Kebon Selatan. "
            "Officials in Kebon Utara said Kebon Selatan was worse.")
    assert _flags(text) == []


GLOSSARY = Glossary(tuple(parse_stanzas(
    "id: IHSG\nen: Jakarta Composite Index\naccept: JCI\n\nid: BUMN\nen: state-owned enterprise\naccept: SOE\n\n"
    "id: pelarian Korea Utara\nen: North Korean defectors\nwrong: North Korean fugitive\n",
    "t.glossary",
)), ("t.glossary",))


def test_indonesian_form_beside_the_english_form_of_one_concept() -> None:
    text = "The JCI rose 1 percent on Friday. Analysts expect the JCI to rise again. The IHSG closed higher."
    assert _flags(text, GLOSSARY) == [("IHSG", "JCI")]


def test_an_acronym_the_article_introduced_may_be_used() -> None:
    text = ("State-owned enterprises (BUMN) paid dividends. The BUMN ministry said SOE profits rose. "
            "The BUMN plan was praised.")
    assert _flags(text, GLOSSARY) == []


def test_one_currency_written_two_ways() -> None:
    text = "The budget is Rp 3,200 trillion. Spending reached Rp 2,100 trillion. Revenue was IDR 1,900 trillion."
    assert _flags(text) == [("IDR", "Rp")]


def test_entity_phrases_with_near_synonymous_heads_follow_the_glossary() -> None:
    text = ("Seoul urged Beijing to protect North Korean fugitives. The escape of North Korea must not be sent back. "
            "Activists said North Korea's escape faces torture. More North Korean fugitives are detained, "
            "and the escape of North Korea is at risk. North Korean citizens live in fear.")
    found = _flags(text, GLOSSARY)
    assert found and {t for t, _ in found} == {"The escape of North Korea", "North Korea's escape", "the escape of North Korea"}
    assert {s for _, s in found} == {"North Korean defectors"}


def test_two_different_entities_are_not_one_concept() -> None:
    text = ("North Korean soldiers crossed the border. South Korean soldiers fired warning shots. "
            "North Korean soldiers returned. South Korean soldiers stayed on alert.")
    assert _flags(text) == []


class BackTranslator(Engine):
    """Back-translates two different English phrases to one Indonesian term."""

    name = "stub"

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        return ["pembelot Korea Utara" if ("runaways" in t or "deserters" in t) else t for t in texts]

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise NotImplementedError


def test_phrases_that_back_translate_to_one_term_are_one_concept() -> None:
    text = "North Korean runaways reached Seoul. Officials met North Korean deserters on Monday. North Korean runaways asked for help."
    article = segment(text)
    ctx = ArticleContext(article, tuple(article.scored_segments), Glossary(), BackTranslator(), (), ())
    outputs = ConsistencySignal().run(ctx)
    flagged = [(article.scored_segments[i].text[f.span[0]:f.span[1]], f.suggestion)
               for i, o in enumerate(outputs) for f in o.flags]
    assert flagged == [("North Korean deserters", "North Korean runaways")]


def test_he_and_she_for_one_person() -> None:
    text = ("Finance Minister Sri Wahyuningsih presented the budget. She said revenue rose. "
            "Wahyuningsih added that he would cut spending. She thanked parliament.")
    article = segment(text)
    flags = [(i, f) for i, fl in enumerate(run_signal(ConsistencySignal(), text)) for f in fl]
    assert len(flags) == 1
    index, flag = flags[0]
    assert article.scored_segments[index].text[flag.span[0]:flag.span[1]] == "he" and flag.severity == "major"


def test_two_people_with_different_pronouns_are_fine() -> None:
    text = ("Minister Sri Wahyuningsih spoke first. She praised the plan. "
            "Governor Ridwan Hakim spoke next. He criticised it.")
    assert run_signal(ConsistencySignal(), text) == [[], [], [], []]


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
