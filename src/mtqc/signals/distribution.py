"""Thresholds that combine an absolute limit with the article's own distribution."""
from __future__ import annotations

import statistics
from typing import Sequence


def robust_z(values: Sequence[float]) -> list[float]:
    """z-scores against the article's median and MAD (robust to the very outliers we look for)."""
    if len(values) < 3:
        return [0.0 for _ in values]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values) * 1.4826
    if mad < 1e-9:
        # over half the values are equal: fall back to the mean absolute deviation
        mad = statistics.fmean(abs(v - median) for v in values) * 1.2533
    if mad < 1e-9:
        return [0.0 for _ in values]
    return [(v - median) / mad for v in values]


def is_outlier_low(value: float, z: float, *, absolute: float, relative_z: float, ceiling: float) -> bool:
    """Below the absolute threshold, or far below the article's other sentences (but under `ceiling`)."""
    return value < absolute or (z <= relative_z and value < ceiling)
