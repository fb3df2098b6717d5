"""The terminal summary and CLI messages print input as text: rich markup in it is never read."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from mtqc.cli import main
from mtqc.results import ArticleReport, Flag, SentenceResult, Signature
from mtqc.reports.terminal import print_summary

# Written for these tests: square brackets as news text uses them, and markup-like ones.
MARKUP = "The minister [sic] said the plan [/foo] was [bold red]ready[/bold red] :thumbs_up: for the media crew."
HOSTILE_NAME = "foo][bold]b.txt"  # in a folder named "a[", the path reads "a[/foo][bold]b.txt"


def _report(text: str, source: str, note: str) -> ArticleReport:
    flag = Flag("terminology", "minor", (text.index("[sic]"), text.index("[sic]") + 5), "[/x] message", "[/y]")
    sentence = SentenceResult(0, text, 0, len(text), True, flags=(flag,))
    signature = Signature("0", "offline", (), (), (), (), ())
    return ArticleReport("0", source, "offline", 90.0, signature, (sentence,), skipped=(note,), word_count=16)


def test_summary_prints_markup_in_input_as_text() -> None:
    console = Console(record=True, width=500, color_system=None)
    print_summary(_report(MARKUP, "[bold]x[/].txt", "models missing [cannot reach hub]"), console, verbose=True)
    out = console.export_text()
    assert MARKUP in out  # nothing vanished, nothing was styled, no emoji
    assert "[bold]x[/].txt" in out and "models missing [cannot reach hub]" in out
    assert "'[sic]' → [/y]" in out


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "400"})  # one line per message
    return result.exit_code, result.stdout, result.stderr


def test_check_prints_a_file_name_and_article_with_markup(tmp_path: Path) -> None:
    (tmp_path / "a[").mkdir()
    path = tmp_path / "a[" / HOSTILE_NAME
    path.write_text(MARKUP + "\n\nOfficials said the budget for the new bridge would rise next year.\n", encoding="utf-8")
    code, stdout, stderr = _run("check", str(path), "--out", str(tmp_path / "out"), "--engine", "offline")
    assert code == 0, stderr
    assert "a[/foo][bold]b.txt" in stdout and "[sic]" in stdout and "[bold red]ready[/bold red]" in stdout
    assert f"{HOSTILE_NAME[:-4]}.json" in stdout  # the report paths, too


def test_errors_naming_a_file_with_markup_are_one_plain_line(tmp_path: Path) -> None:
    code, stdout, stderr = _run("check", str(tmp_path / "[/missing].txt"), "--engine", "offline")
    assert code == 2
    assert "[/missing].txt" in stderr and "Traceback" not in stdout + stderr
    assert len(stderr.strip().splitlines()) == 1
    code, _, stderr = _run("glossary", "check", str(tmp_path / "[/gone].glossary"))
    assert code == 2 and "[/gone].glossary" in stderr


def test_batch_failures_naming_files_with_markup(tmp_path: Path) -> None:
    src = tmp_path / "in["
    src.mkdir()
    (src / "empty][bold].txt").write_text("", encoding="utf-8")
    code, _, stderr = _run("batch", str(src), "--out", str(tmp_path / "out"), "--engine", "offline")
    assert code == 2 and "in[/empty][bold].txt" in stderr and "Traceback" not in stderr


def test_weak_picks_of_one_kind_share_a_line_and_every_flag_keeps_its_probability() -> None:
    text = "The council the budget yesterday approve was after long debate with members many of town."
    words = ["council the", "yesterday approve", "was after", "debate with", "members many", "of town"]
    picks = tuple(Flag("fluency", "major", (text.index(w), text.index(w) + len(w)), "rare pair", None, "fluency",
                       probability=0.41) for w in words)
    term = Flag("terminology", "minor", (4, 11), "term", "city council", "terminology", probability=0.9)
    sentence = SentenceResult(0, text, 0, len(text), True, flags=(*picks, term), p_error=0.9, p_major=0.41)
    report = ArticleReport("0", "a.txt", "offline", 90.0, Signature("0", "offline", (), (), (), (), ()), (sentence,),
                           word_count=16, score_method="expected-penalty")
    console = Console(record=True, width=500, color_system=None)
    print_summary(report, console)
    printed = console.export_text()
    lines = [line for line in printed.splitlines() if "fluency" in line or "terminology" in line]
    fluency = [line for line in lines if "likely wrong meaning · fluency" in line]
    assert len(fluency) == 1  # six weak picks on one line, not six lines
    assert "(P(major) 0.41, P(error) 0.90)" in fluency[0] and "'council the'" in fluency[0] and "(+2 more)" in fluency[0]
    assert "'members many'" not in fluency[0]
    assert any("check wording · terminology (P(error) 0.90) 'council' → city council" in line for line in lines)
    assert "sentences: 1 likely wrong meaning (of 1)" in printed  # sentences counted, in words
