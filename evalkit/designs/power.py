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

from evalkit.data.columns import numbers, require_columns
from evalkit.display import fmt, html_table
from evalkit.lazy import lazy

stats = lazy("scipy.stats")


def _number(name: str, value, low: float | None = None, high: float | None = None, *,
            low_open: bool = True, high_open: bool = True, expected: str = "") -> float:
    """``value`` as a float inside its range, or a ValueError in one sentence."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    number = float(value) if ok else float("nan")
    if ok and np.isfinite(number):
        above = low is None or (number > low if low_open else number >= low)
        below = high is None or (number < high if high_open else number <= high)
        if above and below:
            return number
    raise ValueError(f"{name} is {value!r}; expected {expected}.")


def _check_alpha_power(alpha, power=None) -> None:
    _number("alpha", alpha, 0, 1, expected="a significance level between 0 and 1, such as 0.05")
    if power is not None:
        _number("power", power, 0, 1, expected="a probability between 0 and 1 (exclusive), "
                "such as 0.8")


def _standard_error(n_clusters: int, cluster_size: float, icc: float, r2: float,
                    treat_share: float, cv_cluster_size: float) -> float:
    g = _number("n_clusters", n_clusters, 2, expected="a whole number of clusters above 2 "
                "(both arms together)")
    if g != int(g):
        raise ValueError(f"n_clusters is {n_clusters!r}; expected a whole number of clusters.")
    _number("cluster_size", cluster_size, 0, expected="a positive number of units per cluster")
    _number("treat_share", treat_share, 0, 1, expected="the share of clusters treated, between "
            "0 and 1")
    _number("icc", icc, 0, 1, low_open=False, expected="an intra-cluster correlation from 0 up "
            "to 1")
    _number("r2", r2, 0, 1, low_open=False, expected="a share of variance explained from 0 up "
            "to 1")
    _number("cv_cluster_size", cv_cluster_size, 0, low_open=False, expected="a coefficient of "
            "variation of cluster sizes of 0 or more")
    deff = 1 + ((1 + cv_cluster_size ** 2) * cluster_size - 1) * icc
    return float(np.sqrt(deff * (1 - r2) / (treat_share * (1 - treat_share) * n_clusters * cluster_size)))


def cluster_mde(n_clusters: int, cluster_size: float, icc: float, r2: float = 0.0,
                treat_share: float = 0.5, cv_cluster_size: float = 0.0, alpha: float = 0.05,
                power: float = 0.8) -> float:
    """Minimum detectable effect (in SD units) of a cluster-randomised comparison.

    Parameters
    ----------
    n_clusters : int
        Clusters in both arms together (more than 2).
    cluster_size : float
        Units analysed per cluster (the mean when sizes vary).
    icc : float
        Intra-cluster correlation of the outcome, in [0, 1).
    r2 : float
        Share of the outcome's variance explained by baseline covariates, in [0, 1).
    treat_share : float
        Share of clusters treated, in (0, 1).
    cv_cluster_size : float
        Coefficient of variation of cluster sizes (0: equal sizes).
    alpha : float
        Two-sided significance level, in (0, 1).
    power : float
        Power, in (0, 1).

    Returns
    -------
    float
        (t_{1−α/2} + t_power) × SE with G − 2 df, in standard deviations.

    Examples
    --------
    >>> from evalkit.designs import cluster_mde
    >>> round(cluster_mde(36, 20, 0.08), 3)
    0.341
    """
    _check_alpha_power(alpha, power)
    se = _standard_error(n_clusters, cluster_size, icc, r2, treat_share, cv_cluster_size)
    df = n_clusters - 2
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se)


def cluster_power(effect: float, n_clusters: int, cluster_size: float, icc: float,
                  r2: float = 0.0, treat_share: float = 0.5, cv_cluster_size: float = 0.0,
                  alpha: float = 0.05) -> float:
    """Power to detect ``effect`` (in SD units) with a two-sided test at ``alpha``.

    Parameters
    ----------
    effect : float
        The effect in standard deviations of the outcome.
    n_clusters, cluster_size, icc, r2, treat_share, cv_cluster_size, alpha
        As in :func:`cluster_mde`.

    Returns
    -------
    float
        Power, ``T_df(|δ|/SE − t_crit) + T_df(−|δ|/SE − t_crit)`` with G − 2 df.

    Examples
    --------
    >>> from evalkit.designs import cluster_power
    >>> round(cluster_power(0.341, 36, 20, 0.08), 2)
    0.8
    """
    _check_alpha_power(alpha)
    _number("effect", effect, expected="an effect size in standard deviations")
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
    truncated at 0 (a negative estimate means no detectable clustering).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit.
    outcome, cluster : str
        The outcome and cluster columns.

    Returns
    -------
    ICCResult

    Examples
    --------
    >>> from evalkit.designs import icc, simulate_trial
    >>> df = simulate_trial(n_clusters=300, cluster_size=10, icc=0.2, seed=2)
    >>> round(icc(df, "baseline", "cluster").icc, 2)
    0.2
    """
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


