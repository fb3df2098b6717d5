"""Inputs as they come from a CMS: invisible characters, pipes, odd review files, CRLF line ends."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtqc.cli import main
from mtqc.pipeline import Checker
from mtqc.results import ArticleReport
from mtqc.review.file import article_sha256

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _review_doc(source: str) -> dict[str, object]:
    texts = ["Police closed the road.", "It reopened on Monday."]
    return {
        "mtqc_review": 1, "source": source, "signature": "mtqc:test", "report_id": None,
        "article_sha256": article_sha256(texts),
        "sentences": [{"index": i, "text": t, "final": t, "paragraph": i, "kind": "sentence",
                       "text_before": "" if i == 0 else "\n"} for i, t in enumerate(texts)],
        "flags": [],
    }


# ----------------------------------------------------------------- a review file's source field


@PROPS
@given(st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Lu", "Ll", "Zs"]), max_size=10),
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=10), st.text(max_size=10)),
))
def test_review_apply_never_crashes_on_the_source_field(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.review.json"
        path.write_text(json.dumps(_review_doc(source)), encoding="utf-8")
        result = CliRunner().invoke(main, ["review", "apply", str(path)])
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
    if "\x00" in source:
        assert result.exit_code == 2
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "\x00" not in result.stderr
    else:
        assert result.stdout == "Police closed the road.\nIt reopened on Monday.\n"


def test_review_apply_refuses_a_nul_in_source_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a.review.json"
    path.write_text(json.dumps(_review_doc("flood\x00.txt")), encoding="utf-8")
    result = CliRunner().invoke(main, ["review", "apply", str(path)])
    assert result.exit_code == 2
    assert "source" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------- the size limit, while reading


def test_the_size_limit_holds_for_a_device_that_never_ends() -> None:

    from mtqc.errors import InputError
    from mtqc.ingest import read_text

    with pytest.raises(InputError, match="more than 1,000 bytes, over the limit") as info:
        read_text(Path("/dev/zero"), 1000)
    assert "\n" not in str(info.value)


def test_the_size_limit_holds_for_a_fifo(tmp_path: Path) -> None:
    import os
    import threading


    from mtqc.errors import InputError
    from mtqc.ingest import read_text

    fifo = tmp_path / "article.fifo"
    os.mkfifo(fifo)
    chunk = b"Police closed the road on Monday morning. " * 100

    def write() -> None:
        try:
            with open(fifo, "wb") as fh:
                for _ in range(50):
                    fh.write(chunk)
        except BrokenPipeError:  # the reader stopped at the limit: as it should
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(InputError, match="limit"):
        read_text(fifo, 10_000)
    writer.join(timeout=10)
    assert not writer.is_alive()


def test_the_size_limit_holds_for_a_pipe_to_the_cli(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    mtqc = Path(sys.executable).parent / "mtqc"
    env = {**os.environ, "MTQC_MAX_BYTES": "20000"}
    big = ("Police closed the road on Monday morning after the flood. " * 2000).encode()  # ~118 kB
    proc = subprocess.run([str(mtqc), "check", "/dev/stdin", "--engine", "offline", "--out", str(tmp_path)],
                          input=big, capture_output=True, env=env, timeout=120, cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "more than 20,000 bytes" in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())  # no report written


# ----------------------------------------------------------------- CRLF line ends come back


_CRLF_ARTICLE = (
    "# title: Road reopens after the flood\r\n"
    "\r\n"
    "Road reopens after the flood\r\n"
    "\r\n"
    "JAKARTA - Police reopened the coastal road on Tuesday after the water went down. Traffic was slow.\r\n"
    "Workers cleared mud from the bridge, and the mayor thanked the volunteers.\r\n"
    "\r\n"
    "\r\n"
    "The city will inspect the drains next week, officials said.\r\n"
)


@pytest.fixture(scope="module")
def offline_checker() -> Checker:
    from mtqc.config import load_settings
    from mtqc.pipeline import CheckerConfig

    return CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_an_unedited_article_comes_back_byte_for_byte(offline_checker: Checker, tmp_path: Path, newline: str) -> None:
    from mtqc.ingest import load_article
    from mtqc.review.file import review_from_report, review_to_dict

    raw = _CRLF_ARTICLE.replace("\r\n", newline).encode("utf-8")
    article_path = tmp_path / "road.txt"
    article_path.write_bytes(raw)
    article = load_article(article_path, 1_000_000)
    assert all(article.text[s.start:s.end] == s.text and "\r" not in s.text for s in article.segments)
    report = offline_checker.check_article(article)
    review = review_from_report(report)
    assert review.corrected_text().encode("utf-8") == raw
    path = tmp_path / "road.review.json"
    path.write_text(json.dumps(review_to_dict(review)), encoding="utf-8")
    result = CliRunner().invoke(main, ["review", "apply", str(path), "--out", str(tmp_path / "out.txt")])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out.txt").read_bytes() == raw


def test_a_lone_cr_is_a_line_end_and_crlf_is_kept() -> None:
    from mtqc.ingest import decode

    assert decode(b"One line.\rTwo lines.\r\n", "x") == "One line.\nTwo lines.\r\n"


# ----------------------------------------------------------------- invisible characters inside words


_INVISIBLES = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
_PLAIN_ARTICLE = (
    "Flood closes the coastal road\n\n"
    "Police closed the coastal road on Monday after heavy rain flooded several villages near the harbour.\n"
    "The mayor told the media crew that the the bridge would stay shut until engineers inspected it, "
    "said the Kapolda.\n"
    "Residents were moved to a school, and volunteers launched a kitchen for the families.\n"
)


def _inside_word_positions(text: str) -> list[int]:
    """Positions between two letters of one word (where a CMS puts a soft hyphen)."""
    return [i for i in range(1, len(text)) if text[i - 1].isalpha() and text[i].isalpha()]


def _with_invisibles(text: str, inserts: list[tuple[int, str]]) -> str:
    positions = _inside_word_positions(text)
    chosen = sorted({(positions[i % len(positions)], c) for i, c in inserts}, reverse=True)
    for pos, char in chosen:
        text = text[:pos] + char + text[pos:]
    return text


def _flag_types(report: ArticleReport) -> list[tuple[str, str]]:
    return sorted((f.type, f.signal) for s in report.sentences for f in s.flags)


def test_a_soft_hyphen_does_not_make_laun_an_indonesian_word(offline_checker: Checker) -> None:
    from mtqc.ingest import article_from_text

    text = _PLAIN_ARTICLE.replace("launched", "laun\u00adched")
    article = article_from_text(text, "soft.txt")
    assert article.word_count == article_from_text(_PLAIN_ARTICLE, "plain.txt").word_count
    report = offline_checker.check_article(article)
    flagged = [s.text[f.span[0]:f.span[1]] for s in report.sentences for f in s.flags if f.span]
    assert not any("laun" in t and "launched" not in t.replace("\u00ad", "") for t in flagged), flagged


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=10_000),
                          st.sampled_from(_INVISIBLES + ["\u00ad"] * 4)), min_size=1, max_size=12))
def test_invisibles_inside_words_change_no_flag_and_no_count(offline_checker: Checker,
                                                             inserts: list[tuple[int, str]]) -> None:
    from mtqc.ingest import article_from_text

    plain = article_from_text(_PLAIN_ARTICLE, "plain.txt")
    text = _with_invisibles(_PLAIN_ARTICLE, inserts)
    article = article_from_text(text, "soft.txt")
    assert article.word_count == plain.word_count
    assert all(article.text[s.start:s.end] == s.text for s in article.segments)
    report = offline_checker.check_article(article)
    expected = offline_checker.check_article(plain)
    assert _flag_types(report) == _flag_types(expected)
    for s in report.sentences:
        for f in s.flags:
            if f.span:
                assert 0 <= f.span[0] < f.span[1] <= len(s.text)


def test_glossary_and_consistency_spans_skip_invisibles_and_index_the_sentence_as_read() -> None:
    from mtqc.glossary import builtin_glossary
    from mtqc.ingest import segment
    from mtqc.signals.consistency.glossary_forms import GlossaryFormsSignal
    from mtqc.signals.terminology import TerminologySignal

    from .helpers import run_signal

    text = ("Police closed the road on Monday.\n\nThe media gathered at the gate before dawn.\n\n"
            "The media were told to wait outside.\n\n"
            "Speaking to the awak me\u00addia, the chief said the media crew could film.\n")
    sentence = segment(text).scored_segments[-1].text
    for signal in (GlossaryFormsSignal(), TerminologySignal()):
        flags = [f for fl in run_signal(signal, text, builtin_glossary()) for f in fl]
        assert flags, signal.name
        for f in flags:
            assert f.span is not None and f.span[1] <= len(sentence)
            assert sentence[f.span[0]:f.span[1]].replace("\u00ad", "") in ("awak media", "media crew")
    [forms] = [f for fl in run_signal(GlossaryFormsSignal(), text, builtin_glossary()) for f in fl]
    assert forms.span is not None
    assert sentence[forms.span[0]:forms.span[1]] == "awak me\u00addia" and forms.suggestion == "media"


def test_a_soft_hyphen_inside_a_doubled_word_keeps_the_mechanics_flag(offline_checker: Checker) -> None:
    from mtqc.ingest import article_from_text

    text = _PLAIN_ARTICLE.replace("the the bridge", "t\u00adhe the bridge")
    assert _flag_types(offline_checker.check_article(article_from_text(text, "soft.txt"))) == \
        _flag_types(offline_checker.check_article(article_from_text(_PLAIN_ARTICLE, "plain.txt")))
