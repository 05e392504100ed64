"""Realistic exports built by test code, from what each tool's documentation says it writes.

One small CSI data set (``truth``) is written in every layout users send: OSCaR's assessment
report (.xlsx, title rows above the header, real date cells, the client's name), KoBoToolbox
(CSV with ';', group/question headers, label values, meta columns, select_multiple both ways;
XLSX with a repeat group joined by _index/_parent_index), ODK Central (zip of CSVs, group-question
headers, KEY/PARENT_KEY, XML choice names), Stata and SPSS with value labels (SPSS with
user-missing 8/9), a wide one-row-per-child sheet, a Windows-1252 CSV with day-first dates, a
UTF-16 "Unicode Text" file, and a workbook whose data sit on its third sheet.

:func:`expected` computes the figures a report must show straight from ``truth`` (plain pandas,
no evalkit code): children assessed at each round and each factor's mean before and after over
the children rated at both rounds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

CODES = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "5B", "6A", "6B"]
NAMES = ["food_security", "nutrition_and_growth", "shelter", "care", "abuse_and_exploitation",
         "legal_protection", "wellness", "health_care_services", "emotional_health",
         "social_behaviour", "performance", "education_and_work"]
LABEL = {1: "Very bad", 2: "Bad", 3: "Fair", 4: "Good"}
XML = {1: "very_bad", 2: "bad", 3: "fair", 4: "good"}
FIRST = ["Sokha", "Dara", "Srey", "Vanna", "Bopha", "Piseth", "Chantha", "Rithy", "Sophea", "Kosal"]
LAST = ["Chanthavong", "Keo", "Mao", "Sok", "Chea", "Heng", "Lim", "Noun", "Pich", "Ros"]


def truth(n_children: int = 40, seed: int = 7) -> pd.DataFrame:
    """Long CSI data: child_id, name, birth_date, phone, round (1, 2), date, 1A … 6B as ints,
    NaN where not rated, the text 'n/a' where not applicable (6A/6B for young children). One
    child in five is assessed at round 1 only."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_children):
        young = i % 7 == 0
        base = rng.integers(1, 5, size=12)
        for round_ in (1, 2):
            if round_ == 2 and i % 5 == 4:
                continue
            scores = base if round_ == 1 else np.clip(base + rng.integers(-1, 2, size=12), 1, 4)
            row = {"child_id": f"CH-{i + 1:04d}", "name": f"{FIRST[i % 10]} {LAST[(i * 3) % 10]}xq{i}",
                   "birth_date": dt.date(2008 + i % 8, 1 + i % 12, 1 + i % 27),
                   "phone": f"+855 12 {100000 + i * 37:06d}", "round": round_,
                   "date": dt.date(2019, 3, 1) + dt.timedelta(days=int(i) + 182 * (round_ - 1))}
            for j, code in enumerate(CODES):
                row[code] = int(scores[j])
            if young:
                row["6A"] = row["6B"] = "n/a"
            if i % 11 == 3 and round_ == 2:
                row["4B"] = np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def expected(data: pd.DataFrame) -> dict:
    """Figures a report must show, computed by hand from ``data``."""
    first, last = data[data["round"] == 1], data[data["round"] == 2]
    out = {"children_first": first["child_id"].nunique(), "children_last": last["child_id"].nunique(),
           "means": {}}
    both = first.merge(last, on="child_id", suffixes=("_b", "_a"))
    for code in CODES:
        b = pd.to_numeric(both[f"{code}_b"], errors="coerce")
        a = pd.to_numeric(both[f"{code}_a"], errors="coerce")
        rated = b.notna() & a.notna()
        out["means"][code] = (float(b[rated].mean()), float(a[rated].mean()), int(rated.sum()))
    return out


def _cell(value):
    return None if isinstance(value, float) and np.isnan(value) else value


# ------------------------------------------------------------------------------ OSCaR


