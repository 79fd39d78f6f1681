"""Every source legday cites is one a runner can check: a DOI, PubMed/PMC or a publisher page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sync.readiness.sources import REFERENCES
from sync.readiness.texts import SOURCES
from tests.conftest import require_shared

# Journals' and vendors' own sites; never a document-sharing mirror or a proxy.
PUBLISHERS = {
    "bjsm.bmj.com",
    "frontiersin.org",
    "www.frontiersin.org",
    "link.springer.com",
    "journals.lww.com",
    "www.garmin.com",
    "www8.garmin.com",
    "www.hrv4training.com",
}
DOI = re.compile(r"^https://doi\.org/10\.\d{4,9}/\S+$")
PUBMED = re.compile(r"^https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/?$")
PMC = re.compile(r"^https://pmc\.ncbi\.nlm\.nih\.gov/articles/PMC\d+/?$")


def test_every_cited_link_is_a_doi_pubmed_pmc_or_a_publisher_page() -> None:
    for source in REFERENCES.values():
        if source.url is None:
            continue
        url = source.url
        trusted = (
            DOI.match(url) or PUBMED.match(url) or PMC.match(url) or urlsplit(url).hostname in PUBLISHERS
        )
        assert trusted and url.startswith("https://"), (
            f"{source.tag}: {url} is not a DOI, PubMed or publisher page"
        )


def test_every_tag_a_reason_names_is_explained() -> None:
    from sync.readiness.sources import expand_tags

    for code, tags in SOURCES.items():
        for tag in expand_tags(tags):
            assert tag in REFERENCES, f"{code} cites {tag}, which has no entry"


def test_links_match_the_reference_table() -> None:
    """A DOI or PubMed id we cite is the one reference/readiness-science.md gives for that tag."""
    table = (require_shared("reference") / "readiness-science.md").read_text()
    rows = {m[1]: m[2] for m in re.finditer(r"^\| (S\d+) \|(.*)$", table, flags=re.M)}
    for source in REFERENCES.values():
        if source.url and (DOI.match(source.url) or PUBMED.match(source.url)):
            row = rows[source.tag]
            ident = source.url.removeprefix("https://doi.org/").removeprefix(
                "https://pubmed.ncbi.nlm.nih.gov/"
            )
            assert ident.rstrip("/") in row, f"{source.tag}: {source.url} is not the link the table gives"
