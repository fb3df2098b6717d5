from __future__ import annotations

from pathlib import Path

import pytest

from mtqc.errors import InputError
from mtqc.ingest import html_to_text, load_article, segment
from mtqc.ingest.language import language_shares

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
        (b"\xff\xfe" + "Caf\u00e9 owners said the road was closed.".encode("latin-1"), "UTF-8"),  # a stray BOM-like prefix
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


# ---------------------------------------------------------------------------- issue 8: input that fools it

# Written for these tests: a short English news item about Indonesia, full of Indonesian names.
NAMES_ARTICLE = [
    "SLEMAN - The Sleman Regency Government distributed clean water to residents of Padukuhan Ngepring in "
    "Purwobinangun Village, Pakem District, on Tuesday, as the dry season left several hamlets without wells.",
    "Head of the Sleman Regional Disaster Management Agency (BPBD) Makwan said tanker trucks had been sent to "
    "the slopes of Mount Merapi every day since last week.",
    '"We have sent twenty tanks of water, and we will keep going until the rain comes," said Makwan.',
    "The Regent of Sleman, Kustini Sri Purnomo, asked village heads in Cangkringan and Turi to report any "
    "shortage to the agency as soon as possible.",
]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_html_laid_out_with_divs_and_line_breaks_is_read_not_its_menu(tmp_path: Path) -> None:
    html = ("<html><body><ul><li>Home</li><li>News</li><li>Politics</li><li>Sports</li></ul><div>"
            + "<br><br>".join(NAMES_ARTICLE) + "</div></body></html>")
    article = load_article(_write(tmp_path, "page.html", html), 100_000)
    texts = [s.text for s in article.scored_segments]
    assert not {"Home", "News", "Politics", "Sports"} & set(texts)
    assert texts[0].startswith("The Sleman Regency Government") and texts[-1].endswith("as soon as possible.")
    assert article.word_count > 60 and article.format == "html"
    # <br><br> separates paragraphs: each line of the page is its own paragraph
    assert len({s.paragraph for s in article.segments}) == len(NAMES_ARTICLE)
    assert all(article.text[s.start:s.end] == s.text for s in article.segments)


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><ul><li>Home</li><li>News</li><li>Politics</li><li>Sports</li></ul></body></html>",
        "<html><body><nav><a href='/'>Home</a></nav><article><p>The bridge reopened on Monday after repairs.</p></article></body></html>",
    ],
)
def test_a_page_with_too_little_main_text_is_refused_not_scored(tmp_path: Path, html: str) -> None:
    with pytest.raises(InputError, match=r"too short to be an article|no article text"):
        load_article(_write(tmp_path, "nav.html", html), 100_000)


def test_a_short_page_is_refused_saying_how_many_words_it_found(tmp_path: Path) -> None:
    html = "<html><body><article><p>The bridge reopened on Monday after repairs.</p></article></body></html>"
    with pytest.raises(InputError, match=r"only 7 words, too short to be an article"):
        load_article(_write(tmp_path, "short.html", html), 100_000)


def test_a_colon_headline_is_content_in_markdown_text_and_html(tmp_path: Path) -> None:
    body = "\n\n".join(NAMES_ARTICLE)
    for name, content in [
        ("a.md", f"# Jokowi: Kapolda must resign\n\n{body}\n"),
        ("a.txt", f"# Jokowi: Kapolda must resign\n\n{body}\n"),
        ("a.html", "<html><body><article><h1>Jokowi: Kapolda must resign</h1>"
                   + "".join(f"<p>{p}</p>" for p in NAMES_ARTICLE) + "</article></body></html>"),
    ]:
        article = load_article(_write(tmp_path, name, content), 100_000)
        first = article.segments[0]
        assert (first.kind, first.text) == ("heading", "Jokowi: Kapolda must resign"), name
        assert first.scored and "jokowi" not in article.metadata, name


def test_only_known_header_fields_are_metadata() -> None:
    text = "# url: https://example.org/a\n# truncated: yes\n\n# Source: Police say the road is closed\n\nThe road was closed."
    article = segment(text)
    assert article.metadata == {"url": "https://example.org/a", "truncated": "yes"}
    assert [(s.kind, s.text) for s in article.segments] == [
        ("heading", "Source: Police say the road is closed"), ("sentence", "The road was closed.")]


