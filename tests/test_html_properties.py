"""The HTML reports render any article text or file name inert: no element or attribute comes from it."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtqc.config import load_settings
from mtqc.ingest import segment
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.reports import render_html
from mtqc.reports.html import render_index
from mtqc.results import ArticleReport, Flag, SentenceResult, Signature


class _Shape(HTMLParser):
    """The elements and attributes of a page (names only), and all its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[str] = set()
        self.attributes: set[tuple[str, str]] = set()
        self.other: list[str] = []  # comments, declarations, processing instructions
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        self.attributes.update((tag, name) for name, _ in attrs)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"comment:{data}")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"decl:{decl}")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"pi:{data}")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"unknown:{data}")


def _shape(page: str) -> _Shape:
    parser = _Shape()
    parser.feed(page)
    parser.close()
    return parser


def _report(text: str, source: str) -> ArticleReport:
    """A report that puts `text` in every field the template shows, flagged and unflagged."""
    span = (0, max(1, len(text) // 2))
    from mtqc.glossary import Concept
    from mtqc.signals.terminology import glossary_entry

    concept = Concept(text, (text,), (text,), (text,), text, text, "major", text)
    flags = (Flag("terminology", "major", span, text, text, "terminology", 0.9,
                  glossary_entry=glossary_entry(concept, "wrong")), Flag("fluency", "minor", None, text))
    sentences = (
        SentenceResult(0, text, 0, len(text), False, "dateline"),
        SentenceResult(1, text, 0, len(text), True, backtranslation=text, roundtrip=text, flags=flags,
                       signals={"terminology.hits": 1.0, "fluency.risk": 2.0}),
        SentenceResult(2, text, 0, len(text), True),
    )
    signature = Signature("0.1.0", "offline", (text,), (("x.y", 1.0),), (text,), ("terminology",), (("minor", 1.0),))
    return ArticleReport("0.1.0", source, "offline", 50.0, signature, sentences,
                         metadata={"title": text, "url": text}, skipped=(text,), word_count=3)


PLAIN = _shape(render_html(_report("Officials said the plan was ready.", "plain.txt")))

HOSTILE = st.one_of(
    st.text(min_size=1, max_size=60),
    st.lists(st.sampled_from([
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)', "' autofocus onfocus='x",
        "<!--", "-->", "<![CDATA[", "]]>", "&lt;", "&amp;", "&#x3C;", "{{ 7*7 }}", "{% raw %}", "</td></tr></table>",
        "<svg/onload=alert(1)>", "javascript:alert(1)", "<style>*{}</style>", "<meta http-equiv=refresh content=0>",
        "\u2028", "\x00", "[/foo]", "words", " ",
    ]), min_size=1, max_size=8).map("".join),
).filter(lambda s: s.strip())


@settings(max_examples=80, deadline=None)
@given(HOSTILE, HOSTILE)
def test_any_text_and_file_name_render_inert(text: str, source: str) -> None:
    page = _shape(render_html(_report(text, source)))
    assert page.elements == PLAIN.elements and page.attributes == PLAIN.attributes
    assert page.other == PLAIN.other
    shown = "".join(page.text)
    # the editor sees the text itself (the notice and the message cells hold it whole)
    assert text.replace("\x00", "\ufffd") in shown.replace("\x00", "\ufffd")


@settings(max_examples=40, deadline=None)
@given(HOSTILE, HOSTILE)
def test_batch_index_renders_names_and_errors_inert(name: str, error: str) -> None:
    rows = [{"name": name, "error": None, "html": "a.html", "score": 90.0,
             "by_severity": {"critical": 0, "major": 1, "minor": 2}}, {"name": name, "error": error}]
    plain_rows = [{**rows[0], "name": "a.txt"}, {"name": "b.txt", "error": "empty file"}]
    page = _shape(render_index(rows, name, name, [error]))
    plain = _shape(render_index(plain_rows, "in", "sig", ["note"]))
    assert page.elements == plain.elements and page.attributes == plain.attributes and page.other == plain.other


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline").build()


ARTICLE = ("JAKARTA - Officials said the new bridge would open next month.\n\n"
           "The media crew asked about the budget, and the the minister answered at 15.00 WIB.\n\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HOSTILE, HOSTILE)
def test_hostile_text_through_the_pipeline_adds_no_element(checker: Checker, text: str, source: str) -> None:
    plain = _shape(render_html(checker.check_article(segment(ARTICLE, "plain.txt"))))
    page = _shape(render_html(checker.check_article(segment(ARTICLE + text + "\n", source))))
    assert page.elements <= PLAIN.elements and page.attributes <= PLAIN.attributes
    assert plain.elements <= page.elements and page.other == PLAIN.other
