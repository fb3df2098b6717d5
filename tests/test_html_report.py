"""The HTML report and index as rendered (no browser): CSP by hash, embedded data, index views."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.config import load_settings
from mtqc.ingest import article_from_text
from mtqc.results import ArticleReport
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.reports import render_html, render_index
from mtqc.reports.index import build_index_view, phrase_key, summary_row_extras
from mtqc.review.file import report_article_sha256

TEXT = """Bridge closed

The mayor told the media crew that the the bridge would close, said the Kapolda.
"""


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()


def _check_text(checker: Checker, text: str, source: str) -> ArticleReport:
    return checker.check_article(article_from_text(text, source))


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, re.S)


def test_csp_allows_exactly_the_one_inline_script_and_nothing_from_outside(checker: Checker) -> None:
    for html in (render_html(_check_text(checker, TEXT, "b.txt")), render_index([], "t", "sig", [])):
        [script] = _scripts(html)
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)


def test_embedded_data_cannot_end_its_script_element(checker: Checker) -> None:
    hostile = "The minister said </script><script>alert(1)</script> and <!-- the the plan was ready.\n"
    html = render_html(_check_text(checker, hostile, "</script>.txt"))
    block = html.split('<script type="application/json" id="mtqc-data">')[1].split("</script>")[0]
    data = json.loads(block)  # the whole data block survived: nothing in it closed the element
    assert "</script><script>alert(1)</script>" in data["sentences"][0]["text"] and "<" not in block
    assert data["source"] == "</script>.txt" and data["review_name"] == "script>.review.json"  # the stem of a path


def test_report_shows_glossary_entries_and_collapsed_back_translations(checker: Checker) -> None:
    report = _check_text(checker, TEXT, "b.txt")
    calque = next(f for f in report.flags if f.type == "terminology")
    assert calque.glossary_entry and calque.glossary_entry["preferred"] == "reporters"
    assert calque.glossary_entry["origin"].startswith("news-id-en.glossary:")
    assert calque.to_dict()["glossary_entry"]["matched"] == "wrong"
    html = render_html(report)
    assert "Glossary entry: reporters" in html and "Defined at" in html
    assert "Values behind the flags" in html
    data = json.loads(html.split('id="mtqc-data">')[1].split("</script>")[0])
    assert data["article_sha256"] == report_article_sha256(report)
    assert [s["paragraph"] for s in data["sentences"]] == [s.paragraph for s in report.sentences]


def test_summary_rows_and_index_views(checker: Checker) -> None:
    a = summary_row_extras(_check_text(checker, TEXT, "a.txt"))
    b = summary_row_extras(_check_text(checker, TEXT.replace("mayor", "governor").replace("the the", "the"), "b.txt"))
    assert a["by_type"]["terminology"] == 1 and a["suppressed"] == 0
    assert {"media crew", "the the"} <= {p["key"] for p in a["flagged_phrases"]}
    rows = [{"name": "a.txt", "html": "articles/a%20b.html", "score": 40.0, "by_severity": {}, **a},
            {"name": "b.txt", "html": "articles/b.html", "score": 95.0, "by_severity": {}, **b},
            {"name": "c.txt", "html": None, "score": None, "error": "c.txt: empty file"}]
    view = build_index_view(rows)
    assert [r["name"] for r in view.rows] == ["c.txt", "a.txt", "b.txt"]  # failed first, then worst score
    # bins fit the scores (40 and 95): 10 points wide from 40, not ten bins from 0
    assert [(bar.low, bar.count) for bar in view.histogram] == [(40, 1), (50, 0), (60, 0), (70, 0), (80, 0), (90, 1)]
    recurring = {p.key: p for p in view.recurring}
    assert recurring["media crew"].articles == 2 and "the the" not in recurring  # only in one article
    # each link lands on the flag itself
    hrefs = [o.href for o in recurring["media crew"].occurrences]
    assert len(hrefs) == 2 and hrefs[0].startswith("articles/a%20b.html#f1-") and hrefs[1].startswith("articles/b.html#f1-")
    assert dict(view.type_counts)["terminology"] == 2
    html = render_index(rows, "folder", "sig", [])
    assert "&lsquo;media crew&rsquo; &mdash; 2 articles" in html and f'href="{hrefs[0]}"' in html


def test_phrase_keys_ignore_case_spacing_quotes_and_a_leading_the() -> None:
    assert phrase_key("The  Media\u2019s Crew,") == phrase_key("media's crew") == "media's crew"


_phrase_adds = st.lists(st.tuples(
    st.sampled_from(["media crew", "the escape", "north wing", "a"]),  # keys
    st.sampled_from(["Media crew", "media crew", "the Escape"]),  # forms
    st.lists(st.sampled_from(["terminology", "fluency", "consistency"]), max_size=2).map(tuple),
    st.text(max_size=5), st.one_of(st.none(), st.text(max_size=8)),
), max_size=80)


@settings(max_examples=60, deadline=None)
@given(_phrase_adds)
def test_the_archive_phrase_tally_on_disk_lists_what_the_one_in_memory_lists(adds: list) -> None:
    import sqlite3

    from mtqc.reports import index as index_module

    memory, disk = index_module.PhraseTally(), index_module.SqlitePhraseTally(sqlite3.connect(":memory:"))
    for add in adds:
        memory.add(*add)
        disk.add(*add)
    assert disk.recurring(3) == memory.recurring(3)
    assert disk.recurring(index_module.MAX_RECURRING) == memory.recurring(index_module.MAX_RECURRING)


def test_the_phrase_tally_keeps_at_most_max_occurrences_links_but_counts_every_article(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from mtqc.reports import index as index_module

    monkeypatch.setattr(index_module, "MAX_OCCURRENCES", 3)
    for tally in (index_module.PhraseTally(), index_module.SqlitePhraseTally(sqlite3.connect(":memory:"))):
        for i in range(7):
            tally.add("media crew", "media crew", ("terminology",), f"a{i}.txt", f"a{i}.html#s1")
        [problem] = tally.recurring(10)
        assert problem.articles == 7 and [o.name for o in problem.occurrences] == ["a0.txt", "a1.txt", "a2.txt"]


def test_the_report_says_when_llm_replies_were_unreadable(checker: Checker) -> None:
    from dataclasses import replace

    report = _check_text(checker, "Police closed the road on Monday. It reopened on Tuesday.\n", "llm.txt")
    assert "unreadable" not in render_html(report)
    usage = {"llm": {"model": "gpt-test", "requests": 3, "cache_hits": 0, "prompt_tokens": 10, "completion_tokens": 5,
                     "total_tokens": 15, "malformed_replies": 2, "dropped_spans": 1}}
    html = render_html(replace(report, usage=usage))
    notes = re.findall(r'<div class="notice llm-issue">(.*?)</div>', html)
    assert len(notes) == 2
    assert "2 unreadable replies" in notes[0] and "gpt-test" in notes[0]
    assert "1 error span not in the text" in notes[1]
    # near the engine notes, before the sentences
    assert html.index("unreadable replies") < html.index('id="only-flagged"')
    clean = {"llm": {**usage["llm"], "malformed_replies": 0, "dropped_spans": 0}}
    assert "llm-issue" not in render_html(replace(report, usage=clean)).split("</style>")[-1]


# ----------------------------------------------------------------------------- advice and ranking (issue 18)

ADVICE_TEXT = """Council meets

