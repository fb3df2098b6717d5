"""Review files: the reader (examples and properties), applying them, suppression, glossary learning."""
from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtqc.config import load_settings
from mtqc.errors import ReviewError
from mtqc.glossary import check_glossary_file, load_glossary_file
from mtqc.glossary.learn import learn_glossary, replacement_for
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.results import ArticleReport
from mtqc.review.suppress import SuppressDismissed, Suppression, suppress_dismissed
from mtqc.review.file import (Decision, Review, ReviewSentence, article_sha256, join_sentences,
                         load_review, loads_review, review_from_report, review_to_dict)

from .helpers import run_cli as _run, check_text

# written for these tests: a glossary calque ("media crew"), a doubled word, an Indonesian time style
TEXT = """Harbour repairs start next week

The port authority told the media crew on Monday that the the repairs would start next week.

Work on the northern pier will begin at 08.30 WIB, the authority said.
"""

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()


@pytest.fixture(scope="module")
def report(checker: Checker) -> ArticleReport:
    return check_text(checker, TEXT, "harbour.txt")


def _flag_index(review: Review, span_text: str) -> int:
    return next(n for n, d in enumerate(review.decisions) if d.span_text == span_text)


def _decide(review: Review, span_text: str, decision: str, final: str | None = None) -> Review:
    """`review` with one more decision; `final` replaces its sentence's final text (default: unchanged)."""
    n = _flag_index(review, span_text)
    d = review.decisions[n]
    final = d.final if final is None else final
    sentences = tuple(replace(s, final=final) if s.index == d.sentence_index else s for s in review.sentences)
    decisions = tuple(replace(x, final=final) if x.sentence_index == d.sentence_index else x
                      for x in review.decisions)
    decisions = decisions[:n] + (replace(decisions[n], decision=decision),) + decisions[n + 1:]
    return replace(review, sentences=sentences, decisions=decisions)


def _dump(review: Review) -> str:
    return json.dumps(review_to_dict(review))


# ----------------------------------------------------------------------------- reader: examples


def test_a_fresh_review_round_trips_and_rebuilds_the_article(report: ArticleReport) -> None:
    review = review_from_report(report)
    assert {"media crew", "the the", "08.30 WIB"} <= {d.span_text for d in review.decisions}
    again = loads_review(_dump(review), "r.json")
    assert again.decisions == review.decisions and again.sentences == review.sentences
    text = again.corrected_text()
    assert text.split("\n\n")[0] == "Harbour repairs start next week"
    assert "told the media crew on Monday that the the repairs" in text and text.endswith("the authority said.\n")


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda d: [d], "expected a JSON object"),
    (lambda d: {**d, "mtqc_review": 2}, "expected version 1"),
    (lambda d: {k: v for k, v in d.items() if k != "flags"}, "missing key 'flags'"),
    (lambda d: {**d, "article_sha256": "0" * 64}, "does not match"),
    (lambda d: {**d, "sentences": d["sentences"][::-1]}, "sentences in order"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "span": [0, 999]}]}, "flags[0].span"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "span": [True, 3]}]}, "flags[0].span"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "decision": "maybe"}]}, "accepted, dismissed, edited"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "sentence_index": 99}]}, "sentence_index"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "sentence": "another text"}]}, "flags[0].sentence"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "type": "spelling"}]}, "flags[0].type"),
    (lambda d: {**d, "flags": [{**d["flags"][0], "final": "not the sentence's final"}]}, "flags[0].final"),
])
def test_malformed_reviews_are_one_line_review_errors(report: ArticleReport, mutate: Any, fragment: str) -> None:
    data = review_to_dict(review_from_report(report))
    with pytest.raises(ReviewError) as err:
        loads_review(json.dumps(mutate(data)), "bad.review.json")
    message = str(err.value)
    assert fragment in message and message.startswith("bad.review.json: ") and "\n" not in message


