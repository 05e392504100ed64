"""Power and minimum detectable effects for cluster-randomised trials, and the ICC.

Conventions (stated in every report that uses them): two-sided test at ``alpha``; t
distribution with G − 2 degrees of freedom; design effect with unequal cluster sizes
1 + ((1 + CV²) m − 1) ρ (Eldridge, Ashby and Kerry 2006), m the mean cluster size and CV the
coefficient of variation of cluster sizes; ``r2`` the share of outcome variance explained by
baseline covariates. Effects are in standard deviations of the outcome. ``cluster_power`` uses
the same approximation as ``cluster_mde`` (power = T_df(|δ|/SE − t_crit) + T_df(−|δ|/SE −
t_crit)), so that ``cluster_power(cluster_mde(...)) ≈ power``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.display import fmt, html_table
from evalkit.data.columns import numbers, require_columns


def _standard_error(n_clusters: int, cluster_size: float, icc: float, r2: float,
                    treat_share: float, cv_cluster_size: float) -> float:
    if n_clusters <= 2:
        raise ValueError("need more than 2 clusters")
    if not 0 < treat_share < 1:
        raise ValueError("treat_share must be between 0 and 1")
    if not 0 <= icc < 1 or not 0 <= r2 < 1:
        raise ValueError("icc and r2 must be in [0, 1)")
    deff = 1 + ((1 + cv_cluster_size ** 2) * cluster_size - 1) * icc
    return float(np.sqrt(deff * (1 - r2) / (treat_share * (1 - treat_share) * n_clusters * cluster_size)))


def cluster_mde(n_clusters: int, cluster_size: float, icc: float, r2: float = 0.0,
                treat_share: float = 0.5, cv_cluster_size: float = 0.0, alpha: float = 0.05,
                power: float = 0.8) -> float:
    """Minimum detectable effect (in SD units) of a cluster-randomised comparison."""
    se = _standard_error(n_clusters, cluster_size, icc, r2, treat_share, cv_cluster_size)
    df = n_clusters - 2
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)


def cluster_power(effect: float, n_clusters: int, cluster_size: float, icc: float,
                  r2: float = 0.0, treat_share: float = 0.5, cv_cluster_size: float = 0.0,
                  alpha: float = 0.05) -> float:
    """Power to detect ``effect`` (in SD units) with a two-sided test at ``alpha``."""
    se = _standard_error(n_clusters, cluster_size, icc, r2, treat_share, cv_cluster_size)
    df = n_clusters - 2
    crit = stats.t.ppf(1 - alpha / 2, df)
    shift = abs(effect) / se
    return float(stats.t.cdf(shift - crit, df) + stats.t.cdf(-shift - crit, df))


@dataclass(frozen=True, repr=False)
class ICCResult:
    """One-way ANOVA estimate of the intra-cluster correlation."""

    icc: float
    n_obs: int
    n_clusters: int
    mean_cluster_size: float
    cv_cluster_size: float
    between_mean_square: float
    within_mean_square: float

    def summary(self) -> str:
        return (f"ICC {self.icc:.3f} (one-way ANOVA; {self.n_obs} observations in "
                f"{self.n_clusters} clusters, mean size {self.mean_cluster_size:.1f}, "
                f"CV of sizes {self.cv_cluster_size:.2f})")

    def __repr__(self) -> str:
        return f"<ICCResult {self.summary()}>"

    def _repr_html_(self) -> str:
        rows = [("ICC", fmt(self.icc)), ("Observations", f"{self.n_obs:,}"),
                ("Clusters", f"{self.n_clusters:,}"), ("Mean cluster size", fmt(self.mean_cluster_size, 1)),
                ("CV of cluster sizes", fmt(self.cv_cluster_size, 2))]
        return html_table("Intra-cluster correlation", ["", ""], rows,
                          "One-way ANOVA estimator, truncated at 0.")


def icc(data: pd.DataFrame, outcome: str, cluster: str) -> ICCResult:
    """ANOVA estimator ρ = (MSB − MSW) / (MSB + (m0 − 1) MSW), m0 = (N − Σn_g²/N)/(G − 1);
    truncated at 0 (a negative estimate means no detectable clustering)."""
    require_columns(data, [outcome, cluster])
    y = numbers(data, outcome)
    ok = y.notna().to_numpy() & data[cluster].notna().to_numpy()
    frame = pd.DataFrame({"y": y.to_numpy()[ok], "g": data[cluster].to_numpy()[ok]})
    grouped = frame.groupby("g")["y"]
    sizes = grouped.size().to_numpy(dtype=float)
    means = grouped.mean().to_numpy()
    n, g = len(frame), len(sizes)
    grand = frame["y"].mean()
    ssb = float(np.sum(sizes * (means - grand) ** 2))
    ssw = float(np.sum((frame["y"] - grouped.transform("mean")) ** 2))
    msb, msw = ssb / (g - 1), ssw / (n - g)
    m0 = (n - np.sum(sizes ** 2) / n) / (g - 1)
    rho = (msb - msw) / (msb + (m0 - 1) * msw)
    return ICCResult(icc=float(max(rho, 0.0)), n_obs=n, n_clusters=g,
                     mean_cluster_size=float(sizes.mean()),
                     cv_cluster_size=float(sizes.std(ddof=0) / sizes.mean()),
                     between_mean_square=msb, within_mean_square=msw)
