"""Configurations, model descriptions and truths of the synthetic seed programmes without
CSI data. Everything a report shows is declared here as data, exactly as an NGO would write
its own programme.yml."""

from __future__ import annotations

from evalkit.indices.family_assessment import AREA_LABELS, AREAS
from evalkit.synth import seed_programmes as sp

FPS = "Family preservation study, Cambodia (2020)"
APR = "MoSVY, Action Plan results report (2020)"

_ACCESS_PUBLISHED = {"clean_water": 25, "toilet": 22, "transport": 47, "electricity": 24}

MLOP_TAPANG = {
    "name": "Family strengthening programme",
    "ngo": "M'Lop Tapang",
    "province": "Preah Sihanouk",
    "source": f"{FPS}, section 5.6 and Annex A (M'Lop Tapang internal research, 2017)",
    "privacy": {"min_cell": 5},
    "indicators": [
        {"title": "Small-business follow-up",
         "file": "business_followup.csv",
         "source": f"{FPS}: 'out of a sample of 50 beneficiaries, 32 (64 per cent) were continuing "
                   "with the business ... Of these, 81 per cent reported increased income ... and "
                   "66 per cent reported that the business was their primary source of income'",
         "items": [
             {"label": "Still running the business they were helped to start",
              "numerator": {"business_continuing": 1}, "denominator": {},
              "denominator_label": "beneficiaries in the follow-up sample", "published": 64},
             {"label": "Report higher income from the business",
              "numerator": {"income_increased": 1}, "denominator": {"business_continuing": 1},
              "denominator_label": "beneficiaries still running the business", "published": 81},
             {"label": "The business is their main source of income",
              "numerator": {"main_income": 1}, "denominator": {"business_continuing": 1},
              "denominator_label": "beneficiaries still running the business", "published": 66},
         ]},
        {"title": "Alcohol support group",
         "file": "alcohol_group.csv",
         "source": f"{FPS}: 'since the alcohol support group began in 2008, 15 per cent of "
                   "attending drinkers had stopped drinking and remained alcohol-free'",
         "items": [
             {"label": "Stopped drinking and remained alcohol-free",
              "numerator": {"drinking_now": "stopped"}, "denominator": {},
              "denominator_label": "drinkers who attended the group since 2008", "published": 15},
             {"label": "Reduced drinking",
              "numerator": {"drinking_now": "reduced"}, "denominator": {},
              "denominator_label": "drinkers who attended the group since 2008"},
         ]},
    ],
    "prepost": [
        {"title": "Access to basic services before and after support",
         "file": "access.csv", "unit": "beneficiary_id", "round": "round",
         "before": "before", "after": "after",
         "outcomes": {k: {"label": v, "kind": "binary"} for k, v in sp.ACCESS_LABELS.items()},
         "published": _ACCESS_PUBLISHED,
         "source": (f"{FPS}: 25 % gained clean water, 22 % a toilet, 47 % increased access to "
                    "transport and 24 % electricity 'when they did not have this before'. The "
                    "study does not state the denominator; this report reads each as the share of "
                    "beneficiaries who lacked that service before, which reproduces all four.")},
    ],
    "classifications": [
        {"title": "Household vulnerability tiers at intake (ESFAM-style)",
         "file": "households.csv", "unit_label": "households",
         "source": f"{FPS}, box on ESFAM (Uganda): households classified destitute, struggling "
                   "or prepared to grow; only destitute and struggling households enrolled",
         "note": "The study names the tiers but not their criteria; the criteria below are the "
                 "programme's own settings, for illustration, and can be replaced without code.",
         "criteria": [
             {"column": "monthly_income_usd", "op": "<", "value": 60, "label": "Monthly income below US$ 60"},
             {"column": "meals_per_day", "op": "<", "value": 2, "label": "Fewer than two meals a day"},
             {"column": "children_out_of_school", "op": ">", "value": 0, "label": "A child out of school"},
             {"column": "debt_usd", "op": ">", "value": 300, "label": "Debt above US$ 300"},
             {"column": "home_owner", "op": "==", "value": 0, "label": "Does not own the house"},
         ],
         "categories": [
             {"name": "destitute", "min_criteria": 3, "meaning": "enrolled"},
             {"name": "struggling", "min_criteria": 1, "meaning": "enrolled"},
             {"name": "prepared to grow", "min_criteria": 0, "meaning": "not enrolled"},
         ]},
    ],
}

