"""Batch: links, own reports and inputs are never confused; faults (bugs, full disk, kill) never lose the batch."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mtqc
from mtqc.batch.archive import ArchiveBatch
from mtqc.batch.journal import Journal
from mtqc.batch.records import ArticleRecord
from mtqc.batch.sources import FolderSource
from mtqc.errors import UsageError
from mtqc.fs import HOST_TAG, TEMP_SUFFIX
from mtqc.pipeline import Checker
from mtqc.reports.naming import INDEX_NAME, JOURNAL_NAME, SUMMARY_NAME, report_base

from .conftest import ARTICLE
from .helpers import run_cli as _run


def _folder(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        text = ARTICLE.replace("12 villages", f"{i + 2} villages")
        if name.endswith(".html"):
            text = "<html><body><article>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")[1:]) + "</article></body></html>"
        (root / name).write_text(text, encoding="utf-8")
    return root


def _summary(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _report_id(html: Path) -> str:
    match = re.search(r'<meta name="mtqc-report-id" content="([0-9a-f]+)">', html.read_text(encoding="utf-8"))
    assert match, f"{html} carries no report id"
    return match[1]


def _assert_complete_pairs(out: Path) -> int:
    """Every report is whole and has its twin from the same write; returns how many pairs."""
    pairs = 0
    for path in out.rglob("*"):
        assert not path.name.endswith((TEMP_SUFFIX, ".tmp")), f"temp file left: {path}"
        if path.is_file():
            assert path.stat().st_size > 0, f"zero-byte file: {path}"
    for js in (out / "articles").rglob("*.json"):
        data = json.loads(js.read_text(encoding="utf-8"))
        assert data["report_id"] == _report_id(js.with_suffix(".html"))
        pairs += 1
    return pairs


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v for k, v in attrs if tag == "a" and k == "href" and v]


# ------------------------------------------------------------------ what is read


def test_links_out_of_the_folder_are_skipped_and_said(tmp_path: Path) -> None:
    src = _folder(tmp_path / "in", ["a.txt"])
    secret = _folder(tmp_path / "elsewhere", ["secret.txt"]) / "secret.txt"
    (src / "secret.txt").symlink_to(secret)
    (src / "again.txt").symlink_to(src / "a.txt")  # a link inside the folder is fine
    (src / "gone.txt").symlink_to(tmp_path / "missing.txt")
    os.mkfifo(src / "pipe.txt")  # reading it would hang the batch
    out = tmp_path / "out"
    code, stdout, stderr = _run("batch", str(src), "--out", str(out))
    assert code == 0 and "checked 2 of 2 articles, 3 skipped" in stdout
    summary = _summary(out)
    assert sorted(Path(a["path"]).name for a in summary["articles"]) == ["a.txt", "again.txt"]
    reasons = {Path(s["path"]).name: s["reason"] for s in summary["skipped_files"]}
    assert set(reasons) == {"secret.txt", "gone.txt", "pipe.txt"}
    assert "outside" in reasons["secret.txt"] and str(secret) in reasons["secret.txt"]
    assert "named pipe" in reasons["pipe.txt"] and "broken" in reasons["gone.txt"]
    assert "skipped:" in stderr and "secret.txt" in stderr and "outside" in stderr
    assert "secret.txt" in (out / "index.html").read_text(encoding="utf-8")  # the index says so too


def test_out_inside_or_equal_to_dir_never_touches_articles_or_rechecks_reports(tmp_path: Path) -> None:
    src = _folder(tmp_path / "in", ["page.html", "story.txt", "notes.md"])
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    for out in (src, src, src / "reports"):  # a rerun must not pick up the first run's reports
        code, stdout, _ = _run("batch", str(src), "--out", str(out))
        assert code == 0 and "checked 3 of 3 articles" in stdout
        assert sorted(Path(a["path"]).name for a in _summary(out)["articles"]) == ["notes.md", "page.html", "story.txt"]
    assert {p.name: p.read_bytes() for p in src.iterdir() if p.name in before} == before
    assert (src / "articles" / "page.html.html").exists() and (src / "articles" / "story.html").exists()


def test_reports_that_would_replace_an_article_are_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    src = _folder(out / "articles", ["x.txt", "x.html"])  # x.txt's HTML report would be out/articles/x.html
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    code, _, stderr = _run("batch", str(src), "--out", str(out))
    assert code == 2 and "never writes over its input" in stderr and "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before and not (out / "summary.json").exists()

    src2 = _folder(tmp_path / "site", ["index.html", "a.txt"])  # an article index.html, OUTDIR = DIR
    code, _, stderr = _run("batch", str(src2), "--out", str(src2))
    assert code == 2 and "index.html" in stderr and not (src2 / "summary.json").exists()


# ------------------------------------------------------------------ names


def test_batch_files_and_article_reports_never_collide_and_links_work(tmp_path: Path) -> None:
    names = ["summary.txt", "index.txt", "index.md", "a b#1.txt", "a b#1.md", "page.html"]
    src = _folder(tmp_path / "in", names)
    out = tmp_path / "out"
    code, _, _ = _run("batch", str(src), "--out", str(out))
    assert code == 0
    summary = _summary(out)
    assert summary["checked"] == len(names)
    by_name = {Path(a["path"]).name: a for a in summary["articles"]}
    assert by_name["summary.txt"]["json"] == "articles/summary.json"
    assert by_name["index.txt"]["html"] == "articles/index.html"
    sources = {json.loads((out / a["json"]).read_text(encoding="utf-8"))["source"] for a in summary["articles"]}
    assert sources == {str(src / n) for n in names}  # one report per article, none lost
    parser = _Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    # one link per article in the table; "recurring problems" links point into reports at a sentence (#s<n>)
    assert len([h for h in parser.hrefs if "#" not in h]) == len(names)
    for href in parser.hrefs:
        target = out / unquote(href.partition("#")[0])
        assert target.exists(), href
        assert _report_id(target) == json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))["report_id"]


_part = st.sampled_from(["a", "A", "x", "summary", "index", "articles", "Articles", "articles_", "a.json", "b.html",
                         "n.md", "x.txt", ""])
_suffix = st.sampled_from([".txt", ".md", ".html", ".htm", ".markdown", ".TXT", ".md.txt", ".txt.txt", ".html.txt"])


@st.composite
def _relpath(draw: st.DrawFn) -> PurePosixPath:
    folders = draw(st.lists(_part.filter(bool), max_size=2))
    stem = draw(_part)
    return PurePosixPath(*folders, stem + draw(_suffix))


@settings(max_examples=60, deadline=None)
@given(st.sets(_relpath(), min_size=1, max_size=12), st.booleans())
def test_report_names_are_unique_never_an_input_and_inside_outdir(
    tmp_path_factory: pytest.TempPathFactory, inputs: set[PurePosixPath], same: bool
) -> None:
    """The batch's own planner, on a real tree: OUTDIR elsewhere, or OUTDIR = DIR (`same`)."""
    input_folders = {parent for p in inputs for parent in p.parents if parent != PurePosixPath(".")}
    assume(not inputs & input_folders)  # on disk, a path is a file or a folder, not both
    src = tmp_path_factory.mktemp("plan") / "in"
    for rel in inputs:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("An article.\n", encoding="utf-8")
    out = src if same else src.parent / "out"
    try:
        with ArchiveBatch(FolderSource(src, recursive=True), out) as batch:
            plan = {u.relative: batch.report_paths(u.relative) for u in batch.plan.units() if u.relative}
    except UsageError as exc:  # the only refusal: an article that the batch's own index.html/summary.json would replace
        assert same and any(p.parts[0] in (SUMMARY_NAME, INDEX_NAME) for p in inputs), exc
        return
    assert set(plan) == inputs  # every article gets reports
    outputs = [PurePosixPath(p.relative_to(out).as_posix()) for pair in plan.values() for p in pair]
    outputs += [PurePosixPath(SUMMARY_NAME), PurePosixPath(INDEX_NAME), PurePosixPath(JOURNAL_NAME)]
    assert len(set(outputs)) == len(outputs)  # unique
    output_folders = {parent for p in outputs for parent in p.parents if parent != PurePosixPath(".")}
    for output in outputs:
        assert ".." not in output.parts  # inside OUTDIR
        assert output.suffix in (".json", ".html", ".jsonl")
        assert output not in output_folders  # no report is in the way of another's folder
        if same:  # OUTDIR is DIR: never an article, never in the way of an article's folder
            assert output not in inputs and output not in input_folders
    for json_path, _html_path in plan.values():
        # apart from summary.json / index.html, in a folder of the batch's own
        under = json_path.relative_to(out).parts[0]
        assert under.lower().startswith("articles") and PurePosixPath(under) not in input_folders