def test_markdown_markup_is_not_scored_and_offsets_point_into_the_file(tmp_path: Path) -> None:
    raw = (
        "---\ntitle: \"Water for the slopes\"\ntags:\n  - drought\n  - Sleman\n---\n\n"
        "## Water for the **slopes**\n\n"
        f"{NAMES_ARTICLE[0].replace('clean water', '**clean water**')}\n\n"
        f"* {NAMES_ARTICLE[1]}\n* The trucks carry *five thousand* litres each &amp; return \\*daily\\*.\n\n"
        "```python\nprint('not prose')\n```\n\n"
        f"1. {NAMES_ARTICLE[3]}\n"
    )
    article = load_article(_write(tmp_path, "a.md", raw), 100_000)
    assert article.metadata == {"title": "Water for the slopes", "tags": "drought, Sleman"}
    assert article.format == "markdown"
    for marker in ("**", "```", "print(", "---", "title:", "* ", "1. ", "&amp;", "\\*"):
        assert marker not in article.text, marker
    texts = [s.text for s in article.scored_segments]
    assert texts[0] == "Water for the slopes" and article.segments[0].kind == "heading"
    assert "The trucks carry five thousand litres each & return *daily*." in texts
    assert texts[-1] == NAMES_ARTICLE[3].split(", asked")[0] + ", asked" + NAMES_ARTICLE[3].split(", asked")[1]
    for seg in article.segments:
        assert article.text[seg.start:seg.end] == seg.text
        # the source span covers the same words in the file as read, markup and all
        assert seg.source_start is not None and seg.source_end is not None
        in_file = raw[seg.source_start:seg.source_end]
        assert in_file.replace("**", "").replace("*", "").replace("&amp;", "&").replace("\\", "") == seg.text.replace("*", "")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Le gouvernement provincial a annonc\u00e9 mardi que les inondations avaient touch\u00e9 douze villages. "
         "Les habitants ont \u00e9t\u00e9 \u00e9vacu\u00e9s vers des \u00e9coles voisines, selon les autorit\u00e9s locales.", "French"),
        ("Die Landesregierung teilte am Dienstag mit, dass das Hochwasser zw\u00f6lf D\u00f6rfer erreicht habe. "
         "Die Bewohner wurden in nahe gelegene Schulen gebracht, sagten die Beh\u00f6rden.", "German"),
        ("Pemerintah provinsi menyatakan bahwa banjir telah surut dan warga sudah kembali ke rumah masing-masing. "
         "Bantuan logistik masih disalurkan oleh petugas di posko pengungsian.", "Indonesian"),
    ],
)
def test_other_languages_are_refused_naming_the_language(tmp_path: Path, text: str, language: str) -> None:
    with pytest.raises(InputError, match=rf"looks like {language}, not English"):
        load_article(_write(tmp_path, "a.txt", text), 100_000)


def test_indonesian_is_refused_as_the_source_not_the_translation(tmp_path: Path) -> None:
    text = "Warga desa membersihkan rumah mereka setelah banjir surut pada hari Selasa. Petugas membagikan air bersih."
    with pytest.raises(InputError, match="not the Indonesian source"):
        load_article(_write(tmp_path, "a.txt", text), 100_000)


def test_english_full_of_indonesian_names_is_accepted(tmp_path: Path) -> None:
    text = ("Bupati Sleman Kustini Sri Purnomo and Kapolres AKBP Yuswanto Ardi visited Kelurahan Sukamaju in "
            "Kecamatan Cibeunying Kidul on Monday. Warga Desa Sumberejo received bantuan sosial from Dinas Sosial "
            "Kabupaten Bantul, said Camat Suryo Widodo.")
    article = load_article(_write(tmp_path, "a.txt", text), 100_000)
    assert len(article.scored_segments) == 2
    load_article(_write(tmp_path, "b.txt", "\n\n".join(NAMES_ARTICLE)), 100_000)


