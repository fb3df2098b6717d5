from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mtqc.fs import write_atomic
from mtqc.config import load_settings
from mtqc.errors import ReportError
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.reports import render_html, report_to_json

from .helpers import check_text

from .conftest import ARTICLE


@pytest.fixture(scope="module")
def checker() -> Checker:
    return CheckerConfig(load_settings(env={}), engine="offline").build()


def test_json_follows_the_contract(checker: Checker) -> None:
    data = json.loads(report_to_json(check_text(checker, ARTICLE, "flood.txt")))
    assert isinstance(data["mtqc_version"], str) and isinstance(data["signature"], str)
    assert data["source"] == "flood.txt" and data["engine"] == "offline"
    assert 0 <= data["score"] <= 100
    for s in data["sentences"]:
        assert set(s) >= {"index", "text", "start", "end", "scored", "backtranslation", "roundtrip", "signals", "flags"}
        assert ARTICLE[s["start"]:s["end"]] == s["text"]
        assert all(isinstance(v, (int, float)) for v in s["signals"].values())
        for f in s["flags"]:
            assert f["type"] in {"terminology", "mistranslation", "fluency", "untranslated", "consistency", "meaning", "other"}
            assert f["severity"] in {"minor", "major", "critical"}
            assert f["span"] is None or 0 <= f["span"][0] < f["span"][1] <= len(s["text"])
            assert isinstance(f["message"], str) and f["message"]


# The JSON report is a public contract: fields are added, never renamed or dropped. Every field
# a released report carried is listed here; a new field joins the list when it is added.
TOP_LEVEL_FIELDS = {"mtqc_version", "signature", "signature_fields", "source", "engine", "score", "score_method",
                    "word_count", "metadata", "skipped", "counts", "usage", "sentences", "suppressed"}
SENTENCE_FIELDS = {"index", "text", "start", "end", "scored", "kind", "backtranslation", "roundtrip", "signals",
                   "flags", "p_error", "p_major", "candidates", "paragraph", "text_before"}
FLAG_FIELDS = {"type", "severity", "span", "message", "suggestion", "signal", "probability", "pinned",
               "glossary_entry"}


def test_json_keeps_every_field_of_the_contract(checker: Checker) -> None:
    data = json.loads(report_to_json(check_text(checker, ARTICLE, "flood.txt")))
    assert set(data) >= TOP_LEVEL_FIELDS
    flags = [f for s in data["sentences"] for f in s["flags"] + s["candidates"]]
    assert data["sentences"] and flags
    assert all(set(s) >= SENTENCE_FIELDS for s in data["sentences"])
    assert all(set(f) >= FLAG_FIELDS for f in flags)
    # the sentences and the text before each rebuild the article as read
    assert "".join(s["text_before"] + s["text"] for s in data["sentences"]) == ARTICLE.rstrip()


def test_unscored_segments_are_never_flagged(checker: Checker) -> None:
    data = json.loads(report_to_json(check_text(checker, ARTICLE, "flood.txt")))
    unscored = [s for s in data["sentences"] if not s["scored"]]
    assert {s["kind"] for s in unscored} == {"dateline", "boilerplate"}
    assert all(not s["flags"] for s in unscored)


def test_report_finds_the_errors_written_into_the_fixture(checker: Checker) -> None:
    report = check_text(checker, ARTICLE, "flood.txt")
    spans = {(f.type, s.text[f.span[0]:f.span[1]]) for s in report.sentences for f in s.flags if f.span}
    assert ("untranslated", "Kedalaman") in spans
    assert ("fluency", "the the") in spans
    assert ("fluency", "quick and quick") in spans
    assert ("other", "22.15 WIB") in spans
    assert report.score < 100


def test_signature_names_version_engine_thresholds_and_glossary(checker: Checker) -> None:
    report = check_text(checker, ARTICLE, "flood.txt")
    sig = str(report.signature)
    assert sig.startswith("mtqc:") and "engine:offline" in sig and "fluency.flag_risk=" in sig
    assert "glossaries:news-id-en.glossary@" in sig and "weights:minor=1,major=5,critical=10" in sig
    assert report.skipped and "Back-translation skipped" in report.skipped[0]


def test_html_escapes_article_text_and_shows_flags(checker: Checker) -> None:
    hostile = "The minister said <script>alert('x')</script> the the plan <img src=x onerror=alert(1)> was ready."
    html = render_html(check_text(checker, hostile, "<b>evil</b>.txt"))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;evil&lt;/b&gt;.txt" in html
    assert '<mark class="minor"' in html and "Word doubled" in html
    assert "http://" not in html.replace("http-equiv", "") and "https://" not in html  # self-contained


def test_html_lists_the_worst_sentences_first_with_links(checker: Checker) -> None:
    report = check_text(checker, ARTICLE, "flood.txt")
    html = render_html(report)
    start = html.index("Start here")
    # each links to the sentence's worst flag (#f<sentence>-<flag>), which the page makes current
    links = [int(x) for x in __import__("re").findall(r'href="#f(\d+)-\d+"', html[start:html.index('id="only-flagged"')])]
    weights = {"minor": 1, "major": 5, "critical": 10}
    penalty = {s.index: sum(weights[f.severity] for f in s.flags) for s in report.sentences}
    assert links and [penalty[i] for i in links] == sorted((penalty[i] for i in links), reverse=True)
    assert max(penalty.values()) == penalty[links[0]]
    assert all(f'id="s{i}"' in html and f'id="f{i}-' in html for i in links)


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["r.json"]


def test_atomic_write_failure_is_a_report_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ReportError, match="cannot write"):
        write_atomic(blocker / "sub" / "r.json", "data")


def test_reports_are_written_when_the_template_cache_cannot_be(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2.bccache

    from mtqc.reports import html

    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path / "cache"))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(jinja2.bccache.tempfile, "NamedTemporaryFile", refuse)
    html._environment.cache_clear()
    try:
        assert html._environment().get_template("report.html.j2") is not None  # compiled, not cached: no error
    finally:
        html._environment.cache_clear()
