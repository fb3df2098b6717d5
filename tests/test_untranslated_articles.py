"""Articles the MT left partly in Indonesian are checked, their Indonesian sentences flagged; wholly
Indonesian (or wordless) text is still refused.

The texts are written for these tests: a short English news item about a flood, and Indonesian
paragraphs on the same story.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.errors import InputError
from mtqc.ingest import article_from_text
from mtqc.ingest.language import MIN_ENGLISH_SHARE, language_shares
from mtqc.signals.untranslated import UntranslatedSignal

from .helpers import run_signal

ENGLISH = [
    "JAKARTA - Heavy rain flooded dozens of homes in East Jakarta on Tuesday morning, forcing residents of two "
    "neighbourhoods to move to a nearby mosque, local officials said.",
    "The head of the district disaster agency, Budi Santoso, said the water had reached a depth of about 80 "
    "centimetres in the lowest streets before it began to recede in the afternoon. No casualties were reported.",
]
INDONESIAN = [
    "Menurut warga, banjir seperti ini sudah sering terjadi setiap musim hujan karena saluran air di kawasan "
    "tersebut tersumbat sampah. Mereka meminta pemerintah daerah segera memperbaiki saluran itu sebelum hujan "
    "deras kembali turun.",
    "Petugas gabungan dari kepolisian dan dinas sosial telah membagikan makanan, selimut dan air bersih kepada "
    "para pengungsi. Bantuan tambahan akan dikirim besok pagi.",
    "Sementara itu, sekolah-sekolah di wilayah tersebut diliburkan selama dua hari karena banyak ruang kelas yang "
    "masih tergenang air.",
]
# the MT translated the first two paragraphs and left the rest in Indonesian
MIXED = "\n\n".join(ENGLISH + INDONESIAN) + "\n"
INDONESIAN_SENTENCES = [s for p in INDONESIAN for s in re.split(r"(?<=\.) ", p)]
ENGLISH_SENTENCES = [ENGLISH[0].split(" - ", 1)[1], *re.split(r"(?<=\.) ", ENGLISH[1])]

WHOLLY_INDONESIAN = "\n\n".join([
    "BANDUNG - Hujan deras yang mengguyur Kabupaten Bandung sejak Senin sore menyebabkan puluhan rumah terendam "
    "banjir. Ketinggian air di beberapa titik mencapai satu meter.",
    "Kepala desa mengatakan bahwa warga yang rumahnya rusak berat akan mendapatkan bantuan perbaikan dari "
    "pemerintah kabupaten. Pendataan kerusakan masih dilakukan hingga akhir pekan ini.",
    *INDONESIAN,
]) + "\n"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_partly_untranslated_article_is_accepted() -> None:
    article = article_from_text(MIXED, "mixed.txt")
    share = language_shares(article).english
    assert MIN_ENGLISH_SHARE <= share < 0.6  # two of five paragraphs, the shorter ones
    assert {s.text for s in article.scored_segments} >= set(INDONESIAN_SENTENCES)


def test_each_indonesian_sentence_is_one_critical_pinned_untranslated_flag() -> None:
    article = article_from_text(MIXED, "mixed.txt")
    flags = run_signal(UntranslatedSignal(), MIXED)
    by_text = dict(zip((s.text for s in article.scored_segments), flags))
    for sentence in INDONESIAN_SENTENCES:
        assert [(f.type, f.severity, f.pinned, f.span) for f in by_text[sentence]] == [
            ("untranslated", "critical", True, (0, len(sentence)))], sentence
    for sentence in ENGLISH_SENTENCES:
        assert by_text[sentence] == [], sentence


def test_the_cli_checks_a_partly_untranslated_article_and_shows_every_indonesian_sentence(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_text(MIXED, encoding="utf-8")
    code, _, stderr = _cli("check", str(path), "--engine", "offline", "--json", str(tmp_path / "r.json"),
                           "--html", str(tmp_path / "r.html"), "-q")
    assert code == 0, stderr
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    flags = {s["text"]: s["flags"] for s in data["sentences"] if s["scored"]}
    for sentence in INDONESIAN_SENTENCES:
        # shown as the signal raised it, whatever the calibration predicts for the sentence
        # "Translate the sentence" is advice: never a replacement that accepting would paste in
        assert any(f["type"] == "untranslated" and f["severity"] == "critical" and f["pinned"]
                   and f["suggestion"] is None and f["advice"] == "Translate the sentence into English."
                   for f in flags[sentence]), sentence
    for sentence in ENGLISH_SENTENCES:
        assert not [f for f in flags[sentence] if f["type"] == "untranslated"], sentence
    assert data["counts"]["by_severity"]["critical"] >= len(INDONESIAN_SENTENCES)
    # nothing in the report says the article is not English
    notes = " ".join(data["skipped"])
    assert not re.search(r"not English|looks like|Indonesian source", notes)
    assert "Translate the sentence into English." in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_wholly_indonesian_article_is_still_refused() -> None:
    with pytest.raises(InputError, match="looks like (Indonesian|Malay), not English; .*not the Indonesian source"):
        article_from_text(WHOLLY_INDONESIAN, "source.txt")


def test_the_cli_refuses_a_wholly_indonesian_article_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "source.txt"
    path.write_text(WHOLLY_INDONESIAN, encoding="utf-8")
    code, stdout, stderr = _cli("check", str(path), "--engine", "offline", "--json", str(tmp_path / "r.json"),
                                "--html", str(tmp_path / "r.html"))
    assert code == 2 and "not English" in stderr and "Traceback" not in stdout + stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_an_indonesian_article_quoting_english_is_the_source_and_refused() -> None:
    # a quotation in English is English an Indonesian article holds itself, not a translation
    quote = ('"We will keep helping the families until they can go home. The embassy has already sent blankets, '
             'food and medicine to the shelters," kata duta besar itu kepada wartawan.')
    article_text = WHOLLY_INDONESIAN + "\n" + quote + "\n"
    with pytest.raises(InputError, match=r"looks like (Indonesian|Malay), not English \(only \d+% of it is English\)"):
        article_from_text(article_text, "source.txt")


@pytest.mark.parametrize("text", [
    "https://example.com/berita/2024/05/banjir-jakarta 12 345\nhttp://www.example.org/a?b=1 2024-05-01 555 1234\n",
    "12 345 6789 1011\n\n2024-05-01 08:30\n\n+62 21 555 1234\n",
    "redaksi@example.co.id https://example.com/x/y/z 2024\n",
])
def test_links_and_numbers_are_refused_without_naming_a_language(text: str) -> None:
    # lingua would call a list of links "Portuguese": addresses are no language's words
    with pytest.raises(InputError) as raised:
        article_from_text(text, "links.txt")
    message = str(raised.value)
    assert not re.search(r"looks like \w+", message) and "\n" not in message
