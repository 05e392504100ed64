"""Synthetic people and places shaped like a Cambodian NGO's case-management export.

Names and dates of birth are generated on purpose: they exercise the privacy guard, which
must keep them out of every report. None of them belongs to a real child.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FAMILY_NAMES = ("Sok", "Chan", "Kim", "Heng", "Meas", "Ly", "Phan", "Keo", "Chea", "Pich",
                "Sam", "Touch", "Yim", "Nhem", "Ouk", "Seng", "Mao", "Hun", "Prak", "Nget")
GIVEN_NAMES = ("Dara", "Sophea", "Vanna", "Sreymom", "Bopha", "Rithy", "Visal", "Chenda",
               "Kosal", "Sokha", "Piseth", "Sreyneang", "Nary", "Vuthy", "Malis", "Thida",
               "Rotha", "Sovann", "Kanha", "Leakhena", "Panha", "Raksmey", "Sothea", "Vichet")

# Districts and communes (real administrative names), villages (synthetic names).
GEOGRAPHY = {
    "Battambang": {
        "Sangkae": ("Anlong Vil", "Norea", "Ta Pon", "Roka", "Kampong Preah", "Kampong Prieng",
                    "Reang Kesei", "Ou Dambang Muoy"),
        "Banan": ("Kantueu Muoy", "Kantueu Pir", "Bay Damram", "Chheu Teal"),
    },
    "Kandal": {
        "Kien Svay": ("Kokir", "Dei Edth", "Kbal Kaoh", "Samraong Thom"),
        "Ta Khmau": ("Ta Khmau", "Prek Ruessei", "Kampong Samnanh", "Takdol"),
    },
}
_VILLAGE_PARTS = (("Phum", "Kouk", "Prey", "Ta", "Svay", "Trapeang", "Boeung", "Ou", "Chrey"),
                  ("Thmei", "Chas", "Leu", "Kraom", "Kandal", "Khang Tboung", "Khang Cheung", "Sala"))


def villages(province: str, n_per_commune: int, rng: np.random.Generator,
             districts: tuple[str, ...] | None = None, communes_per_district: int | None = None,
             ) -> pd.DataFrame:
    """Village table: ``village, commune, district, province`` (village names synthetic)."""
    rows = []
    used: set[str] = set()
    for district, communes in GEOGRAPHY[province].items():
        if districts is not None and district not in districts:
            continue
        for commune in communes[:communes_per_district]:
            for _ in range(n_per_commune):
                while True:
                    name = f"{rng.choice(_VILLAGE_PARTS[0])} {rng.choice(_VILLAGE_PARTS[1])}"
                    if name not in used:
                        used.add(name)
                        break
                rows.append((name, commune, district, province))
    return pd.DataFrame(rows, columns=["village", "commune", "district", "province"])


def names(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` synthetic full names, family name first (Khmer order)."""
    family = rng.choice(FAMILY_NAMES, size=n)
    given = rng.choice(GIVEN_NAMES, size=n)
    return np.char.add(np.char.add(family.astype(str), " "), given.astype(str))


def birth_dates(ages: np.ndarray, on: pd.Timestamp, rng: np.random.Generator) -> pd.Series:
    """Dates of birth giving whole ``ages`` (years) on date ``on``."""
    days = (np.asarray(ages) * 365.25 + rng.integers(0, 365, size=len(ages))).astype(int)
    return pd.Series(on - pd.to_timedelta(days, unit="D")).dt.normalize()
