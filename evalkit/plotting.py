"""Plots for researchers' notebooks (the result objects stay free of plotting code).

The functions return matplotlib ``Figure`` objects built without pyplot (no global state).
In Jupyter they display inline: importing this module registers a PNG formatter for
figures with IPython, so no ``%matplotlib inline`` is needed (the notebooks set it too).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from evalkit.designs.power import PowerSolution, cluster_power


def show_inline() -> bool:
    """Make matplotlib figures display as PNG images in the running IPython kernel (a no-op
    outside IPython).

    Returns
    -------
    bool
        Whether a kernel was found.

    Examples
    --------
    >>> from evalkit.plotting import show_inline
    >>> show_inline()  # outside Jupyter
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    formatter = shell.display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:
        from IPython.core.pylabtools import print_figure

        formatter.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))
    return True


show_inline()


def power_curve(design: PowerSolution, clusters: range | None = None) -> Figure:
    """Power against the number of clusters for ``design``'s minimum detectable effect, with
    the design itself marked (and the 80 % line).

    Parameters
    ----------
    design : PowerSolution
        From :func:`~evalkit.designs.solve_design`.
    clusters : range, optional
        Cluster counts on the x axis (default: 4 to twice the design's, in steps of 2).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from evalkit.designs import solve_design
    >>> from evalkit.plotting import power_curve
    >>> d = solve_design(icc=0.08, n_clusters=36, cluster_size=20, mde=None, prevalence=0.3)
    >>> len(power_curve(d).axes)
    1
    """
    show_inline()
    clusters = clusters or range(4, max(8, 2 * design.n_clusters) + 1, 2)
    g = np.array(list(clusters))
    power = [cluster_power(design.mde_sd, int(k), design.analysed_size, design.icc, design.r2,
                           design.treat_share, design.cv_cluster_size, design.alpha) for k in g]
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.subplots()
    ax.plot(g, 100 * np.array(power), color="#0072B2", linewidth=2)
    ax.axhline(80, color="#555555", linestyle="--", linewidth=1)
    mark = cluster_power(design.mde_sd, design.n_clusters, design.analysed_size, design.icc,
                         design.r2, design.treat_share, design.cv_cluster_size, design.alpha)
    ax.plot([design.n_clusters], [100 * mark], marker="o", color="#D55E00", linestyle="none",
            label=f"this design: {design.n_clusters} clusters")
    ax.set_xlabel("Number of clusters (both arms)")
    ax.set_ylabel("Power (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Power to detect {design.mde:.3g} {design.unit} "
                 f"({design.analysed_size:g} units analysed per cluster, ICC {design.icc:g})", fontsize=10)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def coefficient_plot(results, labels: list[str] | None = None, *, scale: float = 1.0,
                     unit: str = "", alpha: float = 0.05) -> Figure:
    """Estimates with 95 % CIs for any list of results that carry ``estimate``, ``ci_low``,
    ``ci_high`` and ``p_value`` (``EffectResult``, an ``EffectsTable``'s ``results``,
    ``CACEResult`` …), one row each, top to bottom in the given order. ``scale`` multiplies
    everything (100 for shares in percentage points); filled dots are p < ``alpha``, open
    dots not (shape, not only colour).

    Parameters
    ----------
    results : list
        Results with estimate, ci_low, ci_high and p_value, or an EffectsTable.
    labels : list of str, optional
        One label per result (default: the outcomes).
    scale : float
        Multiplies every number (100 for shares in percentage points).
    unit : str
        Unit named on the axis.
    alpha : float
        Level below which a dot is filled.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from evalkit.designs import compare_arms, simulate_trial
    >>> from evalkit.plotting import coefficient_plot
    >>> df = simulate_trial(n_clusters=12, cluster_size=10, icc=0.1, effect=0.5, seed=3)
    >>> r = compare_arms(df, "y", "treatment", "cluster", wild_reps=0, ri_reps=0)
    >>> coefficient_plot([r]).axes[0].get_xlabel()
    'Estimate with 95 % CI'
    """
    show_inline()
    results = list(getattr(results, "results", results))
    if not results:
        raise ValueError("no results to plot; expected a list of results")
    labels = labels or [getattr(r, "outcome", f"result {i + 1}") for i, r in enumerate(results)]
    if len(labels) != len(results):
        raise ValueError(f"{len(labels)} labels for {len(results)} results; expected one each")
    est = np.array([r.estimate for r in results]) * scale
    low = np.array([r.ci_low for r in results]) * scale
    high = np.array([r.ci_high for r in results]) * scale
    sig = np.array([r.p_value < alpha for r in results])
    y = np.arange(len(results))[::-1]
    fig = Figure(figsize=(7, 0.55 * len(results) + 1.4), dpi=100)
    ax = fig.subplots()
    ax.hlines(y, low, high, color="#0072B2", linewidth=2.2)
    ax.scatter(est[sig], y[sig], color="#0072B2", s=45, zorder=3, label=f"p < {alpha:g}")
    ax.scatter(est[~sig], y[~sig], facecolor="white", edgecolor="#0072B2", linewidth=1.6, s=45,
               zorder=3, label=f"p ≥ {alpha:g}")
    ax.axvline(0, color="#555555", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel("Estimate with 95 % CI" + (f" ({unit})" if unit else ""))
    ax.legend(loc="best", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
