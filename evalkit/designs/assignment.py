"""Design stage: draw the assignment of clusters (or individuals) to treatment.

:func:`assign` randomises units within strata, or within pairs matched on baseline
characteristics, with a seed, and optionally re-randomises until the arms are balanced on
chosen characteristics (Morgan and Rubin 2012). It returns an :class:`Assignment`: the
assignment table, its balance check, and the procedure, which
:func:`~evalkit.designs.compare_arms` and :func:`~evalkit.designs.balance_table` take
(``assignment=``) so that randomisation inference re-draws exactly as the design drew.
Writing the table is the caller's: ``result.table.to_csv(...)`` or ``.to_excel(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from evalkit.data.columns import numbers, require_columns
from evalkit.designs._randomisation import Procedure, random_assignments
from evalkit.designs.cluster_trial import balance_table
from evalkit.display import fmt, html_table, p_phrase
from evalkit.errors import DataError
from evalkit.lazy import lazy

stats = lazy("scipy.stats")

MAX_TRIES = 1_000_000


def mahalanobis_criterion(X: np.ndarray, n_treated: int, threshold: float):
    """accept(Z): Mahalanobis distance between the arms' means of X (units x k) at most
    ``threshold``, for every column of the units x draws matrix Z."""
    n = len(X)
    n_control = n - n_treated
    cov = np.cov(X, rowvar=False, ddof=1).reshape(X.shape[1], X.shape[1])
    inverse = np.linalg.pinv(cov * (1 / n_treated + 1 / n_control))

    def distance(Z: np.ndarray) -> np.ndarray:
        treated_sum = X.T @ Z  # k x B
        total = X.sum(axis=0)[:, None]
        d = treated_sum / n_treated - (total - treated_sum) / n_control
        return np.einsum("kb,kl,lb->b", d, inverse, d)

    return distance


@dataclass(frozen=True, eq=False, repr=False)
class Assignment:
    """A drawn assignment: ``table`` (one row per unit: the unit, its stratum or pair, its
    ``treatment`` 0/1 and the unit-level means of the balance characteristics), the seed and
    the procedure, and ``balance`` (a :class:`~evalkit.designs.BalanceTable` whose joint test
    re-draws by the same procedure)."""

    table: pd.DataFrame = field(repr=False)
    unit: str
    seed: int
    share: float
    strata: str | None = None
    pairs: tuple[str, ...] = ()
    balance_on: tuple[str, ...] = ()
    rerandomise: float | None = None
    threshold: float | None = None
    distance: float | None = None
    tries: int = 1
    balance: object | None = None

    @property
    def n_treated(self) -> int:
        return int(self.table["treatment"].sum())

    @property
    def n_units(self) -> int:
        return len(self.table)

    def _strata_codes(self) -> np.ndarray:
        key = self.table["pair"] if "pair" in self.table else (
            self.table["stratum"] if "stratum" in self.table else pd.Series(0, index=self.table.index))
        return pd.factorize(key, sort=True)[0].astype(np.int64)

    def criterion_text(self) -> str:
        if self.rerandomise is None:
            return ""
        return (f"a Mahalanobis distance on {', '.join(self.balance_on)} of at most "
                f"{self.threshold:.3f}, {self.rerandomise:.0%} acceptance")

    def procedure(self, select: np.ndarray | None = None) -> Procedure:
        """The procedure that drew this assignment, restricted to the units ``select``."""
        accept = None
        if self.rerandomise is not None:
            X = self.table[list(self.balance_on)].to_numpy(dtype=float)
            distance = mahalanobis_criterion(X, self.n_treated, self.threshold)
            accept = (lambda Z: distance(Z) <= self.threshold + 1e-12)
        return Procedure(self._strata_codes(), accept=accept, select=select,
                         criterion=self.criterion_text(),
                         observed=self.table["treatment"].to_numpy(dtype=float))

    def to_frame(self) -> pd.DataFrame:
        """The assignment table: ``unit`` column, ``stratum``/``pair`` when used,
        ``treatment`` (1 treated, 0 control) and the balance characteristics."""
        return self.table.copy()

    def _lines(self) -> list[str]:
        design = ("pairs matched on " + ", ".join(self.pairs) if self.pairs
                  else f"within {self.strata}" if self.strata else "complete randomisation")
        lines = [f"{self.n_treated} of {self.n_units} units ({self.unit!r}) assigned to treatment "
                 f"({design}; seed {self.seed})"]
        if self.rerandomise is not None:
            lines.append(f"re-randomised until {self.criterion_text()}; accepted draw "
                         f"{self.tries:,} (distance {fmt(self.distance)})")
        if self.balance is not None:
            lines.append(f"balance: joint test {p_phrase(self.balance.omnibus_p)} "
                         f"({self.balance.omnibus_method})")
        return lines

    def summary(self) -> str:
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return f"<Assignment: {'; '.join(self._lines())}>"

    def _repr_html_(self) -> str:
        group = self.table["stratum"] if "stratum" in self.table else pd.Series("all", index=self.table.index)
        counts = self.table.groupby(group.to_numpy(), sort=True)["treatment"].agg(["sum", "count"])
        rows = [(str(s), int(r["sum"]), int(r["count"] - r["sum"])) for s, r in counts.iterrows()]
        return html_table(f"Assignment of {self.unit}", ["Stratum", "Treatment", "Control"], rows,
                          " ".join(line[0].upper() + line[1:] + "." for line in self._lines()))


def _units(data: pd.DataFrame, unit: str | None, columns: list[str], strata: str | None,
           source: str) -> tuple[pd.DataFrame, str]:
    """One row per unit of assignment: characteristics averaged within the unit, the stratum
    required constant within it."""
    if unit is None:
        frame = data[[c for c in columns + ([strata] if strata else [])]].copy()
        frame.insert(0, "unit", data.index.to_numpy())
        return frame.reset_index(drop=True), "unit"
    _require_unit_values(data, columns + ([strata] if strata else []) + [unit], source)
    if strata:
        _require_one_stratum(data, unit, strata, source)
    grouped = data.groupby(unit, sort=True)
    frame = pd.DataFrame({unit: list(grouped.groups)})
    if strata:
        frame[strata] = grouped[strata].first().to_numpy()
    if columns:  # checked as numbers row by row (a bad cell is named), then averaged per unit
        values = pd.DataFrame({c: numbers(data, c) for c in columns}).assign(**{unit: data[unit]})
        means = values.groupby(unit, sort=True)[columns].mean()
        for column in columns:
            frame[column] = means[column].to_numpy()
    return frame, unit


def _require_unit_values(data: pd.DataFrame, columns: list[str], source: str) -> None:
    """Refuse the first missing value of the columns an assignment needs, naming its row."""
    for column in columns:
        blank = data[column].isna()
        if blank.any():
            row = data.index[np.flatnonzero(blank.to_numpy())[0]]
            raise DataError(f"{source}, row {row}, column {column!r}: the value is missing; "
                            "expected one for every unit to be assigned.")


def _require_one_stratum(data: pd.DataFrame, unit: str, strata: str, source: str) -> None:
    """Refuse a unit of assignment lying in several strata."""
    per = data.groupby(unit, sort=True)[strata].nunique()
    if (per > 1).any():
        raise DataError(f"{source}, column {strata!r}: {unit} {per.index[per > 1][0]!r} lies in "
                        f"several strata; expected one {strata} per {unit}.")


def _check_options(share, pairs, balance_on, rerandomise) -> None:
    """One sentence for a share, pairing or re-randomisation that cannot be drawn."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
        raise ValueError(f"share is {share!r}; expected a number between 0 and 1 (the share treated).")
    if pairs and share != 0.5:
        raise ValueError("pairs assign one of each pair to treatment, so share must be 0.5.")
    if rerandomise is None:
        return
    accept = (f"rerandomise is {rerandomise!r}; expected the share of draws to accept, between "
              "0 and 1 (for example 0.1).")
    if isinstance(rerandomise, bool) or not isinstance(rerandomise, (int, float)):
        raise ValueError(accept)
    if not balance_on:
        raise ValueError("rerandomise needs balance_on=[...]: the characteristics to balance.")
    if not 0 < rerandomise < 1:
        raise ValueError(accept)