def oscar_xlsx(data: pd.DataFrame, path: Path) -> Path:
    """OSCaR's 'client assessment domain report': title and filter rows above the header."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Assessment Domain Report"
    sheet.append(["Client Assessment Domain Report"])
    sheet.append(["Organisation: Children in Families", None, "Generated: 2020-08-02"])
    sheet.append(["Filter: all clients; assessments 2019-2020"])
    sheet.append([])
    sheet.append(["Client ID", "Client Name", "Assessment Number", "Assessment Date",
                  "Average Score", *CODES])
    for row in data.itertuples(index=False):
        scores = [_cell(getattr(row, f"_{6 + j}")) for j in range(12)]
        scores = [None if s == "n/a" else s for s in scores]
        rated = [s for s in scores if s is not None]
        sheet.append([row.child_id, row.name, row.round, dt.datetime.combine(row.date, dt.time()),
                      round(sum(rated) / len(rated)), *scores])
    book.save(path)
    return path


# ------------------------------------------------------------------------------ KoBoToolbox


def _kobo_rows(data: pd.DataFrame, labels: dict) -> list[dict]:
    rows = []
    for i, row in enumerate(data.itertuples(index=False)):
        record = {"start": f"2019-03-0{1 + i % 9}T08:00:00.000+07:00",
                  "end": f"2019-03-0{1 + i % 9}T08:20:00.000+07:00",
                  "today": str(row.date), "deviceid": f"collect:abc{i}",
                  "child/child_id": row.child_id, "child/child_name": row.name,
                  "assessment/round": "Baseline" if row.round == 1 else "Endline",
                  "assessment/assessment_date": str(row.date)}
        for j, name in enumerate(NAMES):
            value = getattr(row, f"_{6 + j}")
            record[f"csi/{name}"] = ("Not applicable" if value == "n/a" else
                                     "" if isinstance(value, float) and np.isnan(value) else labels[int(value)])
        record["services"] = "food school" if i % 2 else "health"
        record["services/food"] = int(i % 2 == 1)
        record["services/school"] = int(i % 2 == 1)
        record["services/health"] = int(i % 2 == 0)
        record.update({"_id": 1000 + i, "_uuid": f"uuid-{i:05d}",
                       "_submission_time": "2019-03-10T10:00:00", "_validation_status": "",
                       "_notes": "", "_status": "submitted_to_kobo", "_submitted_by": "enumerator1",
                       "__version__": "vABC", "_tags": "", "_index": i + 1})
        rows.append(record)
    return rows


def kobo_csv(data: pd.DataFrame, path: Path) -> Path:
    """KoBoToolbox CSV export: ';' separator, group/question headers, label values."""
    rows = _kobo_rows(data, LABEL)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def kobo_xlsx_repeat(data: pd.DataFrame, path: Path) -> Path:
    """KoBoToolbox XLSX: the household form on the first sheet, the children repeat group on
    its own sheet, joined by _index -> _parent_index (XML values: very_bad … good)."""
    households, children = [], []
    for h, (key, group) in enumerate(data.groupby(["round", data["child_id"].str[-1]], sort=True)):
        round_, _ = key
        households.append({"today": str(group["date"].min()), "village": f"Village {h % 4}",
                           "round": "baseline" if round_ == 1 else "endline",
                           "visit_date": str(group["date"].min()),
                           "_id": 500 + h, "_uuid": f"hh-{h:04d}", "_index": h + 1,
                           "_submission_time": "2019-03-10T10:00:00"})
        for row in group.itertuples(index=False):
            record = {"child_id": row.child_id, "child_name": row.name}
            for j, code in enumerate(CODES):
                value = getattr(row, f"_{6 + j}")
                record[f"csi_{code.lower()}"] = ("not_applicable" if value == "n/a" else None
                                                 if isinstance(value, float) and np.isnan(value)
                                                 else XML[int(value)])
            record.update({"_index": len(children) + 1, "_parent_table_name": "CSI household visit",
                           "_parent_index": h + 1, "_submission__uuid": f"hh-{h:04d}"})
            children.append(record)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(households).to_excel(writer, sheet_name="CSI household visit", index=False)
        pd.DataFrame(children).to_excel(writer, sheet_name="children", index=False)
    return path


# ------------------------------------------------------------------------------ ODK Central


def odk_zip(data: pd.DataFrame, path: Path) -> Path:
    """ODK Central's CSV zip: the submissions table and one CSV per repeat group, headers
    joined with '-', KEY / PARENT_KEY links, choice names as values."""
    subs, reps = [], []
    for h, (round_, group) in enumerate(data.groupby("round")):
        key = f"uuid:sub-{h}"
        subs.append({"SubmissionDate": "2019-09-01T10:00:00.000Z", "today": str(group["date"].min()),
                     "visit-round": "baseline" if round_ == 1 else "endline",
                     "visit-date": str(group["date"].min()), "meta-instanceID": key,
                     "KEY": key, "SubmitterID": 5, "SubmitterName": "field officer",
                     "AttachmentsPresent": 0, "AttachmentsExpected": 0, "Status": "",
                     "ReviewState": "", "DeviceID": "", "Edits": 0, "FormVersion": "2019"})
        for k, row in enumerate(group.itertuples(index=False)):
            record = {"child-child_id": row.child_id, "child-child_name": row.name}
            for j, name in enumerate(NAMES):
                value = getattr(row, f"_{6 + j}")
                record[f"child-csi-{name}"] = ("not_applicable" if value == "n/a" else "" if
                                               isinstance(value, float) and np.isnan(value)
                                               else XML[int(value)])
            record.update({"PARENT_KEY": key, "KEY": f"{key}/child[{k + 1}]"})
            reps.append(record)
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in (("csi_visit.csv", subs), ("csi_visit-child.csv", reps)):
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
            archive.writestr(name, text.getvalue())
    return path


# ------------------------------------------------------------------------------ Stata, SPSS


def _numeric_scores(data: pd.DataFrame, na_code: float) -> pd.DataFrame:
    out = data[["child_id", "round"]].copy()
    for code in CODES:
        out[code] = data[code].map(lambda v: na_code if v == "n/a" else v).astype("float64")
    return out


def stata_dta(data: pd.DataFrame, path: Path) -> Path:
    """Stata: factors csi_1a … (names cannot start with a digit) labelled 1 'Very bad' …
    4 'Good'; round labelled 1 'Baseline' 2 'Endline'; not applicable as missing."""
    import pyreadstat

    frame = _numeric_scores(data, np.nan).rename(columns={c: f"csi_{c.lower()}" for c in CODES})
    frame["visit_date"] = pd.to_datetime(data["date"]).astype("datetime64[ns]")
    labels = {f"csi_{c.lower()}": {float(k): v for k, v in LABEL.items()} for c in CODES}
    labels["round"] = {1.0: "Baseline", 2.0: "Endline"}
    pyreadstat.write_dta(frame, str(path), variable_value_labels=labels,
                         column_labels={"csi_1a": "Food security (CSI 1A)"})
    return path


def spss_sav(data: pd.DataFrame, path: Path) -> Path:
    """SPSS: f1a … labelled 'Very bad' … 'Good', 9 'not applicable' and 8 "don't know"
    declared user-missing; round 1 'Baseline' 2 'Six months'."""
    import pyreadstat

    frame = _numeric_scores(data, 9.0).rename(columns={c: f"f{c.lower()}" for c in CODES})
    frame["caregiver"] = data["name"].str.split().str[-1]
    labels = {f"f{c.lower()}": {**{float(k): v for k, v in LABEL.items()},
                                9.0: "not applicable", 8.0: "don't know"} for c in CODES}
    labels["round"] = {1.0: "Baseline", 2.0: "Six months"}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels,
                         missing_ranges={f"f{c.lower()}": [8.0, 9.0] for c in CODES})
    return path


# ------------------------------------------------------------------------------ spreadsheets


def wide_xlsx(data: pd.DataFrame, path: Path) -> Path:
    """One row per child: child_id, name, sex, baseline_1A … baseline_6B, followup_1A …"""
    rows = {}
    for row in data.itertuples(index=False):
        record = rows.setdefault(row.child_id, {"child_id": row.child_id, "child_name": row.name,
                                                "sex": "F" if row.child_id[-1] in "13579" else "M"})
        prefix = "baseline" if row.round == 1 else "followup"
        for j, code in enumerate(CODES):
            value = getattr(row, f"_{6 + j}")
            record[f"{prefix}_{code}"] = _cell(value)
    frame = pd.DataFrame(list(rows.values()))
    frame.to_excel(path, index=False, sheet_name="Children")
    return path


def _plain(data: pd.DataFrame, day_first: bool) -> pd.DataFrame:
    out = pd.DataFrame({"Client ID": data["child_id"], "Nom": data["name"].str.replace("xq", "éxq"),
                        "Round": data["round"],
                        "Date": [d.strftime("%d/%m/%Y") if day_first else d.isoformat() for d in data["date"]]})
    for code in CODES:
        out[code] = data[code].map(lambda v: "" if isinstance(v, float) and np.isnan(v) else v)
    return out


def cp1252_csv(data: pd.DataFrame, path: Path) -> Path:
    """A CSV saved by Excel on Windows: Windows-1252, accented names, day-first dates."""
    path.write_bytes(_plain(data, True).to_csv(index=False).replace("\n", "\r\n").encode("cp1252"))
    return path


def utf16_txt(data: pd.DataFrame, path: Path) -> Path:
    """Excel's 'Unicode Text': UTF-16 with a byte-order mark, tab-separated."""
    path.write_bytes(_plain(data, False).to_csv(index=False, sep="\t").encode("utf-16"))
    return path


