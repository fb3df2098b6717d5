"""The stored word tables give exactly what wordfreq and symspellpy's dictionaries give."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtqc.ingest import lexicon
from mtqc.ingest.lexicon import SortedTable

# Written for these tests: plain, capitalised, hyphenated, apostrophised, accented and unknown words.
WORDS = ["the", "House", "bupati", "kecamatan", "rumah", "flood", "well-known", "Jakarta's", "don't",
         "café", "qzxv", "Presiden", "ALSO", "a", "I", "menteri", "mengatakan", "ribbon", "x", "it's", "l'avenue",
         "Ni'am", "Ma'ruf", "face-to-face", "Solo-Semarang's", "qzxv-rumah", "sub-district", "rock'n'roll",
         "people\u2019s", "a--b", "Covid-19", "o'clock", "y'all", "head's", "We'll", "AK's", "It's", "Ma'ruf",
         "Sa'adi", "Ha'aretz", "x-it's", "Ni\u2019am"]


def test_a_table_reads_back_what_was_stored(tmp_path: Path) -> None:
    table = SortedTable.from_items([("b", 2.5), ("a", 1.0), ("c d", 3.25)], "d")
    table.dump(tmp_path / "t.bin")
    again = SortedTable.load(tmp_path / "t.bin")
    assert list(again.items()) == [("a", 1.0), ("b", 2.5), ("c d", 3.25)]
    assert again.get("b") == 2.5 and again.get("zz", -1.0) == -1.0 and again.get("") == 0
    (tmp_path / "t.bin").write_bytes((tmp_path / "t.bin").read_bytes()[:-3])
    with pytest.raises(ValueError):
        SortedTable.load(tmp_path / "t.bin")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_zipf_values_are_wordfreqs(lang: str) -> None:
    wordfreq = pytest.importorskip("wordfreq")
    sample = [w for w in wordfreq.get_frequency_dict(lang)][::997]
    for word in WORDS + sample + [w.capitalize() for w in sample]:
        assert lexicon._zipf(word, lang) == wordfreq.zipf_frequency(word, lang), word


def test_symspell_counts_are_the_dictionaries() -> None:
    from importlib import resources

    counts = lexicon.ngram_counts()
    lines = (resources.files("symspellpy") / "frequency_bigramdictionary_en_243_342.txt").read_text(encoding="utf-8").splitlines()
    for line in lines[::5003]:
        first, second, count = line.split()
        assert counts.bigram(first, second) == int(count)
    assert counts.bigram("qzxv", "the") == 0
    assert counts.unigrams.get("the", 0) > 10**9 and counts.total_unigrams > counts.unigrams.get("the", 0)


def test_the_tables_are_stored_once_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path))
    built: list[int] = []

    def build() -> list[tuple[str, int]]:
        built.append(1)
        return [("a", 1), ("b", 2)]

    first = lexicon._table("demo", "1.0", "q", build)
    second = lexicon._table("demo", "1.0", "q", build)
    assert built == [1] and list(first.items()) == list(second.items()) == [("a", 1), ("b", 2)]
    assert [p.name for p in (tmp_path / "lexicon").iterdir()] == ["demo-1.0-v2.bin"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.builds(lambda code, size, tail: code + b"%020d" % size + tail,
                                           st.sampled_from([b"d", b"q", b"x"]), st.integers(0, 120),
                                           st.binary(max_size=100)))
def test_any_damaged_table_file_is_refused_with_a_value_error(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("t") / "t.bin"
    path.write_bytes(data)
    try:
        table = SortedTable.load(path)
    except ValueError:
        return  # `_table` then builds the table again
    assert len(list(table.items())) == len(table)


def test_a_damaged_stored_table_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path))
    lexicon._table("demo", "1.0", "q", lambda: [("a", 1)])
    (tmp_path / "lexicon" / "demo-1.0-v2.bin").write_bytes(b"")
    assert list(lexicon._table("demo", "1.0", "q", lambda: [("a", 1)]).items()) == [("a", 1)]
