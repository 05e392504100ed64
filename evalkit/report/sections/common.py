"""What several sections share: counts under ``min_cell``, source lines, round labels and the
pre/post table (used by the pre/post, CSI pre/post and case-closure sections)."""

from __future__ import annotations

import pandas as pd

from evalkit.data.programme import ProgrammeData
from evalkit.designs.paired import PrePostResult
from evalkit.report import display
from evalkit.report.privacy import suppress_small

p_value = display.p_value


def count_text(n: int, min_cell: int) -> str:
    """A count of people, or "fewer than min_cell" when it is under it (but not zero)."""
    return f"fewer than {min_cell}" if 0 < n < min_cell else f"{n:,}"


def source(text: str | None) -> list:
    return [display.markdown(f"*Source: {text}*")] if text else []


def round_label(data: ProgrammeData, value: object) -> str:
    labels = data.config.csi.round_labels if data.config.csi else {}
    return str(labels.get(value, f"Round {value}"))


def prepost_row(r: PrePostResult, label: str, published=None) -> dict:
    binary = r.kind == "binary"
    scale = 100 if binary else 1
    fmt = "{:+.1f}" if binary else "{:+.2f}"
    return {
        "Outcome": label + (" (%)" if binary else ""),
        "Pairs (n)": r.n_pairs,
        "Before": r.mean_before * scale,
        "After": r.mean_after * scale,
        "Change": r.mean_change * scale,
        "95 % CI": f"{fmt.format(r.ci_low * scale)} to {fmt.format(r.ci_high * scale)}",
        "p (McNemar, or t / Wilcoxon)": p_value(r.p_mcnemar) if binary else f"{p_value(r.p_ttest)} / {p_value(r.p_wilcoxon)}",
        "Improved (%)": r.improved_pct,
        "Unchanged (%)": r.unchanged_pct,
        "Worse (%)": r.worse_pct,
        **({"Published": published} if published is not None else {}),
    }


def prepost_styler(rows: list[dict], caption: str, min_cell: int):
    frame = pd.DataFrame(rows)
    stats_cols = ["Before", "After", "Change", "Improved (%)", "Unchanged (%)", "Worse (%)"]
    frame = suppress_small(frame, "Pairs (n)", min_cell, stats_cols)
    return (frame.style.hide(axis="index")
            .format("{:.2f}", subset=["Before", "After"], na_rep="–")
            .format("{:+.2f}", subset=["Change"], na_rep="–")
            .format("{:.0f}", subset=["Improved (%)", "Unchanged (%)", "Worse (%)"], na_rep="–")
            .format("{:.0f}", subset=["Pairs (n)"], na_rep=f"fewer than {min_cell}")
            .set_caption(caption))
