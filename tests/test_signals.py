from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtqc.engines import engine_provides
from mtqc.engines.offline import OfflineEngine
from mtqc.errors import UsageError
from mtqc.glossary import Glossary, parse_stanzas
from mtqc.signals import SIGNALS, ArticleContext, Signal, SignalOutput, disabled_signals, select_signals
from mtqc.signals.fluency import NgramFluencySignal
from mtqc.signals.mechanics import MechanicsSignal
from mtqc.signals.terminology import TerminologySignal
from mtqc.signals.untranslated import UntranslatedSignal

from .helpers import flagged_texts, run_signal


CONSISTENCY = ("consistency.names", "consistency.split_names", "consistency.places", "consistency.glossary_forms",
               "consistency.currencies", "consistency.entities", "consistency.he_she")
OFFLINE = ("untranslated", "terminology", "fluency", "mechanics", *CONSISTENCY, "gendered_pronouns")


def test_registry_names_every_signal_once() -> None:
    assert list(SIGNALS) == [*OFFLINE, "roundtrip", "likelihood", "lm_fluency", "llm_mqm"]
    assert all(cls.name == name for name, cls in SIGNALS.items())


# --- which signals run: declared requirements against what the engine provides ----------------


def _names(signals: list[Signal]) -> list[str]:
    return [s.name for s in signals]


@pytest.mark.parametrize(("engine", "lm", "expected"), [
    ("offline", False, list(OFFLINE)),
    ("marian", False, [*OFFLINE, "roundtrip", "likelihood"]),
    ("ct2", True, [*OFFLINE, "roundtrip", "likelihood"]),  # lm_fluency takes fluency's place, below
    ("llm", False, [*OFFLINE, "roundtrip", "llm_mqm"]),  # an LLM server gives no token scores
])
def test_signals_run_where_the_engine_provides_what_they_require(engine: str, lm: bool, expected: list[str]) -> None:
    provides = engine_provides()[engine]
    chosen = _names(select_signals(provides, lm))
    assert chosen == [("lm_fluency" if lm and n == "fluency" else n) for n in expected]
    assert all(set(SIGNALS[n].requires) <= provides | ({"lm_scores"} if lm else set()) for n in chosen)


def test_the_lm_signal_stands_in_for_fluency_and_disabling_either_disables_both() -> None:
    marian = engine_provides()["marian"]
    assert _names(select_signals(marian, True)).index("lm_fluency") == OFFLINE.index("fluency")
    for off in ("fluency", "lm_fluency"):
        for lm in (False, True):
            assert not {"fluency", "lm_fluency"} & set(_names(select_signals(marian, lm, [off])))
    assert "fluency" in _names(select_signals(marian, False, ["likelihood"]))


def test_disable_takes_signal_and_family_names_and_refuses_others() -> None:
    assert disabled_signals(["consistency"]) == set(CONSISTENCY)
    assert disabled_signals(["consistency.names", "mechanics"]) == {"consistency.names", "mechanics"}
    with pytest.raises(UsageError, match="unknown signal 'pronouns'"):
        disabled_signals(["pronouns"])


def test_an_engine_provides_what_its_capabilities_say_and_the_cache_forwards_it(tmp_path: Path) -> None:
    from mtqc.engines.cached import CachedEngine
    from mtqc.neural.cache import Cache

    assert engine_provides() == {"offline": set(), "marian": {"backtranslations", "likelihoods"},
                                 "ct2": {"backtranslations", "likelihoods"}, "llm": {"backtranslations", "annotations"}}
    assert OfflineEngine().provides == frozenset()
    assert CachedEngine(OfflineEngine(), Cache(tmp_path / "c.sqlite3")).provides == frozenset()


class _Stray(Signal):
    name = "stray"

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        return [SignalOutput({"fluency.words": 1.0}) for _ in ctx.sentences]


class _Undeclared(Signal):
    name = "undeclared"

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        return [SignalOutput({}, (self.flag("meaning", "minor", None, "?"),)) for _ in ctx.sentences]


