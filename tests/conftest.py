"""Shared fixtures: every test runs offline, with caches and models dirs in tmp."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtqc.config import Settings

# Written for these tests (not taken from any corpus): a machine-translated-style news item.
ARTICLE = """# url: https://example.org/news/1
# title: Flood test article

BANDUNG - The West Java provincial disaster agency said heavy rain flooded 12 villages in the south of the province on Tuesday (4/11) evening.

"The river rose quickly after 22.15 WIB and the water entered the houses of residents," the agency's operations chief, Agus Permana, told reporters.

The water was at least roofs be reached, Kedalaman: 90 cm, and the the budget for evacuation was released.

Residents said the rescue was quick and quick, and the regency promised to rebuild the broken footbridge.

This English edition is machine translated from our Indonesian site and may contain inaccuracies; the Indonesian text prevails.
"""


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MTQC_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("MTQC_MODELS_DIR", str(root / "models"))
    monkeypatch.setenv("HF_HOME", str(root / "hf"))
    try:  # an empty HF cache: a model cached on this machine must not leak into the tests
        from huggingface_hub import constants
    except ImportError:
        return
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root / "hf-cache"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny random-weight opus-mt models (both directions) and a tiny GPT-2, in models-dir layout."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("sentencepiece")
    from .tiny_models import build_tiny_gpt2, build_tiny_models

    root = tmp_path_factory.mktemp("tiny")
    models = build_tiny_models(root / "models", root / "work")
    build_tiny_gpt2(models / "distilgpt2")
    return models


@pytest.fixture
def article_path(tmp_path: Path) -> Path:
    path = tmp_path / "flood.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture
def models_dir(tiny_models: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny models, so tests that damage or convert them do not interfere."""
    dest = tmp_path / "models"
    shutil.copytree(tiny_models, dest)
    return dest


def tiny_settings(models_dir: Path, tmp_path: Path, **kw: object) -> Settings:
    """Settings for the tiny models: offline, CPU, one thread, cache in tmp."""
    base: dict[str, object] = dict(models_dir=models_dir, cache_dir=tmp_path / "cache", offline=True, device="cpu", threads=1)
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]
