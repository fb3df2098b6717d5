"""Glossaries: formats, one reader for loading and checking, matching rules, user precedence."""
from __future__ import annotations

import json
import re
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtqc.cli import main
from mtqc.errors import GlossaryError
from mtqc.glossary import (
    Glossary, TermMatcher, builtin_glossary, check_glossary_file, find_term, inspect_glossary_file, load_glossaries,
    load_glossary_file, parse_stanzas,
)


def test_stanza_format_reads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.glossary"
    path.write_text(
        "# comment\nid: Plt.\nen: acting\naccept: interim\nwrong: executive officer\nnote: Pelaksana tugas.\nsource: KBBI\nseverity: major\n",
        encoding="utf-8",
    )
    (concept,) = load_glossary_file(path).concepts
    assert concept.preferred == "acting" and concept.indonesian == ("Plt.",) and concept.accepted == ("interim",)
    assert concept.wrong == ("executive officer",) and concept.severity == "major" and concept.source == "KBBI"
    assert concept.origin == "mine.glossary:2"


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t")])
def test_delimited_glossaries(tmp_path: Path, suffix: str, sep: str) -> None:
    path = tmp_path / f"g{suffix}"
    path.write_text(sep.join(["id", "en", "wrong"]) + "\n" + sep.join(["awak media", "reporters", "media crew"]) + "\n", encoding="utf-8")
    glossary = load_glossary_file(path)
    assert [m.concept.preferred for m in glossary.find("The media crew waited.")] == ["reporters"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\nwrong: y\n", r"g.glossary:1: concept has no 'en'"),
        ("en: reporters\nwrong: media crew\nsevere: yes\n", r"g.glossary:3: expected 'key: value'"),
        ("en: reporters\n", "neither 'wrong' nor 'id'"),
        ("en: reporters\nwrong: media crew\nseverity: huge\n", "severity 'huge'"),
    ],
)
def test_malformed_glossary_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "g.glossary"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GlossaryError, match=message):
        load_glossary_file(path)


def test_missing_glossary_file_is_a_glossary_error(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError, match="cannot read"):
        load_glossaries([tmp_path / "missing.glossary"])


def test_builtin_glossary_loads_and_is_named_with_a_digest() -> None:
    glossary = builtin_glossary()
    assert len(glossary.concepts) >= 30
    (name,) = glossary.names
    assert name.startswith("news-id-en.glossary@") and len(name.split("@")[1]) == 8


def test_builtin_glossary_leaves_plain_news_english_alone() -> None:
    clean = (
        "The House of Representatives passed the state budget on Tuesday. "
        "Reporters asked the finance minister about the deficit, and she said spending would rise. "
        "The Democratic Party and the Golkar Party both backed the bill."
    )
    assert builtin_glossary().find(clean) == []


# --- matching: the matcher follows the rules, here written as one regex per term ----------------

# Written for these tests: terms that exercise each rule (multi-word, optional "the", y -> ies,
# acronym, a head word that takes no inflection, overlapping terms of different lengths).
SMALL = Glossary(tuple(parse_stanzas(
    "id: awak media\nen: reporters\nwrong: media crew\n\n"
    "id: Pemprov DKI\nen: Jakarta provincial government\nwrong: DKI Provincial Government; DKI Government\n\n"
    "id: PSBB\nen: large-scale social restrictions\n\n"
    "id: Plt.\nen: acting\nwrong: the executive officer\n\n"
    "id: satgas\nen: task force\nwrong: duty unit; security agency; the agency\n\n"
    "id: RT\nen: neighbourhood unit\nwrong: harmony unit; the harmony\n",
    "small.glossary",
)), ("small.glossary",))
SMALL_TERMS = sorted({t for c in SMALL.concepts for t in (*c.wrong, *c.indonesian, c.preferred, *c.accepted)})


