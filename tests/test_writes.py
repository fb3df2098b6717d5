"""Writing reports: regular files only, never over an input, as a pair, readable, no stale temps; cache clear."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from mtqc.fs import HOST_TAG, TEMP_SUFFIX, clean_stale_temps, write_atomic, write_files
from mtqc.neural.cache import Cache, clear_cache
from mtqc.errors import CacheError, ReportError
from mtqc.pipeline import Checker, CheckerConfig
from mtqc.reports import write_reports

from .helpers import run_cli as _run, check_text

from .conftest import ARTICLE
from .faults import IS_ROOT, make_readonly, mount_tmpfs, unmount


def _report_id(html: str) -> str:
    match = re.search(r'<meta name="mtqc-report-id" content="([0-9a-f]+)">', html)
    assert match, "the HTML report carries no report id"
    return match[1]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------ modes, links, file types


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_reports_get_the_umask_mode_not_0600(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "new.json", "{}")
        (tmp_path / "old.json").write_text("x", encoding="utf-8")
        (tmp_path / "old.json").chmod(0o600)  # as older versions left them: replaced with the normal mode
        write_atomic(tmp_path / "old.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "old.json").stat().st_mode) == mode


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "new"


def test_a_dangling_link_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "missing" / "target.json")
    with pytest.raises(ReportError, match="symbolic link to a missing file"):
        write_atomic(link, "new")
    assert link.is_symlink() and not (tmp_path / "missing").exists()


def test_a_pipe_a_folder_and_a_device_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    targets = [(fifo, "named pipe"), (folder, "directory")]
    if IS_ROOT:  # a private /dev/null-like node, never the real one
        device = tmp_path / "null.json"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        targets.append((device, "character device"))
    for path, kind in targets:
        mode = path.lstat().st_mode
        with pytest.raises(ReportError, match=f"is an? {kind}, not a regular file.*'-'"):
            write_atomic(path, "report")
        assert path.lstat().st_mode == mode
    link = tmp_path / "to-pipe.json"
    link.symlink_to(fifo)
    with pytest.raises(ReportError, match="named pipe"):
        write_atomic(link, "report")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)] == []


def test_cli_refuses_a_device_and_streams_dash_to_stdout(article_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    code, _, stderr = _run("check", str(article_path), "--json", str(fifo), "--html", str(tmp_path / "r.html"), "-q")
    assert code == 2 and "not a regular file" in stderr and "Traceback" not in stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)

    code, stdout, stderr = _run("check", str(article_path), "--json", "-", "--html", str(tmp_path / "r.html"))
    assert code == 0
    data = json.loads(stdout)  # the summary went to stderr: stdout is the report alone
    assert data["source"] == str(article_path) and "score" in stderr
    assert not Path("-").exists() and data["report_id"] == _report_id((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert _run("check", str(article_path), "--json", "-", "--html", "-")[0] == 2


# ------------------------------------------------------------------ pairs and temps


def test_json_and_html_are_written_as_a_pair(tmp_path: Path) -> None:
    report = check_text(CheckerConfig(_offline_settings(tmp_path), engine="offline").build(), ARTICLE, "flood.txt")
    written = write_reports(report, tmp_path / "r.json", tmp_path / "r.html")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["report_id"] == written.report_id == _report_id((tmp_path / "r.html").read_text(encoding="utf-8"))
    again = write_reports(report, tmp_path / "r.json", tmp_path / "r.html")
    assert again.report_id != written.report_id  # each write is its own pair

    # the HTML cannot be written: the JSON is not replaced either, and no temp file stays
    (tmp_path / "blocked.html").mkdir()
    (tmp_path / "blocked.json").write_text("previous", encoding="utf-8")
    with pytest.raises(ReportError):
        write_reports(report, tmp_path / "blocked.json", tmp_path / "blocked.html")
    assert (tmp_path / "blocked.json").read_text(encoding="utf-8") == "previous"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_write_files_renames_only_after_every_temp_is_written(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a", encoding="utf-8")
    (tmp_path / "file").write_text("x", encoding="utf-8")  # in the way of b.txt's folder
    with pytest.raises(ReportError, match="cannot write"):
        write_files([(tmp_path / "a.txt", "new a"), (tmp_path / "file" / "b.txt", "new b")])
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "file"]


def test_stale_temps_of_dead_runs_are_removed_live_ones_and_user_files_kept(tmp_path: Path) -> None:
    dead = tmp_path / f".a.json.{HOST_TAG}-{_dead_pid()}-0a1b2c{TEMP_SUFFIX}"
    legacy = tmp_path / ".b.html.k3j_x9q2.tmp"  # mkstemp's pattern: other programs' too, never ours to remove
    live = tmp_path / f".c.json.{HOST_TAG}-{os.getpid()}-0a1b2c{TEMP_SUFFIX}"
    other_host = tmp_path / f".d.json.otherhost-{_dead_pid()}-0a1b2c{TEMP_SUFFIX}"
    mine = tmp_path / ".notes.tmp"
    for path in (dead, legacy, live, other_host, mine):
        path.touch()
    (tmp_path / "sub").mkdir()
    nested = tmp_path / "sub" / dead.name
    nested.touch()
    assert set(clean_stale_temps(tmp_path)) == {dead}
    assert live.exists() and other_host.exists() and mine.exists() and nested.exists() and legacy.exists()
    old = os.stat(other_host).st_mtime - 2 * 3600
    os.utime(other_host, (old, old))  # another host's temp is judged by its age
    assert set(clean_stale_temps(tmp_path, recursive=True)) == {other_host, nested}


def test_a_live_writer_keeps_its_temp_however_old_a_reused_pid_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import mtqc.fs as fs

    work = tmp_path / f".work.sqlite3.{HOST_TAG}-{os.getpid()}-0a1b2c{TEMP_SUFFIX}"  # a long batch's index
    work.touch()
    later = fs.time.time() + 3 * fs.STALE_AFTER_S
    monkeypatch.setattr(fs, "time", types.SimpleNamespace(time=lambda: later))
    assert clean_stale_temps(tmp_path) == [] and work.exists()
    started = fs._started_at(os.getpid())
    if started is None:
        pytest.skip("no /proc: a live pid's temp is judged by age")
    before = started - 60  # written before this process started: its writer was another, with this pid
    os.utime(work, (before, before))
    assert clean_stale_temps(tmp_path) == [work]


def test_a_check_removes_only_its_own_dead_temps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out, scratch = tmp_path / "reports", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    foreign = [folder / ".x.json.abcdefgh.tmp" for folder in (out, scratch)]  # another program's mkstemp files
    old = os.stat(article).st_mtime - 2 * 3600
    for path in foreign:
        path.write_text("someone else's", encoding="utf-8")
        os.utime(path, (old, old))  # however old: not ours
    live = out / f".a.json.{HOST_TAG}-{os.getpid()}-0a1b2c{TEMP_SUFFIX}"  # a run writing now
    dead = out / f".b.json.{HOST_TAG}-{_dead_pid()}-0a1b2c{TEMP_SUFFIX}"
    live.touch()
    dead.touch()
    code, _, _ = _run("check", str(article), "--out", str(out), "-q")
    assert code == 0 and (out / "a.json").exists()
    assert all(p.read_text(encoding="utf-8") == "someone else's" for p in foreign)
    assert live.exists() and not dead.exists()


# ------------------------------------------------------------------ never over an input


def test_check_never_writes_over_its_input(tmp_path: Path) -> None:
    article = tmp_path / "g.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    page = tmp_path / "g.html"
    page.write_text(f"<html><body><p>{ARTICLE.splitlines()[3]}</p></body></html>", encoding="utf-8")
    glossary = tmp_path / "mine.glossary"
    glossary.write_text("en: reporters\nwrong: media crew\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (article, page, glossary)}
    link = tmp_path / "link.json"
    link.symlink_to(article)
    cases = [
        ("check", str(article), "--json", str(article)),
        ("check", str(article), "--json", str(tmp_path / "x.json"), "--html", str(article)),
        ("check", str(article), "--json", str(link)),  # through a link
        ("check", str(article), str(page), "--out", str(tmp_path)),  # g.txt's HTML report would be g.html
        ("check", str(article), "--glossary", str(glossary), "--json", str(glossary)),
    ]
    for args in cases:
        code, _, stderr = _run(*args)
        assert code == 2, args
        assert "never writes over its input" in stderr and len(stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in before} == before
    code, _, stderr = _run("check", str(article), "--json", str(tmp_path / "r"), "--html", str(tmp_path / "r"))
    assert code == 2 and "two reports" in stderr


def test_check_keeps_same_names_from_different_folders_apart(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(ARTICLE.replace("Monday", f"Monday in {folder}"), encoding="utf-8")
    out = tmp_path / "reports"
    code, _, _ = _run("check", str(tmp_path / "a" / "x.txt"), str(tmp_path / "b" / "x.txt"), "--out", str(out), "-q")
    assert code == 0
    sources = {json.loads((out / f / "x.json").read_text(encoding="utf-8"))["source"] for f in ("a", "b")}
    assert sources == {str(tmp_path / "a" / "x.txt"), str(tmp_path / "b" / "x.txt")}
    code, _, _ = _run("check", str(tmp_path / "a" / "x.txt"), "--out", str(out / "one"), "-q")
    assert code == 0 and (out / "one" / "x.json").exists() and (out / "one" / "x.html").exists()


def test_check_fails_before_checking_when_the_output_folder_is_read_only(
    article_path: Path, readonly_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(Checker, "check_file", lambda self, path: calls.append(path))
    code, _, stderr = _run("check", str(article_path), "--out", str(readonly_dir / "reports"))
    assert code == 2 and "cannot write reports" in stderr and len(stderr.strip().splitlines()) == 1
    assert calls == []


# ------------------------------------------------------------------ cache clear


def _filled_cache(path: Path) -> None:
    store = Cache(path)
    store.put_many([("k1", "v1"), ("k2", "v2")])
    store.close()


def test_cache_clear_empties_a_healthy_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path))
    _filled_cache(tmp_path / "cache.sqlite3")
    code, stdout, _ = _run("cache", "clear")
    assert code == 0 and "2 entries" in stdout
    assert len(Cache(tmp_path / "cache.sqlite3")) == 0


def test_cache_clear_really_clears_a_corrupt_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTQC_CACHE_DIR", str(tmp_path))
    (tmp_path / "cache.sqlite3").write_bytes(b"this is not an SQLite database, just damaged bytes " * 40)
    code, stdout, stderr = _run("cache", "clear")
    assert code == 0 and "damaged" in stdout and stderr == ""
    store = Cache(tmp_path / "cache.sqlite3")  # a fresh, working cache again
    assert store.enabled and len(store) == 0


def test_cache_clear_on_a_readonly_cache_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    if IS_ROOT:
        mount_tmpfs(folder, "size=1m")
    else:
        folder.mkdir()
    try:
        _filled_cache(folder / "cache.sqlite3")
        make_readonly(folder)
        monkeypatch.setenv("MTQC_CACHE_DIR", str(folder))
        code, stdout, stderr = _run("cache", "clear")
        assert code == 2 and "cleared" not in stdout
        assert "cannot clear the cache" in stderr and len(stderr.strip().splitlines()) == 1
        with pytest.raises(CacheError):
            clear_cache(folder / "cache.sqlite3")
        with closing(sqlite3.connect(f"file:{folder / 'cache.sqlite3'}?mode=ro&immutable=1", uri=True)) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        assert rows == 2  # nothing was cleared, and it said so
    finally:
        if IS_ROOT:
            unmount(folder)
        else:
            folder.chmod(0o755)


def _offline_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from mtqc.config import Settings

    return Settings(cache_dir=tmp_path / "cache", use_cache=False)