def test_an_article_in_one_paragraph_whose_second_half_is_indonesian_is_accepted(tmp_path: Path) -> None:
    # judged in chunks of about two sentences, not as one text that is more Indonesian than English
    indonesian = ("Menurut warga, banjir seperti ini sudah sering terjadi setiap musim hujan karena saluran air di "
                  "kawasan tersebut tersumbat sampah. Mereka meminta pemerintah daerah segera memperbaiki saluran itu "
                  "sebelum hujan deras kembali turun. Petugas gabungan dari kepolisian dan dinas sosial telah "
                  "membagikan makanan, selimut dan air bersih kepada para pengungsi.")
    article = load_article(_write(tmp_path, "half.txt", " ".join(NAMES_ARTICLE[:2]) + " " + indonesian), 100_000)
    assert 0.2 <= language_shares(article).english < 0.6
    assert len(article.scored_segments) == 5


def test_an_article_in_one_paragraph_loses_only_its_disclaimer_sentence(tmp_path: Path) -> None:
    disclaimer = "This story was machine translated from our Indonesian edition and has not been checked by an editor."
    text = " ".join(NAMES_ARTICLE) + " " + disclaimer
    article = load_article(_write(tmp_path, "one.txt", text), 100_000)
    kinds = [s.kind for s in article.segments]
    assert kinds[0] == "dateline" and kinds[-1] == "boilerplate" and kinds.count("boilerplate") == 1
    assert article.segments[-1].text == disclaimer
    assert len(article.scored_segments) == len(NAMES_ARTICLE)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_with_or_without_a_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    text = "\n\n".join(NAMES_ARTICLE) + "\n"
    article = load_article(_write(tmp_path, "a.txt", text.encode(encoding)), 100_000)
    assert article.text == text
    assert article.scored_segments[0].text.startswith("The Sleman Regency Government")


def test_binary_with_nul_bytes_is_still_binary(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8
    with pytest.raises(InputError, match="binary"):
        load_article(_write(tmp_path, "a.txt", data), 100_000)


def test_a_cut_off_tail_after_the_closing_disclaimer_is_not_scored() -> None:
    text = ("The bridge opened on Monday.\n\nThis page was machine translated from Indonesian. "
            "Please read the original for the exact wording. (powered by")
    article = segment(text)
    assert [s.kind for s in article.segments] == ["sentence", "boilerplate", "boilerplate", "boilerplate"]
    # a disclaimer-like sentence before the last paragraph takes nothing else with it
    middle = segment("The mayor spoke. This page was machine translated. The road reopened.\n\nThe rain stopped.")
    assert [s.kind for s in middle.segments] == ["sentence", "boilerplate", "sentence", "sentence"]


def test_a_paragraph_that_cannot_hold_two_sentences_skips_the_sentence_splitter(monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.ingest import segments

    calls: list[str] = []
    real = segments._pysbd_segment

    def watching(text: str) -> list[str]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(segments, "_pysbd_segment", watching)
    one = 'The council approved the new budget for the river road on Monday, the mayor said."'
    assert [s.text for s in segment(one).scored_segments] == [one]
    assert calls == []  # no mark that could end a sentence before the last: one sentence, no pysbd
    two = "The council approved the budget. The mayor said work starts in May."
    assert [s.text for s in segment(two).scored_segments] == ["The council approved the budget.",
                                                              "The mayor said work starts in May."]
    assert calls == [two]


def test_clearly_english_prose_is_accepted_without_loading_the_language_models(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.ingest import language

    def no_detector() -> None:
        raise AssertionError("lingua is for texts that are not clearly English")

    monkeypatch.setattr(language, "_detector", no_detector)
    load_article(_write(tmp_path, "a.txt", "\n\n".join(NAMES_ARTICLE)), 100_000)
    # a mostly Indonesian text with English in it is not clearly English: lingua judges it
    indonesian = ("Menurut warga, banjir seperti ini sudah sering terjadi setiap musim hujan karena saluran air di "
                  "kawasan tersebut tersumbat sampah, kata mereka kepada wartawan pada hari Selasa pagi. ") * 3
    with pytest.raises(AssertionError, match="lingua"):
        load_article(_write(tmp_path, "b.txt", indonesian + "The head of the agency said that the water has gone."), 100_000)