def test_files_that_are_not_reviews(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="cannot read"):
        load_review(tmp_path / "missing.review.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(ReviewError, match="not UTF-8"):
        load_review(tmp_path / "bin.json")
    (tmp_path / "nan.json").write_text('{"mtqc_review": NaN}', encoding="utf-8")
    with pytest.raises(ReviewError, match="not valid JSON"):
        load_review(tmp_path / "nan.json")
    (tmp_path / "trunc.json").write_text('{"mtqc_review": 1, "sou', encoding="utf-8")
    with pytest.raises(ReviewError, match="line 1 column"):
        load_review(tmp_path / "trunc.json")


def test_the_corrected_text_keeps_the_layout_as_read() -> None:
    # a line break inside a paragraph and a header line survive; so does double spacing
    assert join_sentences([("Title", 0, "# url: https://example.org/x\n\n"), ("One.", 1, "\n\n"),
                           ("Two.", 1, "\n"), ("Three.", 1, "  ")]) == \
        "# url: https://example.org/x\n\nTitle\n\nOne.\nTwo.  Three.\n"


def test_a_deleted_sentence_takes_its_separator_with_it() -> None:
    # within a paragraph: one space stays, not two
    assert join_sentences([("A.", 0, ""), ("", 0, " "), ("C.", 0, " ")]) == "A. C.\n"
    # the last of a paragraph: the paragraph break stays
    assert join_sentences([("A.", 0, ""), ("", 0, " "), ("C.", 1, "\n\n")]) == "A.\n\nC.\n"
    # the first of a paragraph: the paragraph break stays, the space after it does not
    assert join_sentences([("A.", 0, ""), ("", 1, "\n\n"), ("C.", 1, " ")]) == "A.\n\nC.\n"
    # the first of the article: the header before it stays
    assert join_sentences([("", 0, "# url: x\n\n"), ("B.", 0, " ")]) == "# url: x\n\nB.\n"
    # everything deleted: nothing
    assert join_sentences([("", 0, "# url: x\n\n"), (" ", 0, " ")]) == ""


@pytest.mark.parametrize("space", ["\x1c", "\x85"])
def test_whitespace_is_what_the_browser_trims(space: str) -> None:
    # Python's str.strip() would drop these; JavaScript's trim() keeps them, and both exports agree
    assert join_sentences([(f"A.{space}", 0, "")]) == f"A.{space}\n"


def test_without_the_layout_paragraphs_are_joined_as_before() -> None:
    # reviews from before text_before was recorded: a space within a paragraph, a blank line between
    assert join_sentences([("Title", 0, None), ("One.", 1, None), ("Two.", 1, None), ("  ", 1, None), ("Three.", 2, None)]) == \
        "Title\n\nOne. Two.\n\nThree.\n"
    assert join_sentences([("A.", None, None), ("B.", None, None)]) == "A.\n\nB.\n"
    assert join_sentences([]) == ""


# ----------------------------------------------------------------------------- reader: properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["mtqc_review", "source", "signature", "article_sha256", "sentences", "flags", "index",
                         "text", "final", "span", "type", "decision", "sentence_index", "sentence", "x"]),
        inner, max_size=6),
    max_leaves=20)


@PROPS
@given(json_values)
def test_any_json_is_a_review_or_a_review_error(value: Any) -> None:
    try:
        loads_review(json.dumps(value), "fuzz.json")
    except ReviewError as exc:
        assert "\n" not in str(exc)


@PROPS
@given(st.text(max_size=60))
def test_any_text_is_a_review_or_a_review_error(text: str) -> None:
    with pytest.raises(ReviewError):
        loads_review(text, "fuzz.json")