def test_a_signal_may_write_values_only_under_its_own_name_and_raise_only_its_declared_flag_types() -> None:
    # the calibration files a value under the signal its key names: one under another signal's
    # name would be ignored exactly when its own signal ran
    with pytest.raises(RuntimeError, match="'stray' wrote values \\['fluency.words'\\]"):
        run_signal(_Stray(), "The plan was approved.")
    with pytest.raises(RuntimeError, match="'undeclared' raised a 'meaning' flag"):
        run_signal(_Undeclared(), "The plan was approved.")


def test_a_signal_must_require_what_it_reads() -> None:
    with pytest.raises(TypeError, match="reads \\['likelihoods'\\] but does not require"):
        type("Reader", (Signal,), {"name": "reader", "needs": ("likelihoods",), "_compute": lambda self, ctx: []})
    with pytest.raises(TypeError, match="unknown capabilities"):
        type("Wisher", (Signal,), {"name": "wisher", "requires": ("telepathy",), "_compute": lambda self, ctx: []})


def test_mtqc_signals_lists_each_signal_with_its_needs_flags_and_engines() -> None:
    from click.testing import CliRunner

    from mtqc.cli import main

    result = CliRunner().invoke(main, ["signals", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert list(rows) == list(SIGNALS)
    assert rows["likelihood"]["requires"] == ["backtranslations", "likelihoods"]
    assert rows["likelihood"]["engines"] == ["marian", "ct2"]
    assert rows["llm_mqm"]["engines"] == ["llm"] and rows["roundtrip"]["flag_types"] == ["meaning"]
    assert rows["fluency"]["condition"] == "without a language model"
    assert rows["lm_fluency"]["engines"] == ["marian", "ct2", "llm"]
    assert rows["lm_fluency"]["condition"] == "with a language model"
    assert rows["gendered_pronouns"]["flag_types"] == [] and rows["consistency.he_she"]["flag_types"] == ["consistency"]
    table = CliRunner().invoke(main, ["signals"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    rows_shown = [line for line in table.stdout.splitlines() if line.startswith("│ ")]
    lines = {line.split()[1]: line for line in rows_shown if line.split()[1] in SIGNALS}
    assert set(lines) == set(SIGNALS)
    likelihood = lines["likelihood"]
    assert "mistranslation" in likelihood and "marian, ct2" in likelihood and "llm" not in likelihood


def test_unknown_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown thresholds"):
        NgramFluencySignal(not_a_threshold=1.0)


# --- untranslated -------------------------------------------------------------------------


def test_indonesian_words_and_abbreviations_are_flagged() -> None:
    text = "Rain flooded the market in Kec. Sawangan, near Depok Kedalaman: 30 cm."
    found = flagged_texts(UntranslatedSignal(), text)
    assert "Kec." in found and "Kedalaman" in found


def test_names_of_people_and_places_are_not_flagged() -> None:
    text = "Regent Ratna Suryani visited Cibinong Utara and met Hendra Gunawan in Bogor on Monday."
    assert flagged_texts(UntranslatedSignal(), text) == []


def test_a_name_at_the_start_of_a_sentence_is_a_name_when_the_article_uses_it_as_one() -> None:
    # "Gunawan" is a frequent Indonesian word (a common name); the article writes it as a name mid-sentence
    text = "The council heard from Hendra Gunawan on Monday. Gunawan said the plan was ready."
    assert flagged_texts(UntranslatedSignal(), text) == []
    # a common Indonesian word that opens a sentence is still caught
    text = "The council met on Monday. Menurut the chairman, the plan was ready."
    assert flagged_texts(UntranslatedSignal(), text) == ["Menurut"]


def test_a_place_name_written_in_lower_case_is_a_name_but_a_phrase_left_in_indonesian_is_not() -> None:
    assert flagged_texts(UntranslatedSignal(), "The new station will open in Kebon jeruk next year.") == []
    found = flagged_texts(UntranslatedSignal(), "The officials of Kebon jeruk bahwa the plan was ready.")
    assert "jeruk" in found and "bahwa" in found


def test_a_whole_indonesian_sentence_is_one_major_flag() -> None:
    text = "The minister spoke on Monday. Menurut warga, jalan desa itu sudah lama rusak dan belum juga diperbaiki."
    flags = run_signal(UntranslatedSignal(), text)
    assert flags[0] == []
    assert len(flags[1]) == 1 and flags[1][0].severity == "critical" and flags[1][0].span[0] == 0


def test_unexplained_indonesian_acronym_is_flagged_once_and_explained_one_is_not() -> None:
    unexplained = "The BMKG warned of rain. The BMKG said it would last."
    assert flagged_texts(UntranslatedSignal(), unexplained) == ["BMKG"]
    explained = "Forecasters at the Meteorology, Climatology and Geophysics Agency (BMKG) expect rain. The BMKG said it would last."
    assert flagged_texts(UntranslatedSignal(), explained) == []


# --- terminology ------------------------------------------------------------------------------

GLOSSARY = Glossary(tuple(parse_stanzas(
    """
id: awak media
en: reporters
wrong: media crew
note: "awak media" means journalists.

id: Pemprov DKI
en: Jakarta provincial government
wrong: DKI Provincial Government; DKI Government
severity: major

id: PSBB
en: large-scale social restrictions
severity: major
""",
    "test.glossary",
)), ("test.glossary",))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("He told the media crew on Friday.", "media crew"),
        ("He told the media crews on Friday.", "media crews"),
        ("The media crew's questions were short.", "media crew's"),
        ("He told the Media-Crew on Friday.", "Media-Crew"),
        ("The DKI Provincial Government said so.", "DKI Provincial Government"),  # longest match wins
        ("The DKI Government said so.", "DKI Government"),
        ("All three DKI Governments said so.", "DKI Governments"),
        ("The media crews' questions were short.", "media crews'"),
    ],
)
def test_glossary_matches_inflections_and_prefers_the_longest(sentence: str, expected: str) -> None:
    flags = run_signal(TerminologySignal(), sentence, GLOSSARY)[0]
    assert len(flags) == 1
    assert sentence[flags[0].span[0]:flags[0].span[1]] == expected
    assert flags[0].type == "terminology" and flags[0].suggestion


def test_a_glossary_note_is_in_the_entry_not_in_the_one_line_message() -> None:
    (flag,) = run_signal(TerminologySignal(), "He told the media crew on Friday.", GLOSSARY)[0]
    assert "journalists" not in flag.message and "'reporters'" in flag.message
    assert flag.glossary_entry is not None and "journalists" in flag.glossary_entry["note"]


def test_glossary_severity_and_suggestion_come_from_the_data() -> None:
    flags = run_signal(TerminologySignal(), "The DKI Government said so.", GLOSSARY)[0]
    assert flags[0].severity == "major" and flags[0].suggestion == "Jakarta provincial government"


def test_indonesian_term_left_in_english_unless_the_article_explains_it() -> None:
    flags = run_signal(TerminologySignal(), "The PSBB was extended.", GLOSSARY)[0]
    assert [(f.type, f.suggestion) for f in flags] == [("untranslated", "large-scale social restrictions (PSBB)")]
    explained = "The large-scale social restrictions (PSBB) began in April. The PSBB was extended."
    assert run_signal(TerminologySignal(), explained, GLOSSARY) == [[], []]


def test_an_unexplained_indonesian_abbreviation_is_flagged_at_its_first_mention_only() -> None:
    text = "The PSBB was extended. Shops closed early under the PSBB. The PSBB ends in May."
    flags = run_signal(TerminologySignal(), text, GLOSSARY)
    assert [len(f) for f in flags] == [1, 0, 0]  # once the first mention is spelled out, the others stand


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("He told the media crew on Friday.", "reporters"),
        ("Media crews waited outside.", "Reporters"),  # the wrong term opened the sentence
        ("Two Ruritanian fugitives were caught.", "Ruritanian defectors"),  # plural, premodifier kept
        ("A Ruritanian fugitive was caught.", "Ruritanian defector"),
        ("The Ruritanian fugitives' lawyer spoke.", "Ruritanian defectors'"),
        ("The Ruritanian fugitive's lawyer spoke.", "Ruritanian defector's"),
        ("Ruritanian-fugitives arrived.", "Ruritanian defectors"),
        ("The DKI Governments said so.", "Jakarta provincial governments"),
        ("She joined the Media Crew Association.", "reporters"),  # a capital inside a name is not the sentence's
    ],
)
def test_a_wrong_term_is_replaced_in_the_number_and_form_it_has(sentence: str, expected: str) -> None:
    glossary = Glossary((*GLOSSARY.concepts, *parse_stanzas("id: pembelot\nen: defector\nwrong: Ruritanian fugitive\n", "t")))
    flags = run_signal(TerminologySignal(), sentence, glossary)[0]
    assert [f.suggestion for f in flags] == [expected]
    assert "is a known mistranslation" in flags[0].message


