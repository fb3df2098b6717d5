"""Batching model inputs by length."""
from __future__ import annotations

from typing import Iterator, Sequence


def length_buckets(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices sorted by length, in batches: little padding, so little wasted compute."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for i in range(0, len(order), max(1, batch_size)):
        yield order[i:i + batch_size]
