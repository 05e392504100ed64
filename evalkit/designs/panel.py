"""Reshaping survey rounds: pair each unit's two rounds side by side, counting who was lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from evalkit.errors import DataError
from evalkit.data.columns import show, where
from evalkit.data.columns import require_columns


@dataclass(frozen=True, eq=False)
class PairedRounds:
    """Units seen in both rounds, side by side, and the counts of those seen in one only.

    ``wide`` has one row per unit seen in the ``after`` round, with the after-round columns
    under their own names and the before-round values of ``columns`` as ``<column>_before``
    (missing for units first seen after).
    """

    wide: pd.DataFrame = field(repr=False)
    before: Any
    after: Any
    units_before: int
    units_after: int
    units_both: int
    only_before: int
    only_after: int


def pair_rounds(data: pd.DataFrame, unit: str, round: str, before: Any, after: Any,
                columns: Sequence[str]) -> PairedRounds:
    """Pair rounds ``before`` and ``after`` of long data (one row per unit and round).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per unit and round.
    unit, round : str
        The unit and round columns.
    before, after : object
        The rounds to pair.
    columns : list of str
        Columns whose before-round values are put beside the after round's (as
        ``<column>_before``).

    Returns
    -------
    PairedRounds

    Examples
    --------
    >>> import pandas as pd
    >>> from evalkit.designs import pair_rounds
    >>> long = pd.DataFrame({"hh": [1, 2, 3, 1, 2], "round": [0, 0, 0, 1, 1],
    ...                      "y": [5, 6, 7, 6, 8]})
    >>> p = pair_rounds(long, "hh", "round", 0, 1, ["y"])
    >>> p.wide["y_before"].tolist(), p.only_before
    ([5, 6], 1)
    """
    require_columns(data, [unit, round, *columns])
    if isinstance(before, (int, float)) and isinstance(after, (int, float)) \
            and not pd.api.types.is_numeric_dtype(data[round]):
        as_number = pd.to_numeric(data[round].astype("string").str.strip(), errors="coerce")
        if as_number.notna().all():  # rounds written as text in a CSV, asked for as numbers
            data = data.assign(**{round: as_number})
    in_rounds = data[round].isin([before, after]).to_numpy()
    keys = data[[unit, round]]
    duplicated = keys.duplicated(keep="first").to_numpy() & in_rounds
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DataError(f"{where(data, row)}, columns {unit!r}/{round!r}: unit "
                        f"{show(data[unit].iloc[row])} appears twice in round "
                        f"{show(data[round].iloc[row])}; expected one row per unit and round.")
    first = data.loc[data[round] == before, [unit, *columns]]
    second = data.loc[data[round] == after]
    if first.empty or second.empty:
        missing = before if first.empty else after
        raise DataError(f"{data.attrs.get('source', 'data frame')}, column {round!r}: no row in "
                        f"round {show(missing)}; expected both {show(before)} and {show(after)}.")
    renamed = first.rename(columns={c: f"{c}_before" for c in columns})
    wide = second.merge(renamed, on=unit, how="left", validate="one_to_one")
    wide.attrs = dict(data.attrs)
    ids_b, ids_a = set(first[unit]), set(second[unit])
    return PairedRounds(wide=wide, before=before, after=after, units_before=len(ids_b),
                        units_after=len(ids_a), units_both=len(ids_b & ids_a),
                        only_before=len(ids_b - ids_a), only_after=len(ids_a - ids_b))
