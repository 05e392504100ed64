"""Synthetic CSI case-management exports for CCT, CFI and CIF, calibrated to the seed study.

Generating model (documented per programme in ``MODEL.md`` and ``truth.json``):

* each child's baseline score on each factor is drawn from a factor-specific distribution
  over 1–4, through a latent normal shared by the child's factors (correlation
  ``factor_correlation``), so that a vulnerable child tends to score low on several factors;
* every six months each factor moves one step up with probability ``p_up`` and one step down
  with probability ``p_down`` (scores stay within 1–4), independently across children;
* between assessments a child leaves the caseload (case closed, moved) with probability
  ``dropout``, independently of scores, so paired comparisons are unbiased for the model;
* factors 6A and 6B are "n/a" for children under 5 (where the programme allows it).

The expected mean of every factor in every round follows exactly from this Markov chain and
is written to ``truth.json`` so tests can check that the analyses recover it.

CCT is additionally *calibrated*: its 29 reassessed children reproduce the seed study's
"% improvement" table (read as relative change of the mean score) by the fewest single-step
adjustments of six-month scores after the random draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from evalkit.indices.csi import FACTORS, SEED_NAMES
from evalkit.synth.people import birth_dates, names, villages

# The seed table (CCT formative evaluation 2018, p. 41, cited in the family preservation
# study section 5.2): "% improvement" per factor, 29 cases, baseline vs six months.
CCT_PUBLISHED_IMPROVEMENT: dict[str, float] = {
    "Care": 10, "Emotional health": 4, "Food security": 12, "Health care services": 8,
    "Legal protection": 15, "Nutrition and growth": 7, "Performance": 0,
    "Protection from abuse and exploitation": 11, "Shelter": 20, "Social behaviour": 1,
    "Wellness": 5, "Work and education": 2,
}
_CODE_OF_SEED_NAME = {name: code for code, name in SEED_NAMES.items()}


@dataclass(frozen=True)
class CSIProgrammeSpec:
    """How one programme's synthetic CSI export is generated."""

    key: str
    province: str
    districts: tuple[str, ...]
    groups: dict[str, int]  # care group -> number of children
    rounds: int  # assessments per child if never lost (baseline = round 1)
    first_baseline: str
    last_baseline: str
    dropout: float
    baseline_probs: dict[str, tuple[float, float, float, float]]
    p_up: dict[str, dict[str, float]]  # group -> factor -> probability of one step up
    p_down: float
    reassessed: int | None = None  # exactly this many children get round 2 (CCT)
    calibrate_to: dict[str, float] = field(default_factory=dict)  # seed name -> % (CCT)
    not_applicable_under_5: bool = True
    factor_correlation: float = 0.5


def _transition(p_up: float, p_down: float) -> np.ndarray:
    """4x4 six-monthly transition matrix over scores 1..4 (rows: from, columns: to)."""
    matrix = np.zeros((4, 4))
    for s in range(4):
        up = p_up if s < 3 else 0.0
        down = p_down if s > 0 else 0.0
        matrix[s, s] = 1 - up - down
        if s < 3:
            matrix[s, s + 1] = up
        if s > 0:
            matrix[s, s - 1] = down
    return matrix


def expected_means(spec: CSIProgrammeSpec) -> dict[str, dict[str, list[float]]]:
    """Exact expected mean score per group, factor and round under the generating model."""
    out: dict[str, dict[str, list[float]]] = {}
    scores = np.arange(1, 5)
    for group in spec.groups:
        out[group] = {}
        for code in FACTORS:
            dist = np.asarray(spec.baseline_probs[code], dtype=float)
            step = _transition(spec.p_up[group][code], spec.p_down)
            means = []
            for _ in range(spec.rounds):
                means.append(float(dist @ scores))
                dist = dist @ step
            out[group][code] = means
    return out


def _p_up_for(relative_change_pct: float, probs: tuple[float, ...], p_down: float) -> float:
    """p_up giving an expected relative change of the mean after one step."""
    probs_arr = np.asarray(probs)
    mean = probs_arr @ np.arange(1, 5)
    target = relative_change_pct / 100 * mean
    return float((target + p_down * probs_arr[1:].sum()) / probs_arr[:3].sum())


