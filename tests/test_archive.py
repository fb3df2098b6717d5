"""Archive-scale batches: trees and JSONL, reruns that skip unchanged articles, kills, worker processes, Ray."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtqc
from mtqc.batch.progress import BatchProgress, ProgressLog
from mtqc.batch.sources import JsonlSource, id_report_name
from mtqc.batch.summary import summary_chunks

from .helpers import run_cli as _run, numbered_article as _article


def _tree(root: Path, count: int) -> Path:
    """`count` articles spread over the folder, a subfolder and a sub-subfolder."""
    for i in range(count):
        folder = root / ("" if i % 3 == 0 else "region" if i % 3 == 1 else "region/town")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"story{i:02d}.txt").write_text(_article(i), encoding="utf-8")
    return root


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _comparable(out: Path) -> str:
    """summary.json without what differs between runs by design: timings and the fresh id of each report pair."""
    data = _summary(out)
    data.pop("run")
    for article in data["articles"]:
        article.pop("report_id")
    return json.dumps(data, indent=1)


def _pairs(out: Path) -> dict[str, str]:
    """Report ids of the whole report pairs under OUTDIR/articles, by JSON path."""
    found = {}
    for js in (out / "articles").rglob("*.json"):
        try:
            data = json.loads(js.read_text(encoding="utf-8"))
        except ValueError:
            continue
        html = js.with_suffix(".html")
        if html.exists() and f'content="{data["report_id"]}"' in html.read_text(encoding="utf-8"):
            found[str(js.relative_to(out))] = data["report_id"]
    return found


OFFLINE = ("--engine", "offline")


# ------------------------------------------------------------------ trees, parallel workers


@pytest.mark.slow  # starts and kills mtqc processes
def test_a_tree_with_two_workers_gives_the_summary_of_one(tmp_path: Path) -> None:
    src = _tree(tmp_path / "in", 9)
    (src / ".git").mkdir()
    (src / ".git" / "note.txt").write_text(_article(50), encoding="utf-8")  # hidden folders are not articles
    (src / "linked").symlink_to(src / "region", target_is_directory=True)
    code, stdout, _ = _run("batch", str(src), "--recursive", "--out", str(tmp_path / "one"), *OFFLINE)
    assert code == 0 and "checked 9 of 9 articles, 1 skipped" in stdout
    code, _, _ = _run("batch", str(src), "--recursive", "--jobs", "2", "--out", str(tmp_path / "two"), *OFFLINE)
    assert code == 0
    assert _comparable(tmp_path / "one") == _comparable(tmp_path / "two")
    summary = _summary(tmp_path / "two")
    assert summary["run"]["workers"] == 2 and summary["run"]["checked_now"] == 9
    assert [a["relative"] for a in summary["articles"]][:4] == ["region/story01.txt", "region/story04.txt",
                                                                "region/story07.txt", "region/town/story02.txt"]
    assert (tmp_path / "two" / "articles" / "region" / "town" / "story02.json").exists()  # the tree, mirrored
    assert "folder links" in summary["skipped_files"][0]["reason"]
    lines = (tmp_path / "two" / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == summary["articles"]  # compacted: the same records, in order


def test_outdir_inside_the_tree_is_never_read_as_articles(tmp_path: Path) -> None:
    src = _tree(tmp_path / "in", 4)
    for out in (src / "reports", src):
        for _ in range(2):
            code, stdout, _ = _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)
            assert code == 0 and "checked 4 of 4 articles" in stdout, stdout
    assert not (src / "articles_").exists()  # the reports folder of OUTDIR = DIR is not an input folder


# ------------------------------------------------------------------ incremental reruns


def test_a_rerun_checks_only_what_changed(tmp_path: Path) -> None:
    src, out = _tree(tmp_path / "in", 6), tmp_path / "out"
    assert _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)[0] == 0
    first = _pairs(out)
    assert len(first) == 6
    batch_files = {name: (out / name).read_bytes() for name in ("summary.json", "summary.jsonl", "index.html")}

    code, stdout, _ = _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)
    assert code == 0 and "6 unchanged since the last run" in stdout
    assert _pairs(out) == first  # no report rewritten
    # nor the batch files: they already say all there is (summary.json's `run` is the run that checked)
    assert {name: (out / name).read_bytes() for name in batch_files} == batch_files
    assert _summary(out)["run"]["checked_now"] == 6
    (out / "index.html").unlink()  # a batch file gone: the files are written again
    code, stdout, _ = _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)
    assert code == 0 and (out / "index.html").is_file() and _summary(out)["run"]["checked_now"] == 0

    (src / "region" / "story01.txt").write_text(_article(99), encoding="utf-8")
    assert _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)[0] == 0
    changed = {k for k, v in _pairs(out).items() if first[k] != v}
    assert changed == {"articles/region/story01.json"} and _summary(out)["run"]["checked_now"] == 1

    assert _run("batch", str(src), "-r", "--out", str(out), "--force", *OFFLINE)[0] == 0
    assert _summary(out)["run"]["checked_now"] == 6

    # another signature (a signal turned off) is another result: everything is checked again
    assert _run("batch", str(src), "-r", "--out", str(out), "--disable", "mechanics", *OFFLINE)[0] == 0
    assert _summary(out)["run"]["checked_now"] == 6


def test_a_report_pair_that_is_not_whole_is_checked_again(tmp_path: Path) -> None:
    src, out = _tree(tmp_path / "in", 3), tmp_path / "out"
    assert _run("batch", str(src), "--out", str(out), *OFFLINE)[0] == 0
    (out / "articles" / "story00.html").unlink()
    assert _run("batch", str(src), "--out", str(out), *OFFLINE)[0] == 0
    assert _summary(out)["run"]["checked_now"] == 1 and len(_pairs(out)) == 1


@pytest.mark.slow  # starts and kills mtqc processes
def test_a_killed_parallel_batch_rerun_checks_each_article_once(tmp_path: Path) -> None:
    count = 40
    src = _tree(tmp_path / "in", count)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(mtqc.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "mtqc.cli", "batch", str(src), "-r", "--jobs", "2", "--out", str(out),
                             *OFFLINE], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own process group: the kill takes the workers too
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if (out / "articles").is_dir() and sum(1 for _ in (out / "articles").rglob("*.html")) >= 4:
            break
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)  # driver and workers, like a machine going down
    proc.wait()
    done_before = _pairs(out)
    assert 0 < len(done_before) < count, "the kill came too late to test anything"

    code, stdout, _ = _run("batch", str(src), "-r", "--out", str(out), *OFFLINE)
    assert code == 0 and f"checked {count} of {count}" in stdout
    summary = _summary(out)
    assert summary["run"]["checked_now"] == count - len(done_before)  # none twice, none missing
    after = _pairs(out)
    assert len(after) == count and all(after[k] == v for k, v in done_before.items())
    lines = (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["relative"] for line in lines) == sorted(a["relative"] for a in summary["articles"])
    assert not [p for p in out.rglob(".*")]  # no temp file left

    assert _run("batch", str(src), "-r", "--out", str(tmp_path / "whole"), *OFFLINE)[0] == 0
    assert _comparable(out) == _comparable(tmp_path / "whole")  # as an uninterrupted run


# ------------------------------------------------------------------ JSON Lines


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_jsonl_bad_lines_are_recorded_and_the_rest_checked(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "export.jsonl", [
        json.dumps({"id": "2024/001", "text": _article(1), "section": "regional", "page": 4}),
        '{"id": "2024/002", "text": ',  # cut short
        "",
        json.dumps({"id": 3, "text": _article(3)}),
        json.dumps({"id": "2024/001", "text": _article(5)}),  # the same id again
        json.dumps({"id": "blank", "text": "   "}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": _article(6)}),
    ])
    out = tmp_path / "out"
    code, stdout, stderr = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 2 and "checked 2 of 7 articles" in stdout and "Traceback" not in stderr
    articles = _summary(out)["articles"]
    assert [a["line"] for a in articles] == [1, 2, 4, 5, 6, 7, 8]
    errors = {a["line"]: a["error"] for a in articles if a["error"]}
    assert "not JSON" in errors[2] and "duplicate id '2024/001' (first on line 1)" in errors[5]
    assert "text is empty" in errors[6] and "expected an object" in errors[7] and 'no "id"' in errors[8]
    assert all(a["error_kind"] == "input" for a in articles if a["error"])
    first = json.loads((out / articles[0]["json"]).read_text(encoding="utf-8"))
    assert first["metadata"]["section"] == "regional" and first["metadata"]["page"] == "4"
    assert first["source"] == f"{src}#2024/001" and articles[0]["id"] == "2024/001"
    assert (out / "articles" / "2024%2F001.json").exists() and articles[2]["id"] == "3"

    code, _, _ = _run("batch", str(src), "--out", str(out), *OFFLINE)  # reruns skip the checked lines too
    assert code == 2 and _summary(out)["run"]["checked_now"] == 0


def test_jsonl_input_is_never_written_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    src = _jsonl(out / "summary.jsonl", [json.dumps({"id": "a", "text": _article(1)})])
    before = src.read_bytes()
    code, _, stderr = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 2 and "never writes over its input" in stderr and src.read_bytes() == before
    assert _run("batch", str(src), "--recursive", "--out", str(tmp_path / "o2"), *OFFLINE)[0] == 2


_field = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.lists(st.integers(), max_size=2))
_record = st.dictionaries(st.sampled_from(["id", "text", "title", "x"]), _field, max_size=4)
_line = st.one_of(_record.map(json.dumps), st.text(max_size=30), st.binary(max_size=20).map(lambda b: b.decode("latin-1")))


@settings(max_examples=80, deadline=None)
@given(st.lists(_line, max_size=8))
def test_any_jsonl_line_becomes_one_unit_or_is_blank(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("j") / "x.jsonl"
    path.write_bytes(b"".join(line.replace("\n", " ").encode("utf-8", "surrogatepass") + b"\n" for line in lines))
    units = list(JsonlSource(path, max_bytes=200).units())
    expected = [i + 1 for i, line in enumerate(lines) if line.replace("\n", " ").encode("utf-8", "surrogatepass").strip()]
    assert [u.line for u in units] == expected
    for unit in units:
        assert (unit.error is None) == (unit.text is not None and unit.text.strip() != "")
        assert unit.error is None or str(path) in unit.error
        if unit.jsonl_id is not None:
            assert unit.key == f"id:{unit.jsonl_id}" and unit.relative == id_report_name(unit.jsonl_id)


@settings(max_examples=150, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=300), max_size=12))
def test_jsonl_ids_name_reports_one_to_one_and_inside_the_folder(ids: set[str]) -> None:
    names = {id_report_name(i) for i in ids}
    assert len(names) == len(ids)
    for name in names:
        assert len(name.parts) == 1 and not name.name.startswith(".") and len(name.name.encode()) <= 255
        assert name == PurePosixPath(name.name)


# ------------------------------------------------------------------ summary, progress, executors


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5))),
                max_size=3),
       st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=5)), max_size=3))
def test_the_streamed_summary_is_byte_for_byte_json_dumps(articles: list[dict], skipped: list[dict]) -> None:  # type: ignore[type-arg]
    head = {"signature": "s", "engine": "offline", "skipped": ["ñ"], "checked": 1, "run": {"a": [1]}}
    streamed = "".join(summary_chunks(head, iter(skipped), iter(articles)))
    whole = {**head, "skipped_files": skipped, "articles": articles}
    assert streamed == json.dumps(whole, ensure_ascii=False, indent=2) + "\n"


def test_progress_says_rate_eta_and_failures_and_logs_periodically() -> None:
    progress = BatchProgress(total=1000, done=300, checked_now=200, unchanged=100, failed=3, elapsed_s=100.0)
    assert progress.rate == 2.0 and progress.eta_s == 350.0
    assert progress.line() == ("300/1000 articles (30%), 2.0 articles/s, 3 failed, 100 unchanged, "
                               "elapsed 1m40s, ETA 5m50s")
    now = [0.0]
    lines: list[str] = []
    log = ProgressLog(lines.append, every_s=30, clock=lambda: now[0])
    for t in (1, 29, 31, 45, 62):
        now[0] = t
        log(progress)
    assert len(lines) == 2 and lines[0].startswith("mtqc: 300/1000 articles")


def test_executor_ray_without_ray_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    src = _tree(tmp_path / "in", 1)
    code, _, stderr = _run("batch", str(src), "--out", str(tmp_path / "out"), "--executor", "ray", *OFFLINE)
    assert code == 2 and "pip install -e '.[ray]'" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    code, _, stderr = _run("batch", str(src), "--out", str(tmp_path / "out"), "--ray-address", "x:1", *OFFLINE)
    assert code == 2 and "--executor ray" in stderr


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(
                 [str(Path(mtqc.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}})
    yield ray
    ray.shutdown()


def test_ray_gives_the_summary_of_one_local_process(tmp_path: Path, ray_instance: Any) -> None:
    src = _tree(tmp_path / "in", 7)
    assert _run("batch", str(src), "-r", "--out", str(tmp_path / "one"), *OFFLINE)[0] == 0
    code, stdout, stderr = _run("batch", str(src), "-r", "--out", str(tmp_path / "ray"), "--executor", "ray",
                                "--jobs", "2", *OFFLINE)
    assert code == 0, stderr
    assert _comparable(tmp_path / "one") == _comparable(tmp_path / "ray")
    run = _summary(tmp_path / "ray")["run"]
    assert run["executor"] == "ray" and run["workers"] == 2 and run["checked_now"] == 7
    assert ray_instance.is_initialized()  # an instance the caller started is left running
