"""Designs: pure statistical analyses of evaluation designs (DataFrame in, result out).

Everything the README names is importable from here. Option strings (``se="cr2"``,
``estimator="ANCOVA"``, ``kind="Binary"``) are matched in any case.
"""

from evalkit.designs.assignment import Assignment, assign
from evalkit.designs.beyond_itt import (AttritionTest, CACEResult, LeeBounds, SubgroupEffects,
                                        attrition_test, cace, lee_bounds, subgroup_effects)
from evalkit.designs.cluster_trial import (BalanceTable, DesignWarning, EffectResult,
                                           EffectsTable, balance_table, compare_arms,
                                           compare_outcomes, twfe_did)
from evalkit.designs.diagnosis import Diagnosis, TrialDesign, diagnose, simulate_trial
from evalkit.designs.models import Coefficient, ModelResult, estimate
from evalkit.designs.multiple import benjamini_hochberg, holm
from evalkit.designs.panel import PairedRounds, pair_rounds
from evalkit.designs.paired import (CAVEAT, GroupChanges, PrePostResult, TrajectoryResult,
                                    compare_changes, prepost, trajectory)
from evalkit.designs.power import (ICCResult, PowerSolution, cluster_mde, cluster_power, icc,
                                   solve_design)

__all__ = ["Assignment", "assign", "AttritionTest", "attrition_test", "BalanceTable", "CACEResult", "CAVEAT", "LeeBounds", "SubgroupEffects", "cace",
           "lee_bounds", "subgroup_effects", "DesignWarning", "EffectResult", "EffectsTable",
           "GroupChanges", "ICCResult", "PrePostResult", "TrajectoryResult", "balance_table",
           "benjamini_hochberg", "cluster_mde", "cluster_power", "compare_arms",
           "compare_changes", "compare_outcomes", "holm", "icc", "prepost", "trajectory",
           "twfe_did", "PowerSolution", "solve_design", "PairedRounds", "pair_rounds",
           "Coefficient", "ModelResult", "estimate", "Diagnosis", "TrialDesign", "diagnose",
           "simulate_trial"]