The minister said the DPRD would meet the pemerintah daerah on Monday, and the media crew waited outside.

Para menteri telah bertemu di kantor gubernur pada hari Senin.

The council said the budget would be ready next week after the talks ended.
"""


def test_advice_is_its_own_field_and_every_suggestion_replaces_its_span(checker: Checker) -> None:
    report = _check_text(checker, ADVICE_TEXT, "council.txt")
    flags = [(s, f) for s in report.sentences for f in s.flags]
    advised = {s.text[f.span[0]:f.span[1]]: f for s, f in flags if f.advice}
    assert advised["DPRD"].advice.startswith("Spell it out in English") and advised["DPRD"].suggestion is None
    assert any(f.advice == "Translate the sentence into English." and f.suggestion is None for f in advised.values())
    # what is left as a suggestion is text for the span, never an instruction to the editor
    for s, f in flags:
        if f.suggestion is not None:
            assert f.span is not None and not re.match(r"(Spell|Translate|Use|Consider|Check)\b", f.suggestion), f
    data = report.to_dict()
    keys = set(data["sentences"][1]["flags"][0])
    assert {"suggestion", "advice", "message", "span", "type", "severity"} <= keys  # additive: nothing dropped
    html = render_html(report)
    assert "Advice: Spell it out in English" in html and "replace with</span> &lsquo;reporters&rsquo;" in html


def test_a_review_carries_advice_and_review_apply_takes_only_the_final_texts(checker: Checker) -> None:
    from mtqc.review.file import loads_review, review_from_report, review_to_dict

    report = _check_text(checker, ADVICE_TEXT, "council.txt")
    review = review_from_report(report)
    again = loads_review(json.dumps(review_to_dict(review)))
    assert [d.advice for d in again.decisions] == [f.advice for f in report.flags]
    assert again.corrected_text() == ADVICE_TEXT  # nothing decided, nothing pasted


def test_summary_extras_rank_articles_by_likely_wrong_sentences(checker: Checker) -> None:
    from mtqc.reports.index import _sort_key

    heavy = summary_row_extras(_check_text(checker, ADVICE_TEXT, "council.txt"))
    light = summary_row_extras(_check_text(checker, TEXT, "bridge.txt"))
    assert heavy["headline"] == "Council meets" and light["headline"] == "Bridge closed"
    assert heavy["to_fix"] >= 2 and heavy["to_fix"] > light["to_fix"] >= 1
    top = heavy["top_issue"]
    assert top["severity"] == "critical" and top["type"] == "untranslated" and top["flag"] >= 1
    rows = [{"name": "light.txt", "score": 10.0, **light}, {"name": "heavy.txt", "score": 90.0, **heavy},
            {"name": "old.txt", "score": 50.0}]  # a record from before these fields: counted as 0
    # the likely-wrong sentences first, whatever the score; failed articles before all
    assert [r["name"] for r in sorted(rows, key=_sort_key)] == ["heavy.txt", "light.txt", "old.txt"]
    view = build_index_view(rows)
    assert [r["name"] for r in view.rows] == ["heavy.txt", "light.txt", "old.txt"]
    html = render_index(rows, "folder", "sig", [])
    assert ">Council meets</span>" in html and "untranslated: &lsquo;" in html


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.floats(0, 100).map(lambda x: round(x, 2))),  # None: failed
    st.one_of(st.none(), st.integers(0, 4)),  # to_fix; None: a record from before it (records of another type are refused)
), max_size=12))
def test_the_archive_sorts_on_disk_as_the_index_sorts_in_memory(rows: list[tuple[float | None, object]]) -> None:
    """workdb's SQL order and `_sort_key` agree, records without the count included."""
    from mtqc.batch.records import ArticleRecord
    from mtqc.batch.workdb import WorkDB
    from mtqc.reports.index import _sort_key

    work = WorkDB()
    try:
        made = []
        for i, (score, to_fix) in enumerate(rows):
            extras = {} if to_fix is None else {"to_fix": to_fix}
            record = ArticleRecord(f"/in/a{i:02d}.txt", f"a{i:02d}.txt", score=score, extras=extras,
                                   error=None if score is not None else "failed")
            work.keep(f"{i:08d}", record)
            made.append({"name": record.relative, **record.to_json()})
        on_disk = [r.relative for r in work.worst_first()]
    finally:
        work.close()
    in_memory = [r["name"] for r in sorted(made, key=_sort_key)]
    assert on_disk == in_memory


def test_a_share_label_before_the_article_is_not_its_headline(checker: Checker) -> None:
    text = "Share:\n\nJAKARTA - The city opened a new bridge over the river on Monday.\n\nTraffic moved well."
    report = _check_text(checker, text, "bridge.txt")
    assert [s.kind for s in report.sentences][:2] == ["label", "dateline"]  # what the guard is for
    assert summary_row_extras(report)["headline"].startswith("The city opened a new bridge")
