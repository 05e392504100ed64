"""Synthetic exports for the seed programmes without CSI data: M'Lop Tapang, SKO, CCPCR and
MoSVY's national action plan. Each reproduces the seed figures exactly (see the programme's
MODEL.md), and everything not in the seeds is declared as synthetic there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.indices.family_assessment import AREAS
from evalkit.synth.people import names


def _shuffle(values: list, rng: np.random.Generator) -> np.ndarray:
    out = np.array(values, dtype=object)
    rng.shuffle(out)
    return out


# ----------------------------------------------------------------------------- M'Lop Tapang

# (lacked access before, gained it) — "X per cent reported having access ... when they did not
# have this before": read as a share of those who lacked access before (denominators unstated).
ACCESS = {"clean_water": (28, 7), "toilet": (36, 8), "transport": (17, 8), "electricity": (25, 6)}
ACCESS_LABELS = {"clean_water": "Clean water", "toilet": "Toilet",
                 "transport": "Transport (bicycle, motorbike)", "electricity": "Electricity"}


def mlop_tapang(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 50
    ids = [f"MLT-{i:03d}" for i in range(1, n + 1)]
    continuing = _shuffle([1] * 32 + [0] * 18, rng)
    cont_idx = np.flatnonzero(continuing == 1)
    higher = np.full(n, "", dtype=object)
    main = np.full(n, "", dtype=object)
    higher[cont_idx] = _shuffle([1] * 26 + [0] * 6, rng)  # 26/32 = 81 %
    main[cont_idx] = _shuffle([1] * 21 + [0] * 11, rng)  # 21/32 = 66 %
    followup = pd.DataFrame({
        "beneficiary_id": ids, "beneficiary_name": names(n, rng),
        "phone": np.char.add("0", rng.integers(10_000_000, 99_999_999, n).astype(str)),
        "business_type": rng.choice(["food stall", "grocery", "motorbike repair", "tailoring",
                                     "fishing", "phone credit"], n),
        "started": rng.choice(["2014", "2015", "2016"], n),
        "business_continuing": continuing, "income_increased": higher, "main_income": main,
    })
    rows = []
    before = {}
    after = {}
    for item, (lacked, gained) in ACCESS.items():
        b = np.ones(n, dtype=int)
        b[rng.choice(n, lacked, replace=False)] = 0
        a = b.copy()
        a[rng.choice(np.flatnonzero(b == 0), gained, replace=False)] = 1
        before[item], after[item] = b, a
    for label, values in (("before", before), ("after", after)):
        rows.append(pd.DataFrame({"beneficiary_id": ids, "round": label, **values}))
    access = pd.concat(rows, ignore_index=True)
    # household vulnerability at intake (ESFAM-style tiers, criteria in programme.yml)
    households = pd.DataFrame({
        "beneficiary_id": ids,
        "monthly_income_usd": np.round(rng.gamma(3.0, 30.0, n)).astype(int),
        "meals_per_day": rng.choice([1, 2, 3], n, p=[0.15, 0.45, 0.40]),
        "children_out_of_school": rng.choice([0, 1, 2], n, p=[0.6, 0.3, 0.1]),
        "debt_usd": np.round(rng.gamma(1.5, 120.0, n)).astype(int),
        "home_owner": rng.choice([0, 1], n, p=[0.45, 0.55]),
    })
    # alcohol support group: 65 attending drinkers since 2008, 10 stopped (15 %)
    members = 65
    status = _shuffle(["stopped"] * 10 + ["reduced"] * 27 + ["no change"] * 28, rng)
    alcohol = pd.DataFrame({"member_id": [f"ASG-{i:03d}" for i in range(1, members + 1)],
                            "member_name": names(members, rng),
                            "joined": rng.integers(2008, 2018, members),
                            "drinking_now": status})
    return {"business_followup.csv": followup, "access.csv": access,
            "households.csv": households, "alcohol_group.csv": alcohol}


# ----------------------------------------------------------------------------- SKO

RATING_COUNTS = {"PO++": 0, "PO+": 26, "PO+=": 40, "PO": 2}
# problems per type: (total, totally solved, partially solved, unsolved); totals 388 =
# 114 / 234 / 40; administrative 6/25 = 24 % and addiction 5/20 = 25 % unsolved, the highest.
PROBLEMS = {
    "economic": (120, 33, 77, 10),
    "education": (70, 24, 40, 6),
    "health": (80, 26, 47, 7),
    "psychosocial": (73, 22, 45, 6),
    "administrative": (25, 6, 13, 6),
    "addiction/substance use": (20, 3, 12, 5),
}
PROGRESS_AREAS = ("economic", "education", "health", "psychosocial", "administrative")


def sko(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ratings = _shuffle([r for r, k in RATING_COUNTS.items() for _ in range(k)], rng)
    n = len(ratings)
    case_ids = [f"SKO-{i:03d}" for i in range(1, n + 1)]
    start = pd.Timestamp("2017-07-01")
    closed = start + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    cases = pd.DataFrame({"case_id": case_ids, "family_name": names(n, rng),
                          "district": rng.choice(["Tuol Kouk", "Mean Chey", "Chbar Ampov"], n),
                          "closure_date": closed.strftime("%Y-%m-%d"),
                          "closure_rating": ratings})
    rows = []
    for kind, (total, full, part, unsolved) in PROBLEMS.items():
        for resolution, k in (("totally solved", full), ("partially solved", part), ("unsolved", unsolved)):
            rows += [(kind, resolution)] * k
    problems = pd.DataFrame(rows, columns=["problem_type", "resolution"])
    problems = problems.sample(frac=1, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    # every case has at least one problem; the rest are spread at random
    owner = np.concatenate([np.arange(n), rng.integers(0, n, len(problems) - n)])
    rng.shuffle(owner)
    problems.insert(0, "case_id", np.array(case_ids)[owner])
    problems.insert(0, "problem_id", [f"P-{i:04d}" for i in range(1, len(problems) + 1)])
    # progress form: five areas scored 1 (serious difficulty) .. 4 (no difficulty)
    quality = {"PO++": 1.2, "PO+": 0.9, "PO+=": 0.5, "PO": 0.0}
    base = rng.choice([1, 2, 3], size=(n, len(PROGRESS_AREAS)), p=[0.35, 0.45, 0.20])
    gain = rng.binomial(2, np.clip(np.array([quality[r] for r in ratings]) / 2, 0, 1)[:, None],
                        size=base.shape)
    end = np.clip(base + gain - rng.binomial(1, 0.08, base.shape), 1, 4)
    progress = pd.concat([
        pd.DataFrame({"case_id": case_ids, "assessment": "enrolment", **dict(zip(PROGRESS_AREAS, base.T))}),
        pd.DataFrame({"case_id": case_ids, "assessment": "completion", **dict(zip(PROGRESS_AREAS, end.T))}),
    ], ignore_index=True)
    return {"closed_cases.csv": cases, "problems.csv": problems, "progress_form.csv": progress}


# ----------------------------------------------------------------------------- CCPCR


def ccpcr(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 20
    ids = [f"CCPCR-{i:02d}" for i in range(1, n + 1)]
    intake = rng.choice([1, 2, 3, 4], size=(n, len(AREAS)), p=[0.25, 0.40, 0.25, 0.10])
    step = rng.choice([-1, 0, 1, 2], size=intake.shape, p=[0.07, 0.45, 0.38, 0.10])
    close = np.clip(intake + step, 1, 4)
    common = {"case_id": ids, "caregiver_name": names(n, rng),
              "village": rng.choice(["Prey Thmei", "Svay Chas", "Ta Kandal", "Kouk Leu"], n)}
    frames = [pd.DataFrame({**common, "assessment": "intake", **dict(zip(AREAS, intake.T))}),
              pd.DataFrame({**common, "assessment": "close", **dict(zip(AREAS, close.T))})]
    return {"family_assessment.csv": pd.concat(frames, ignore_index=True)}


# ----------------------------------------------------------------------------- MoSVY

# RCIs in 2015 by province (family preservation study, 2015 mapping; the five target provinces
# sum to the action-plan report's 267; other provinces are spread synthetically).
RCIS_2015 = {"Phnom Penh": 117, "Siem Reap": 80, "Battambang": 35, "Kandal": 20,
             "Preah Sihanouk": 15, "Kampong Thom": 23, "Kampot": 17, "Kampong Chhnang": 16,
             "Kampong Speu": 15}
OTHER_PROVINCES = ("Takeo", "Prey Veng", "Svay Rieng", "Kampong Cham", "Tboung Khmum", "Kratie",
                   "Koh Kong", "Pursat", "Banteay Meanchey", "Oddar Meanchey", "Preah Vihear",
                   "Stung Treng", "Ratanakiri", "Mondulkiri", "Pailin", "Kep")
TARGET = ("Phnom Penh", "Kandal", "Preah Sihanouk", "Battambang", "Siem Reap")
# children by year and sex: (girls, boys) — national (table 1) and five provinces (table 3)
NATIONAL = {2015: (7776, 8803), 2018: (3634, 4000), 2019: (3317, 3461)}
FIVE = {2015: (5607, 6181), 2018: (2451, 2309), 2019: (2149, 2060)}
WORKING_FIVE = {2015: 267, 2018: 147, 2019: 135}
WORKING_ALL = {2015: 406, 2018: 265, 2019: 232}  # 2018: 252 inspected + 13 without information
NO_INFO_2018 = 13
# what became of the 174 RCIs no longer working in 2019
FATES = [("closed", "failed minimum standards", 2), ("closed", "lack of funding and donor support", 43),
         ("closed", "other or not specified", 32), ("reclassified as community-based care", "", 24),
         ("transitioned to non-residential care", "", 73)]
COMPLIANCE_2019 = {"meets the standards": 98, "does not meet the standards": 59,
                   "critical situation": 75}
CTT = {"green": 1021, "yellow": 78, "red": 34, "not located": 199, "not yet updated": 87}
REINTEGRATED_SEX = {"F": 720, "M": 699}


def _split(total: int, parts: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` split into ``parts`` positive integers at random (exact sum)."""
    weights = rng.gamma(2.0, 1.0, parts)
    out = 1 + rng.multinomial(total - parts, weights / weights.sum())
    return out


