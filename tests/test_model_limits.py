"""Issue 8, item 13a: a sentence longer than a model's window never aborts a check or a batch.

Tiny models with small windows (Marian: 24 positions, GPT-2: 16) stand in for opus-mt (512)
and distilgpt2 (1024); they load through the same code path as the real ones.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings as hsettings, strategies as st

from mtqc.neural.lm import lm_windows

from .conftest import ARTICLE, tiny_settings

MARIAN_POSITIONS = 24
LM_POSITIONS = 16
# Written for this test: one run-on sentence, far longer than either small window.
LONG = ("The officials said that the new bridge over the river in the eastern district would be "
        "finished before the rainy season, that the road to the market would be widened, that "
        "the old school would be repaired and that every village along the coast would get "
        "clean water, electricity and a clinic within the next three years.")


@pytest.fixture(scope="module")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("sentencepiece")
    from .tiny_models import MARIAN_NAMES, build_marian, build_tiny_gpt2, train_spm

    root = tmp_path_factory.mktemp("small-window")
    spm = train_spm(root / "work")
    for seed, name in enumerate(MARIAN_NAMES):
        build_marian(root / "models" / name, spm, seed=seed, max_positions=MARIAN_POSITIONS)
    build_tiny_gpt2(root / "models" / "distilgpt2", n_positions=LM_POSITIONS)
    return root / "models"


@given(n=st.integers(0, 200), window=st.integers(2, 40))
@hsettings(max_examples=200, deadline=None)
def test_lm_windows_score_every_token_once_within_the_window(n: int, window: int) -> None:
    seq = list(range(1000, 1000 + n))  # distinct ids: a token's identity is its position
    rows = lm_windows(seq, window)
    scored: list[int] = []
    for inp, keep in rows:
        assert 2 <= len(inp) <= window and 1 <= keep < len(inp)
        assert inp == seq[inp[0] - 1000:inp[0] - 1000 + len(inp)]  # a contiguous slice
        scored += inp[keep:]
        if inp[0] != seq[0]:  # a continuation row: half a window of context before its first scored token
            assert keep == window // 2
    assert scored == seq[1:]  # every token after BOS exactly once, in order


def test_lm_scores_a_sentence_longer_than_its_window(small_models: Path) -> None:
    from mtqc.neural.manifest import ModelInfo
    from mtqc.neural.lm import CausalLM

    lm = CausalLM(str(small_models / "distilgpt2"), ModelInfo("distilgpt2", "test/gpt2", "0" * 40))
    assert lm.window == LM_POSITIONS
    n_tokens = len(lm.tokenizer(LONG, add_special_tokens=False)["input_ids"])
    assert n_tokens > 3 * LM_POSITIONS
    short = "The bridge was finished."
    long_result, short_result = lm.score([LONG, short])
    assert len(long_result.logprobs) == len(long_result.spans) == n_tokens
    assert all(math.isfinite(v) and v <= 0 for v in long_result.logprobs)
    alone_short = lm.score([short])[0]  # batched with a windowed sentence: unchanged (up to padding noise)
    assert short_result.spans == alone_short.spans
    assert short_result.logprobs == pytest.approx(alone_short.logprobs, abs=1e-4)
    # the first window is the plain prefix: the same scores as the prefix scored alone
    prefix_ids = lm.tokenizer(LONG, add_special_tokens=False)["input_ids"][:LM_POSITIONS - 1]
    prefix = lm.tokenizer.decode(prefix_ids)
    alone = lm.score([prefix])[0]
    assert alone.logprobs == pytest.approx(long_result.logprobs[:LM_POSITIONS - 1], abs=1e-4)


@pytest.mark.parametrize("engine_name", ["marian", "ct2"])
def test_engines_truncate_to_the_model_positions(engine_name: str, small_models: Path, tmp_path: Path) -> None:
    if engine_name == "ct2":
        pytest.importorskip("ctranslate2")
    import shutil

    from mtqc.engines import select_engine

    models = tmp_path / "models"
    shutil.copytree(small_models, models)
    engine = select_engine(engine_name, tiny_settings(models, tmp_path, use_cache=False)).engine
    assert engine._limits[("en", "id")] == MARIAN_POSITIONS
    out = engine.translate([LONG, "Floods in Bali."], src="en", tgt="id")
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    [scores] = engine.score([LONG], [LONG], src="id", tgt="en")
    assert len(scores.tokens) == MARIAN_POSITIONS  # truncated pieces plus </s>
    assert scores.tokens[-1] == "</s>" and all(math.isfinite(v) for v in scores.logprobs)
    assert all(0 <= a <= b <= len(LONG) for a, b in scores.spans[:-1])


def test_batch_with_a_sentence_longer_than_every_window_checks_every_file(small_models: Path, tmp_path: Path) -> None:
    from mtqc.cli import main

    src = tmp_path / "in"
    src.mkdir()
    (src / "a_long.txt").write_text(ARTICLE.replace("Residents said the rescue was quick and quick", LONG[:-1]), encoding="utf-8")
    (src / "b_plain.txt").write_text(ARTICLE, encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(src), "--out", str(tmp_path / "out"), "--engine", "marian",
                                       "--models-dir", str(small_models), "--offline"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["checked"] == 2 and summary["failed"] == 0
    report = json.loads((tmp_path / "out" / "articles" / "a_long.json").read_text(encoding="utf-8"))
    long_sentence = next(s for s in report["sentences"] if s["text"].startswith("The officials said"))
    assert {"lm_fluency.slor", "likelihood.mean_logprob"} <= set(long_sentence["signals"])