# ------------------------------------------------------------------------------ design stage

SOLVABLE = ("n_clusters", "cluster_size", "mde", "power")


@dataclass(frozen=True, repr=False)
class PowerSolution:
    """A cluster-randomised design with one of its four quantities solved for.

    ``mde`` is in the outcome's natural units (percentage points for a yes/no outcome given
    by its ``prevalence``, scale points for a score given by its ``outcome_sd``);
    ``mde_sd`` is the same in standard deviations. ``cluster_size`` is the number of units
    per cluster surveyed; ``analysed_size`` what remains after ``attrition``."""

    solved: str
    n_clusters: int
    cluster_size: float
    mde: float
    mde_sd: float
    power: float
    icc: float
    r2: float
    attrition: float
    unit: str
    alpha: float = 0.05
    treat_share: float = 0.5
    cv_cluster_size: float = 0.0

    @property
    def analysed_size(self) -> float:
        return self.cluster_size * (1 - self.attrition)

    def to_frame(self) -> pd.DataFrame:
        """One row: n_clusters, cluster_size, analysed_size, mde (natural units), mde_sd,
        power, icc, r2, attrition, alpha, solved (which of them was solved for)."""
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "n_clusters", "cluster_size", "analysed_size", "mde", "mde_sd", "power", "icc",
            "r2", "attrition", "alpha", "solved")}])

    def summary(self) -> str:
        return (f"{self.n_clusters} clusters of {fmt(self.cluster_size, 1)} units "
                f"({fmt(self.analysed_size, 1)} analysed after {fmt(100 * self.attrition, 0)} % "
                f"attrition), ICC {fmt(self.icc, 3)}, R² {fmt(self.r2, 2)}: minimum detectable "
                f"effect {fmt(self.mde, 2)} {self.unit} ({fmt(self.mde_sd, 3)} SD) with "
                f"{fmt(100 * self.power, 1)} % power at the {fmt(100 * self.alpha, 0)} % level "
                f"(solved for {self.solved.replace('_', ' ')})")

    def __repr__(self) -> str:
        return f"<PowerSolution {self.solved}: {self.summary()}>"

    def _repr_html_(self) -> str:
        return html_table(f"Design solved for {self.solved.replace('_', ' ')}", ["", ""], [
            ("Clusters", f"{self.n_clusters:,}"), ("Units per cluster (surveyed)", fmt(self.cluster_size, 1)),
            ("Units per cluster (analysed)", fmt(self.analysed_size, 1)),
            (f"Minimum detectable effect ({self.unit})", fmt(self.mde, 2)),
            ("Minimum detectable effect (SD)", fmt(self.mde_sd, 3)),
            ("Power (%)", fmt(100 * self.power, 1)), ("ICC", fmt(self.icc, 3)), ("R²", fmt(self.r2, 2))],
            "Two-sided test at the stated level; t with G − 2 df; design effect with unequal "
            "cluster sizes (Eldridge et al. 2006).")