def _rule_regex(term: str) -> str:
    """The matching rules as a regex for one term: the oracle, written apart from the matcher.

    Case is the caller's: ignored except in acronyms (all capitals, at most 6 characters).
    """
    words = [w for w in re.split(r"[\s\-]+", term.strip()) if w]  # hyphens and spaces alike
    lead = ""
    if len(words) > 1 and words[0].lower() == "the":  # "the agency" also matches "agency"
        words, lead = words[1:], r"(?:the[\s]+)?"
    escaped = [re.escape(w) for w in words]
    if not escaped:
        return ""
    last = escaped[-1]
    if re.match(r"^[A-Za-z]+$", words[-1]):  # plural (s/es, y->ies) and possessive ('s, s') on the head
        stem = re.escape(words[-1][:-1]) + "(?:y|ies)" if words[-1].endswith("y") else last + "(?:e?s)?"
        last = stem + "(?:['\u2019]s?)?"
    return r"(?<![\w-])" + lead + r"[\s\-]+".join(escaped[:-1] + [last]) + r"(?![\w-])"


def _rule_spans(term: str, text: str, fold: bool) -> list[tuple[int, int]]:
    pattern = _rule_regex(term)
    return [m.span() for m in re.finditer(pattern, text, re.IGNORECASE if fold else 0)] if pattern else []


def _reference_find(glossary: Glossary, text: str) -> list[tuple[int, int, str, str]]:
    """Glossary.find by the rules: every term's matches, longest first, then the earlier term."""
    hits = []
    order = 0
    for concept in glossary.concepts:
        for kind, terms in (("wrong", concept.wrong), ("source", concept.indonesian)):
            for term in terms:
                acronym = term.isupper() and len(term) <= 6
                hits += [(start, end, order, concept.preferred, kind) for start, end in _rule_spans(term, text, not acronym)]
                order += 1
    hits.sort(key=lambda h: (h[0] - h[1], h[0], h[2]))
    chosen: list[tuple[int, int, int, str, str]] = []
    for h in hits:
        if all(h[1] <= c[0] or h[0] >= c[1] for c in chosen):
            chosen.append(h)
    return sorted((c[0], c[1], c[3], c[4]) for c in chosen)


_WORDS = ["media", "Media", "MEDIA", "crew", "Crew", "DKI", "dki", "Provincial", "government", "Government",
          "awak", "PSBB", "psbb", "Plt", "Plt.", "the", "The", "THE", "executive", "officer", "satgas", "duty",
          "unit", "security", "agency", "agenc", "Agency", "harmony", "RT", "rt", "Rt", "said", "x", "7"]
_GLUE = [" ", "  ", "-", " - ", "\n", "s ", "es ", "ies ", "'s ", "' ", "\u2019s ", "'", ".", ", ", "(", ")", "_", ""]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), max_size=14))
def test_matcher_follows_the_rules(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + g for w, g in parts)
    found = sorted((m.start, m.end, m.concept.preferred, m.kind) for m in SMALL.find(text))
    assert found == _reference_find(SMALL, text)
    for concept in SMALL.concepts:
        expected = any(_rule_spans(t, text, True) for t in (concept.preferred, *concept.accepted))
        assert SMALL.mentions_preferred(text, concept) == expected
        assert SMALL.mentions_preferred(text, replace(concept)) == expected  # a concept from elsewhere
    for term in SMALL_TERMS:
        for fold in (True, False):
            spans = _rule_spans(term, text, fold)
            assert find_term(text, term, fold=fold) == spans
        assert find_term(text, term) == _rule_spans(term, text, not (term.isupper() and len(term) <= 6))


