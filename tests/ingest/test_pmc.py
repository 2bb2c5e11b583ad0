"""PMC JATS parser: a hand-written fixture, PMID-less articles, and the 8 real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pubgraph.core.errors import InputError
from pubgraph.ingest.pmc import iter_pmc, parse_pmc
from pubgraph.ingest.pubmed import SkipInfo
from pubgraph.ingest.records import AbstractSection, Author, PubDate, Reference
from tests.ingest.helpers import FIXTURES


def test_fixture_fields() -> None:
    a = parse_pmc(FIXTURES / "pmc_article.nxml")
    assert a.source == "pmc"
    assert (a.pmid, a.pmcid, a.doi) == ("4000001", "PMC8000001", "10.9999/jfs.4000001")
    assert a.title == "A fixture study of CO2"
    assert a.language == "eng"
    assert a.publication_types == ("research-article",)
    assert a.pub_date == PubDate(year=2015, month=7)  # print date before electronic
    j = a.journal
    assert (j.title, j.iso_abbreviation, j.issn, j.nlm_unique_id) == (
        "Journal of Fixture Science",
        "J. Fixture Sci.",
        "2222-0001",
        None,
    )
    assert a.abstract_sections == (
        AbstractSection(text="Fixtures are small.", label="Background"),
        AbstractSection(text="They work. Mostly.", label="Results"),
    )  # the author summary is not the abstract
    assert a.keywords == ("fixtures", "JATS parsing")
    assert a.authors == (
        Author(
            last_name="Doe",
            fore_name="Jane-Anne Q.",
            initials="JAQ",
            affiliations=("Test University, Nowhere", "Institute of Fixtures, Elsewhere"),
            orcid="0000-0001-2345-6789",
        ),
        Author(collective_name="The JATS Consortium"),
    )  # the editor is not an author
    assert a.body is None


def test_fixture_references() -> None:
    a = parse_pmc(FIXTURES / "pmc_article.nxml")
    assert a.references == (
        Reference(pmid="900001", doi="10.9999/cited.1",
                  citation="Smith A Cited paper J Cit 2001"),
        Reference(citation="Jones B (1999) A Book. Nowhere Press."),
        Reference(doi="10.9999/cited.3", citation="Brown C (2002) Only a DOI. J Cit 2: 3."),
    )  # fmt: skip


def test_fixture_body_only_when_asked() -> None:
    a = parse_pmc(FIXTURES / "pmc_article.nxml", include_body=True)
    assert a.body == "Introduction\nBody text cites [1] (Fig. 1).\nDetails\nSecond paragraph."


def test_no_pmid_strict_is_an_input_error() -> None:
    path = FIXTURES / "pmc_no_pmid.nxml"
    with pytest.raises(InputError) as info:
        parse_pmc(path)
    err = info.value
    assert err.file == str(path)
    assert err.field == "article-id[pmid]"
    assert err.record == "PMC8000002"
    assert "has no PMID" in str(err)


def test_no_pmid_skip_bad_in_an_articleset() -> None:
    skips: list[SkipInfo] = []
    got = list(iter_pmc(FIXTURES / "pmc_articleset.xml", skip_bad=True, on_skip=skips.append))
    assert [a.pmid for a in got] == ["4000011", "4000013"]
    assert got[0].pmcid == "PMC8000011" and got[0].pub_date.year == 2020
    assert [(s.record, s.line) for s in skips] == [("PMC8000012", 8)]
    assert "has no PMID" in skips[0].reason


def test_pubmed_file_given_to_pmc_parser() -> None:
    with pytest.raises(InputError, match="unknown root element <PubmedArticleSet>"):
        list(iter_pmc(FIXTURES / "pubmed_fields.xml"))


# ----------------------------------------------------------------------------- real files

_REF = re.compile(r"<ref[\s>].*?</ref>", re.S)
_REF_PMID = re.compile(r'<pub-id pub-id-type="pmid">\s*(\d+)\s*</pub-id>')
_ARTICLE_ID = re.compile(r'<article-id pub-id-type="(pmid|pmc|doi)">([^<]+)</article-id>')


def _pmc_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "pmc").glob("*.nxml"))
    assert len(files) == 8
    return files


def test_all_real_pmc_files(shared_data: Path) -> None:
    for path in _pmc_files(shared_data):
        text = path.read_text(encoding="utf-8")
        ids = dict(_ARTICLE_ID.findall(text))
        refs = _REF.findall(text)
        ref_pmids = [m.group(1) for r in refs if (m := _REF_PMID.search(r))]
        a = parse_pmc(path)
        assert a.pmid == ids["pmid"], path.name
        assert a.pmcid == "PMC" + ids["pmc"], path.name
        assert a.doi == ids["doi"], path.name
        assert len(a.references) == len(refs), path.name
        assert [r.pmid for r in a.references if r.pmid] == ref_pmids, path.name
        assert all(r.citation for r in a.references), path.name
        assert a.title and a.abstract_sections and a.authors, path.name
        assert a.pub_date.year is not None and 2000 <= a.pub_date.year <= 2013, path.name
        assert a.journal.title and a.journal.issn, path.name
        assert a.body is None


def test_real_pmc_body(shared_data: Path) -> None:
    for path in _pmc_files(shared_data):
        a = parse_pmc(path, include_body=True)
        body = a.body or ""
        # Every <p> directly in a body <sec> contributes; figure captions do not.
        assert len(body) > 5_000, path.name
        assert "\n" in body