@settings(max_examples=100, deadline=None)
@given(st.sets(st.text(alphabet="atx.mdhl", min_size=1, max_size=9).filter(lambda s: s not in (".", "..")), max_size=20))
def test_report_base_is_one_to_one(names: set[str]) -> None:
    assert len({report_base(n) for n in names}) == len(names)


# ------------------------------------------------------------------ faults


def test_one_article_crashing_the_checker_is_recorded_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "in", ["a.txt", "boom.txt", "c.txt"])
    original = Checker.check_file

    def check_file(self: Checker, path: Path):  # type: ignore[no-untyped-def]
        if path.name == "boom.txt":
            raise ZeroDivisionError("a bug in one signal")
        return original(self, path)

    monkeypatch.setattr(Checker, "check_file", check_file)
    out = tmp_path / "out"
    code, stdout, stderr = _run("batch", str(src), "--out", str(out))
    assert code == 3 and "checked 2 of 3" in stdout
    assert "boom.txt: internal error: ZeroDivisionError" in stderr and "--debug" in stderr and "Traceback" not in stderr
    summary = _summary(out)
    boom = next(a for a in summary["articles"] if a["path"].endswith("boom.txt"))
    assert boom["error_kind"] == "internal" and boom["traceback"] is None
    assert (out / "index.html").exists() and _assert_complete_pairs(out) == 2

    code, _, stderr = _run("--debug", "batch", str(src), "--out", str(out))
    assert code == 3 and "Traceback" in stderr and "ZeroDivisionError: a bug in one signal" in stderr
    boom = next(a for a in _summary(out)["articles"] if a["path"].endswith("boom.txt"))
    assert "ZeroDivisionError" in boom["traceback"]