def mosvy(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    provinces = []
    for province, k in RCIS_2015.items():
        provinces += [province] * k
    others = 406 - len(provinces)
    provinces += list(rng.choice(OTHER_PROVINCES, others))
    provinces = np.array(provinces)
    ids = np.array([f"RCI-{i:03d}" for i in range(1, 407)])
    in_five = np.isin(provinces, TARGET)
    work, no_info = _rcis_working(in_five, rng)
    gone = np.flatnonzero(~work[2019])
    fates = _shuffle([(s, r) for s, r, k in FATES for _ in range(k)], rng)
    fate_of = {int(i): fates[j] for j, i in enumerate(gone)}
    frames = []
    for year in (2015, 2018, 2019):
        counted = work[year].copy()
        if year == 2018:
            counted[no_info] = False
        frame = pd.DataFrame({"rci_id": ids, "province": provinces, "year": year,
                              **_rci_year(year, work[year], counted, in_five, fate_of, rng),
                              "compliance": ""})
        if year == 2018:
            frame.loc[no_info, "status"] = "working"
            frame.loc[no_info, "closure_reason"] = "no information at inspection"
        if year == 2019:
            comp = _shuffle([c for c, k in COMPLIANCE_2019.items() for _ in range(k)], rng)
            frame.loc[work[year], "compliance"] = comp
        frames.append(frame[work[year] | (year == 2019)])
    register = pd.concat(frames, ignore_index=True)
    return {"rci_register.csv": register, "reintegration.csv": _reintegrated(rng)}


def _rcis_working(in_five: np.ndarray, rng) -> tuple[dict, np.ndarray]:
    """Which RCIs still work in 2018 and 2019 (nested; the five provinces and the others
    drawn separately), and those of 2018 without information at inspection."""
    work = {2015: np.ones(406, dtype=bool)}
    idx5, idx_other = np.flatnonzero(in_five), np.flatnonzero(~in_five)
    w18 = np.concatenate([rng.choice(idx5, WORKING_FIVE[2018], replace=False),
                          rng.choice(idx_other, WORKING_ALL[2018] - WORKING_FIVE[2018], replace=False)])
    work[2018] = np.isin(np.arange(406), w18)
    w18_5, w18_o = np.intersect1d(w18, idx5), np.intersect1d(w18, idx_other)
    w19 = np.concatenate([rng.choice(w18_5, WORKING_FIVE[2019], replace=False),
                          rng.choice(w18_o, WORKING_ALL[2019] - WORKING_FIVE[2019], replace=False)])
    work[2019] = np.isin(np.arange(406), w19)
    no_info = rng.choice(np.intersect1d(np.flatnonzero(work[2018]), idx_other), NO_INFO_2018, replace=False)
    return work, no_info


def _rci_year(year: int, working, counted, in_five, fate_of: dict, rng) -> dict:
    """One year's status, closure reason and girls and boys of each RCI (counts split over
    the counted RCIs of the five provinces and of the others; blank where not counted)."""
    girls = np.zeros(406, dtype=object)
    boys = np.zeros(406, dtype=object)
    for mask, (g, b) in ((counted & in_five, FIVE[year]),
                         (counted & ~in_five, (NATIONAL[year][0] - FIVE[year][0],
                                               NATIONAL[year][1] - FIVE[year][1]))):
        k = int(mask.sum())
        girls[mask] = _split(g, k, rng)
        boys[mask] = _split(b, k, rng)
    status = np.where(working, "working", "").astype(object)
    reason = np.full(406, "", dtype=object)
    for i in np.flatnonzero(~working):
        status[i], reason[i] = fate_of.get(int(i), ("closed", "other or not specified"))
    girls[~counted] = ""
    boys[~counted] = ""
    return {"status": status, "closure_reason": reason, "girls": girls, "boys": boys}


def _reintegrated(rng) -> pd.DataFrame:
    """The children supported for reintegration (five provinces), with their tracking status."""
    n = sum(CTT.values())
    status = _shuffle([s for s, k in CTT.items() for _ in range(k)], rng)
    sex = _shuffle([s for s, k in REINTEGRATED_SEX.items() for _ in range(k)], rng)
    return pd.DataFrame({
        "child_id": [f"R-{i:04d}" for i in range(1, n + 1)],
        "child_name": names(n, rng),
        "date_of_birth": (pd.Timestamp("2004-01-01") + pd.to_timedelta(rng.integers(0, 5000, n), unit="D")).strftime("%Y-%m-%d"),
        "sex": sex,
        "province": rng.choice(TARGET, n, p=[0.35, 0.12, 0.08, 0.2, 0.25]),
        "reintegration_year": rng.choice([2016, 2017, 2018, 2019], n),
        "tracking_status": status,
    })
