"""Field parsers of the PubMed parser, on hand-written fixtures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from pubgraph.ingest.pubmed import (
    iter_pubmed,
    normalise_orcid,
    normalise_pmcid,
    parse_abstract,
    parse_article,
    parse_author,
    parse_chemicals,
    parse_deletions,
    parse_mesh,
    parse_pub_date,
    parse_references,
    text_of,
)
from pubgraph.ingest.records import (
    AbstractSection,
    Article,
    Author,
    Chemical,
    Deletion,
    MeshHeading,
    PubDate,
    Qualifier,
    Reference,
)
from tests.ingest.helpers import FIXTURES

FIELDS = FIXTURES / "pubmed_fields.xml"


@pytest.fixture(scope="module")
def records() -> list[Article | Deletion]:
    return list(iter_pubmed(FIELDS))


@pytest.fixture(scope="module")
def first(records: list[Article | Deletion]) -> Article:
    a = records[0]
    assert isinstance(a, Article)
    return a


def el(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_records_in_order_with_deletions_last(records: list[Article | Deletion]) -> None:
    assert [(type(r).__name__, r.pmid) for r in records] == [
        ("Article", "1000001"),
        ("Article", "1000002"),
        ("Article", "1000003"),
        ("Article", "1000004"),
        ("Deletion", "1000010"),
        ("Deletion", "1000011"),
    ]


def test_title_flattens_inline_markup_and_whitespace(first: Article) -> None:
    assert first.title == "Effect of Foo on the Ca2+ flux in test cells."


def test_structured_abstract_keeps_labels_and_categories(first: Article) -> None:
    assert [(s.label, s.category) for s in first.abstract_sections] == [
        ("BACKGROUND", "BACKGROUND"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
    ]  # the empty <AbstractText/> is dropped
    assert first.abstract_sections[0].text == "Foo is a made-up compound."
    # MathML is flattened to its text
    assert first.abstract_sections[1].text == "We measured k1 in 3 groups."
    assert first.abstract is not None
    assert first.abstract.splitlines()[0] == "BACKGROUND: Foo is a made-up compound."


def test_date_with_month_name(first: Article) -> None:
    assert first.pub_date == PubDate(year=2019, month=3, day=7)
    assert first.pub_date.iso() == "2019-03-07"


def test_medline_date_reduced_to_first_year(records: list[Article | Deletion]) -> None:
    second, third, fourth = records[1], records[2], records[3]
    assert isinstance(second, Article) and isinstance(third, Article)
    assert isinstance(fourth, Article)
    assert second.pub_date == PubDate(year=1978, medline_date="1978 Mar-Apr")
    assert third.pub_date == PubDate(year=1977, medline_date="1977-1978")
    assert fourth.pub_date == PubDate(year=1980)  # a Season gives no month


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<PubDate><Year>2001</Year><Month>12</Month></PubDate>", PubDate(2001, 12)),
        ("<PubDate><Year>2001</Year><Month>sep</Month><Day>30</Day></PubDate>",
         PubDate(2001, 9, 30)),
        ("<PubDate><Year>2001</Year><Day>3</Day></PubDate>", PubDate(2001)),
        ("<PubDate><Year>2001</Year><Month>13</Month></PubDate>", PubDate(2001)),
        ("<PubDate><MedlineDate>Winter 1999-2000</MedlineDate></PubDate>",
         PubDate(1999, medline_date="Winter 1999-2000")),
        ("<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>",
         PubDate(1998, medline_date="1998 Dec-1999 Jan")),
        ("<PubDate/>", PubDate()),
    ],
)  # fmt: skip
def test_parse_pub_date(xml: str, expected: PubDate) -> None:
    assert parse_pub_date(el(xml)) == expected


def test_journal(first: Article, records: list[Article | Deletion]) -> None:
    j = first.journal
    assert (j.title, j.iso_abbreviation, j.issn, j.nlm_unique_id) == (
        "Journal of Invented Results",
        "J Invent Res",
        "1234-5678",
        "9999001",
    )
    assert j.key == "9999001"
    second = records[1]
    assert isinstance(second, Article)
    assert second.journal.issn == "4321-0000"  # ISSNLinking when the Journal has no ISSN


def test_ids_article_id_list_before_elocation(first: Article) -> None:
    assert first.doi == "10.9999/jir.2019.001"
    assert first.pmcid == "PMC7000001"


def test_ids_from_elocation_only_when_valid(records: list[Article | Deletion]) -> None:
    second = records[1]
    assert isinstance(second, Article)
    assert second.pmcid == "PMC7000002"
    assert second.doi is None  # ValidYN="N"


def test_authors(first: Article) -> None:
    assert first.authors == (
        Author(
            last_name="Doe",
            fore_name="Jane Q",
            initials="JQ",
            affiliations=("Dept of Examples, Test University, Nowhere.",
                          "Institute of Fixtures, Elsewhere."),
            orcid="0000-0002-1825-009X",
        ),
        Author(last_name="Roe", fore_name="Richard", initials="R", orcid="0000-0002-1825-0097"),
        Author(collective_name="The Fixture Study Group"),
    )  # fmt: skip


def test_old_style_affiliation_directly_under_author() -> None:
    a = parse_author(el("<Author><LastName>X</LastName><Affiliation>Lab Y.</Affiliation></Author>"))
    assert a.affiliations == ("Lab Y.",)


def test_mesh_with_qualifiers_and_major_flags(first: Article) -> None:
    assert first.mesh == (
        MeshHeading(
            ui="D002118",
            name="Calcium",
            major=False,
            qualifiers=(
                Qualifier(ui="Q000378", name="metabolism", major=True),
                Qualifier(ui="Q000494", name="pharmacology", major=False),
            ),
        ),
        MeshHeading(ui="D006801", name="Humans"),
        MeshHeading(ui="D002478", name="Cells, Cultured", major=True),
    )


def test_mesh_headings_with_same_descriptor_differ_by_qualifiers() -> None:
    xml = (
        '<MeshHeadingList><MeshHeading><DescriptorName UI="D1" MajorTopicYN="Y">A'
        '</DescriptorName><QualifierName UI="Q1" MajorTopicYN="N">q</QualifierName>'
        '</MeshHeading><MeshHeading><DescriptorName UI="D1" MajorTopicYN="Y">A'
        "</DescriptorName></MeshHeading></MeshHeadingList>"
    )
    a, b = parse_mesh(el(xml))
    assert a.qualifiers == (Qualifier("Q1", "q", False),)
    assert b == MeshHeading("D1", "A", True, ())  # same descriptor, no qualifier: distinct


def test_chemicals_registry_zero_is_none(first: Article) -> None:
    assert first.chemicals == (
        Chemical(ui="D000001", name="Foo Compounds", registry_number=None),
        Chemical(ui="D002118", name="Calcium", registry_number="7440-70-2"),
    )
    assert parse_chemicals(None) == ()


def test_keywords_language_publication_types(first: Article) -> None:
    assert first.keywords == ("foo", "in vitro flux")
    assert first.language == "eng"  # the first of several
    assert first.publication_types == ("Journal Article", "Research Support, Non-U.S. Gov't")


def test_references_with_and_without_pmid(first: Article) -> None:
    assert first.references == (
        Reference(pmid="900001", doi="10.9999/cited.1",
                  citation="Smith A. A cited paper. J Cit. 2001;1:1-2."),
        Reference(citation="Jones B. A book without any identifier. Nowhere Press; 1999."),
        Reference(doi="10.9999/cited.3", pmcid="PMC900003",
                  citation="Brown C. Only a DOI. J Cit. 2002;2:3."),
        Reference(pmid="900004", citation="Green D. Nested list entry."),
    )  # fmt: skip


def test_reference_without_anything_is_dropped() -> None:
    assert parse_references(el("<ReferenceList><Reference/></ReferenceList>")) == ()
    assert parse_references(None) == ()


def test_article_without_optional_parts(records: list[Article | Deletion]) -> None:
    fourth = records[3]
    assert isinstance(fourth, Article)
    assert fourth.abstract_sections == () and fourth.abstract is None
    assert fourth.authors == () and fourth.mesh == () and fourth.references == ()
    assert fourth.journal.key == "Seasonal Journal"  # no NLM id, no ISSN: the title


def test_parse_deletions() -> None:
    got = parse_deletions(el("<DeleteCitation><PMID>1</PMID><PMID>22</PMID></DeleteCitation>"))
    assert got == (Deletion("1"), Deletion("22"))


def test_parse_article_on_one_element() -> None:
    tree = etree.parse(str(FIELDS))
    art = parse_article(tree.getroot()[0])
    assert art.pmid == "1000001" and art.source == "pubmed"


def test_parse_abstract_none_and_unlabelled() -> None:
    assert parse_abstract(None) == ()
    got = parse_abstract(el("<Abstract><AbstractText> one  two </AbstractText></Abstract>"))
    assert got == (AbstractSection(text="one two"),)


def test_text_of() -> None:
    assert text_of(None) is None
    assert text_of(el("<a>  </a>")) is None
    assert text_of(el("<a>x<b>y</b> z\n\tw</a>")) == "xy z w"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-009x", "0000-0002-1825-009X"),
        ("0000000218250097", "0000-0002-1825-0097"),
        ("not an orcid", "not an orcid"),
        ("", None),
    ],
)
def test_normalise_orcid(raw: str, expected: str | None) -> None:
    assert normalise_orcid(raw) == expected


def test_normalise_pmcid() -> None:
    assert normalise_pmcid("123") == "PMC123"
    assert normalise_pmcid("PMC123") == "PMC123"
    assert normalise_pmcid(" ") is None


def test_file_object_and_gzip_stream_give_the_same_records(tmp_path: Path) -> None:
    import gzip

    expected = list(iter_pubmed(FIELDS))
    data = FIELDS.read_bytes()
    assert list(iter_pubmed(io.BytesIO(data))) == expected
    assert list(iter_pubmed(io.BufferedReader(io.BytesIO(gzip.compress(data))))) == expected
    # A gzip file is detected by its magic bytes, not its name.
    odd = tmp_path / "records.bin"
    odd.write_bytes(gzip.compress(data))
    assert list(iter_pubmed(odd)) == expected
    assert list(iter_pubmed(str(odd))) == expected