def test_find_term_and_term_matcher() -> None:
    text = "The security agencies met. A security-agency's car and the SECURITY AGENCY left; RT and rt."
    assert [text[s:e] for s, e in find_term(text, "security agency")] == [
        "security agencies", "security-agency's", "SECURITY AGENCY"]
    assert [text[s:e] for s, e in find_term(text, "security agency", fold=False)] == ["security agencies", "security-agency's"]
    assert [text[s:e] for s, e in find_term(text, "RT")] == ["RT"]  # acronyms keep their case ...
    assert [text[s:e] for s, e in find_term(text, "RT", fold=True)] == ["RT", "rt"]  # ... unless asked
    assert find_term(text, " - ") == []  # no words, nothing to find
    hits = TermMatcher(["the security agency", "RT"]).find(text)
    assert [(text[h.start:h.end], h.term) for h in hits] == [
        ("The security agencies", 0), ("security-agency's", 0), ("the SECURITY AGENCY", 0), ("RT", 1)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The security agencies left.", ["security agencies"]),  # y -> ies
        ("The security agency's car left.", ["security agency's"]),
        ("The agency left.", ["The agency"]),  # a leading "the" belongs to the match ...
        ("Their agency left.", ["agency"]),  # ... and may be left out
        ("The RT head and the rt head.", ["RT"]),  # acronyms are matched exactly
        ("An acting Plt. head.", ["Plt."]),
        ("The duty units and duty-unit and Duty  Unit.", ["duty units", "duty-unit", "Duty  Unit"]),
        ("A multimedia crew and media crewman.", []),  # word boundaries
    ],
)
def test_matching_rules(sentence: str, expected: list[str]) -> None:
    assert [sentence[m.start:m.end] for m in SMALL.find(sentence)] == expected


def test_every_occurrence_in_a_long_text_is_found() -> None:
    text = "The media crew asked the PSBB team. " * 3000
    matches = SMALL.find(text)
    assert len(matches) == 6000
    assert {text[m.start:m.end] for m in matches} == {"media crew", "PSBB"}


# --- user glossaries win over the built-in one --------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_glossary_overrides_the_builtin_concept(tmp_path: Path) -> None:
    mine = _write(tmp_path, "mine.glossary", "id: awak media\nen: press corps\nseverity: critical\n")
    glossary = load_glossaries([mine])
    (match,) = glossary.find("Officials briefed the awak media on Monday.")
    assert match.concept.preferred == "press corps" and match.concept.severity == "critical"
    # the built-in concept is replaced, not merged: its calques are the user's call now
    assert glossary.find("The media crew waited.") == []
    assert builtin_glossary().find("The media crew waited.") != []


def test_earlier_user_glossary_wins_and_the_names_say_so(tmp_path: Path) -> None:
    first = _write(tmp_path, "first.glossary", "id: awak media\nen: press corps\n")
    second = _write(tmp_path, "second.csv", "id,en\nawak media,newsmen\n")
    glossary = load_glossaries([first, second])
    assert [m.concept.preferred for m in glossary.find("The awak media waited.")] == ["press corps"]
    names = glossary.names
    assert [n.split("@")[0] for n in names] == ["first.glossary", "second.csv", "news-id-en.glossary"]
    assert names[0].endswith("(user)") and names[1].endswith("(user)") and names[2].endswith("(builtin)")
    assert re.fullmatch(r"first\.glossary@[0-9a-f]{8}\(user\)", names[0])


def test_a_term_the_user_accepts_is_no_longer_flagged_as_wrong(tmp_path: Path) -> None:
    mine = _write(tmp_path, "house-style.glossary", "id: kru liputan\nen: media crew\n")
    assert load_glossaries([mine]).find("The media crew waited.") == []