SKO = {
    "name": "Family Development Programme",
    "ngo": "Samatapheapkhom (SKO)",
    "province": "Phnom Penh",
    "source": f"{FPS}, section 5.7 and Annex A (case data 1 July 2017 – 30 June 2018)",
    "privacy": {"min_cell": 5},
    "case_closure": {
        "cases": "closed_cases.csv", "rating": "closure_rating",
        "problems": "problems.csv", "problem_type": "problem_type", "resolution": "resolution",
        "progress": {"file": "progress_form.csv", "unit": "case_id", "round": "assessment",
                     "before": "enrolment", "after": "completion",
                     "areas": list(sp.PROGRESS_AREAS)},
        "published": {"ratings": {"PO++": 0, "PO+": 26, "PO+=": 40, "PO": 2},
                      "problems": {"totally solved": 114, "partially solved": 234,
                                   "unsolved": 40, "total": 388},
                      "unsolved_percent": {"administrative": 24, "addiction/substance use": 25}},
        "source": f"{FPS}: ratings of families exiting 1 July 2017 – 30 June 2018 (no PO++, 26 "
                  "PO+, 40 PO+=, 2 PO); 388 problems, 114 totally, 234 partially solved and 40 "
                  "unsolved; administrative problems 24 % and addiction 25 % unsolved",
    },
}

CCPCR = {
    "name": "Countering Trafficking in Persons programme",
    "ngo": "Cambodian Center for the Protection of Children's Rights (CCPCR)",
    "province": "Svay Rieng",
    "source": f"{FPS}, section 5.1 and Annex A",
    "privacy": {"min_cell": 5},
    "prepost": [
        {"title": "Structured family assessment at intake and at case closure",
         "file": "family_assessment.csv", "unit": "case_id", "round": "assessment",
         "before": "intake", "after": "close",
         "outcomes": {a: {"label": AREA_LABELS[a], "kind": "ordinal"} for a in AREAS},
         "scale": "1 = serious concern, 2 = some concern, 3 = adequate, 4 = strength",
         "source": f"{FPS}: 20 active cases, one social worker; assessment of security, basic / "
                   "material needs, physical health, psychological health, community networks, "
                   "income generation, access to justice and family problem-solving. The study "
                   "gives no scale and no outcome figures ('outcomes are not measured in a "
                   "systematic way'); the scale here is the programme's own setting."},
    ],
}

