"""parse_article's single filtered walk agrees with the per-field parsers.

parse_article reads a <MedlineCitation> in one pass (for speed); the public
``parse_<field>`` functions each read their own element. Both must give the same record.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest
from lxml import etree

from pubgraph.ingest.pubmed import (
    normalise_pmcid,
    parse_abstract,
    parse_article,
    parse_article_ids,
    parse_authors,
    parse_chemicals,
    parse_elocation,
    parse_journal,
    parse_journal_issue_date,
    parse_keywords,
    parse_mesh,
    parse_pmid,
    parse_publication_types,
    parse_reference,
    parse_references,
    text_of,
)
from pubgraph.ingest.records import Article
from tests.ingest.helpers import FIXTURES


def articles(path: Path, limit: int | None = None) -> Iterator[etree._Element]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        events = etree.iterparse(f, events=("end",), tag="PubmedArticle")
        for _, el in islice(events, limit):
            yield el


def by_fields(el: etree._Element) -> Article:
    medline = el.find("MedlineCitation")
    article = medline.find("Article")
    data = el.find("PubmedData")
    ids = parse_article_ids(data.find("ArticleIdList") if data is not None else None)
    eloc: dict[str, str] = {}
    for e in article.findall("ELocationID"):
        loc = parse_elocation(e)
        if loc is not None:
            eloc.setdefault(*loc)
    refs = []
    for rl in data.findall("ReferenceList") if data is not None else []:
        refs.extend(parse_references(rl))
    keywords: tuple[str, ...] = ()
    for kl in medline.findall("KeywordList"):
        keywords += parse_keywords(kl)
    return Article(
        pmid=parse_pmid(medline.find("PMID")),
        title=text_of(article.find("ArticleTitle")),
        abstract_sections=parse_abstract(article.find("Abstract")),
        language=(article.findtext("Language") or "").strip() or None,
        pub_date=parse_journal_issue_date(article.find("Journal")),
        journal=parse_journal(article.find("Journal"), medline.find("MedlineJournalInfo")),
        doi=ids.get("doi") or eloc.get("doi"),
        pmcid=normalise_pmcid(ids.get("pmc") or eloc.get("pmc")),
        authors=parse_authors(article.find("AuthorList")),
        mesh=parse_mesh(medline.find("MeshHeadingList")),
        chemicals=parse_chemicals(medline.find("ChemicalList")),
        keywords=keywords,
        publication_types=parse_publication_types(article.find("PublicationTypeList")),
        references=tuple(refs),
    )


def check(path: Path, limit: int | None = None) -> int:
    n = 0
    for el in articles(path, limit):
        parsed = parse_article(el)
        assert parsed == by_fields(el)
        singles = [parse_reference(r) for r in el.iterfind("PubmedData/ReferenceList/Reference")]
        assert [r for r in singles if r is not None] == [
            r for r in parsed.references if r in singles
        ]
        n += 1
    return n


def test_fixture() -> None:
    assert check(FIXTURES / "pubmed_fields.xml") == 4


def test_small_shared_files(shared_data: Path) -> None:
    paths = sorted((shared_data / "pubmed_small").glob("*.xml"))
    assert sum(check(p) for p in paths) == 121 + 93 + 100


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz"])
def test_large_files_first_articles(shared_data: Path, name: str) -> None:
    assert check(shared_data / "pubmed" / name, limit=4000) == 4000