def test_user_glossary_wins_in_the_report(tmp_path: Path) -> None:
    article = _write(tmp_path, "a.txt", "Police briefed the awak media about the flood in the city on Monday.\n")
    mine = _write(tmp_path, "mine.glossary", "id: awak media\nen: press corps\nseverity: critical\n")
    result = CliRunner().invoke(main, ["check", str(article), "--glossary", str(mine), "-q", "--engine", "offline",
                                       "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    flags = [f for s in data["sentences"] for f in s["flags"] if f["signal"] == "terminology"]
    assert [(f["suggestion"], f["severity"]) for f in flags] == [("press corps", "critical")]
    assert re.search(r"glossaries:mine\.glossary@[0-9a-f]{8}\(user\),news-id-en\.glossary@[0-9a-f]{8}\(builtin\)\|",
                     data["signature"])


# --- one reader for loading and checking ---------------------------------------------------------


def test_csv_field_with_a_newline_loads_and_checks_alike(tmp_path: Path) -> None:
    good = _write(tmp_path, "g.csv", 'id,en,wrong,note\nawak media,reporters,media crew,"Two lines:\nthe press."\n'
                                     "Pemprov DKI,Jakarta provincial government,DKI Government,\n")
    assert check_glossary_file(good) == []
    concepts = load_glossary_file(good).concepts
    assert [c.origin for c in concepts] == ["g.csv:2", "g.csv:4"] and concepts[0].note == "Two lines:\nthe press."
    bad = _write(tmp_path, "b.csv", 'id,en,wrong,note\nawak media,reporters,media crew,"Two\nlines"\nPSBB,,,\n')
    assert check_glossary_file(bad) == [(4, "concept has no 'en' (preferred English term)")]
    with pytest.raises(GlossaryError, match=r"^b\.csv:4: concept has no 'en'"):
        load_glossary_file(bad)


def test_glossary_check_command_counts_a_multiline_csv_as_ok(tmp_path: Path) -> None:
    good = _write(tmp_path, "g.csv", 'id,en,wrong,note\nawak media,reporters,media crew,"Two lines:\nthe press."\n')
    result = CliRunner().invoke(main, ["glossary", "check", str(good)])
    assert result.exit_code == 0 and result.stdout.strip() == f"{good}: ok, 1 concepts"


def test_a_key_given_twice_in_one_concept_is_a_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.glossary", "id: awak media\nen: reporters\nwrong: media crew\nwrong: media crews\n")
    with pytest.raises(GlossaryError, match=r"g\.glossary:4: key 'wrong' appears twice in one concept \(first on line 3\)"):
        load_glossary_file(path)


def test_an_unclosed_csv_quote_is_a_glossary_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.csv", 'id,en,wrong\nawak media,"reporters,media crew\n' + "x" * 200_000 + "\n")
    with pytest.raises(GlossaryError, match=r"^g\.csv:\d+: not valid CSV: field larger than field limit"):
        load_glossary_file(path)
    assert len(check_glossary_file(path)) == 1


def test_check_lists_every_bad_line_of_a_stanza(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.glossary", "en: reporters\nbogus: 1\nwrong: media crew\nalso bad\n\nen: x\n")
    assert [line for line, _ in check_glossary_file(path)] == [2, 4, 6]


# --- property tests: any input loads or raises GlossaryError, and `glossary check` agrees -------

_STANZA_LINES = st.one_of(
    st.sampled_from(["id: awak media", "en: reporters", "wrong: media crew", "accept: press", "severity: major",
                     "severity: huge", "note: a; b", "source: KBBI", "en:", "id:", "bogus", "# comment", "",
                     "   ", "wrong: a | b", "EN: Reporters", "id: x:y"]),
    st.text(max_size=30),
)
_NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


def _agrees(path: Path) -> None:
    """Loading succeeds exactly when checking finds nothing; else it raises the first problem."""
    try:
        loaded = load_glossary_file(path)
    except GlossaryError as exc:
        error: GlossaryError | None = exc
    else:
        error = None
    try:
        checked = inspect_glossary_file(path)
    except GlossaryError as exc:  # unreadable or not UTF-8: both say so
        assert error is not None and str(exc) == str(error)
        return
    if error is None:
        assert checked.problems == () and checked.concepts == loaded.concepts
    else:
        line, message = checked.problems[0]
        assert str(error) == f"{path.name}:{line}: {message}"


@contextmanager
def _glossary_file(suffix: str, content: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mtqc-glossary-") as folder:
        path = Path(folder) / f"g{suffix}"
        path.write_bytes(content)
        yield path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STANZA_LINES, max_size=14), _NEWLINES)
def test_any_stanza_text_loads_or_raises_and_check_agrees(lines: list[str], newline: str) -> None:
    with _glossary_file(".glossary", newline.join(lines).encode("utf-8", "replace")) as path:
        _agrees(path)


_CELLS = st.one_of(st.sampled_from(["id", "en", "wrong", "accept", "note", "severity", "bogus", "awak media",
                                    "reporters", "media crew", "major", "huge", "", '"', '"a\nb"', "a,b", "a\tb"]),
                   st.text(max_size=12))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([(".csv", ","), (".tsv", "\t")]),
       st.lists(st.lists(_CELLS, max_size=5), max_size=6), _NEWLINES)
def test_any_delimited_text_loads_or_raises_and_check_agrees(kind: tuple[str, str], rows: list[list[str]],
                                                              newline: str) -> None:
    suffix, sep = kind
    text = newline.join(sep.join(row) for row in rows)
    with _glossary_file(suffix, text.encode("utf-8", "replace")) as path:
        _agrees(path)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([".glossary", ".csv", ".tsv", ".tbx"]), st.binary(max_size=200))