APR_KM = "MoSVY, របាយការណ៍លទ្ធផលផែនការសកម្មភាព (2020)"
NATIONAL_SOURCE = f"{APR}; {FPS}, section 3 (2015 mapping of RCIs by province)"
# The ministry's report is rendered in English and Khmer: text the report shows from this
# configuration is given in both (the kit's own text comes from its Khmer catalogue).
NATIONAL = {
    "name": {"en": "Action Plan for improving child care (national monitoring)",
             "km": "ផែនការសកម្មភាពសម្រាប់ការកែលម្អការថែទាំកុមារ (ការតាមដានថ្នាក់ជាតិ)"},
    "ngo": {"en": "Ministry of Social Affairs, Veterans and Youth Rehabilitation (MoSVY)",
            "km": "ក្រសួងសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា (MoSVY)"},
    "province": {"en": "Phnom Penh, Kandal, Preah Sihanouk, Battambang and Siem Reap (target provinces)",
                 "km": "ភ្នំពេញ កណ្ដាល ព្រះសីហនុ បាត់ដំបង និងសៀមរាប (ខេត្តគោលដៅ)"},
    "language": ["en", "km"],
    "source": {"en": NATIONAL_SOURCE,
               "km": f"{APR_KM}; ការសិក្សាអំពីការថែរក្សាគ្រួសារ កម្ពុជា (2020) ផ្នែកទី 3 "
                     "(ការធ្វើផែនទី RCI តាមខេត្ត ឆ្នាំ 2015)"},
    "privacy": {"min_cell": 5},
    "residential_care": {
        "register": "rci_register.csv", "reintegration": "reintegration.csv",
        "target_children": 3500, "target_share": 30, "base_year": 2015,
        "source": {"en": f"{APR}, tables 1–6 and 8 (table 7 is cited in the report's text but "
                         "not printed in it)",
                   "km": f"{APR_KM} តារាងទី 1–6 និង 8 (តារាងទី 7 ត្រូវបានលើកឡើងក្នុងអត្ថបទ"
                         "របាយការណ៍ ប៉ុន្តែមិនត្រូវបានបោះពុម្ពទេ)"},
        "published": {"left_since_2015_national_pct": 59, "left_since_2015_five_pct": 64,
                      "rci_reduction_five_pct": 49, "target_pct": 41,
                      "table8_not_meeting_pct": 57},
    },
    "child_tracking": {
        "file": "reintegration.csv", "status": "tracking_status",
        "published": {"green": 75, "yellow": 6, "red": 3},
        "declared_denominators": {"stated": {
            "n": 1359,
            "label": {"en": "cases updated and entered in the tool, as the report states",
                      "km": "ករណីដែលបានធ្វើបច្ចុប្បន្នភាព និងបញ្ចូលទៅក្នុងឧបករណ៍ ដូចរបាយការណ៍បានបញ្ជាក់"}}},
        "source": {"en": f"{APR}: of 1,419 children supported, 1,021 green (75 %), 78 yellow "
                         "(6 %), 34 red (3 %), 199 not located, 87 not yet updated; 'the cases of "
                         "1,359 children have been updated and entered into the Child Tracking Tool'",
                   "km": f"{APR_KM}៖ ក្នុងចំណោមកុមារ 1,419 នាក់ដែលទទួលបានការគាំទ្រ មាន 1,021 "
                         "បៃតង (75 %), 78 លឿង (6 %), 34 ក្រហម (3 %), 199 រកមិនឃើញ និង 87 "
                         "មិនទាន់ធ្វើបច្ចុប្បន្នភាព; 'ករណីរបស់កុមារ 1,359 នាក់ ត្រូវបានធ្វើ"
                         "បច្ចុប្បន្នភាព និងបញ្ចូលទៅក្នុងឧបករណ៍តាមដានកុមារ'"},
        "note": {"en": "Only the report's stated 1,359 reproduces 75 / 6 / 3 %, yet no "
                       "combination of the five categories adds up to 1,359 (colour-rated 1,133; "
                       "all but 'not yet updated' 1,332): the published denominator cannot be "
                       "reconciled with the counts.",
                 "km": "មានតែចំនួន 1,359 ដែលរបាយការណ៍បានបញ្ជាក់ប៉ុណ្ណោះ ដែលផ្ដល់ 75 / 6 / 3 % "
                       "ប៉ុន្តែគ្មានការផ្សំប្រភេទទាំងប្រាំណាមួយដែលបូកបាន 1,359 ទេ (មានស្ថានភាពពណ៌ "
                       "1,133; ទាំងអស់ លើកលែងតែ 'មិនទាន់ធ្វើបច្ចុប្បន្នភាព' 1,332)៖ ភាគបែងដែល"
                       "បានបោះពុម្ពផ្សាយ មិនអាចផ្ទៀងផ្ទាត់ឱ្យត្រូវនឹងចំនួនទាំងនេះបានទេ។"},
    },
}

MODEL = """# Synthetic data: {ngo}

**Synthetic.** Generated by `evalkit synth` (seed {{seed}}); no row describes a real person.
Names and phone numbers are generated on purpose so the privacy guard is exercised.

Calibrated to: {source}.

{body}
"""