def _calibrate(before: np.ndarray, after: np.ndarray, target_pct: float,
               rng: np.random.Generator) -> np.ndarray:
    """Adjust ``after`` by single steps until sum(after)/sum(before) − 1 is nearest target."""
    after = after.copy()
    goal = int(round(before.sum() * (1 + target_pct / 100)))
    while after.sum() != goal:
        if after.sum() < goal:
            # prefer children who did not improve, so the change stays spread out
            candidates = np.flatnonzero((after < 4) & (after <= before))
            if candidates.size == 0:
                candidates = np.flatnonzero(after < 4)
            after[rng.choice(candidates)] += 1
        else:
            candidates = np.flatnonzero((after > 1) & (after > before))
            if candidates.size == 0:
                candidates = np.flatnonzero(after > 1)
            after[rng.choice(candidates)] -= 1
    return after


ASSESSORS = tuple(f"SW-{i:02d}" for i in range(1, 9))


def generate(spec: CSIProgrammeSpec, seed: int) -> pd.DataFrame:
    """One row per child and assessment, shaped like an OSCaR-style export."""
    rng = np.random.default_rng(seed)
    place = villages(spec.province, 3, rng, districts=spec.districts)
    group_of = np.concatenate([[g] * n for g, n in spec.groups.items()])
    n = len(group_of)
    rng.shuffle(group_of)
    ids = np.array([f"{spec.key.upper()}-{i:04d}" for i in range(1, n + 1)])
    ages = rng.integers(0, 18, size=n)
    start, end = pd.Timestamp(spec.first_baseline), pd.Timestamp(spec.last_baseline)
    baseline_dates = pd.Series(start + pd.to_timedelta(rng.integers(0, (end - start).days + 1, n), unit="D"))
    dob = birth_dates(ages, pd.Timestamp(spec.first_baseline), rng)
    sexes = rng.choice(["F", "M"], size=n)
    home = place.iloc[rng.integers(0, len(place), size=n)].reset_index(drop=True)
    assessor = rng.choice(ASSESSORS, size=n)

    scores = _baseline_scores(spec, n, rng)
    rows_scores, present = _later_rounds(spec, scores, group_of, ages, rng)
    if spec.calibrate_to:
        pair = present[1]
        for seed_name, pct in spec.calibrate_to.items():
            j = FACTORS.index(_CODE_OF_SEED_NAME[seed_name])
            rows_scores[1][pair, j] = _calibrate(rows_scores[0][pair, j], rows_scores[1][pair, j], pct, rng)

    frames = []
    for r, (round_scores, here) in enumerate(zip(rows_scores, present), start=1):
        jitter = rng.integers(-14, 15, size=n)
        dates = baseline_dates + pd.to_timedelta((r - 1) * 182 + (jitter if r > 1 else 0), unit="D")
        age_now = ((dates - dob).dt.days // 365.25).astype(int)
        frame = pd.DataFrame({
            "client_id": ids,
            "child_name": names(n, np.random.default_rng(seed + 7)),  # same name every round
            "date_of_birth": dob.dt.strftime("%Y-%m-%d"),
            "sex": sexes,
            "age": age_now,
            "care_type": group_of,
            "village": home["village"],
            "commune": home["commune"],
            "district": home["district"],
            "province": home["province"],
            "assessment_number": r,
            "assessment_date": dates.dt.strftime("%Y-%m-%d"),
            "assessor": assessor if r == 1 else rng.choice(ASSESSORS, size=n),
        })
        text = round_scores.astype(str).astype(object)
        if spec.not_applicable_under_5:  # school performance does not apply under 5
            text[np.ix_((age_now < 5).to_numpy(), [FACTORS.index("6A"), FACTORS.index("6B")])] = "n/a"
        frame[list(FACTORS)] = text
        frames.append(frame[here])
    export = pd.concat(frames, ignore_index=True)
    if len(spec.groups) == 1:
        export = export.drop(columns="care_type")
    return export.sort_values(["assessment_date", "client_id"], kind="stable").reset_index(drop=True)


def _baseline_scores(spec: CSIProgrammeSpec, n: int, rng) -> np.ndarray:
    """Baseline scores: thresholded latent normals, a child effect shared across factors;
    each factor's marginal distribution is exactly ``baseline_probs``."""
    rho = spec.factor_correlation
    latent = (np.sqrt(rho) * rng.standard_normal((n, 1))
              + np.sqrt(1 - rho) * rng.standard_normal((n, len(FACTORS))))
    scores = np.empty((n, len(FACTORS)), dtype=int)
    for j, code in enumerate(FACTORS):
        cuts = norm.ppf(np.cumsum(spec.baseline_probs[code])[:3])
        scores[:, j] = 1 + np.searchsorted(cuts, latent[:, j])
    return scores


def _later_rounds(spec: CSIProgrammeSpec, scores: np.ndarray, group_of, ages, rng) -> tuple:
    """Each round's scores (a step up or down from the last) and who is assessed in it: the
    reassessed children (CCT: school-age, so every factor applies), else those still there
    after dropout."""
    n = len(scores)
    if spec.reassessed is not None:
        eligible = np.flatnonzero(ages >= 5)
        reassessed = np.zeros(n, dtype=bool)
        reassessed[rng.choice(eligible, size=spec.reassessed, replace=False)] = True
    rows_scores = [scores.copy()]
    present = [np.ones(n, dtype=bool)]
    p_up = np.array([[spec.p_up[g][c] for c in FACTORS] for g in group_of])
    for _ in range(1, spec.rounds):
        draw = rng.random(scores.shape)
        up = (draw < p_up) & (scores < 4)
        down = (draw > 1 - spec.p_down) & (scores > 1)
        scores = scores + up.astype(int) - down.astype(int)
        if spec.reassessed is not None:
            still = reassessed.copy()
        else:
            still = present[-1] & (rng.random(n) >= spec.dropout)
        rows_scores.append(scores.copy())
        present.append(still)
    return rows_scores, present


def _probs(shift: float) -> tuple[float, float, float, float]:
    """A baseline distribution over 1..4, worse for larger ``shift``."""
    base = np.array([0.03, 0.12, 0.50, 0.35])
    worse = np.array([0.25, 0.40, 0.27, 0.08])
    p = (1 - shift) * base + shift * worse
    return tuple(float(x) for x in p / p.sum())


_CCT_BASE = {code: _probs(0.5) for code in FACTORS}
_CCT_BASE.update({"2A": _probs(0.9), "3B": _probs(0.8), "1A": _probs(0.7)})
_CCT_P_DOWN = 0.04

CCT = CSIProgrammeSpec(
    key="cct", province="Battambang", districts=("Sangkae", "Banan"),
    groups={"family preservation": 219}, rounds=2,
    first_baseline="2016-10-03", last_baseline="2017-12-20", dropout=0.0,
    baseline_probs=_CCT_BASE,
    p_up={"family preservation": {
        code: _p_up_for(CCT_PUBLISHED_IMPROVEMENT[SEED_NAMES[code]], _CCT_BASE[code], _CCT_P_DOWN)
        for code in FACTORS}},
    p_down=_CCT_P_DOWN, reassessed=29, calibrate_to=CCT_PUBLISHED_IMPROVEMENT,
    not_applicable_under_5=True,
)

_CFI_BASE = {code: _probs(0.35) for code in FACTORS}
_CFI_BASE.update({"1A": _probs(0.6), "4B": _probs(0.5), "6B": _probs(0.5)})
CFI = CSIProgrammeSpec(
    key="cfi", province="Battambang", districts=("Sangkae", "Banan"),
    groups={"family support": 280}, rounds=5,
    first_baseline="2016-07-01", last_baseline="2016-12-31", dropout=0.08,
    baseline_probs=_CFI_BASE,
    p_up={"family support": {
        "1A": 0.22, "1B": 0.18, "2A": 0.15, "2B": 0.20, "3A": 0.12, "3B": 0.25,
        "4A": 0.18, "4B": 0.22, "5A": 0.12, "5B": 0.10, "6A": 0.14, "6B": 0.14}},
    p_down=0.025,
)

_CIF_BASE = {code: _probs(0.2) for code in FACTORS}
_CIF_BASE.update({"2B": _probs(0.45), "5A": _probs(0.45), "3B": _probs(0.4)})
CIF = CSIProgrammeSpec(
    key="cif", province="Kandal", districts=("Kien Svay", "Ta Khmau"),
    groups={"foster": 95, "kinship": 180}, rounds=4,
    first_baseline="2017-01-09", last_baseline="2017-06-30", dropout=0.05,
    baseline_probs=_CIF_BASE,
    p_up={
        "foster": {"1A": 0.20, "1B": 0.20, "2A": 0.18, "2B": 0.22, "3A": 0.15, "3B": 0.20,
                   "4A": 0.18, "4B": 0.20, "5A": 0.16, "5B": 0.14, "6A": 0.15, "6B": 0.15},
        "kinship": {"1A": 0.14, "1B": 0.14, "2A": 0.12, "2B": 0.15, "3A": 0.10, "3B": 0.14,
                    "4A": 0.12, "4B": 0.14, "5A": 0.11, "5B": 0.10, "6A": 0.10, "6B": 0.10},
    },
    p_down=0.02,
)

SPECS = {"cct": CCT, "cfi": CFI, "cif": CIF}