def third_sheet_xlsx(data: pd.DataFrame, path: Path) -> Path:
    """A hand-kept workbook: instructions, a lookup sheet, then the data (with a title row)."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "Instructions"
    for line in ("How to fill this workbook", "Score each factor 1-4", "Use n/a where it does not apply"):
        first.append([line])
    lookup = book.create_sheet("Lookups")
    lookup.append(["score", "meaning"])
    for k, v in LABEL.items():
        lookup.append([k, v])
    sheet = book.create_sheet("CSI data")
    sheet.append(["CSI assessments, Battambang office"])
    frame = _plain(data, True)
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if v == "" else v for v in row])
    book.save(path)
    return path


FORMATS = {
    "oscar.xlsx": oscar_xlsx, "kobo.csv": kobo_csv, "kobo_repeat.xlsx": kobo_xlsx_repeat,
    "odk.zip": odk_zip, "survey.dta": stata_dta, "survey.sav": spss_sav, "wide.xlsx": wide_xlsx,
    "windows.csv": cp1252_csv, "unicode.txt": utf16_txt, "workbook.xlsx": third_sheet_xlsx,
}


# ------------------------------------------------------------------------------ a split trial


def split_trial(folder: Path, seed: int = 3) -> dict:
    """A village survey in two files: baseline.xlsx (with a Yes/No treatment column and
    household ids with leading zeros) and endline.csv (no treatment column; Excel dropped the
    zeros). Returns the truth for checks."""
    rng = np.random.default_rng(seed)
    villages = [f"Village {v}" for v in range(12)]
    treated = {v: ("Yes" if i % 2 else "No") for i, v in enumerate(villages)}
    base, end = [], []
    for i in range(240):
        village = villages[i % 12]
        hh = f"{i + 1:05d}"
        knows_b = int(rng.random() < 0.4)
        score_b = int(rng.integers(0, 11))
        base.append({"hh_id": hh, "village": village, "commune": f"Commune {(i % 12) // 4}",
                     "treated": treated[village], "respondent": f"{FIRST[i % 10]} {LAST[i % 7]}",
                     "knows_services": knows_b, "knowledge": score_b})
        if i % 10 != 9:
            lift = 0.2 if treated[village] == "Yes" else 0.0
            end.append({"hh_id": str(i + 1), "village": village,
                        "knows_services": int(rng.random() < 0.4 + lift),
                        "knowledge": int(np.clip(score_b + rng.integers(-2, 3), 0, 10))})
    pd.DataFrame(base).to_excel(folder / "baseline.xlsx", index=False)
    pd.DataFrame(end).to_csv(folder / "endline.csv", index=False)
    return {"households_base": len(base), "households_end": len(end), "villages": 12,
            "treated_villages": sum(v == "Yes" for v in treated.values())}
