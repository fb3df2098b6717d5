"""Batch faults never cost a result, a secret or a file: a passing engine failure, a killed driver, a damaged
summary.jsonl, two batches into one folder, JSONL ids that differ only in case."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mtqc.batch.plan import pair_id
from mtqc.batch.records import check_record_json
from mtqc.batch.sources import id_report_name
from mtqc.errors import TransientEngineError
from mtqc.pipeline import Checker

from .helpers import run_cli as _run, numbered_article as _article

OFFLINE = ("--engine", "offline")


def _folder(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"story{i:02d}.txt").write_text(_article(i), encoding="utf-8")
    return root


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _by_relative(out: Path) -> dict[str, dict[str, Any]]:
    return {a["relative"]: a for a in _summary(out)["articles"]}


# ------------------------------------------------------------------ 1. a transient engine failure


def test_a_transient_engine_failure_is_recorded_as_engine_and_retried_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = _folder(tmp_path / "in", 3), tmp_path / "out"
    original = Checker.check_file
    failing = {"story01.txt"}

    def check_file(self: Checker, path: Path):  # type: ignore[no-untyped-def]
        if path.name in failing:
            raise TransientEngineError("the LLM server answered HTTP 503")
        return original(self, path)

    monkeypatch.setattr(Checker, "check_file", check_file)
    code, stdout, stderr = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 2 and "checked 2 of 3" in stdout
    assert f"failed: {src / 'story01.txt'}: " in stderr and "HTTP 503" in stderr  # names the article
    record = _by_relative(out)["story01.txt"]
    assert record["error_kind"] == "engine" and record["json"] is None
    line = next(json.loads(raw) for raw in (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
                if json.loads(raw)["relative"] == "story01.txt")
    assert line["error_kind"] == "engine"

    failing.clear()  # the server is back: the next run, without --force, checks it again (and only it)
    code, stdout, _ = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 0 and "checked 3 of 3" in stdout
    summary = _summary(out)
    assert summary["run"]["checked_now"] == 1 and summary["run"]["unchanged"] == 2
    record = _by_relative(out)["story01.txt"]
    assert record["error"] is None and record["error_kind"] is None and (out / record["json"]).is_file()


# ------------------------------------------------------------------ 2. kill -9 of the driver


def _children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"  # a zombie has exited, only not yet reaped


@pytest.mark.slow  # starts and kills mtqc processes
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_kill_9_of_a_parallel_batch_leaves_no_worker_process(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    import mtqc

    src, out = _folder(tmp_path / "in", 60), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(mtqc.__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "mtqc.cli", "batch", str(src), "--jobs", "2", "--out", str(out),
                             *OFFLINE], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            workers |= _children(proc.pid)
            if (out / "articles").is_dir() and any((out / "articles").glob("*.html")):
                break
            time.sleep(0.01)
        workers |= _children(proc.pid)
        assert proc.poll() is None and len(workers) >= 2, "the batch ended before its workers could be seen"
        proc.send_signal(signal.SIGKILL)  # the driver only: nothing of its own runs to stop the workers
        proc.wait()
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "worker processes outlived their driver"
    finally:
        for pid in workers:  # never leave one behind, whatever the test found
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


# ------------------------------------------------------------------ 3. a damaged summary.jsonl

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)
_NOT_TEXT = st.booleans() | st.integers() | st.floats(allow_nan=False) | st.lists(_JSON, max_size=3) | \
    st.dictionaries(st.text(max_size=5), _JSON, max_size=3)
_NOT_INT = st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5) | st.lists(_JSON, max_size=3) | \
    st.dictionaries(st.text(max_size=5), _JSON, max_size=3)
_BAD_NUMBER = st.sampled_from([float("nan"), float("inf"), 10 ** 400]) | st.text(max_size=5) | st.booleans() | \
    st.lists(_JSON, max_size=3) | st.dictionaries(st.text(max_size=5), _JSON, max_size=3)
_BAD_COUNTS = _NOT_TEXT.filter(lambda v: not isinstance(v, dict)) | \
    st.dictionaries(st.text(max_size=5), _NOT_INT, min_size=1, max_size=3)
_BAD_PHRASES = _NOT_TEXT.filter(lambda v: not isinstance(v, list)) | st.lists(
    _NOT_TEXT.filter(lambda v: not isinstance(v, dict)) | st.fixed_dictionaries({"key": _NOT_TEXT, "text": st.text()}),
    min_size=1, max_size=3)
# each field of a record with a value of the wrong type for it
_DAMAGE = st.one_of(
    st.tuples(st.sampled_from(["relative", "json", "html", "report_id", "error", "error_kind", "content_sha256",
                               "signature_sha256", "traceback"]), _NOT_TEXT),
    st.tuples(st.just("path"), st.none() | _NOT_TEXT),
    st.tuples(st.just("score"), _BAD_NUMBER),
    st.tuples(st.just("line"), _NOT_INT.filter(lambda v: v is not None)),
    st.tuples(st.sampled_from(["by_severity", "by_type"]), _BAD_COUNTS),
    st.tuples(st.just("suppressed"), _NOT_INT),
    st.tuples(st.just("flagged_phrases"), _BAD_PHRASES),
)


@pytest.fixture(scope="module")
def checked_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of two articles and the output of one batch over it."""
    root = tmp_path_factory.mktemp("journal")
    src, out = _folder(root / "in", 2), root / "out"
    assert _run("batch", str(src), "--out", str(out), *OFFLINE)[0] == 0
    return src, out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=_DAMAGE, junk=st.lists(_JSON.map(lambda v: json.dumps(v)) | st.text(max_size=20).map(
    lambda t: t.replace("\n", " ")), max_size=4), drop_pair=st.booleans())
