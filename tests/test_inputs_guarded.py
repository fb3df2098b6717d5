"""No command writes over a file it reads: articles, glossaries, calibrations, reviews, annotations.

Each case names an output that is one of the command's inputs (by name, through a symbolic link,
or as a hard link, a second name for the same inode): the command exits 2 with one line on
stderr, before any work, and the input is byte for byte as it was.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.config import load_settings
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.review.file import review_from_report, review_to_dict

from .conftest import ARTICLE
from .helpers import check_text

SHIPPED_CALIBRATION = Path(__file__).resolve().parents[1] / "src" / "mtqc" / "data" / "default-calibration.json"


@pytest.fixture(scope="module")
def review_json() -> str:
    checker = CheckerConfig(load_settings(env={}), engine="offline", calibrated=False).build()
    return json.dumps(review_to_dict(review_from_report(check_text(checker, ARTICLE, "a.txt"))))


@pytest.fixture
def inputs(tmp_path: Path, review_json: str) -> dict[str, Path]:
    """One of each kind of input, in tmp_path; a gold folder holds `a.txt` and its `a.gold.json`."""
    files = {
        "article": tmp_path / "a.txt",
        "glossary": tmp_path / "g.glossary",
        "calibration": tmp_path / "cal.json",
        "review": tmp_path / "a.review.json",
        "gold": tmp_path / "gold" / "a.gold.json",
        "gold_article": tmp_path / "gold" / "a.txt",
    }
    (tmp_path / "gold").mkdir()
    files["article"].write_text(ARTICLE, encoding="utf-8")
    files["glossary"].write_text("en: reporters\nwrong: media crew\n", encoding="utf-8")
    files["calibration"].write_bytes(SHIPPED_CALIBRATION.read_bytes())
    files["review"].write_text(review_json, encoding="utf-8")
    files["gold"].write_text(json.dumps({"article": "a.txt", "sentences": []}), encoding="utf-8")
    files["gold_article"].write_text(ARTICLE, encoding="utf-8")
    return files


def _hard_link(path: Path, at: Path) -> None:
    os.link(path, at)


def _sym_link(path: Path, at: Path) -> None:
    at.symlink_to(path)


# (command line, the input its output would replace); {out} is the output path, {out_dir} the
# folder eval writes OUT/<article stem>.json to, {name} an input's path
CASES: list[tuple[list[str], str]] = [
    (["check", "{article}", "--calibration", "{calibration}", "--json", "{out}"], "calibration"),
    (["check", "{article}", "--calibration", "{calibration}", "--html", "{out}"], "calibration"),
    (["check", "{article}", "--glossary", "{glossary}", "--json", "{out}"], "glossary"),
    (["check", "{article}", "--review", "{review}", "--json", "{out}"], "review"),
    (["eval", "{gold_dir}", "--glossary", "{glossary}", "--reports", "{out_dir}"], "glossary"),
    (["eval", "{gold_dir}", "--calibration", "{calibration}", "--reports", "{out_dir}"], "calibration"),
    (["calibrate", "{gold_dir}", "--glossary", "{glossary}", "--out", "{out}"], "glossary"),
    (["calibrate", "{gold_dir}", "--out", "{out}"], "gold"),
    (["calibrate", "{gold_dir}", "--out", "{out}"], "gold_article"),
    (["glossary", "learn", "{review}", "--out", "{out}"], "review"),
    (["review", "apply", "{review}", "--out", "{out}"], "review"),
]
LINKS: dict[str, Callable[[Path, Path], None] | None] = {"as named": None, "hard link": _hard_link,
                                                         "symbolic link": _sym_link}


@pytest.mark.parametrize("link", list(LINKS))
@pytest.mark.parametrize(("args", "target"), CASES, ids=[f"{a[0]} {a[-2]} over {t}" for a, t in CASES])
def test_no_command_writes_over_an_input(inputs: dict[str, Path], tmp_path: Path, args: list[str], target: str,
                                         link: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Checker, "check_file", lambda self, path: pytest.fail("checked before the guard"))
    make_link = LINKS[link]
    reports = tmp_path / "reports"
    reports.mkdir()
    # the output: the input itself, or a second name for it (a link); eval's is OUT/a.json, a.txt's report
    out = reports / "a.json" if "{out_dir}" in args else tmp_path / f"out-{inputs[target].name}"
    if make_link is not None:
        make_link(inputs[target], out)
    elif "{out_dir}" in args:
        inputs[target].rename(out)
        inputs[target] = out
    else:
        out = inputs[target]
    before = {name: path.read_bytes() for name, path in inputs.items()}
    names = {**{name: str(path) for name, path in inputs.items()},
             "gold_dir": str(inputs["gold"].parent), "out": str(out), "out_dir": str(reports)}
    command = [a.format(**names) for a in args]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, (command, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "never writes over its input" in lines[0], result.stderr
    assert {name: path.read_bytes() for name, path in inputs.items()} == before


def test_eval_never_writes_a_report_over_an_annotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Checker, "check_file", lambda self, path: pytest.fail("checked before the guard"))
    gold = tmp_path / "x.gold.json"  # the article x.gold.txt's report would be x.gold.json, in the same folder
    gold.write_text(json.dumps({"article": "x.gold.txt", "sentences": []}), encoding="utf-8")
    (tmp_path / "x.gold.txt").write_text(ARTICLE, encoding="utf-8")
    before = gold.read_bytes()
    result = CliRunner().invoke(main, ["eval", str(tmp_path), "--reports", str(tmp_path)])
    assert result.exit_code == 2 and "never writes over its input" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and gold.read_bytes() == before


def test_a_command_still_writes_where_no_input_is(inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(main, ["check", str(inputs["article"]), "--calibration", str(inputs["calibration"]),
                                       "--glossary", str(inputs["glossary"]), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "a.json").exists() and (out / "a.html").exists()