PROGRAMMES = {
    "mlop_tapang": {
        "config": MLOP_TAPANG, "generate": sp.mlop_tapang,
        "model": MODEL.format(ngo="M'Lop Tapang", source=MLOP_TAPANG["source"], body=(
            "- `business_followup.csv`: 50 beneficiaries; exactly 32 still run their business, of "
            "whom 26 report higher income (81 %) and 21 say it is their main income (66 %).\n"
            "- `access.csv`: access before/after for the 50; lacked before / gained: clean water "
            "28 / 7 (25 %), toilet 36 / 8 (22 %), transport 17 / 8 (47 %), electricity 25 / 6 "
            "(24 %); nobody loses access.\n"
            "- `alcohol_group.csv`: 65 attending drinkers since 2008, 10 stopped (15 %), 27 "
            "reduced, 28 no change.\n"
            "- `households.csv`: intake characteristics drawn at random (income, meals, schooling, "
            "debt, housing) for the vulnerability tiers.")),
        "truth": {"business": {"n": 50, "continuing": 32, "higher_income": 26, "main_income": 21},
                  "access_lacked_gained": {k: list(v) for k, v in sp.ACCESS.items()},
                  "alcohol": {"members": 65, "stopped": 10}},
    },
    "sko": {
        "config": SKO, "generate": sp.sko,
        "model": MODEL.format(ngo="Samatapheapkhom (SKO)", source=SKO["source"], body=(
            "- `closed_cases.csv`: 68 families exiting 1 July 2017 – 30 June 2018 with ratings "
            "0 PO++, 26 PO+, 40 PO+=, 2 PO (the seed's 126 families completing cannot be matched "
            "with its 68 rated exits; the 68 are used).\n"
            "- `problems.csv`: 388 problems (114 totally, 234 partially solved, 40 unsolved). The "
            "seed gives no split by type beyond administrative 24 % and addiction 25 % unsolved; "
            "the split is synthetic: " + "; ".join(
                f"{k} {v[0]} ({v[1]} / {v[2]} / {v[3]})" for k, v in sp.PROBLEMS.items()) + ".\n"
            "- `progress_form.csv`: five areas scored 1–4 at enrolment and completion; better "
            "closure ratings come with larger gains (synthetic).")),
        "truth": {"ratings": sp.RATING_COUNTS, "problems": {k: list(v) for k, v in sp.PROBLEMS.items()}},
    },
    "ccpcr": {
        "config": CCPCR, "generate": sp.ccpcr,
        "model": MODEL.format(ngo="CCPCR", source=CCPCR["source"], body=(
            "- `family_assessment.csv`: 20 cases, each assessed at intake and at close on the "
            "eight areas, scored 1–4 (the scale is not in the seed). Scores move by −1 / 0 / +1 / "
            "+2 with probabilities 0.07 / 0.45 / 0.38 / 0.10 between intake and close.")),
        "truth": {"cases": 20, "step_probabilities": {"-1": 0.07, "0": 0.45, "1": 0.38, "2": 0.10}},
    },
    "national_action_plan": {
        "config": NATIONAL, "generate": sp.mosvy,
        "model": MODEL.format(ngo="MoSVY national action plan", source=NATIONAL_SOURCE, body=(
            "- `rci_register.csv`: one row per RCI and year (2015, 2018, 2019): province, status "
            "(working, closed, reclassified, transitioned), closure reason, girls, boys and the "
            "2019 compliance rating. Totals equal the report's tables 1, 3, 5 and 8 exactly; "
            "RCIs per province in 2015 follow the 2015 mapping for nine provinces, and everything "
            "finer (children per RCI, provinces outside the nine) is synthetic.\n"
            "- `reintegration.csv`: the 1,419 children supported (720 girls, 699 boys) with "
            "their Child Tracking Tool status (1,021 green, 78 yellow, 34 red, 199 not located, "
            "87 not yet updated).")),
        "truth": {"national": {str(k): list(v) for k, v in sp.NATIONAL.items()},
                  "five_provinces": {str(k): list(v) for k, v in sp.FIVE.items()},
                  "ctt": sp.CTT, "compliance_2019": sp.COMPLIANCE_2019},
    },
}
