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