def test_any_bytes_load_or_raise_a_glossary_error(suffix: str, data: bytes) -> None:
    with _glossary_file(suffix, data) as path:
        try:
            load_glossary_file(path)
        except GlossaryError:
            pass
        if suffix != ".tbx":
            _agrees(path)


# --- trailing comments: the README's example loads with the values it means ---------------------


def _readme_glossary_example() -> str:
    """The indented stanza example under "one concept per stanza:" in the README."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    after = readme.split("one concept per stanza:", 1)[1]
    lines = after.split("\n")[1:]
    block: list[str] = []
    for line in lines:
        if not line.strip():
            if block:
                break
            continue
        if not line.startswith("      "):
            break
        block.append(line[6:])
    assert block, "the README's stanza example was not found"
    return "\n".join(block) + "\n"


def test_the_readme_glossary_example_loads_with_its_values(tmp_path: Path) -> None:
    path = tmp_path / "readme.glossary"
    path.write_text(_readme_glossary_example(), encoding="utf-8")
    assert check_glossary_file(path) == []
    result = CliRunner().invoke(main, ["glossary", "check", str(path)])
    assert result.exit_code == 0, result.output
    [concept] = load_glossary_file(path).concepts
    assert concept.indonesian == ("awak media",)
    assert concept.preferred == "reporters"
    assert concept.accepted == ("journalists",)
    assert concept.wrong == ("media crew",)
    assert concept.note == '"awak media" means the press, not a crew.'
    assert concept.source == "KBBI"
    assert concept.severity == "minor"
    # the wrong term carries no comment text: the flag names the rendering alone
    glossary = load_glossary_file(path)
    hits = [(m.kind, m.concept.preferred) for m in glossary.find("She told the media crew to wait.")]
    assert hits == [("wrong", "reporters")]


@pytest.mark.parametrize(("line", "value"), [
    ("en: C#", "C#"),
    ("en: C# developer", "C# developer"),
    ("en: C#  # a language", "C#"),
    ("en: reporters\t# tab before the comment", "reporters"),
    ("en: issue#5", "issue#5"),
    ("en: reporters #", "reporters"),
])
def test_a_hash_after_whitespace_starts_a_comment(line: str, value: str) -> None:
    [concept] = parse_stanzas(f"{line}\nwrong: x y z\n", "t")
    assert concept.preferred == value


def test_a_wrong_term_with_a_trailing_comment_is_matched_without_it() -> None:
    [concept] = parse_stanzas("en: reporters\nwrong: media crew   # the calque\n", "t")
    assert concept.wrong == ("media crew",)