def _sd(outcome_sd: float | None, prevalence: float | None) -> tuple[float, float, str]:
    """(SD, scale to natural units, unit name) of the outcome."""
    if (outcome_sd is None) == (prevalence is None):
        raise ValueError("give exactly one of outcome_sd (a score) or prevalence (a yes/no "
                         "outcome, e.g. 0.3)")
    if prevalence is not None:
        if not 0 < prevalence < 1:
            raise ValueError(f"prevalence is {prevalence!r}; expected a share between 0 and 1")
        return float(np.sqrt(prevalence * (1 - prevalence))), 100.0, "percentage points"
    if not outcome_sd > 0:
        raise ValueError(f"outcome_sd is {outcome_sd!r}; expected a positive number")
    return float(outcome_sd), 1.0, "points"


def solve_design(*, icc: float, n_clusters: int | None = None, cluster_size: float | None = None,
                 mde: float | None = None, power: float | None = 0.8,
                 outcome_sd: float | None = None, prevalence: float | None = None,
                 r2: float = 0.0, attrition: float = 0.0, treat_share: float = 0.5,
                 cv_cluster_size: float = 0.0, alpha: float = 0.05,
                 max_clusters: int = 10_000, max_cluster_size: int = 100_000) -> PowerSolution:
    """Solve a cluster-randomised design for whichever one of ``n_clusters``,
    ``cluster_size``, ``mde`` or ``power`` is None, in natural units.

    ``mde`` is in percentage points for a yes/no outcome (give its ``prevalence``) or in scale
    points for a score (give its ``outcome_sd``); ``attrition`` is the share of surveyed
    units expected to be lost, so the analysed cluster size is ``cluster_size × (1 −
    attrition)``. Solving for clusters gives the smallest even number that reaches the MDE;
    for cluster size, the smallest whole number (or a sentence when no cluster size can,
    because the ICC sets a floor).

    Parameters
    ----------
    icc : float
        Intra-cluster correlation, in [0, 1).
    n_clusters : int or None
        Clusters in both arms together (None: solve for it).
    cluster_size : float or None
        Units surveyed per cluster (None: solve for it).
    mde : float or None
        Minimum detectable effect in natural units, positive (None: solve for it).
    power : float or None
        Power in (0, 1) (None: solve for it).
    outcome_sd : float, optional
        SD of a score outcome (give this or ``prevalence``).
    prevalence : float, optional
        Share with a yes/no outcome at baseline, in (0, 1).
    r2 : float
        Share of variance explained by baseline covariates, in [0, 1).
    attrition : float
        Share of surveyed units expected to be lost, in [0, 1).
    treat_share : float
        Share of clusters treated.
    cv_cluster_size : float
        Coefficient of variation of cluster sizes.
    alpha : float
        Two-sided significance level, in (0, 1).
    max_clusters, max_cluster_size : int
        Search limits.

    Returns
    -------
    PowerSolution

    Examples
    --------
    >>> from evalkit.designs import solve_design
    >>> d = solve_design(icc=0.08, n_clusters=None, cluster_size=20, mde=10, prevalence=0.3)
    >>> d.n_clusters, round(d.mde, 2)
    (86, 9.94)
    """
    given = {"n_clusters": n_clusters, "cluster_size": cluster_size, "mde": mde, "power": power}
    missing = [k for k, v in given.items() if v is None]
    if len(missing) != 1:
        raise ValueError("leave exactly one of n_clusters, cluster_size, mde and power as None "
                         f"(now: {', '.join(missing) or 'none'})")
    _check_design(icc, n_clusters, cluster_size, mde, power, alpha, attrition)
    sd, scale, unit = _sd(outcome_sd, prevalence)
    solved = missing[0]
    common = dict(icc=icc, r2=r2, treat_share=treat_share, cv_cluster_size=cv_cluster_size)

    def mde_sd(g, m):
        return cluster_mde(int(g), m * (1 - attrition), alpha=alpha, power=power, **common)

    if solved == "mde":
        target_sd = mde_sd(n_clusters, cluster_size)
        result = dict(n_clusters=int(n_clusters), cluster_size=float(cluster_size), power=float(power))
    elif solved == "power":
        target_sd = mde / scale / sd
        p = cluster_power(target_sd, int(n_clusters), cluster_size * (1 - attrition), alpha=alpha, **common)
        result = dict(n_clusters=int(n_clusters), cluster_size=float(cluster_size), power=p)
    elif solved == "n_clusters":
        target_sd = mde / scale / sd
        g = _fewest_clusters(lambda g: mde_sd(g, cluster_size), target_sd, max_clusters,
                             f"of {cluster_size:g} cannot detect {mde:g} {unit}")
        result = dict(n_clusters=g, cluster_size=float(cluster_size), power=float(power))
    else:
        target_sd = mde / scale / sd
        floor = mde_sd(n_clusters, max_cluster_size)
        if floor > target_sd:
            raise ValueError(f"with {n_clusters} clusters and ICC {icc:g}, no cluster size can "
                             f"detect {mde:g} {unit} (the smallest reachable is about "
                             f"{floor * sd * scale:.3g}); expected more clusters")
        low = _smallest_size(lambda m: mde_sd(n_clusters, m), target_sd, max_cluster_size)
        result = dict(n_clusters=int(n_clusters), cluster_size=float(low), power=float(power))
    achieved = mde_sd(result["n_clusters"], result["cluster_size"]) if solved != "power" else target_sd
    if solved == "mde":
        achieved = target_sd
    return PowerSolution(solved=solved, n_clusters=result["n_clusters"],
                         cluster_size=result["cluster_size"], mde=achieved * sd * scale,
                         mde_sd=achieved, power=result["power"], icc=icc, r2=r2,
                         attrition=attrition, unit=unit, alpha=alpha, treat_share=treat_share,
                         cv_cluster_size=cv_cluster_size)


