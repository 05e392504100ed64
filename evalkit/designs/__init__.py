"""Designs: pure statistical analyses of evaluation designs (DataFrame in, result out)."""

from evalkit.designs.cluster_trial import (BalanceTable, DesignWarning, EffectResult,
                                           EffectsTable, balance_table, compare_arms,
                                           compare_outcomes, twfe_did)
from evalkit.designs.multiple import benjamini_hochberg, holm
from evalkit.designs.power import ICCResult, cluster_mde, cluster_power, icc

__all__ = ["BalanceTable", "DesignWarning", "EffectResult", "EffectsTable", "ICCResult",
           "balance_table", "benjamini_hochberg", "cluster_mde", "cluster_power",
           "compare_arms", "compare_outcomes", "holm", "icc", "twfe_did"]
