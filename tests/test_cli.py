from __future__ import annotations

from importlib import resources

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtqc.cli import main

from .conftest import ARTICLE
from .helpers import run_cli as _run


def test_check_writes_json_and_html_and_prints_a_summary(article_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, _ = _run("check", str(article_path), "--out", str(out))
    assert code == 0
    assert "score" in stdout and "Meaning checks off (offline engine)" in stdout
    data = json.loads((out / "flood.json").read_text(encoding="utf-8"))
    assert data["source"] == str(article_path)
    assert (out / "flood.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_explicit_report_paths(article_path: Path, tmp_path: Path) -> None:
    code, _, _ = _run("check", str(article_path), "--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html"), "-q")
    assert code == 0 and (tmp_path / "a.json").exists() and (tmp_path / "a.html").exists()


def test_fail_under_exits_1(article_path: Path, tmp_path: Path) -> None:
    assert _run("check", str(article_path), "--out", str(tmp_path), "-q", "--fail-under", "100")[0] == 1
    assert _run("check", str(article_path), "--out", str(tmp_path), "-q", "--fail-under", "1")[0] == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty file"), (b"\x00\x01\x02binary", "binary"), (b"\xff\xfe\xfa bad", "not valid UTF-8")],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    code, stdout, stderr = _run("check", str(path), "--out", str(tmp_path / "o"))
    assert code == 2
    assert fragment in stderr and "Traceback" not in stderr + stdout
    assert len(stderr.strip().splitlines()) == 1


def test_missing_path_directory_and_usage_errors_exit_2(tmp_path: Path, article_path: Path) -> None:
    assert _run("check", str(tmp_path / "nope.txt"))[0] == 2
    code, _, stderr = _run("check", str(tmp_path))
    assert code == 2 and "mtqc batch" in stderr
    code, _, stderr = _run("check", str(article_path), str(article_path), "--json", str(tmp_path / "x.json"))
    assert code == 2 and "--out" in stderr
    assert _run("check", str(article_path), "--engine", "nonsense")[0] == 2


def test_bad_glossary_is_a_clear_error(article_path: Path, tmp_path: Path) -> None:
    glossary = tmp_path / "bad.glossary"
    glossary.write_text("en: reporters\nbogus line\n", encoding="utf-8")
    code, _, stderr = _run("check", str(article_path), "--glossary", str(glossary), "--out", str(tmp_path))
    assert code == 2 and "bad.glossary:2" in stderr


def test_user_glossary_adds_flags(article_path: Path, tmp_path: Path) -> None:
    glossary = tmp_path / "mine.csv"
    glossary.write_text("en,wrong\nrescue budget,budget for evacuation\n", encoding="utf-8")
    code, _, _ = _run("check", str(article_path), "--glossary", str(glossary), "--json", str(tmp_path / "r.json"), "-q", "--html", str(tmp_path / "r.html"))
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    suggestions = [f["suggestion"] for s in data["sentences"] for f in s["flags"]]
    assert "rescue budget" in suggestions
    assert "mine.csv@" in data["signature"]


def test_batch_goes_on_past_broken_files_and_says_so(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text(ARTICLE, encoding="utf-8")
    paragraphs = "".join(f"<p>{line}</p>" for line in ARTICLE.splitlines()[3:8] if line)  # a page long enough to be an article
    (src / "page.html").write_text(f"<html><body><article>{paragraphs}</article></body></html>", encoding="utf-8")
    (src / "empty.md").write_text("", encoding="utf-8")
    (src / "latin.txt").write_bytes("Caf\u00e9 owners said the road was closed.".encode("latin-1"))
    (src / "ignored.pdf").write_bytes(b"%PDF")
    out = tmp_path / "out"
    code, stdout, stderr = _run("batch", str(src), "--out", str(out))
    assert code == 2
    assert "checked 2 of 4" in stdout and "2 of 4 articles could not be checked" in stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by_name = {Path(a["path"]).name: a for a in summary["articles"]}
    assert set(by_name) == {"good.txt", "page.html", "empty.md", "latin.txt"}
    assert by_name["good.txt"]["score"] is not None and by_name["empty.md"]["error"]
    reports = out / "articles"  # article reports apart from the batch's own files
    assert (reports / "good.json").exists() and (reports / "page.html.json").exists() and (out / "index.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="articles/good.html"' in index and "failed" in index


def test_batch_on_a_clean_folder_exits_0(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (src / "a.md").write_text(ARTICLE, encoding="utf-8")
    code, _, _ = _run("batch", str(src), "--out", str(tmp_path / "out"))
    assert code == 0
    out = tmp_path / "out"
    assert {p.relative_to(out).as_posix() for p in out.rglob("*.json")} == {"articles/a.json", "articles/a.md.json",
                                                                           "summary.json"}


def test_disable_turns_a_signal_off_and_the_signature_says_so(article_path: Path, tmp_path: Path) -> None:
    code, _, _ = _run("check", str(article_path), "--disable", "mechanics", "--disable", "fluency",
                      "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"), "-q")
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    shown = {f["signal"] for s in data["sentences"] for f in s["flags"]}
    assert {s for s in shown if not s.startswith("consistency.")} <= {"untranslated", "terminology", "calibration"}
    assert ("signals:untranslated,terminology,consistency.names,consistency.split_names,consistency.places,"
            "consistency.glossary_forms,consistency.currencies,consistency.entities,consistency.he_she,"
            "gendered_pronouns|") in data["signature"]
    assert _run("check", str(article_path), "--disable", "nonsense")[0] == 2
    # a family name turns off all its members
    code, _, _ = _run("check", str(article_path), "--disable", "consistency", "--json", str(tmp_path / "f.json"),
                      "--html", str(tmp_path / "f.html"), "-q")
    assert code == 0
    signature = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))["signature"]
    assert "consistency." not in signature.split("|signals:")[1].split("|")[0]


def test_fail_under_belongs_to_the_commands_that_score_articles(tmp_path: Path) -> None:
    # eval and calibrate measure or fit; a threshold they would ignore is refused, not accepted silently
    for command in ("eval", "calibrate"):
        result = CliRunner().invoke(main, [command, str(tmp_path), "--fail-under", "50"])
        assert result.exit_code == 2 and "--fail-under" in result.output


def test_batch_never_writes_over_its_calibration(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    (out / "articles").mkdir(parents=True)
    calibration = out / "articles" / "a.json"  # where the batch would write a.txt's report
    shipped = (resources.files("mtqc") / "data" / "default-calibration.json").read_text(encoding="utf-8")
    calibration.write_text(shipped, encoding="utf-8")  # a valid calibration: only the guard can refuse it
    code, _, err = _run("batch", str(src), "--out", str(out), "--calibration", str(calibration))
    assert code == 2 and "would replace" in err and calibration.read_text(encoding="utf-8") == shipped