def _pair_labels(units: pd.DataFrame, groups: np.ndarray, pairs: tuple[str, ...]) -> np.ndarray:
    """Each unit's pair ('stratum:number'), units sorted on ``pairs`` within their stratum and
    paired in that order; the last of an odd stratum is 'stratum:unmatched'."""
    pair = np.empty(len(units), dtype=object)
    for s in pd.unique(groups):
        idx = np.flatnonzero(groups == s)
        order = idx[np.lexsort([units[c].to_numpy()[idx] for c in reversed(pairs)])]
        for k, position in enumerate(order):
            leftover = len(order) % 2 == 1 and k == len(order) - 1
            pair[position] = f"{s}:{'unmatched' if leftover else k // 2 + 1}"
    return pair


def _template(codes: np.ndarray, share: float, rng, source: str) -> np.ndarray:
    """A 0/1 vector with ``share`` of each block treated (a fractional unit drawn at random)."""
    template = np.zeros(len(codes))
    for s in np.unique(codes):
        idx = np.flatnonzero(codes == s)
        exact = share * len(idx)
        count = int(np.floor(exact)) + int(rng.random() < exact - np.floor(exact))
        template[idx[:count]] = 1.0
    if not 0 < template.sum() < len(template):
        raise DataError(f"{source}: with {len(template)} units and share {share}, every unit falls "
                        "in one arm; expected units in both arms.")
    return template


def _draw(template, codes, distance_fn, threshold, rng) -> tuple[np.ndarray, int]:
    """(the assignment, draws made): one permutation within blocks, or the first of batches
    of 500 whose Mahalanobis distance is within ``threshold``."""
    if distance_fn is None:
        return random_assignments(template, codes, 1, rng)[:, 0], 1
    tries = 0
    while tries <= MAX_TRIES:
        batch = random_assignments(template, codes, 500, rng)
        ok = np.flatnonzero(distance_fn(batch) <= threshold)
        if ok.size:
            return batch[:, ok[0]], tries + int(ok[0]) + 1
        tries += batch.shape[1]
    raise ValueError(f"no draw met the re-randomisation criterion in {MAX_TRIES:,} tries; "
                     "raise rerandomise or balance on fewer characteristics.")


