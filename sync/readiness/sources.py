"""What the source tags of a reason stand for ("S1, S4-S8"): titles and links.

The S-numbers are those of reference/readiness-science.md, Part 3. Every output that shows a
tag also lists these entries, so a tag is never left unexplained.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

__all__ = ["REFERENCES", "Source", "expand_tags", "sources_for"]


class Source(BaseModel):
    """One reference behind a rule."""

    model_config = ConfigDict(frozen=True)

    tag: str
    title: str
    url: str | None = None


GUIDE = "legday guide"  # the running-after-leg-day advice legday was built on (no paper of its own)
_OLD_TAGS = {"seed article": GUIDE}  # how verdicts stored before 2026-12 name it

REFERENCES: dict[str, Source] = {
    s.tag: s
    for s in (
        Source(
            tag=GUIDE,
            title="legday's guide to the day after leg day: sore legs get a lighter day, "
            "legs that can barely walk get rest",
        ),
        Source(
            tag="data check",
            title="legday's own check: nothing from your watch or Garmin is known for the last 3 days",
        ),
        Source(
            tag="S1",
            title="Cheung, Hume & Maxwell 2003, Sports Med 33:145: soreness peaks 24-72 h after the session",
            url="https://doi.org/10.2165/00007256-200333020-00005",
        ),
        Source(
            tag="S4",
            title="Doma et al. 2017, APNM 42:978: avoid submaximal running for 48 h after leg strength work",
            url="https://doi.org/10.1139/apnm-2017-0214",
        ),
        Source(
            tag="S5",
            title="Doma & Deakin 2013, APNM: next-day running cost up, time to exhaustion down about 29 %",
            url="https://doi.org/10.1139/apnm-2012-0362",
        ),
        Source(
            tag="S6",
            title="Doma & Deakin 2014, Eur J Sport Sci: only hard leg sessions impair running",
            url="https://pubmed.ncbi.nlm.nih.gov/24533516/",
        ),
        Source(
            tag="S7",
            title="Marcora & Bosio 2007, Scand J Med Sci Sports 17:662: muscle damage slows a 30-min run "
            "at 48 h",
            url="https://doi.org/10.1111/j.1600-0838.2006.00627.x",
        ),
        Source(
            tag="S8",
            title="Burt, Doma & Connor 2023 meta-analysis, Sci & Sports 38:647: running economy and maximal "
            "efforts impaired up to 48 h",
            url="https://doi.org/10.1016/j.scispo.2022.04.003",
        ),
        Source(
            tag="S14",
            title='Gabbett 2016, BJSM 50:273: acute:chronic load above 1.5 is the "danger zone"',
            url="https://doi.org/10.1136/bjsports-2015-095788",
        ),
        Source(
            tag="S15",
            title="Williams et al. 2017, BJSM: exponentially weighted acute:chronic load",
            url="https://bjsm.bmj.com/content/51/3/209",
        ),
        Source(
            tag="S16",
            title="Impellizzeri et al. 2021, Sports Med 51:581: the load ratio is a weak predictor, "
            "a caution only",
            url="https://doi.org/10.1007/s40279-020-01378-6",
        ),
        Source(
            tag="S17",
            title="Kiviniemi et al. 2007, EJAP: HRV-guided training, low HRV means a lighter day",
            url="https://doi.org/10.1007/s00421-007-0552-2",
        ),
        Source(
            tag="S18",
            title="Vesterinen et al. 2016, MSSE: hard sessions only with HRV in its normal range",
            url="https://doi.org/10.1249/MSS.0000000000000910",
        ),
        Source(
            tag="S19",
            title="Plews et al. 2013, Sports Med 43:773: weekly ln(RMSSD) averages, at least 3 nights",
            url="https://doi.org/10.1007/s40279-013-0071-8",
        ),
        Source(tag="S20", title="HRV4Training: a normal range from 60 days, half a standard deviation wide"),
        Source(
            tag="S21",
            title="Dressendorfer et al. 1985, Phys Sportsmed: morning heart rate +10 bpm with overload",
            url="https://doi.org/10.1080/00913847.1985.11708858",
        ),
        Source(
            tag="S22",
            title="Buchheit 2014, Front Physiol: reading resting heart-rate changes (apps flag +3-5 bpm)",
            url="https://frontiersin.org/journals/physiology/articles/10.3389/fphys.2014.00073/full",
        ),
        Source(
            tag="S28",
            title="Garmin recovery time: zero means ready for the next hard (Training Effect 3+) workout",
        ),
        Source(
            tag="S29",
            title="Craven et al. 2022 meta-analysis: 6 h of sleep or less lowers performance by 7.6 %",
            url="https://pmc.ncbi.nlm.nih.gov/articles/PMC9584849",
        ),
    )
}

_RANGE = re.compile(r"^S(\d+)-S(\d+)$")


def expand_tags(source: str) -> list[str]:
    """The tags in a reason's source string, ranges expanded: "S1, S4-S6" -> S1, S4, S5, S6."""
    tags: list[str] = []
    for part in (p.strip() for p in source.split(",")):
        match = _RANGE.match(part)
        if match:
            tags.extend(f"S{n}" for n in range(int(match[1]), int(match[2]) + 1))
        elif part:
            tags.append(_OLD_TAGS.get(part, part))
    return tags


def sources_for(source_strings: list[str]) -> list[Source]:
    """The references behind some reasons, each once, in order of first mention."""
    seen: dict[str, Source] = {}
    for source in source_strings:
        for tag in expand_tags(source):
            if tag in REFERENCES:
                seen.setdefault(tag, REFERENCES[tag])
    return list(seen.values())