def _check_design(icc, n_clusters, cluster_size, mde, power, alpha, attrition) -> None:
    """Each given number of a design in its range, or one sentence."""
    _number("attrition", attrition, 0, 1, low_open=False, expected="a share from 0 up to 1")
    _check_alpha_power(alpha, power)
    _number("icc", icc, 0, 1, low_open=False, expected="an intra-cluster correlation from 0 up "
            "to 1")
    if mde is not None:
        _number("mde", mde, 0, expected="a positive effect (its size; the test is two-sided)")
    if n_clusters is not None:
        _number("n_clusters", n_clusters, 2, expected="a whole number of clusters above 2")
    if cluster_size is not None:
        _number("cluster_size", cluster_size, 0, expected="a positive number of units per "
                "cluster")
        if cluster_size * (1 - attrition) <= 0:
            raise ValueError("cluster_size × (1 − attrition) leaves no unit to analyse; expected "
                             "a positive number.")


def _fewest_clusters(mde_sd, target_sd: float, max_clusters: int, cannot: str) -> int:
    """The fewest clusters (an even number from 4) whose MDE reaches ``target_sd``."""
    g = 4
    while mde_sd(g) > target_sd:
        g += 2
        if g > max_clusters:
            raise ValueError(f"even {max_clusters:,} clusters {cannot}; expected a larger effect "
                             "or more units per cluster")
    return g


def _smallest_size(mde_sd, target_sd: float, max_cluster_size: int) -> int:
    """The smallest cluster size whose MDE reaches ``target_sd`` (by bisection; it does at
    ``max_cluster_size``)."""
    low, high = 1, max_cluster_size
    while low < high:
        mid = (low + high) // 2
        if mde_sd(mid) <= target_sd:
            high = mid
        else:
            low = mid + 1
    return low
