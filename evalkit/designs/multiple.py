"""Adjusting p-values across a family of outcomes (NaN p-values stay NaN and are not counted)."""

from __future__ import annotations

from typing import Callable

import numpy as np


def _adjust(p_values, rule: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = np.minimum(rule(p[ok]), 1.0)
    return out


def _holm(q: np.ndarray) -> np.ndarray:
    m = len(q)
    order = np.argsort(q, kind="stable")
    result = np.empty(m)
    result[order] = np.maximum.accumulate((m - np.arange(m)) * q[order])
    return result


def _bh(q: np.ndarray) -> np.ndarray:
    m = len(q)
    order = np.argsort(q, kind="stable")[::-1]
    ranks = m - np.arange(m)  # rank of each p in descending order
    result = np.empty(m)
    result[order] = np.minimum.accumulate(q[order] * m / ranks)
    return result


def holm(p_values) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error rate).

    Parameters
    ----------
    p_values : sequence of float
        The family's p-values (NaN stays NaN and is not counted).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from evalkit.designs import holm
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    return _adjust(p_values, _holm)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini–Hochberg (1995) q-values (false discovery rate).

    Parameters
    ----------
    p_values : sequence of float
        The family's p-values (NaN stays NaN and is not counted).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from evalkit.designs import benjamini_hochberg
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.04, 0.04]
    """
    return _adjust(p_values, _bh)