def test_clean_english_has_no_terminology_flags() -> None:
    assert run_signal(TerminologySignal(), "Reporters asked the Jakarta provincial government about the crew.", GLOSSARY) == [[]]


# --- mechanics ------------------------------------------------------------------------------


def test_doubled_and_self_coordinated_words() -> None:
    found = flagged_texts(MechanicsSignal(), "The the council was firm and firm about the schedule.")
    assert "The the" in found and "firm and firm" in found


def test_a_place_name_joined_to_itself_in_a_route_is_not_a_lost_word() -> None:
    text = "The bus line runs from Bekasi to Cikarang and Cikarang to Karawang every hour."
    assert flagged_texts(MechanicsSignal(), text) == []
    assert flagged_texts(MechanicsSignal(), "Officials were clear and clear about it.") == ["clear and clear"]


def test_mechanics_counts_each_check_separately() -> None:
    from mtqc.engines.offline import OfflineEngine
    from mtqc.ingest import segment
    from mtqc.signals import ArticleContext

    seg = segment("The the ferry left at 06.30 WIB on Friday (9/11), said the captain.")
    values = MechanicsSignal().run(ArticleContext(seg, tuple(seg.scored_segments), Glossary(), OfflineEngine()))[0].values
    assert values["mechanics.count"] == 3
    assert (values["mechanics.doubled"], values["mechanics.local_time"], values["mechanics.slash_date"]) == (1, 1, 1)
    assert values["mechanics.self_coordinated"] == values["mechanics.unbalanced"] == 0


