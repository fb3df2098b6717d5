"""Batch faults never cost a result, a secret or a file: a passing engine failure, a killed driver, a damaged
summary.jsonl, two batches into one folder, JSONL ids that differ only in case."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mtqc.cli import main
from mtqc.errors import TransientEngineError
from mtqc.pipeline import Checker

from .conftest import ARTICLE

OFFLINE = ("--engine", "offline")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _article(i: int) -> str:
    return ARTICLE.replace("12 villages", f"{i + 2} villages")


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
