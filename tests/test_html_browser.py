"""The HTML report in a real headless browser: article text must never run as script."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mtqc.config import load_settings
from mtqc.pipeline import Checker
from mtqc.reports import write_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_script_in_an_article_renders_as_text(tmp_path: Path) -> None:
    hostile = (
        "The minister said <script>document.title='pwned';document.body.innerHTML='pwned'</script> "
        "the the plan was ready. <img src=x onerror=\"document.title='pwned'\"> Officials agreed."
    )
    report = Checker.create(load_settings(env={}), engine="offline").check_text(hostile, "hostile.txt")
    page = write_html(report, tmp_path / "hostile.html")
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "<title>mtqc: hostile.txt</title>" in dom
    assert "pwned</title>" not in dom
    assert "&lt;script&gt;document.title='pwned'" in dom  # shown to the editor as text
    assert "Word doubled" in dom