def test_numbers_are_not_doubled_words() -> None:
    assert flagged_texts(MechanicsSignal(), "The score was 2 2 in the end, said the coach.") == []


@pytest.mark.parametrize(
    ("sentence", "suggestion"),
    [
        ("It started at 15.00 WIB on Monday.", "3 p.m. local time (WIB)"),
        ("It started at 09.30 WITA on Monday.", "9:30 a.m. local time (WITA)"),
        ("The market opened from 07.45 to 11.00 WIB.", "7:45 a.m. to 11 a.m. local time (WIB)"),
        ("It started at 00.15 WIT on Monday.", "12:15 a.m. local time (WIT)"),
        ("The watch ran from 00.00 to 12.00 WIB.", "midnight to noon local time (WIB)"),
        ("The ferry left on Friday (9/11) morning.", "(November 9)"),
    ],
)
def test_local_time_and_date_styles_get_converted_suggestions(sentence: str, suggestion: str) -> None:
    flags = run_signal(MechanicsSignal(), sentence)[0]
    assert [f.suggestion for f in flags] == [suggestion]


def test_unbalanced_quote_is_flagged_but_a_continued_quotation_is_not() -> None:
    assert flagged_texts(MechanicsSignal(), "He said (the plan was ready.") == ["("]
    continued = "\u201cWe will build it.\n\n\u201cAnd we will finish it,\u201d he said."
    assert flagged_texts(MechanicsSignal(), continued) == []


# --- fluency ----------------------------------------------------------------------------------


def _risk(text: str, **thresholds: float) -> float:
    from mtqc.engines.offline import OfflineEngine
    from mtqc.ingest import segment
    from mtqc.signals import ArticleContext

    seg = segment(text)
    ctx = ArticleContext(seg, tuple(seg.scored_segments), Glossary(), OfflineEngine())
    return NgramFluencySignal(**thresholds).run(ctx)[0].values["fluency.risk"]


def test_word_salad_is_riskier_than_plain_english() -> None:
    plain = _risk("The government will announce the new policy next week.", long_sentence_words=100.0)
    salad = _risk("The villagers would at most months be compensated of the dam broken for.", long_sentence_words=100.0)
    assert salad >= plain + 2