sentence_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@st.composite
def reviews(draw: st.DrawFn) -> Review:
    texts = draw(st.lists(sentence_text, min_size=1, max_size=5))
    paragraphs = sorted(draw(st.lists(st.integers(0, 3), min_size=len(texts), max_size=len(texts))))
    finals = [draw(st.one_of(st.just(t), sentence_text, st.just(""))) for t in texts]
    befores = [draw(st.one_of(st.none(), st.sampled_from([" ", "\n", "\n\n", "\t "]), st.text(max_size=8))) for _ in texts]
    sentences = tuple(ReviewSentence(i, t, f, p, text_before=b)
                      for i, (t, f, p, b) in enumerate(zip(texts, finals, paragraphs, befores)))
    decisions = []
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(texts) - 1))
        start = draw(st.integers(0, len(texts[i]) - 1))
        end = draw(st.integers(start + 1, len(texts[i])))
        decisions.append(Decision(
            i, texts[i], (start, end), texts[i][start:end], draw(st.sampled_from(["terminology", "untranslated", "fluency"])),
            draw(st.sampled_from([None, "accepted", "dismissed", "edited"])), finals[i],
            note=draw(st.text(max_size=10)), suggestion=draw(st.one_of(st.none(), sentence_text))))
    return Review("gen.txt", "sig", article_sha256(texts), sentences, tuple(decisions))


_WORDS = ("the port authority said repairs would start next week after heavy rain damaged northern pier "
          "fishermen welcomed plan because boats were waiting outside harbour for days").split()


@st.composite
def article_texts(draw: st.DrawFn) -> str:
    """English articles with varied layout: headers, blank lines, line breaks and spaces."""
    def sentence() -> str:
        words = draw(st.lists(st.sampled_from(_WORDS), min_size=5, max_size=12))
        return " ".join(words).capitalize() + draw(st.sampled_from([".", "!", "?"]))

    paragraphs = []
    for _ in range(draw(st.integers(2, 4))):
        sentences = [sentence() for _ in range(draw(st.integers(1, 3)))]
        text = sentences[0]
        for s in sentences[1:]:
            text += draw(st.sampled_from([" ", "  ", "\n"])) + s
        paragraphs.append(text)
    body = paragraphs[0]
    for p in paragraphs[1:]:
        body += draw(st.sampled_from(["\n\n", "\n\n\n", "\n \n"])) + p
    header = draw(st.sampled_from(["", "# url: https://example.org/news/1\n\n"]))
    return header + body + draw(st.sampled_from(["", "\n", "\n\n"]))


@PROPS
@given(article_texts())
def test_an_unedited_article_comes_back_as_it_was_read(checker: Checker, text: str) -> None:
    report = check_text(checker, text, "gen.txt")
    review = loads_review(_dump(review_from_report(report)), "gen.review.json")
    assert review.corrected_text() == text.strip() + "\n"


@PROPS
@given(reviews())
def test_valid_reviews_round_trip(review: Review) -> None:
    again = loads_review(_dump(review), "gen.review.json")
    assert again.sentences == review.sentences and again.decisions == review.decisions
    text = again.corrected_text()
    for s in review.sentences:
        assert s.final.strip() in text  # every sentence the editor kept is in the corrected article


@PROPS
@given(reviews(), st.data())
def test_a_review_missing_a_required_key_is_refused(review: Review, data: st.DataObject) -> None:
    doc = review_to_dict(review)
    key = data.draw(st.sampled_from(["mtqc_review", "source", "signature", "article_sha256", "sentences", "flags"]))
    del doc[key]
    with pytest.raises(ReviewError, match=key):
        loads_review(json.dumps(doc), "gen.review.json")


def _concept_terms(path: Path) -> list[tuple[Any, ...]]:
    return [(c.preferred, c.indonesian, c.accepted, c.wrong, c.note, c.source, c.severity)
            for c in load_glossary_file(path).concepts]


@PROPS
@pytest.mark.parametrize("suffix", [".glossary", ".csv", ".tsv"])
@given(batch=st.lists(reviews(), min_size=1, max_size=3))
def test_learned_glossaries_always_load_and_pass_the_check(suffix: str, batch: list[Review]) -> None:
    result = learn_glossary(batch)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"learned{suffix}"
        path.write_text(result.to_glossary(["a\nb.review.json"], suffix), encoding="utf-8")
        assert check_glossary_file(path) == []
        assert [c[0] for c in _concept_terms(path)] == [c.preferred for c in result.concepts]
        stanzas = Path(tmp) / "learned.glossary"
        stanzas.write_text(result.to_glossary(["a.review.json"]), encoding="utf-8")
        assert _concept_terms(path) == _concept_terms(stanzas)  # one glossary, whatever the format


