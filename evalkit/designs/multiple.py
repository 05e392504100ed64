"""Adjusting p-values across a family of outcomes."""

from __future__ import annotations

import numpy as np


def holm(p_values) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error rate); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    order = np.argsort(q, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * q[order])
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini–Hochberg (1995) q-values (false discovery rate); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    order = np.argsort(q, kind="stable")[::-1]
    ranks = m - np.arange(m)  # rank of each p in descending order
    adjusted = np.minimum.accumulate(q[order] * m / ranks)
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out
