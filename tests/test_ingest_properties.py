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
from mtqc.ingest.language import language_shares

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
@example("0\x1f0. A")  # pysbd fails on a whitespace control inside a number
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
@example(b"The road.\r\nIt was closed.\rAgain.")
def test_decoding_any_bytes_gives_text_or_an_input_error(data: bytes) -> None:
    try:
        text = decode(data, "x.txt")
    except InputError:
        return
    assert text.strip()
    # CRLF stays as read (the corrected text gives it back); a lone CR is a line end
    assert "\x00" not in text and "\r" not in text.replace("\r\n", "")


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


# ---------------------------------------------------------------------------- the language decision
# Written for these tests: English news paragraphs, and Indonesian ones on the same flood story.
_ENGLISH_PARAGRAPHS = [
    "Heavy rain flooded dozens of homes in East Jakarta on Tuesday morning, forcing residents of two "
    "neighbourhoods to move to a nearby mosque, local officials said.",
    "The head of the district disaster agency, Budi Santoso, said the water had reached a depth of about 80 "
    "centimetres in the lowest streets before it began to recede in the afternoon. No casualties were reported.",
    "The city government said it would send pumps and trucks to clear mud from the streets once the water had "
    "gone down, and asked residents to boil their drinking water for the rest of the week.",
    "Forecasters expect more rain in the capital and the cities around it until the end of the month, and schools "
    "have been told to prepare for further closures.",
]
_INDONESIAN_PARAGRAPHS = [
    "Menurut warga, banjir seperti ini sudah sering terjadi setiap musim hujan karena saluran air di kawasan "
    "tersebut tersumbat sampah.",
    "Petugas gabungan dari kepolisian dan dinas sosial telah membagikan makanan, selimut dan air bersih kepada "
    "para pengungsi. Bantuan tambahan akan dikirim besok pagi.",
    "Kepala desa mengatakan bahwa warga yang rumahnya rusak berat akan mendapatkan bantuan perbaikan dari "
    "pemerintah kabupaten.",
]
# a small Indonesian vocabulary, put together as subject, verb, object, time
_ID_SUBJECTS = ["warga", "petugas", "pemerintah daerah", "polisi", "para siswa", "kepala desa", "relawan"]
_ID_VERBS = ["membersihkan", "memperbaiki", "mengunjungi", "membangun", "menutup", "memeriksa", "membuka"]
_ID_OBJECTS = ["jalan desa", "rumah mereka", "sekolah itu", "pasar baru", "jembatan kecil", "saluran air",
               "kantor kecamatan"]
_ID_TIMES = ["pada hari Senin", "kemarin sore", "sejak pagi", "setelah banjir surut", "minggu lalu",
             "karena hujan deras", "bersama warga sekitar"]
_indonesian_sentences = st.builds(
    lambda s, v, o, t: f"{s[0].upper()}{s[1:]} {v} {o} {t}.",
    st.sampled_from(_ID_SUBJECTS), st.sampled_from(_ID_VERBS), st.sampled_from(_ID_OBJECTS), st.sampled_from(_ID_TIMES),
)
_indonesian_paragraphs = st.lists(_indonesian_sentences, min_size=1, max_size=4).map(" ".join)
LANGUAGE_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LANGUAGE_SETTINGS
@given(st.lists(st.sampled_from(_ENGLISH_PARAGRAPHS), min_size=1, max_size=3),
       st.lists(st.one_of(st.sampled_from(_INDONESIAN_PARAGRAPHS), _indonesian_paragraphs), max_size=4),
       st.lists(st.sampled_from(_ENGLISH_PARAGRAPHS), min_size=1, max_size=3))
def test_more_english_paragraphs_keep_an_accepted_article_accepted(english: list[str], indonesian: list[str],
                                                                   more: list[str]) -> None:
    try:
        article = article_from_text("\n\n".join(english + indonesian), "a.txt")
    except InputError:
        return  # too little English to begin with: the property is about accepted articles
    longer = article_from_text("\n\n".join(english + indonesian + more), "a.txt")  # raises if refused
    assert language_shares(longer).english >= language_shares(article).english


@LANGUAGE_SETTINGS
@given(st.lists(_indonesian_paragraphs, min_size=1, max_size=4))
@example(["Warga membersihkan jalan desa kemarin sore."])
def test_an_article_of_only_indonesian_sentences_is_refused(paragraphs: list[str]) -> None:
    with pytest.raises(InputError, match="English"):
        article_from_text("\n\n".join(paragraphs), "a.txt")
