"""The studies behind the reasons, for the report page: "S4-S8" becomes readable citations.

Short forms of the table in the readiness reference notes (docs/readiness.md cites the same codes).
"""

from __future__ import annotations

import re

SOURCES: dict[str, str] = {
    "seed article": "The question legday answers: run the day after leg day, or not, when sore",
    "data check": "legday's own check that recent data exists",
    "S1": "Cheung, Hume & Maxwell 2003, Sports Med: soreness peaks 24-72 h after unaccustomed work",
    "S2": "Cleary et al. 2002, J Athl Train: the repeated-bout effect",
    "S3": "Doma et al. 2015, Eur J Appl Physiol: running after a lower-body strength session",
    "S4": "Doma et al. 2017, Appl Physiol Nutr Metab: avoid quality running for 48 h after leg training",
    "S5": "Doma & Deakin 2013, Appl Physiol Nutr Metab: next-day running economy after strength work",
    "S6": "Doma & Deakin 2014, Eur J Sport Sci: intensity and volume of the strength session matter",
    "S7": "Marcora & Bosio 2007, Scand J Med Sci Sports: muscle damage slows a time trial at 48 h",
    "S8": "Meta-analysis 2023, Sci & Sports: exercise-induced muscle damage and running",
    "S14": "Gabbett 2016, Br J Sports Med: acute:chronic workload ratio above 1.5",
    "S15": "Williams et al. 2017, Br J Sports Med: ACWR with exponentially weighted averages",
    "S16": "Impellizzeri et al. 2020, Sports Med: the limits of the ACWR",
    "S17": "Kiviniemi et al. 2007, Eur J Appl Physiol: HRV-guided training",
    "S18": "Vesterinen et al. 2016, Med Sci Sports Exerc: HRV within its normal range",
    "S19": "Plews et al. 2013-2014: weekly ln RMSSD averages need at least 3 nights",
    "S20": "HRV4Training: a 60-day baseline, normal range +/- 0.5 SD",
    "S21": "Dressendorfer et al. 1985, Phys Sportsmed: morning heart rate +10 bpm under overload",
    "S22": "Buchheit 2014, Front Physiol: resting heart rate against its usual value",
    "S28": "Garmin: the recovery timer",
    "S29": "Craven et al. 2022: 6 h of sleep or less lowers next-day performance",
}

_RANGE = re.compile(r"S(\d+)\s*[-\u2013]\s*S(\d+)")


def cited(source: str) -> list[str]:
    """The codes a reason's `source` names, ranges expanded: "S1, S4-S8" -> S1, S4, ..., S8."""
    codes: list[str] = []
    for part in (p.strip() for p in source.split(",")):
        match = _RANGE.fullmatch(part)
        if match:
            codes += [f"S{n}" for n in range(int(match.group(1)), int(match.group(2)) + 1)]
        elif part:
            codes.append(part)
    return codes


def citations(sources: list[str]) -> list[tuple[str, str]]:
    """(code, citation) for every code the reasons cite, in first-cited order, without repeats."""
    seen: dict[str, str] = {}
    for source in sources:
        for code in cited(source):
            seen.setdefault(code, SOURCES.get(code, "see legday's readiness notes"))
    return list(seen.items())