@example(damage=("relative", [1, 2, 3]), junk=["[1,2,3]"], drop_pair=False)
@example(damage=("score", "high"), junk=['"relative"', "{}", '{"path": 1}'], drop_pair=True)
def test_a_damaged_journal_line_is_passed_over_and_its_article_checked(
    checked_once: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, damage: tuple[str, Any],
    junk: list[str], drop_pair: bool
) -> None:
    src, first = checked_once
    out = tmp_path_factory.mktemp("rerun") / "out"
    shutil.copytree(first, out)
    lines = (out / "summary.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    victim = next(r for r in records if r["relative"] == "story00.txt")
    victim[damage[0]] = damage[1]
    if drop_pair:  # without its report pair on disk the article can only be checked again
        (out / "articles" / "story00.html").unlink()
    (out / "summary.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + "".join(
        line + "\n" for line in junk), encoding="utf-8")

    code, stdout, stderr = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 0, stderr
    assert "checked 2 of 2" in stdout and "warning:" in stderr and "summary.jsonl" in stderr
    summary = _summary(out)
    for article in summary["articles"]:  # every record whole, its report pair the one on disk
        assert article["error"] is None and pair_id(out / article["json"], out / article["html"]) == article["report_id"]
        check_record_json(article)
    if drop_pair:
        assert summary["run"]["checked_now"] >= 1
    # the next run finds a clean journal
    code, stdout, stderr = _run("batch", str(src), "--out", str(out), *OFFLINE)
    assert code == 0 and "warning:" not in stderr and "2 unchanged since the last run" in stdout


# ------------------------------------------------------------------ 4. two batches into one folder


