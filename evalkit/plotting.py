"""Plots for researchers' notebooks (the result objects stay free of plotting code)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from evalkit.designs.power import PowerSolution, cluster_power


def power_curve(design: PowerSolution, clusters: range | None = None) -> Figure:
    """Power against the number of clusters for ``design``'s minimum detectable effect, with
    the design itself marked (and the 80 % line)."""
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