# ----------------------------------------------------------------------------- suppression


def test_dismissed_flags_are_not_raised_again_and_are_counted(checker: Checker, report: ArticleReport) -> None:
    review = _decide(review_from_report(report), "the the", "dismissed")
    reviewed = replace(checker, steps=(*checker.steps, SuppressDismissed.from_reviews([review])))
    again = check_text(reviewed, TEXT, "harbour.txt")
    spans = {s.text[f.span[0]:f.span[1]] for s in again.sentences for f in s.flags if f.span}
    assert "the the" not in spans and "media crew" in spans
    assert [(report.sentences[i].text[f.span[0]:f.span[1]], f.type) for i, f in again.suppressed] == \
        [("the the", "fluency")]
    assert again.score > report.score  # uncalibrated: the flag-count score no longer counts it
    data = again.to_dict()
    assert data["suppressed"][0]["type"] == "fluency" and data["suppressed"][0]["sentence"] == 1
    # an edit in another sentence does not revive it; a change to the sentence itself does
    edited_elsewhere = check_text(reviewed, TEXT.replace("northern pier", "north pier"), "harbour.txt")
    assert len(edited_elsewhere.suppressed) == 1
    edited_here = check_text(reviewed, TEXT.replace("on Monday", "on Tuesday"), "harbour.txt")
    assert not edited_here.suppressed


def test_only_dismissals_suppress(report: ArticleReport) -> None:
    review = _decide(review_from_report(report), "media crew", "accepted", "x")
    assert not Suppression.from_reviews([review])
    assert suppress_dismissed(report, Suppression.from_reviews([review])) is report


# ----------------------------------------------------------------------------- glossary learning


def test_replacement_for_an_edited_span() -> None:
    s = "He told the media crew that it was over."
    assert replacement_for(s, (12, 22), "He told the reporters that it was over.") == "reporters"
    # the editor also changed something elsewhere
    assert replacement_for(s, (12, 22), "She told the journalists that it ended.") == "journalists"
    assert replacement_for(s, (12, 22), "He told the that it was over.") is None


def test_accepted_and_edited_terminology_becomes_glossary_entries(report: ArticleReport, tmp_path: Path) -> None:
    base = review_from_report(report)
    sentence = next(d.sentence for d in base.decisions if d.span_text == "media crew")
    accepted = replace(_decide(base, "media crew", "accepted", sentence.replace("media crew", "reporters")),
                       name="a.review.json")
    learned = learn_glossary([accepted])
    assert [(c.preferred, c.wrong) for c in learned.concepts] == [("reporters", ["media crew"])]
    path = tmp_path / "learned.glossary"
    path.write_text(learned.to_glossary(["a.review.json"]), encoding="utf-8")
    assert check_glossary_file(path) == []
    concept = load_glossary_file(path).concepts[0]
    assert concept.wrong == ("media crew",) and "a.review.json (sentence 1)" in concept.source
    # a second editor chose another term: a conflict, listed and left out
    edited = replace(_decide(base, "media crew", "edited", sentence.replace("media crew", "journalists")),
                     name="b.review.json")
    both = learn_glossary([accepted, edited])
    assert not both.concepts and "'reporters' (a.review.json" in both.conflicts[0] and "'journalists'" in both.conflicts[0]
    kept = replace(_decide(base, "media crew", "dismissed"), name="c.review.json")
    assert "kept as it was (c.review.json" in learn_glossary([accepted, kept]).conflicts[0]


@pytest.mark.parametrize("suffix", [".glossary", ".csv", ".tsv"])
def test_a_hash_in_a_learned_glossary_is_never_read_as_a_comment(report: ArticleReport, tmp_path: Path,
                                                                 suffix: str) -> None:
    base = review_from_report(report)
    sentence = next(d.sentence for d in base.decisions if d.span_text == "media crew")
    desk = replace(_decide(base, "media crew", "accepted", sentence.replace("media crew", "reporters")),
                   name="desk #2.review.json")
    path = tmp_path / f"learned{suffix}"
    path.write_text(learn_glossary([desk]).to_glossary(["desk #2.review.json"], suffix), encoding="utf-8")
    [concept] = load_glossary_file(path).concepts
    assert concept.preferred == "reporters" and "#2.review.json (sentence 1)" in concept.source
    # a term with a '#' starting a word cannot be held by the stanza format: skipped, and said so
    hashed = replace(_decide(base, "media crew", "edited", sentence.replace("media crew", "#1 reporters")),
                     name="e.review.json")
    result = learn_glossary([hashed])
    assert not result.concepts and "'#' starting a word" in result.skipped[0]