def test_flag_points_at_the_least_likely_word_pair() -> None:
    signal = NgramFluencySignal(flag_risk=2.0, major_risk=10.0, long_sentence_words=100.0)
    text = "The villagers would at most months be compensated of the dam broken for."
    flags = run_signal(signal, text)[0]
    assert len(flags) == 1 and flags[0].type == "fluency" and flags[0].severity == "minor"
    start, end = flags[0].span
    assert len(text[start:end].split()) == 2


def test_long_sentence_raises_fluency_risk() -> None:
    article = "The committee met on Monday and the committee met again on Tuesday and then the members went home to rest before they returned to work on the report that the chairman had asked them to write."
    assert _risk(article) >= (len(article.split()) - 18) / 5
    assert _risk(article, long_sentence_words=100.0) < _risk(article)


def test_no_signal_calls_a_model_itself() -> None:
    # models run in model_outputs.py, batched over the article; a signal only reads the results
    import ast

    import mtqc.signals as package

    model_calls = {"translate", "score", "annotate", "embed", "cosine_similarities", "encode", "generate"}
    for path in Path(package.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                assert name not in model_calls, f"{path.name}:{node.lineno} calls {name}()"
            if isinstance(node, ast.ImportFrom):  # nor imports what loads or runs one
                assert not (node.module or "").endswith("embeddings"), f"{path.name} imports {node.module}"
                loaders = {a.name for a in node.names} & {"compute_model_outputs", "load_lm", "CausalLM", "select_engine"}
                assert not loaders, f"{path.name} imports {loaders}"


# --- a suggestion replaces exactly its span: no doubled article ----------------------------------


def test_glossary_forms_suggestion_does_not_double_the_article() -> None:
    from mtqc.glossary import builtin_glossary
    from mtqc.ingest import segment
    from mtqc.signals.consistency.glossary_forms import GlossaryFormsSignal

    text = ("Police closed the road on Monday.\n\nThe media gathered at the gate before dawn.\n\n"
            "The media were told to wait outside.\n\nSpeaking to the awak media, the chief said the road would reopen.\n")
    article = segment(text)
    found = [(seg.text, f) for seg, flags in zip(article.scored_segments, run_signal(GlossaryFormsSignal(), text,
                                                                                         builtin_glossary()))
             for f in flags]
    assert len(found) == 1
    sentence, flag = found[0]
    assert flag.span is not None and flag.suggestion is not None
    start, end = flag.span
    assert sentence[start:end] == "awak media"
    accepted = sentence[:start] + flag.suggestion + sentence[end:]
    assert accepted == "Speaking to the media, the chief said the road would reopen."


@pytest.mark.parametrize(("suggestion", "sentence", "span", "expected"), [
    ("The media", "Speaking to the awak media today.", "awak media", "media"),
    ("The media", "Speaking to awak media today.", "awak media", "the media"),
    ("The media", "Awak media waited.", "Awak media", "The media"),
    ("the media", "\u201cAwak media waited.", "Awak media", "The media"),
    ("The media", "They told the awak media.", "the awak media", "the media"),
    ("The Hague", "Talks in Den Haag resumed.", "Den Haag", "The Hague"),
    ("The Hague", "Talks in the Den Haag office resumed.", "Den Haag", "Hague"),
    ("reporters", "Speaking to the awak media today.", "awak media", "reporters"),
    ("The", "Speaking to the awak media today.", "awak media", "The"),
])
def test_fit_to_span(suggestion: str, sentence: str, span: str, expected: str) -> None:
    from mtqc.signals.consistency.common import fit_to_span

    start = sentence.index(span)
    assert fit_to_span(suggestion, sentence, start, start + len(span)) == expected


def test_terminology_suggestion_with_an_article_is_not_doubled() -> None:
    glossary = Glossary(tuple(parse_stanzas("wrong: media crew\nen: the press\n", "t")))
    text = "Officials spoke to the media crew on Monday.\n"
    flags = [f for sentence in run_signal(TerminologySignal(), text, glossary) for f in sentence]
    assert [f.suggestion for f in flags] == ["press"]
