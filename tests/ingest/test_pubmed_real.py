"""The PubMed parser on the real shared files, checked against independent byte counts.

``helpers.raw_pubmed_counts`` counts with byte splits and regexes (no lxml). Where the
shared README states a figure it is checked too; where the README's definition differs
from the parser's, the test pins the relation that explains the difference.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pubgraph.ingest.pubmed import iter_pubmed
from pubgraph.ingest.records import Article, Deletion
from tests.ingest.helpers import RawCounts, raw_pubmed_counts


def parsed_counts(path: Path) -> dict[str, int]:
    c: Counter[str] = Counter()
    pmids: set[str] = set()
    for r in iter_pubmed(path):
        if isinstance(r, Deletion):
            c["deletions"] += 1
            continue
        assert isinstance(r, Article) and r.pmid.isdigit()
        c["articles"] += 1
        pmids.add(r.pmid)
        c["with_mesh"] += bool(r.mesh)
        c["with_abstract"] += bool(r.abstract_sections)
        c["articles_with_references"] += bool(r.references)
        c["cited_pmids"] += sum(1 for ref in r.references if ref.pmid)
        c["with_title"] += bool(r.title)
        c["with_year"] += r.pub_date.year is not None
        c["with_journal_key"] += r.journal.key is not None
    c["unique_pmids"] = len(pmids)
    return dict(c)


def assert_matches(parsed: dict[str, int], raw: RawCounts) -> None:
    for name in (
        "articles",
        "unique_pmids",
        "with_mesh",
        "with_title",
        "with_abstract",
        "articles_with_references",
        "cited_pmids",
        "deletions",
    ):
        assert parsed.get(name, 0) == getattr(raw, name), name
    # Every article has a year and a journal key (titles can be empty: <ArticleTitle/>).
    assert parsed["with_year"] == parsed["with_journal_key"] == parsed["articles"]


def test_efetch_file(shared_data: Path) -> None:
    path = shared_data / "pubmed" / "pubmed-29768149.xml"
    (a,) = list(iter_pubmed(path))
    assert isinstance(a, Article)
    assert a.pmid == "29768149"
    assert a.pub_date.iso() == "2018-05-17"
    assert a.doi == "10.1056/NEJMoa1715274"
    labels = [s.label for s in a.abstract_sections]
    assert labels[:3] == ["BACKGROUND", "METHODS", "RESULTS"]
    assert "β 2-agonist" in a.abstract_sections[0].text  # <sub> flattened, spaces collapsed
    assert a.journal.nlm_unique_id is not None and a.journal.iso_abbreviation == "N Engl J Med"
    assert_matches(parsed_counts(path), raw_pubmed_counts(path))


@pytest.mark.parametrize(
    ("name", "articles", "with_mesh", "cited"),
    [
        ("air_embolism_121.xml", 121, 112, None),
        ("il6_cytokine_100.xml", 100, 100, 645),
        ("ampk_phospho_93.xml", 93, 93, 1925),
    ],
)
def test_small_files(
    shared_data: Path, name: str, articles: int, with_mesh: int, cited: int | None
) -> None:
    path = shared_data / "pubmed_small" / name
    parsed, raw = parsed_counts(path), raw_pubmed_counts(path)
    assert_matches(parsed, raw)
    # The shared README's figures.
    assert parsed["articles"] == articles
    assert parsed["with_mesh"] == with_mesh
    if cited is not None:
        assert parsed["cited_pmids"] == cited


@pytest.mark.slow
def test_baseline_file_pubmed20n0014(shared_data: Path) -> None:
    path = shared_data / "pubmed" / "pubmed20n0014.xml.gz"
    parsed, raw = parsed_counts(path), raw_pubmed_counts(path)
    assert_matches(parsed, raw)
    # README: 30,000 articles, 29,998 with MeSH, 14,832 with abstracts, 48,598 cited PMIDs.
    assert parsed["articles"] == parsed["unique_pmids"] == 30_000
    assert parsed["with_mesh"] == 29_998
    assert parsed["with_abstract"] == 14_832
    assert parsed["cited_pmids"] == 48_598
    # README "3,336 with reference lists" counts <ReferenceList> elements: some articles
    # have several, so 3,199 articles carry references.
    assert raw.reference_list_elements == 3_336
    assert parsed["articles_with_references"] == 3_199
    assert parsed.get("deletions", 0) == 0


@pytest.mark.slow
def test_update_file_pubmed21n1298(shared_data: Path) -> None:
    path = shared_data / "pubmed" / "pubmed21n1298.xml.gz"
    parsed, raw = parsed_counts(path), raw_pubmed_counts(path)
    assert_matches(parsed, raw)
    # README: 20,783 articles: distinct PMIDs. The file holds 20,788 <PubmedArticle>
    # records: versioned citations (<PMID Version="2..4">) repeat 3 PMIDs; all are kept.
    assert parsed["unique_pmids"] == 20_783
    assert parsed["articles"] == 20_788
    # README: 335 with MeSH, 20 deletions.
    assert parsed["with_mesh"] == 335
    assert parsed["deletions"] == 20
    # README: 18,446 with abstracts = <Abstract> elements; one holds only an empty
    # <AbstractText/> plus copyright, so 18,445 articles have abstract text.
    assert raw.abstract_elements == 18_446
    assert parsed["with_abstract"] == 18_445
    # README: 92,699 cited PMIDs = those directly under each article's first
    # <ReferenceList> (what pubmed_parser reads). 22 articles have nested, titled
    # sub-lists; counting them too gives 93,610.
    assert raw.cited_pmids_first_list_direct == 92_699
    assert parsed["cited_pmids"] == 93_610