@pytest.mark.skipif(sys.platform == "win32", reason="batches are locked with fcntl.flock")
def test_a_second_batch_into_the_same_folder_is_refused_while_one_runs(tmp_path: Path) -> None:
    import fcntl
    import os

    src, out = _folder(tmp_path / "in", 2), tmp_path / "out"
    assert _run("batch", str(src), "--out", str(out), *OFFLINE)[0] == 0
    before = (out / "summary.json").read_bytes()
    fd = os.open(out, os.O_RDONLY)  # what a running batch holds (a lock is per open file, so this stands for one)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, stdout, stderr = _run("batch", str(src), "--out", str(out), "--force", *OFFLINE)
        assert code == 2 and "another mtqc batch is writing into" in stderr and str(out) in stderr
        assert len(stderr.strip().splitlines()) == 1 and not stdout
        assert (out / "summary.json").read_bytes() == before  # nothing touched
    finally:
        os.close(fd)
    assert _run("batch", str(src), "--out", str(out), "--force", *OFFLINE)[0] == 0  # free again
    for article in _summary(out)["articles"]:
        assert pair_id(out / article["json"], out / article["html"]) == article["report_id"]


@pytest.mark.slow  # starts and kills mtqc processes
@pytest.mark.skipif(sys.platform == "win32", reason="batches are locked with fcntl.flock")
def test_two_concurrent_batches_into_one_folder_leave_a_summary_that_matches_the_reports(tmp_path: Path) -> None:
    import os
    import subprocess

    import mtqc

    src, out = _folder(tmp_path / "in", 6), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(mtqc.__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "mtqc.cli", "batch", str(src), "--out", str(out), "--force", *OFFLINE]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0 and codes[1] in (0, 2), results  # 2: refused, another batch was writing
    for article in _summary(out)["articles"]:
        assert pair_id(out / article["json"], out / article["html"]) == article["report_id"]


# ------------------------------------------------------------------ 5. JSONL ids that differ only in case


def _jsonl_names(tmp: Path, ids: list[str]) -> dict[str, str]:
    """JSON report path (relative to OUTDIR) of each id, as a batch plans it."""
    from mtqc.batch.archive import ArchiveBatch
    from mtqc.batch.sources import JsonlSource

    path = tmp / "articles.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": "A short article."}) + "\n" for i in ids), encoding="utf-8")
    with ArchiveBatch(JsonlSource(path, 1 << 20), tmp / "out") as batch:
        return {unit.jsonl_id: batch.plan.report_relpaths(unit.relative)[0] for unit in batch.plan.units()
                if unit.jsonl_id is not None and unit.relative is not None}


def test_jsonl_ids_that_differ_only_in_case_get_distinct_report_names(tmp_path: Path) -> None:
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": _article(n)}) + "\n"
                             for n, i in enumerate(["A", "a", "B", "Ab", "aB"])), encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, _ = _run("batch", str(jsonl), "--out", str(out), *OFFLINE)
    assert code == 0 and "checked 5 of 5" in stdout
    names = {a["id"]: a["json"] for a in _summary(out)["articles"]}
    assert names["a"] == "articles/a.json" and names["B"] == "articles/B.json"  # no clash: the usual name
    assert names["A"].startswith("articles/A%~") and names["Ab"].startswith("articles/Ab%~")
    assert len({n.lower() for n in names.values()}) == 5  # distinct where case is ignored
    assert all((out / n).is_file() for n in names.values())
    code, stdout, _ = _run("batch", str(jsonl), "--out", str(out), *OFFLINE)
    assert code == 0 and "5 unchanged" in stdout  # stable from run to run


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.text(alphabet="aAbB.%é", min_size=1, max_size=4).filter(lambda s: s.strip()), min_size=1,
                    max_size=8, unique=True))
def test_jsonl_report_names_are_distinct_ignoring_case_and_do_not_depend_on_order(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    names = _jsonl_names(tmp_path_factory.mktemp("ids"), ids)
    assert len({n.lower() for n in names.values()}) == len(ids)
    again = _jsonl_names(tmp_path_factory.mktemp("ids"), list(reversed(ids)))
    assert again == names
    for i, name in names.items():  # an id whose name clashes with no other keeps it
        plain = f"articles/{id_report_name(i).with_suffix('.json')}"
        if sum(f"articles/{id_report_name(j).with_suffix('.json')}".lower() == plain.lower() for j in ids) == 1:
            assert name == plain
