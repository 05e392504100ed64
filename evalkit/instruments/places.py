"""Places the kit names in its own words: Cambodia's 25 provinces (the capital, Phnom Penh,
included). A province written in the data as one of these is shown by the kit's name for it
(translated in the Khmer edition); any other text is shown as "other province" unless
programme.yml declares it. The Khmer names are in the Khmer catalogue."""

from __future__ import annotations

import re

from evalkit.i18n import N_

PROVINCES: tuple[str, ...] = (
    N_("Banteay Meanchey"), N_("Battambang"), N_("Kampong Cham"), N_("Kampong Chhnang"),
    N_("Kampong Speu"), N_("Kampong Thom"), N_("Kampot"), N_("Kandal"), N_("Kep"),
    N_("Koh Kong"), N_("Kratie"), N_("Mondulkiri"), N_("Oddar Meanchey"), N_("Pailin"),
    N_("Phnom Penh"), N_("Preah Sihanouk"), N_("Preah Vihear"), N_("Prey Veng"), N_("Pursat"),
    N_("Ratanakiri"), N_("Siem Reap"), N_("Stung Treng"), N_("Svay Rieng"), N_("Takeo"),
    N_("Tboung Khmum"),
)
"""The provinces in English alphabetical order, as the kit writes them."""

KHMER: dict[str, str] = {
    "Banteay Meanchey": "បន្ទាយមានជ័យ", "Battambang": "បាត់ដំបង", "Kampong Cham": "កំពង់ចាម",
    "Kampong Chhnang": "កំពង់ឆ្នាំង", "Kampong Speu": "កំពង់ស្ពឺ", "Kampong Thom": "កំពង់ធំ",
    "Kampot": "កំពត", "Kandal": "កណ្ដាល", "Kep": "កែប", "Koh Kong": "កោះកុង", "Kratie": "ក្រចេះ",
    "Mondulkiri": "មណ្ឌលគិរី", "Oddar Meanchey": "ឧត្ដរមានជ័យ", "Pailin": "ប៉ៃលិន",
    "Phnom Penh": "ភ្នំពេញ", "Preah Sihanouk": "ព្រះសីហនុ", "Preah Vihear": "ព្រះវិហារ",
    "Prey Veng": "ព្រៃវែង", "Pursat": "ពោធិ៍សាត់", "Ratanakiri": "រតនគិរី", "Siem Reap": "សៀមរាប",
    "Stung Treng": "ស្ទឹងត្រែង", "Svay Rieng": "ស្វាយរៀង", "Takeo": "តាកែវ", "Tboung Khmum": "ត្បូងឃ្មុំ",
}
"""Each province's name in Khmer (as the Khmer catalogue translates it; also recognised in
data written in Khmer)."""

_SPELLINGS = {
    "sihanoukville": "Preah Sihanouk", "kampong som": "Preah Sihanouk", "mondul kiri": "Mondulkiri",
    "mondolkiri": "Mondulkiri", "ratanak kiri": "Ratanakiri", "rattanakiri": "Ratanakiri",
    "oddor meanchey": "Oddar Meanchey", "otdar meanchey": "Oddar Meanchey", "takeo": "Takeo",
    "takev": "Takeo", "kracheh": "Kratie", "pouthisat": "Pursat", "siemreap": "Siem Reap",
    "siem riep": "Siem Reap", "phnompenh": "Phnom Penh", "banteay mean chey": "Banteay Meanchey",
    "tbong khmum": "Tboung Khmum", "tbaung khmum": "Tboung Khmum", "stoeng treng": "Stung Treng",
    "steung treng": "Stung Treng", "koh kong": "Koh Kong", "kaoh kong": "Koh Kong",
}


def _simple(text: object) -> str:
    return " ".join(re.findall(r"[^\W\d_]+", str(text).lower()))


_LOOKUP = {**{_simple(p): p for p in PROVINCES}, **_SPELLINGS,
           **{v: k for k, v in KHMER.items()},
           **{_simple(p).replace(" ", ""): p for p in PROVINCES}}


def province(text: object) -> str | None:
    """The kit's name for a province written as ``text`` (any case, common spellings, Khmer,
    with or without 'province'), or None."""
    raw = str(text).strip()
    if raw in KHMER.values():
        return _LOOKUP[raw]
    key = _simple(raw).removesuffix(" province").removeprefix("province ")
    return _LOOKUP.get(key) or _LOOKUP.get(key.replace(" ", ""))