def test_a_report_that_cannot_be_written_is_recorded_per_article(tmp_path: Path) -> None:
    src = _folder(tmp_path / "in", ["a.txt", "b.txt"])
    out = tmp_path / "out"
    (out / "articles" / "b.json").mkdir(parents=True)  # in the way of b's JSON report
    code, _, stderr = _run("batch", str(src), "--out", str(out))
    assert code == 2 and "b.txt: report not written" in stderr
    b = next(a for a in _summary(out)["articles"] if a["path"].endswith("b.txt"))
    assert b["error_kind"] == "write" and b["score"] is not None and b["json"] is None
    assert not (out / "articles" / "b.html").exists()  # no half pair
    assert (out / "articles" / "a.json").exists() and (out / "index.html").exists()


def test_a_read_only_output_folder_fails_before_any_article_is_checked(
    tmp_path: Path, readonly_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "in", ["a.txt", "b.txt"])
    calls: list[Path] = []
    monkeypatch.setattr(Checker, "check_file", lambda self, path: calls.append(path))
    code, _, stderr = _run("batch", str(src), "--out", str(readonly_dir))
    assert code == 2 and "cannot write reports to" in stderr and "Traceback" not in stderr
    assert calls == []


def test_a_full_disk_loses_no_record_and_leaves_no_partial_report(tmp_path: Path, small_disk: Path) -> None:
    names = [f"n{i}.txt" for i in range(8)]
    src = _folder(tmp_path / "in", names)
    code, stdout, stderr = _run("batch", str(src), "--out", str(small_disk))
    assert code == 2 and "Traceback" not in stdout + stderr
    assert "No space left on device" in stderr
    pairs = _assert_complete_pairs(small_disk)
    failed = re.findall(r"failed: \S+/(n\d\.txt): report not written", stderr)
    assert 0 < pairs < len(names) and pairs + len(failed) == len(names)  # every article accounted for


