"""check/batch with neural engines and the LM, on tiny models, through the real loading path.

Random weights: these tests check what runs, what is written and what is cached, never quality.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.config import Settings
from mtqc.pipeline import CheckerConfig

from .helpers import check_text

from .conftest import ARTICLE, tiny_settings


_settings = tiny_settings


def test_check_with_marian_reports_backtranslations_and_neural_signals(models_dir: Path, article_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "check", str(article_path), "--engine", "marian", "--models-dir", str(models_dir), "--offline",
        "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"), "-q",
    ])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["engine"] == "marian" and data["skipped"] == []
    scored = [s for s in data["sentences"] if s["scored"]]
    assert scored and all(isinstance(s["backtranslation"], str) and isinstance(s["roundtrip"], str) for s in scored)
    assert all({"roundtrip.chrf", "roundtrip.bleu", "roundtrip.similarity", "likelihood.mean_logprob", "lm_fluency.slor"} <= set(s["signals"]) for s in scored)
    assert all("fluency.risk" not in s["signals"] for s in scored)  # the LM replaced the n-gram score
    sig = data["signature"]
    assert "engine:marian(beams=1)" in sig and "opus-mt-en-id@" in sig and "opus-mt-id-en@" in sig
    assert "distilgpt2@" in sig and "all-MiniLM-L6-v2" in sig and "roundtrip.min_similarity=" in sig
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("Back-translation (id)") == len(scored) and html.count("Round trip (en)") == len(scored)


def test_recheck_of_an_unchanged_article_does_no_model_work(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also issue 8, item 22: the pipeline runs every model once per article, batched (the LM
    included), and the signals (built with no arguments) only read the outputs."""
    from mtqc.engines.marian import MarianEngine
    from mtqc.neural.lm import CausalLM
    from mtqc.signals.lm_fluency import LMFluencySignal

    calls: list[int] = []
    lm_calls: list[int] = []
    real_translate, real_score, real_lm = MarianEngine._translate, MarianEngine._score, CausalLM._score

    def counting_translate(self, texts, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real_translate(self, texts, **kw)

    def counting_score(self, sources, targets, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(sources))
        return real_score(self, sources, targets, **kw)

    def counting_lm(self, texts):  # type: ignore[no-untyped-def]
        lm_calls.append(len(texts))
        return real_lm(self, texts)

    monkeypatch.setattr(MarianEngine, "_translate", counting_translate)
    monkeypatch.setattr(MarianEngine, "_score", counting_score)
    monkeypatch.setattr(CausalLM, "_score", counting_lm)
    settings = _settings(models_dir, tmp_path)
    checker = CheckerConfig(settings, engine="marian").build()
    assert checker.lm is not None and any(isinstance(s, LMFluencySignal) for s in checker.signals)
    first = check_text(checker, ARTICLE, "a.txt")
    n_scored = sum(1 for s in first.sentences if s.scored)
    assert len(calls) == 3  # en->id, id->en, forced decoding: one batch each
    assert lm_calls == [n_scored]  # the LM: one batch of every scored sentence
    assert all("lm_fluency.slor" in s.signals and "likelihood.mean_logprob" in s.signals for s in first.sentences if s.scored)
    assert str(first.signature).count("distilgpt2@") == 1
    calls.clear()
    lm_calls.clear()
    second = check_text(CheckerConfig(settings, engine="marian").build(), ARTICLE, "a.txt")
    assert calls == [] and lm_calls == []
    assert [s.roundtrip for s in first.sentences] == [s.roundtrip for s in second.sentences]
    calls.clear()
    check_text(CheckerConfig(Settings(**{**settings.__dict__, "use_cache": False}), engine="marian").build(), ARTICLE, "a.txt")
    assert len(calls) == 3


def test_auto_prefers_ct2_when_models_are_present(models_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    checker = CheckerConfig(_settings(models_dir, tmp_path), engine="auto").build()
    assert checker.engine_choice.engine.name == "ct2"
    report = check_text(checker, ARTICLE, "a.txt")
    assert all(s.backtranslation is not None for s in report.sentences if s.scored)


def test_auto_without_models_runs_offline_and_says_how_to_enable(tmp_path: Path, article_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "check", str(article_path), "--models-dir", str(tmp_path / "empty"), "--offline", "--out", str(tmp_path / "o"),
    ])
    assert result.exit_code == 0
    # one line says what is off and the one command that turns it on; --verbose gives every note
    note = next(line for line in result.stdout.splitlines() if "note:" in line)
    assert "Meaning checks off" in note and "Back-translation skipped" not in result.stdout
    assert "mtqc models pull opus-mt-en-id opus-mt-id-en distilgpt2" in " ".join(result.stdout.split())
    verbose = CliRunner().invoke(main, [
        "check", str(article_path), "--models-dir", str(tmp_path / "empty"), "--offline", "--out", str(tmp_path / "o"), "-v",
    ])
    assert "Back-translation skipped" in verbose.stdout and "Neural fluency skipped" in verbose.stdout
    data = json.loads((tmp_path / "o" / "flood.json").read_text(encoding="utf-8"))
    assert data["engine"] == "offline" and any("Neural fluency skipped" in n for n in data["skipped"])


def test_batch_with_marian(models_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "one.txt").write_text(ARTICLE, encoding="utf-8")
    (src / "two.md").write_text(ARTICLE.replace("Monday", "Tuesday"), encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(src), "--out", str(tmp_path / "out"), "--engine", "marian",
                                       "--models-dir", str(models_dir), "--offline"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["engine"] == "marian" and summary["checked"] == 2 and summary["failed"] == 0


def test_corrupt_model_is_a_one_line_error(models_dir: Path, article_path: Path, tmp_path: Path) -> None:
    (models_dir / "opus-mt-id-en" / "config.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(article_path), "--engine", "marian", "--models-dir", str(models_dir),
                                       "--offline", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "opus-mt-id-en" in result.stderr and "Traceback" not in result.output