# ----------------------------------------------------------------------------- command line


def test_cli_review_apply_glossary_learn_and_check_review(report: ArticleReport, tmp_path: Path) -> None:
    base = review_from_report(report)
    sentence = next(d.sentence for d in base.decisions if d.span_text == "media crew")
    review = _decide(base, "media crew", "accepted", sentence.replace("media crew", "reporters"))
    review = _decide(review, "08.30 WIB", "dismissed")
    path = tmp_path / "harbour.review.json"
    path.write_text(_dump(review), encoding="utf-8")

    code, out, _ = _run("review", "apply", str(path))
    assert code == 0 and "told the reporters on Monday" in out and out == review.corrected_text()
    code, _, _ = _run("review", "apply", str(path), "--out", str(tmp_path / "fixed.txt"))
    assert code == 0 and (tmp_path / "fixed.txt").read_text(encoding="utf-8") == review.corrected_text()
    code, _, err = _run("review", "apply", str(path), "--out", str(path))
    assert code == 2 and "never writes over" in err and json.loads(path.read_text(encoding="utf-8"))

    code, out, _ = _run("glossary", "learn", str(path), "--out", str(tmp_path / "learned.glossary"))
    assert code == 0 and "1 concept" in out
    assert _run("glossary", "check", str(tmp_path / "learned.glossary"))[0] == 0
    # the suffix names the format, as it does when the glossary is loaded
    learned = [(c.preferred, c.wrong, c.severity) for c in load_glossary_file(tmp_path / "learned.glossary").concepts]
    assert learned == [("reporters", ("media crew",), "minor")]
    for suffix in (".csv", ".tsv", ".txt"):
        out_path = tmp_path / f"learned{suffix}"
        code, out, err = _run("glossary", "learn", str(path), "--out", str(out_path))
        assert code == 0 and "1 concept" in out, err
        assert _run("glossary", "check", str(out_path))[0] == 0
        assert [(c.preferred, c.wrong, c.severity) for c in load_glossary_file(out_path).concepts] == learned
    for name in ("learned.tbx", "learned.json", "learned"):
        code, _, err = _run("glossary", "learn", str(path), "--out", str(tmp_path / name))
        assert code == 2 and "the suffix names the format" in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / name).exists()

    article = tmp_path / "harbour.txt"
    article.write_text(TEXT, encoding="utf-8")
    code, _, _ = _run("check", str(article), "--no-calibration", "--review", str(path), "--out", str(tmp_path / "r"), "-q")
    data = json.loads((tmp_path / "r" / "harbour.json").read_text(encoding="utf-8"))
    assert code == 0 and [s["type"] for s in data["suppressed"]] == ["other"]
    assert "dismissed in an earlier review" in (tmp_path / "r" / "harbour.html").read_text(encoding="utf-8")

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "harbour.txt").write_text(TEXT, encoding="utf-8")
    code, _, _ = _run("batch", str(folder), "--no-calibration", "--review", str(path), "--out", str(tmp_path / "b"))
    row = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))["articles"][0]
    assert code == 0 and row["suppressed"] == 1 and "08.30 WIB" not in {p["text"] for p in row["flagged_phrases"]}

    (tmp_path / "bad.review.json").write_text("{}", encoding="utf-8")
    code, out, err = _run("check", str(article), "--review", str(tmp_path / "bad.review.json"), "--out", str(tmp_path / "r"))
    assert code == 2 and "missing key 'mtqc_review'" in err and "Traceback" not in out + err
    code, _, err = _run("review", "apply", str(tmp_path / "nope.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1
