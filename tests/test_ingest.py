from __future__ import annotations

from pathlib import Path

import pytest

from mtqc.errors import InputError
from mtqc.ingest import html_to_text, load_article, segment

from .conftest import ARTICLE


def test_metadata_headers_are_not_content() -> None:
    article = segment(ARTICLE)
    assert article.metadata == {"url": "https://example.org/news/1", "title": "Flood test article"}
    assert all("example.org" not in s.text for s in article.segments)


def test_segments_locate_text_exactly() -> None:
    article = segment(ARTICLE)
    for seg in article.segments:
        assert article.text[seg.start:seg.end] == seg.text


def test_dateline_and_boilerplate_are_kept_unscored() -> None:
    article = segment(ARTICLE)
    kinds = [s.kind for s in article.segments]
    assert kinds[0] == "dateline" and article.segments[0].text == "BANDUNG -"
    assert article.segments[1].text.startswith("The West Java")
    boiler = [s for s in article.segments if s.kind == "boilerplate"]
    assert boiler and all(not s.scored for s in boiler)
    assert all("machine translated" not in s.text for s in article.scored_segments)


def test_a_cut_off_disclaimer_listing_language_versions_is_boilerplate() -> None:
    article = segment("The bridge opened on Monday.\n\nThe English, Korean and Thai versions are produced autom")
    assert [s.kind for s in article.segments] == ["sentence", "boilerplate"]


def test_quoted_sentences_are_split_and_abbreviations_are_not() -> None:
    text = '"We are ready. The team will go," he said.\n\nThe road in Kel. Sukamaju Kec. Cibeunying was closed. Mr. Smith agreed.'
    sentences = [s.text for s in segment(text).scored_segments]
    assert sentences == [
        '"We are ready.',
        'The team will go," he said.',
        "The road in Kel. Sukamaju Kec. Cibeunying was closed.",
        "Mr. Smith agreed.",
    ]


def test_page_labels_and_other_scripts_are_not_scored() -> None:
    text = "Share:\n\nمشاركة:\n\nThe minister opened the new market on Friday."
    article = segment(text)
    assert [s.kind for s in article.segments] == ["label", "label", "sentence"]


def test_html_body_is_extracted_without_scripts_or_navigation() -> None:
    html = """<html><head><script>alert(1)</script></head><body><nav>Home | News</nav>
    <article><h1>Bridge reopens</h1><p>The bridge reopened on <b>Monday</b>.</p><p>Traffic returned to normal.</p></article>
    <footer>Copyright</footer></body></html>"""
    text = html_to_text(html)
    assert "alert" not in text and "Home" not in text and "Copyright" not in text
    article = segment(text)
    assert [s.text for s in article.scored_segments] == ["Bridge reopens", "The bridge reopened on Monday.", "Traffic returned to normal."]
    assert article.segments[0].kind == "heading"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Caf\u00e9 owners said the road was closed.".encode("latin-1"), "UTF-8"),
        ("The road was closed.".encode("utf-16"), "UTF-16"),
        ("Pemerintah provinsi menyatakan bahwa banjir telah surut dan warga sudah kembali ke rumah masing-masing.".encode(), "English"),
    ],
)
def test_bad_input_raises_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_article(path, max_bytes=1_000_000)


def test_missing_directory_and_oversized_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_article(tmp_path / "nope.txt", 1000)
    with pytest.raises(InputError, match="directory"):
        load_article(tmp_path, 1000)
    big = tmp_path / "big.txt"
    big.write_text("The minister spoke. " * 100, encoding="utf-8")
    with pytest.raises(InputError, match="limit"):
        load_article(big, max_bytes=500)


def test_markdown_headings_are_scored_without_their_marker(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# author: desk\n\n# Floods Hit Bekasi\n\nThe river rose on Monday. Schools were closed.\n", encoding="utf-8")
    article = load_article(path, 10_000)
    assert article.metadata == {"author": "desk"}
    heading = article.segments[0]
    assert heading.kind == "heading" and heading.text == "Floods Hit Bekasi" and heading.scored
    assert [s.text for s in article.segments[1:]] == ["The river rose on Monday.", "Schools were closed."]


def test_a_very_long_paragraph_is_segmented_in_chunks_without_losing_sentences() -> None:
    sentences = [f"Officials in district number {i} said the water had receded by Tuesday." for i in range(400)]
    text = " ".join(sentences)  # ~28,000 characters, one paragraph
    article = segment(text)
    assert [s.text for s in article.segments] == sentences
    assert all(text[s.start:s.end] == s.text for s in article.segments)
