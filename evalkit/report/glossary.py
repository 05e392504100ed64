"""The report's glossary: each statistical term or abbreviation the report uses, in one plain
sentence. A report lists the terms of the sections it has (see :func:`terms_for`)."""

from __future__ import annotations

from evalkit.i18n import N_

COMMON = {
    N_("95 % confidence interval (CI)"): N_(
        "The range of values the data are consistent with; if the study were repeated many "
        "times, such ranges would include the true value 95 times in 100."),
    N_("p-value"): N_(
        "How often a difference at least this large would appear by chance alone if there were "
        "no real difference; below 0.05 is called a detectable difference here."),
    N_("Descriptive"): N_(
        "A figure that describes what happened to the people measured, without a comparison "
        "group that would show what caused it."),
    N_("Suppressed"): N_(
        "A figure not shown because it rests on so few children, families or households that "
        "they could be identified, or because it would let such a figure be worked out."),
}
CSI = {
    "CSI (Child Status Index)": "A tool that rates a child's well-being on 12 factors from 1 "
    "(very bad) to 4 (good); a rating of 1 or 2 means the child needs services on that factor.",
    "Relative change of the mean": "The change in the average score between two assessments, "
    "as a percentage of the average at the first.",
}
PAIRED = {
    "Paired change": "The same people compared with themselves at two times.",
    "Paired t test / Wilcoxon signed-rank test": "Two ways of asking whether the changes of the "
    "same people are larger than chance; the second does not assume the changes are normally "
    "distributed.",
    "McNemar test": "A test of whether as many people gained something (such as clean water) "
    "as lost it, counting only those who changed.",
    "Fixed effects (PanelOLS)": "A regression that compares each child only with themselves "
    "over time, so that differences between children do not blur the change.",
    "Welch test": "A comparison of two groups' average changes that does not assume the groups "
    "vary equally.",
}
TRIAL = {
    "Attrition": "Households surveyed at the start who could not be found again at the end; "
    "if one group of villages loses more, or different, households, the comparison can be "
    "biased.",
    "Randomised trial": "Villages were chosen by lot to receive the campaign, so that the two "
    "groups of villages differ only by chance before it starts.",
    "Intention to treat": "Comparing villages as they were assigned, whether or not each "
    "household took part in the campaign.",
    "ANCOVA": "A comparison of endline answers that takes each household's baseline answer "
    "into account, which makes the estimate more precise.",
    "CR2 standard errors": "A way of measuring uncertainty that counts villages, not "
    "households, as what was randomised, corrected for a small number of villages.",
    "Wild cluster bootstrap": "A check of the p-value by re-sampling whole villages many times.",
    "Randomisation inference": "A check of the p-value by re-drawing, many times, which "
    "villages got the campaign in the way the trial drew them.",
    "Holm adjustment": "A correction of the p-values for testing several outcomes at once, so "
    "that one chance finding among many is not read as an effect.",
    "ICC (intra-cluster correlation)": "How alike households in the same village are; the "
    "higher it is, the more villages a trial needs.",
    "R²": "The share of the differences between households that their baseline answers explain.",
    "Minimum detectable effect": "The smallest effect the trial had an 80 % chance of detecting.",
    "Normalised difference": "A difference between the two groups of villages at baseline, "
    "in standard deviations; beyond ±0.25 it deserves attention.",
    "Standard deviation (SD)": "How far answers typically lie from their average.",
}
CARE = {
    N_("RCI (residential care institution)"): N_(
        "An orphanage or other institution where children live apart from their families."),
    N_("MoSVY / DoSVY"): N_(
        "Cambodia's Ministry of Social Affairs, Veterans and Youth Rehabilitation, and its "
        "provincial departments."),
    N_("Child Tracking Tool"): N_(
        "MoSVY's form for following reintegrated children: green (safe and stable), yellow or "
        "red (vulnerable), not located, not yet updated."),
}
COMMUNITY = {
    "CCWC (Commune Committee for Women and Children)": "The commune body responsible for the "
    "protection of women and children.",
}


GROUPS = {"common": COMMON, "csi": CSI, "paired": PAIRED, "trial": TRIAL, "care": CARE,
          "community": COMMUNITY}


def terms_for(groups) -> dict[str, str]:
    """The glossary entries of the given groups (always the common ones), in English
    alphabetical order of the term."""
    terms = dict(COMMON)
    for group in groups:
        terms |= GROUPS[group]
        if group == "trial":
            terms |= COMMUNITY
    return dict(sorted(terms.items(), key=lambda kv: kv[0].lower()))
