"""Property-based tests for the readers of outside input: decoding, text, Markdown and HTML ingest."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mtqc.errors import InputError, MtqcError
from mtqc.ingest import (
    Article,
    check_english,
    decode,
    html_article,
    load_article,
    markdown_article,
    article_from_text,
    segment,
)

# Pieces that exercise the rules: headers, markup, datelines, abbreviations, quotes, disclaimers.
_PIECES = [
    "# url: https://example.org/x\n", "# truncated: yes\n", "# Jokowi: Kapolda must resign\n", "---\n", "title: A\n",
    "\n", "\n\n", "  ", "**", "*", "_", "`", "```\n", "- ", "1. ", "> ", "| a | b |\n|---|---|\n", "&amp;", "\\*",
    "<b>", "</b>", "<br>", "<div>", "</div>", "<p>", "</p>", "<h1>", "</h1>", "<!-- x -->", "<script>x</script>",
    "JAKARTA - ", "Mr. ", "Kec. ", "(17/3) ", '"', "\u201c", "\u201d", "Share:\n", "FOTO: Desk\n",
    "The river rose on Monday. ", "Schools were closed, officials said. ", "rupiah ", "2. ", "Rp. 3,290 ",
    "This story was machine translated. ", "\u00e9", "\u0645", "\t", "\r\n",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=12)), max_size=40).map("".join),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_located(article: Article) -> None:
    for seg in article.segments:
        assert article.text[seg.start:seg.end] == seg.text
        assert seg.text.strip() and 0 <= seg.start < seg.end <= len(article.text)
    starts = [s.start for s in article.segments]
    assert starts == sorted(starts)


@SETTINGS
@given(texts)
@example("# url: x\n\n# Jokowi: Kapolda must resign\n\nThe road was closed.")
@example("JAKARTA - ")
@example("#")
@example("---\n---\n")
def test_plain_text_segments_index_the_text(text: str) -> None:
    article = segment(text)
    assert article.text == text
    _assert_located(article)
    for seg in article.segments:
        assert (seg.source_start, seg.source_end) == (seg.start, seg.end)


@SETTINGS
@given(texts)
@example("**bold** and *em* \\* &amp; `code`\n\n- item\n\n```\nfence\n```\n")
@example("---\ntitle: x\n---\n# Heading: with colon\n\ntext")
@example("<div>html block</div>\n\n| a | b |\n|---|---|\n| c | d |\n")
@example("a\nb  \nc")
def test_markdown_segments_index_the_rendered_text_and_point_into_the_file(raw: str) -> None:
    article = markdown_article(raw, "x.md")
    _assert_located(article)
    for seg in article.segments:
        assert seg.source_start is not None and seg.source_end is not None
        assert 0 <= seg.source_start <= seg.source_end <= len(raw)


@SETTINGS
@given(texts)
@example("<html><body><div>a<br><br>b</div></body></html>")
@example("<html><body>\x0c</body></html>")
@example("<p>" + "The river rose on Monday and the schools were closed. " * 6 + "</p>")
def test_html_ingest_locates_segments_or_raises_input_error(html: str) -> None:
    try:
        article = html_article(html, "x.html")
    except InputError:
        return
    _assert_located(article)
    assert article.word_count >= 30


@SETTINGS
@given(texts, st.sampled_from([".txt", ".md", ".html"]))
def test_any_text_in_any_format_gives_an_article_or_a_typed_error(text: str, suffix: str) -> None:
    try:
        article = article_from_text(text, "x" + suffix, suffix=suffix)
    except MtqcError:
        return
    _assert_located(article)
    assert article.scored_segments
    check_english(article)  # accepted articles stay accepted


@SETTINGS
@given(st.binary(max_size=400))
@example(b"\xff\xfe")
@example(b"\xff\xfeA\x00\x00\xd8")  # a lone surrogate after a BOM
@example("The road was closed.".encode("utf-16-le") + b"\x00")
@example(b"\x00" * 10)
def test_decoding_any_bytes_gives_text_or_an_input_error(data: bytes) -> None:
    try:
        text = decode(data, "x.txt")
    except InputError:
        return
    assert text.strip()
    assert "\x00" not in text and "\r" not in text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), texts.map(lambda t: t.encode("utf-8")),
                 texts.map(lambda t: t.encode("utf-16-le"))),
       st.sampled_from(["a.txt", "a.md", "a.html"]))
def test_the_file_loader_raises_only_typed_errors(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        article = load_article(path, max_bytes=10_000)
    except MtqcError:
        pass
    else:
        _assert_located(article)
    assert path.read_bytes() == data  # never written over


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@SETTINGS
@given(st.text(alphabet=st.one_of(st.characters(min_codepoint=32, max_codepoint=255, exclude_categories=("Cc",)),
                                   st.just("\n")), min_size=2, max_size=200).filter(str.strip))
@example(text="Caf\u00e9 owners said the road was closed.")
def test_latin_text_in_utf16_without_a_bom_round_trips(encoding: str, text: str) -> None:
    assert decode(text.encode(encoding), "x.txt") == text
