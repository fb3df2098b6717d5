"""Shared fixtures: every test runs offline, with caches and models dirs in tmp.

Also the rule that marks a test `slow` (see `pytest_collection_modifyitems`): the fast lane,
`pytest -m "not slow"`, leaves out every test that needs chromium, torch/transformers tiny
models, Ray, mypy or a calibration fit with the C grid search.
"""
from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from types import CodeType
from typing import Any

# The numeric libraries (OpenBLAS, OpenMP in scikit-learn) run single-threaded in the tests, set
# before numpy is first imported. Their matrices here are tiny: on a small, shared machine spinning
# worker threads made the calibration fits 20-40x slower, and never faster.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

from mtqc.config import Settings  # noqa: E402

# Fixture modules, registered once for every test module (never imported by name into one).
pytest_plugins = ["tests.faults"]

# A test is slow when it uses one of these expensive resources, directly or through another fixture.
SLOW_FIXTURES = {
    "tiny_models": "builds tiny torch/transformers models",
    "browser": "drives chromium through Playwright",
    "ray_instance": "starts a local Ray instance",
}
TINY_MODEL_BUILDERS = "tests.tiny_models"  # a test or fixture that builds models itself with this module


def _code_objects(code: CodeType) -> list[CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found += _code_objects(const)
    return found


def _builds_tiny_models(func: Any) -> bool:
    """True if `func` imports tests/tiny_models.py or calls something defined there."""
    func = getattr(getattr(func, "hypothesis", None), "inner_test", func)
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    namespace = getattr(func, "__globals__", {})
    for c in _code_objects(code):
        for name in c.co_names:
            if name == TINY_MODEL_BUILDERS.rsplit(".", 1)[1]:
                return True
            if getattr(namespace.get(name), "__module__", None) == TINY_MODEL_BUILDERS:
                return True
    return False


def _slow_reason(item: pytest.Item) -> str | None:
    names = getattr(item, "fixturenames", ())
    for name in names:
        if name in SLOW_FIXTURES:
            return SLOW_FIXTURES[name]
    functions = [getattr(item, "function", None)]
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    for name in names:
        functions += [d.func for d in getattr(fixtureinfo, "name2fixturedefs", {}).get(name, ())]
    if any(f is not None and _builds_tiny_models(f) for f in functions):
        return "builds tiny torch/transformers models (tests/tiny_models.py)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` every test that uses an expensive resource (SLOW_FIXTURES, tests/tiny_models.py).

    Marking by resource stays right as tests are added; tests that are slow for another reason
    (mypy, calibration fits) carry `@pytest.mark.slow` in their own module.
    """
    for item in items:
        reason = _slow_reason(item)
        if reason is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow(reason=reason))

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
    monkeypatch.setenv("HF_HUB_CACHE", str(root / "hf-cache"))  # what mtqc reads (config.py)
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
