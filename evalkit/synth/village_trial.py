"""Synthetic household survey for CCT's village campaign trial (seed study, section 5.2).

Design: the 36 villages where CCT works, in 8 communes, split 18 / 18 by complete
randomisation within commune; the campaign (brochures on the harms of residential care,
village-chief education sessions) runs in treatment villages. About 20 households per village
are interviewed at baseline and re-interviewed at endline; some are not found again.

Generating model (documented in MODEL.md / truth.json):
* each outcome has a latent score = village effect (variance ``icc``) + household persistent
  effect + noise, so village-level correlation is about ``icc`` and baseline predicts endline;
* binary outcomes are the latent above a threshold giving the stated baseline prevalence;
  the knowledge score is the latent rescaled to 0–10 and rounded;
* true effects of the campaign: none, on the attitude outcomes and on the knowledge score, as
  the published study found ("no significant difference ... in community attitudes and
  knowledge"); ``KNOWLEDGE_EFFECT`` is 0;
* take-up: in campaign villages a household attended a village-chief session with probability
  ``TAKE_UP``, in comparison villages (spill-over) with probability ``SPILL_OVER``; reported
  at endline in ``attended_session``;
* each household is missed at endline with probability ``ATTRITION`` (campaign villages) or
  ``ATTRITION_CONTROL`` (comparison villages), independently;
* subgroups: ``id_poor`` (household level) and ``near_rci`` (village within 5 km of a
  residential care institution).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth.people import GEOGRAPHY, names, villages

ICC = 0.10  # latent scale; observed-scale ICCs of the binary outcomes are lower
ATTRITION = 0.07  # campaign villages
ATTRITION_CONTROL = 0.10  # comparison villages
KNOWLEDGE_EFFECT = 0.0  # points on the 0–10 knowledge score: none, as the study found
TAKE_UP = 0.55  # campaign villages: attended a village-chief session
SPILL_OVER = 0.04  # comparison villages: attended one elsewhere
KNOWLEDGE_SD = 2.2
OUTCOMES = {
    "rci_better_care": {
        "label": "Agrees children are better cared for in residential care than in poor families",
        "kind": "binary", "prevalence": 0.46, "effect_sd": 0.0, "better": "lower"},
    "would_place_if_poor": {
        "label": "Would place a child in residential care if the family were poor",
        "kind": "binary", "prevalence": 0.31, "effect_sd": 0.0, "better": "lower"},
    "rci_harm_aware": {
        "label": "Knows that residential care can harm children's development",
        "kind": "binary", "prevalence": 0.38, "effect_sd": 0.0, "better": "higher"},
    "knowledge_score": {
        "label": "Knowledge of family-based care and child protection services (0–10)",
        "kind": "score", "mean": 4.6, "effect_sd": KNOWLEDGE_EFFECT / KNOWLEDGE_SD,
        "better": "higher"},
}
PERSISTENCE = 0.45  # share of a household's latent variance that persists baseline -> endline


VILLAGES_PER_COMMUNE = (5, 4, 5, 4, 5, 4, 5, 4)  # 36 villages in Sangkae's 8 communes
TREATED_PER_COMMUNE = (3, 2, 2, 2, 3, 2, 2, 2)  # 18 campaign villages, half of each commune


def village_table(rng: np.random.Generator) -> pd.DataFrame:
    """36 villages in Sangkae district's 8 communes; within each commune a fixed number of
    villages (half, rounded alternately up and down) drawn at random for the campaign."""
    communes = GEOGRAPHY["Battambang"]["Sangkae"]
    frame = villages("Battambang", max(VILLAGES_PER_COMMUNE), rng, districts=("Sangkae",))
    parts = []
    for commune, k, n_treat in zip(communes, VILLAGES_PER_COMMUNE, TREATED_PER_COMMUNE):
        in_commune = frame[frame["commune"] == commune].head(k)
        treat = np.zeros(k, dtype=int)
        treat[rng.choice(k, n_treat, replace=False)] = 1
        parts.append(in_commune.assign(campaign=treat))
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "village_id", [f"V{i + 1:02d}" for i in range(len(table))])
    # access criteria used by CCT to categorise villages (red / amber / green); synthetic values
    k = len(table)
    table["km_primary_school"] = np.round(rng.gamma(2.0, 1.3, k), 1)
    table["km_health_clinic"] = np.round(rng.gamma(2.2, 3.0, k), 1)
    table["km_ngo_services"] = np.round(rng.gamma(2.0, 6.0, k), 1)
    table["km_nearest_rci"] = np.round(rng.gamma(2.0, 5.0, k), 1)
    table["ccwc_active"] = (rng.random(k) < 0.6).astype(int)
    return table


def generate(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Village table and the long household survey (one row per household and round)."""
    rng = np.random.default_rng(seed)
    vill = village_table(rng)
    sizes = rng.integers(16, 25, len(vill))
    v_of = np.repeat(np.arange(len(vill)), sizes)
    n = len(v_of)
    treat = vill["campaign"].to_numpy()[v_of]
    household = np.array([f"HH-{i + 1:04d}" for i in range(n)])
    female = (rng.random(n) < 0.62).astype(int)
    age = rng.integers(19, 75, n)
    size = np.clip(rng.poisson(4.8, n), 1, 12)
    poor = (rng.random(n) < 0.27).astype(int)
    respondent = names(n, rng)
    phone = np.char.add("0", rng.integers(10_000_000, 99_999_999, n).astype(str))
    latent = {}
    for key, spec in OUTCOMES.items():
        village_effect = rng.normal(0, np.sqrt(ICC), len(vill))[v_of]
        persistent = rng.normal(0, np.sqrt((1 - ICC) * PERSISTENCE), n)
        base = village_effect + persistent + rng.normal(0, np.sqrt((1 - ICC) * (1 - PERSISTENCE)), n)
        end = (village_effect + persistent + rng.normal(0, np.sqrt((1 - ICC) * (1 - PERSISTENCE)), n)
               + spec["effect_sd"] * treat)
        latent[key] = (base, end)
    found = rng.random(n) >= np.where(treat == 1, ATTRITION, ATTRITION_CONTROL)
    attended = (rng.random(n) < np.where(treat == 1, TAKE_UP, SPILL_OVER)).astype(int)
    near_rci = (vill["km_nearest_rci"].to_numpy() < 5).astype(int)[v_of]
    frames = []
    for r, label in enumerate(("baseline", "endline")):
        start = pd.Timestamp("2018-10-15") if r == 0 else pd.Timestamp("2020-03-02")
        dates = start + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
        frame = pd.DataFrame({
            "household_id": household,
            "respondent_name": respondent,
            "phone": phone,
            "village": vill["village"].to_numpy()[v_of],
            "commune": vill["commune"].to_numpy()[v_of],
            "campaign": treat,
            "round": label,
            "interview_date": dates.strftime("%Y-%m-%d"),
            "respondent_female": female,
            "respondent_age": age + 2 * r - (r * rng.integers(0, 2, n)),
            "household_size": size if r == 0 else np.clip(size + rng.integers(-1, 2, n), 1, 12),
            "id_poor": poor,
            "near_rci": near_rci,
            "attended_session": attended if r == 1 else 0,
        })
        for key, spec in OUTCOMES.items():
            z = latent[key][r]
            if spec["kind"] == "binary":
                cut = np.quantile(latent[key][0], 1 - spec["prevalence"])
                frame[key] = (z > cut).astype(int)
            else:
                frame[key] = np.clip(np.round(spec["mean"] + KNOWLEDGE_SD * z), 0, 10).astype(int)
        frames.append(frame if r == 0 else frame[found])
    survey = pd.concat(frames, ignore_index=True)
    return vill, survey


def truth(seed: int) -> dict:
    return {
        "seed": seed,
        "design": "36 villages in 8 communes; 18 campaign villages by complete randomisation "
                  "within commune; households interviewed at baseline and endline",
        "icc_latent": ICC,
        "attrition": {"campaign": ATTRITION, "comparison": ATTRITION_CONTROL},
        "take_up": {"campaign": TAKE_UP, "comparison": SPILL_OVER},
        "subgroups": ["id_poor", "near_rci"],
        "persistence": PERSISTENCE,
        "effects": {
            key: {"label": spec["label"], "kind": spec["kind"],
                  "true_effect_latent_sd": spec["effect_sd"],
                  **({"true_effect_points": KNOWLEDGE_EFFECT} if key == "knowledge_score" else {})}
            for key, spec in OUTCOMES.items()
        },
    }