def assign(data: pd.DataFrame, unit: str | None = None, *, seed: int, strata: str | None = None,
           pairs: Sequence[str] | str | None = None, share: float = 0.5,
           balance_on: Sequence[str] = (), rerandomise: float | None = None,
           ri_reps: int = 2000) -> Assignment:
    """Randomly assign units to treatment.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit, or several rows per unit (their characteristics are averaged
        within the unit).
    unit : str, optional
        The column naming the unit assigned (a village); None assigns rows (individuals),
        identified by the data's index.
    seed : int
        The random seed (required, so that the draw can be reproduced and audited).
    strata : str, optional
        Assign within these strata: in each, ``share`` of the units are treated (when that
        is not a whole number, one more unit is treated with probability equal to the
        fraction, drawn with the same seed).
    pairs : str or list of str, optional
        Characteristics to match pairs on: within each stratum units are sorted by them (in
        the order given) and neighbours form a pair, one of which is treated; an odd unit
        left over is its own stratum. Needs ``share=0.5``.
    share : float
        Share of units treated, between 0 and 1.
    balance_on : list of str
        Characteristics checked for balance (``Assignment.balance``) and, with
        ``rerandomise``, used in the criterion.
    rerandomise : float, optional
        Re-draw until the Mahalanobis distance between the arms' means of ``balance_on`` is
        at most its ``rerandomise`` quantile under the chi-squared approximation (0.1 keeps
        about the best tenth of draws; Morgan and Rubin 2012).
    ri_reps : int
        Re-draws for the joint balance test.

    Returns
    -------
    Assignment
        Pass it to :func:`~evalkit.designs.compare_arms` as ``assignment=``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import assign
    >>> villages = pd.DataFrame({"village": list("ABCDEFGH"), "commune": [1, 1, 1, 1, 2, 2, 2, 2]})
    >>> drawn = assign(villages, "village", strata="commune", seed=2026)
    >>> drawn.table.groupby("stratum")["treatment"].sum().tolist()
    [2, 2]
    """
    source = data.attrs.get("source", "data frame")
    pairs = (pairs,) if isinstance(pairs, str) else tuple(pairs or ())
    balance_on = (balance_on,) if isinstance(balance_on, str) else tuple(balance_on)
    _check_options(share, pairs, balance_on, rerandomise)
    wanted = list(dict.fromkeys(list(balance_on) + list(pairs)))
    require_columns(data, wanted + [c for c in (unit, strata) if c], "needed for the assignment")
    units, unit_name = _units(data, unit, wanted, strata, source)
    _numbers_for_every_unit(units, wanted, source)
    rng = np.random.default_rng(seed)
    stratum = (units[strata].astype(str) if strata else pd.Series("all", index=units.index))
    table = pd.DataFrame({unit_name: units[unit_name].to_numpy()})
    if strata:
        table["stratum"] = units[strata].to_numpy()
    groups = stratum.to_numpy()
    if pairs:
        groups = table["pair"] = _pair_labels(units, groups, pairs)
    codes = pd.factorize(pd.Series(groups), sort=True)[0]
    template = _template(codes, share, rng, source)
    threshold, distance_fn = _acceptance(units, balance_on, rerandomise, template)
    z, tries = _draw(template, codes, distance_fn, threshold, rng)
    table["treatment"] = z.astype(int)
    for column in balance_on:
        table[column] = units[column].to_numpy()
    result = Assignment(table=table, unit=unit_name, seed=seed, share=share, strata=strata,
                        pairs=pairs, balance_on=balance_on, rerandomise=rerandomise,
                        threshold=threshold, tries=tries,
                        distance=None if distance_fn is None else float(distance_fn(z[:, None])[0]))
    if not balance_on:
        return result
    frame = table.copy()
    frame.attrs["source"] = "the assignment table"
    return replace(result, balance=balance_table(frame, list(balance_on), "treatment",
                                                 cluster=unit_name, assignment=result,
                                                 ri_reps=ri_reps, seed=seed))


def _numbers_for_every_unit(units: pd.DataFrame, columns: list[str], source: str) -> None:
    """The balance and pairing columns as numbers (in place), refusing a missing one."""
    for column in columns:
        values = numbers(units, column)
        if values.isna().any():
            raise DataError(f"{source}, column {column!r}: missing for some units; expected a "
                            "number for every unit to be assigned.")
        units[column] = values.to_numpy(dtype=float)


def _acceptance(units: pd.DataFrame, balance_on: tuple, rerandomise: float | None, template):
    """Re-randomisation's threshold on the Mahalanobis distance (the chi-square quantile
    ``rerandomise``) and the distance of a draw; (None, None) without re-randomisation."""
    if rerandomise is None:
        return None, None
    threshold = float(stats.chi2.ppf(rerandomise, len(balance_on)))
    return threshold, mahalanobis_criterion(units[list(balance_on)].to_numpy(float),
                                            int(template.sum()), threshold)
