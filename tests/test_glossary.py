from __future__ import annotations

from pathlib import Path

import pytest

from mtqc.errors import GlossaryError
from mtqc.glossary import builtin_glossary, load_glossaries, load_glossary_file


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