@pytest.mark.slow  # starts and kills mtqc processes
def test_a_killed_batch_leaves_only_whole_reports_and_a_rerun_completes(tmp_path: Path) -> None:
    names = [f"n{i:02d}.txt" for i in range(16)]
    src = _folder(tmp_path / "in", names)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(mtqc.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "mtqc.cli", "batch", str(src), "--out", str(out), "--engine", "offline"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if (out / "articles").is_dir() and any((out / "articles").glob("*.json")):
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for path in out.rglob("*"):  # whole reports only, whatever the moment of the kill
        if path.is_file() and not path.name.startswith("."):
            assert path.stat().st_size > 0
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
    # what an unlucky kill leaves, made certain: zero-byte temps of a dead process and of an older version
    (out / "articles" / f".n00.json.{HOST_TAG}-{proc.pid}-0a1b2c{TEMP_SUFFIX}").touch()
    # a mkstemp-like ".tmp" of an older version is no longer mtqc's to remove (other programs use the
    # pattern too, see mtqc.fs): it stays, and is no report
    legacy = out / "articles" / ".n01.html.ab12cd34.tmp"
    legacy.write_text("x")
    (out / f".summary.json.{HOST_TAG}-{proc.pid}-0a1b2d{TEMP_SUFFIX}").touch()

    code, stdout, _ = _run("batch", str(src), "--out", str(out), "--engine", "offline")
    assert code == 0 and f"checked {len(names)} of {len(names)}" in stdout
    assert legacy.is_file()
    legacy.unlink()
    assert _assert_complete_pairs(out) == len(names)
    assert _summary(out)["checked"] == len(names)


def test_plan_batch_maps_files_to_reports_under_articles(tmp_path: Path) -> None:
    src = _folder(tmp_path / "in", ["a.txt", "a.md"])
    with ArchiveBatch(FolderSource(src, False), tmp_path / "out") as plan:
        assert plan.report_paths(PurePosixPath("a.txt")) == (tmp_path / "out/articles/a.json", tmp_path / "out/articles/a.html")
        assert plan.report_paths(PurePosixPath("a.md")) == (tmp_path / "out/articles/a.md.json", tmp_path / "out/articles/a.md.html")
        assert plan.summary_path == tmp_path / "out/summary.json" and plan.index_path == tmp_path / "out/index.html"


def test_the_journal_is_never_an_empty_file_whatever_the_moment_of_a_kill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A kill between creating summary.jsonl and writing its first line would leave an empty file; the
    # first line therefore arrives by rename, and the file is only ever opened once it has content.
    from mtqc.batch import journal as journal_module

    path = tmp_path / "summary.jsonl"
    sizes_when_opened: list[int] = []
    real_open = open

    def watching_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file) == path:
            sizes_when_opened.append(path.stat().st_size if path.exists() else -1)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(journal_module, "open", watching_open, raising=False)
    journal = Journal(path)
    journal.append(ArticleRecord("n1"))
    journal.append(ArticleRecord("n2"))
    assert journal.close() == []
    assert sizes_when_opened and min(sizes_when_opened) > 0
    assert [json.loads(line)["path"] for line in path.read_text().splitlines()] == ["n1", "n2"]


def test_the_journal_names_reports_only_after_syncing_them_in_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mtqc.batch import journal as journal_module

    path = tmp_path / "summary.jsonl"
    events: list[tuple[str, object]] = []

    def fake_sync(paths: object) -> None:
        listed = sorted(p.name for p in paths)  # type: ignore[attr-defined]
        on_disk = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
        events.append(("sync", (listed, on_disk)))

    monkeypatch.setattr(journal_module, "sync_files", fake_sync)
    journal = Journal(path, group_records=2, group_seconds=3600)
    journal.append(replace(ArticleRecord("n1"), json_rel="a/1.json", html_rel="a/1.html"))
    assert events == [] and not path.exists()  # kept back: its reports are not synced yet
    journal.append(ArticleRecord("n2"))  # a failure: no reports
    # the group is full: its reports are synced while the journal does not yet name them
    assert events == [("sync", (["1.html", "1.json"], 0))]
    assert path.read_text(encoding="utf-8").count("\n") == 2
    journal.append(replace(ArticleRecord("n3"), json_rel="3.json", html_rel="3.html"))
    assert journal.close() == []  # closing commits what is left, after syncing it
    assert events[-1] == ("sync", (["3.html", "3.json"], 2))
    assert path.read_text(encoding="utf-8").count("\n") == 3


def test_sync_files_syncs_each_file_system_once(tmp_path: Path) -> None:
    from mtqc.fs import sync_files, write_files

    write_files([(tmp_path / "a" / "x.json", "{}"), (tmp_path / "b" / "y.html", "<p>")], durable=False)
    sync_files([tmp_path / "a" / "x.json", tmp_path / "b" / "y.html"])  # no error, whatever the platform
    sync_files([])
    assert (tmp_path / "a" / "x.json").read_text() == "{}"
