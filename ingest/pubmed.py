"""Streaming parser for PubMed / MEDLINE XML (``PubmedArticleSet``), plain or gzipped.

``iter_pubmed`` walks a file with the shared streaming reader
(:func:`pubgraph.ingest.xmlstream.stream_records`: ``iterparse`` restricted to the record
tags, each element cleared once parsed) and turns each ``<PubmedArticle>`` into an
:class:`~pubgraph.ingest.records.Article` and each PMID of a ``<DeleteCitation>`` block into
a :class:`~pubgraph.ingest.records.Deletion`.

Each field has its own small pure ``parse_<field>(element)`` function (pubmed_parser
style) taking the element that holds the field. They walk children directly instead of
``find``/``findtext``/XPath: lxml's ``find("A/B")`` runs ElementPath in Python (~4 µs a
call), and creating element proxies is the main cost, so each element is visited once.
Repeated controlled-vocabulary values (MeSH headings, chemicals) are parsed once and shared.

Text is flattened with ``itertext`` (inline ``<i>``, ``<sup>``, MathML...) and its
whitespace collapsed; no other cleaning happens here (see :mod:`ingest.clean`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from lxml import etree

from pubgraph.ingest.records import (
    AbstractSection,
    Article,
    Author,
    Chemical,
    Deletion,
    Journal,
    MeshHeading,
    PubDate,
    Qualifier,
    Record,
    Reference,
)
from pubgraph.ingest.xmlstream import (
    RecordError,
    Reopen,
    SkipInfo,
    open_xml,
    source_name,
    stream_records,
    text_of,
)

__all__ = [
    "PUBMED_ROOTS",
    "RecordError",
    "SkipInfo",
    "iter_pubmed",
    "normalise_orcid",
    "normalise_pmcid",
    "open_xml",
    "parse_abstract",
    "parse_article",
    "parse_article_ids",
    "parse_author",
    "parse_authors",
    "parse_book_article",
    "parse_chemicals",
    "parse_deletions",
    "parse_elocation",
    "parse_journal",
    "parse_journal_issue_date",
    "parse_keywords",
    "parse_mesh",
    "parse_mesh_heading",
    "parse_pmid",
    "parse_pub_date",
    "parse_publication_types",
    "parse_reference",
    "parse_references",
    "source_name",
    "stream_records",
    "text_of",
]

PUBMED_ROOTS = frozenset({"PubmedArticleSet", "PubmedBookArticleSet"})
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation", "DeleteDocument")


# --------------------------------------------------------------------------- text helpers


def _strip(s: str | None) -> str | None:
    if s is None:
        return None
    s = s.strip()
    return s or None


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")


def _is_pmid(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _month(s: str | None) -> int | None:
    if not s:
        return None
    s = s.strip()
    if s.isdigit():
        m = int(s)
        return m if 1 <= m <= 12 else None
    return _MONTHS.get(s[:3].lower())


def _day(s: str | None) -> int | None:
    if not s:
        return None
    s = s.strip()
    if s.isdigit():
        d = int(s)
        return d if 1 <= d <= 31 else None
    return None


def _year(s: str | None) -> int | None:
    if not s:
        return None
    m = _YEAR_RE.search(s)
    return int(m.group(1)) if m else None


def normalise_orcid(raw: str | None) -> str | None:
    """``0000-0002-1825-0097`` from any of the forms PubMed uses (URL, no hyphens...)."""
    if not raw:
        return None
    m = _ORCID_RE.search(raw)
    if not m:
        return raw.strip() or None
    return "-".join(m.groups()).upper()


def normalise_pmcid(raw: str | None) -> str | None:
    """``PMC1234567`` from ``1234567`` or ``PMC1234567``; a version suffix is kept."""
    raw = _strip(raw)
    if raw is None:
        return None
    return raw if raw.upper().startswith("PMC") else f"PMC{raw}"


# --------------------------------------------------------------------------- field parsers
#
# Every parse_<field> takes the element that holds the field (or None, giving an empty
# value). They walk children directly: on lxml, ``find("A/B")`` costs ~4 µs a call (it runs
# ElementPath in Python), a child loop a fraction of that.

# Controlled-vocabulary values repeat across articles (descriptor-only MeSH headings,
# chemicals), and the records are immutable, so equal values share one instance. The
# caches are bounded (cleared when full) to keep memory flat.
_INTERN_MAX = 50_000
_intern_mesh: dict[tuple[object, ...], MeshHeading | None] = {}
_intern_chem: dict[tuple[object, ...], Chemical | None] = {}


def _leaf(el: etree._Element) -> str | None:
    """Text of a ``#PCDATA``-only element (names, MeSH terms): stripped, no markup walk."""
    t = el.text
    if t is None:
        return None
    return t.strip() or None


def parse_pmid(pmid: etree._Element | None) -> str:
    """Text of a ``<PMID>`` element; RecordError if it is absent or not a number."""
    value = None if pmid is None else _strip(pmid.text)
    if value is None:
        raise RecordError("record has no PMID", field="PMID")
    if not _is_pmid(value):
        raise RecordError(f"PMID {value!r} is not a number", field="PMID")
    return value


def parse_abstract(abstract: etree._Element | None) -> tuple[AbstractSection, ...]:
    """Sections of an ``<Abstract>``, keeping each ``Label`` and ``NlmCategory``."""
    if abstract is None:
        return ()
    out = []
    for at in abstract.iterchildren("AbstractText"):
        text = text_of(at)
        if text is not None:
            out.append(AbstractSection(text, _strip(at.get("Label")), at.get("NlmCategory")))
    return tuple(out)


def parse_pub_date(pub_date: etree._Element | None) -> PubDate:
    """A ``<PubDate>``: Year/Month/Day, or ``MedlineDate`` reduced to its first year.

    Month names (``Mar``) and numbers (``03``) both give 3; a ``Season`` gives no month.
    """
    if pub_date is None:
        return PubDate()
    year = month = day = None
    medline_date = None
    for child in pub_date:
        tag = child.tag
        if tag == "Year":
            year = _year(child.text)
        elif tag == "Month":
            month = _month(child.text)
        elif tag == "Day":
            day = _day(child.text)
        elif tag == "MedlineDate":
            medline_date = _strip(child.text)
            if year is None:
                year = _year(medline_date)
    if month is None:
        day = None
    return PubDate(year, month, day, medline_date)


def parse_journal(
    journal: etree._Element | None, journal_info: etree._Element | None = None
) -> Journal:
    """A ``<Journal>`` (title, ISO abbreviation, ISSN) and ``<MedlineJournalInfo>``
    (NlmUniqueID; ISSNLinking and MedlineTA as fallbacks)."""
    return _journal_and_date(journal, journal_info)[0]


def parse_journal_issue_date(journal: etree._Element | None) -> PubDate:
    """The ``JournalIssue/PubDate`` of a ``<Journal>`` element."""
    return _journal_and_date(journal, None)[1]


def _journal_and_date(
    journal: etree._Element | None, journal_info: etree._Element | None
) -> tuple[Journal, PubDate]:
    # One pass over <Journal> for both: parse_article needs the two.
    title = iso = issn = nlm_id = None
    pub_date = None
    if journal is not None:
        for child in journal:
            tag = child.tag
            if tag == "JournalIssue":
                for c in child:
                    if c.tag == "PubDate":
                        pub_date = parse_pub_date(c)
                        break
            elif tag == "Title":
                title = text_of(child)
            elif tag == "ISOAbbreviation":
                iso = _strip(child.text)
            elif tag == "ISSN":
                issn = _strip(child.text)
    if journal_info is not None:
        linking = ta = None
        for child in journal_info:
            tag = child.tag
            if tag == "NlmUniqueID":
                nlm_id = _strip(child.text)
            elif tag == "ISSNLinking":
                linking = _strip(child.text)
            elif tag == "MedlineTA":
                ta = _strip(child.text)
        issn = issn or linking
        title = title or ta
    return Journal(title, iso, issn, nlm_id), pub_date or PubDate()


def parse_article_ids(article_id_list: etree._Element | None) -> dict[str, str]:
    """``{IdType: value}`` of an ``<ArticleIdList>`` (first value of each type)."""
    ids: dict[str, str] = {}
    if article_id_list is None:
        return ids
    for aid in article_id_list:
        kind = aid.get("IdType")
        value = _strip(aid.text)
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def parse_elocation(elocation: etree._Element) -> tuple[str, str] | None:
    """``(EIdType, value)`` of a valid ``<ELocationID>``, else None."""
    value = _strip(elocation.text)
    if not value or elocation.get("ValidYN", "Y") != "Y":
        return None
    return (elocation.get("EIdType") or "", value)


_AUTHOR_TAGS = ("LastName", "ForeName", "Initials", "Affiliation", "CollectiveName", "Identifier")


def parse_author(author: etree._Element) -> Author:
    """One ``<Author>``: names, initials, collective name, affiliations, ORCID."""
    last = fore = initials = collective = orcid = None
    affiliations: list[str] = []
    # Filtered walk: finds AffiliationInfo/Affiliation (and the pre-2015 Author/Affiliation)
    # without visiting AffiliationInfo itself.
    for child in author.iter(_AUTHOR_TAGS):
        tag = child.tag
        if tag == "LastName":
            t = child.text
            last = t.strip() or None if t else None
        elif tag == "ForeName":
            t = child.text
            fore = t.strip() or None if t else None
        elif tag == "Initials":
            t = child.text
            initials = t.strip() or None if t else None
        elif tag == "Affiliation":
            aff = text_of(child)
            if aff:
                affiliations.append(aff)
        elif tag == "CollectiveName":
            collective = text_of(child)
        elif (
            orcid is None
            and child.get("Source") == "ORCID"
            and child.getparent() is author  # not an AffiliationInfo/Identifier
        ):
            orcid = normalise_orcid(child.text)
    return Author(last, fore, initials, collective, tuple(affiliations), orcid)


def parse_authors(author_list: etree._Element | None) -> tuple[Author, ...]:
    """Authors of an ``<AuthorList>``, in order."""
    if author_list is None:
        return ()
    return tuple([parse_author(a) for a in author_list.iterchildren("Author")])


def parse_mesh_heading(heading: etree._Element) -> MeshHeading | None:
    """One ``<MeshHeading>``: descriptor UI, name and major flag, plus its qualifiers."""
    desc = None
    quals = []
    for child in heading:
        tag = child.tag
        if tag == "DescriptorName":
            desc = child
        elif tag == "QualifierName":
            quals.append(
                Qualifier(
                    child.get("UI") or "", _leaf(child) or "", child.get("MajorTopicYN") == "Y"
                )
            )
    if desc is None:
        return None
    return MeshHeading(
        desc.get("UI") or "", _leaf(desc) or "", desc.get("MajorTopicYN") == "Y", tuple(quals)
    )


def parse_mesh(mesh_list: etree._Element | None) -> tuple[MeshHeading, ...]:
    """Headings of a ``<MeshHeadingList>``."""
    if mesh_list is None:
        return ()
    out = []
    cache = _intern_mesh
    for heading in mesh_list:
        if heading.tag != "MeshHeading":
            continue
        if len(heading) == 1:
            # Descriptor-only headings ("Humans", "Male"...) repeat across articles: the raw
            # values are the cache key, so equal XML gives an equal (shared) record.
            d = heading[0]
            key = (d.tag, d.text, *d.values())
            m = cache.get(key)
            if m is None:
                if len(cache) >= _INTERN_MAX:
                    cache.clear()
                m = cache[key] = parse_mesh_heading(heading)
        else:
            m = parse_mesh_heading(heading)
        if m is not None:
            out.append(m)
    return tuple(out)


def parse_chemical(chemical: etree._Element) -> Chemical | None:
    """One ``<Chemical>``; a RegistryNumber of ``0`` (none) becomes None."""
    name = ui = reg = None
    for child in chemical:
        tag = child.tag
        if tag == "NameOfSubstance":
            name = _leaf(child)
            ui = child.get("UI")
        elif tag == "RegistryNumber":
            reg = _leaf(child)
    if not name:
        return None
    return Chemical(ui, name, None if reg == "0" else reg)


def _parse_chemical_cached(chem: etree._Element) -> Chemical | None:
    key = tuple([(c.tag, c.text, *c.values()) for c in chem])
    value = _intern_chem.get(key)
    if value is None:
        if len(_intern_chem) >= _INTERN_MAX:
            _intern_chem.clear()
        value = _intern_chem[key] = parse_chemical(chem)
    return value


def parse_chemicals(chemical_list: etree._Element | None) -> tuple[Chemical, ...]:
    """Chemicals of a ``<ChemicalList>``."""
    if chemical_list is None:
        return ()
    out = []
    for chem in chemical_list.iterchildren("Chemical"):
        value = _parse_chemical_cached(chem)
        if value is not None:
            out.append(value)
    return tuple(out)


def parse_keywords(keyword_list: etree._Element | None) -> tuple[str, ...]:
    """Keywords of a ``<KeywordList>``, in order."""
    if keyword_list is None:
        return ()
    return tuple([t for t in (text_of(k) for k in keyword_list.iterchildren("Keyword")) if t])


def parse_publication_types(pub_type_list: etree._Element | None) -> tuple[str, ...]:
    """``<PublicationType>`` names of a ``<PublicationTypeList>``."""
    if pub_type_list is None:
        return ()
    return tuple(
        [t for t in (_strip(p.text) for p in pub_type_list.iterchildren("PublicationType")) if t]
    )


def parse_reference(ref: etree._Element) -> Reference | None:
    """One ``<Reference>``: cited PMID, DOI and PMCID from its ArticleIdList, plus the
    ``<Citation>`` string. None if it holds none of them."""
    citation = pmid = doi = pmcid = None
    for child in ref:
        tag = child.tag
        if tag == "Citation":
            citation = text_of(child)
        elif tag == "ArticleIdList":
            for aid in child:
                pmid, doi, pmcid = _reference_id(aid, pmid, doi, pmcid)
    if pmid is None and doi is None and pmcid is None and citation is None:
        return None
    return Reference(pmid, doi, pmcid, citation)


def _reference_id(
    aid: etree._Element, pmid: str | None, doi: str | None, pmcid: str | None
) -> tuple[str | None, str | None, str | None]:
    """Fold one ``<ArticleId>`` of a reference into (pmid, doi, pmcid); the first wins."""
    value = aid.text
    if not value:
        return pmid, doi, pmcid
    value = value.strip()
    kind = aid.get("IdType")
    if kind == "pubmed":
        if pmid is None and _is_pmid(value):
            pmid = value
    elif kind == "doi":
        doi = doi or value or None
    elif kind in ("pmc", "pmcid"):
        pmcid = pmcid or normalise_pmcid(value)
    return pmid, doi, pmcid


def parse_references(reference_list: etree._Element | None) -> tuple[Reference, ...]:
    """Every ``<Reference>`` of a ``<ReferenceList>``, including those of nested
    (titled) sub-lists."""
    if reference_list is None:
        return ()
    out = []
    # One filtered walk: <Citation> and <ArticleId> occur inside <Reference> only, and a
    # <Reference> starts before its children (document order).
    citation = pmid = doi = pmcid = None
    started = False
    for el in reference_list.iter("Reference", "Citation", "ArticleId"):
        tag = el.tag
        if tag == "Reference":
            if started and (pmid or doi or pmcid or citation):
                out.append(Reference(pmid, doi, pmcid, citation))
            citation = pmid = doi = pmcid = None
            started = True
        elif tag == "Citation":
            citation = text_of(el)
        else:
            pmid, doi, pmcid = _reference_id(el, pmid, doi, pmcid)
    if started and (pmid or doi or pmcid or citation):
        out.append(Reference(pmid, doi, pmcid, citation))
    return tuple(out)


def parse_deletions(delete_citation: etree._Element) -> tuple[Deletion, ...]:
    """One Deletion per ``<PMID>`` of a ``<DeleteCitation>`` (or ``<DeleteDocument>``)."""
    out = []
    for p in delete_citation.iterchildren("PMID"):
        pmid = _strip(p.text)
        if pmid is None or not _is_pmid(pmid):
            raise RecordError(f"DeleteCitation holds a bad PMID {pmid!r}", field="PMID")
        out.append(Deletion(pmid))
    return tuple(out)


# The elements of a <MedlineCitation> that parse_article reads. Each of these names occurs
# in one place only in the PubMed DTD (e.g. <Title> only as Journal/Title, <Author> only in
# <AuthorList>, <PubDate> only in <JournalIssue>), so one filtered walk in document order
# finds them without visiting their parents; <PMID> is the exception (CommentsCorrections
# has one too) and is checked to be a direct child.
_MEDLINE_TAGS = (
    "PMID", "MeshHeading", "Author", "Chemical", "PublicationType", "Keyword", "ArticleTitle",
    "Abstract", "PubDate", "Title", "ISOAbbreviation", "ISSN", "ELocationID", "Language",
    "NlmUniqueID", "ISSNLinking", "MedlineTA",
)  # fmt: skip


def parse_article(element: etree._Element) -> Article:
    """One ``<PubmedArticle>`` element → :class:`Article`. RecordError if it has no PMID."""
    medline = pubmed_data = None
    for child in element:
        tag = child.tag
        if tag == "MedlineCitation":
            medline = child
        elif tag == "PubmedData":
            pubmed_data = child
    if medline is None:
        raise RecordError("PubmedArticle has no MedlineCitation", field="MedlineCitation")

    pmid_el = title = language = pub_date = None
    j_title = j_iso = j_issn = j_nlm = j_linking = j_ta = None
    abstract: tuple[AbstractSection, ...] = ()
    authors: list[Author] = []
    mesh: list[MeshHeading] = []
    chemicals: list[Chemical] = []
    keywords: list[str] = []
    pub_types: list[str] = []
    eloc: dict[str, str] = {}
    mesh_cache = _intern_mesh
    for el in medline.iter(_MEDLINE_TAGS):
        tag = el.tag
        if tag == "MeshHeading":
            if len(el) == 1:  # descriptor only: shared instances, see parse_mesh
                d = el[0]
                key = (d.tag, d.text, *d.values())
                m = mesh_cache.get(key)
                if m is None:
                    if len(mesh_cache) >= _INTERN_MAX:
                        mesh_cache.clear()
                    m = mesh_cache[key] = parse_mesh_heading(el)
            else:
                m = parse_mesh_heading(el)
            if m is not None:
                mesh.append(m)
        elif tag == "Author":
            authors.append(parse_author(el))
        elif tag == "Chemical":
            c = _parse_chemical_cached(el)
            if c is not None:
                chemicals.append(c)
        elif tag == "PublicationType":
            t = _strip(el.text)
            if t:
                pub_types.append(t)
        elif tag == "Keyword":
            t = text_of(el)
            if t:
                keywords.append(t)
        elif tag == "PMID":
            if pmid_el is None and el.getparent() is medline:
                pmid_el = el
        elif tag == "ArticleTitle":
            title = text_of(el)
        elif tag == "Abstract":
            abstract = parse_abstract(el)
        elif tag == "PubDate":
            pub_date = parse_pub_date(el)
        elif tag == "Title":
            j_title = text_of(el)
        elif tag == "ISOAbbreviation":
            j_iso = _strip(el.text)
        elif tag == "ISSN":
            j_issn = _strip(el.text)
        elif tag == "ELocationID":
            loc = parse_elocation(el)
            if loc is not None and loc[0] not in eloc:
                eloc[loc[0]] = loc[1]
        elif tag == "Language":
            if language is None:
                language = _strip(el.text)
        elif tag == "NlmUniqueID":
            j_nlm = _strip(el.text)
        elif tag == "ISSNLinking":
            j_linking = _strip(el.text)
        elif tag == "MedlineTA":
            j_ta = _strip(el.text)
    pmid = parse_pmid(pmid_el)

    ids: dict[str, str] = {}
    references: list[Reference] = []
    if pubmed_data is not None:
        for child in pubmed_data:
            tag = child.tag
            if tag == "ArticleIdList":
                ids = parse_article_ids(child)
            elif tag == "ReferenceList":
                references.extend(parse_references(child))

    # Positional: Article has 16 fields and keyword passing costs ~2 µs an article.
    return Article(
        pmid,
        title,
        abstract,
        language,
        pub_date or PubDate(),
        Journal(j_title or j_ta, j_iso, j_issn or j_linking, j_nlm),
        ids.get("doi") or eloc.get("doi"),
        normalise_pmcid(ids.get("pmc") or eloc.get("pmc")),
        tuple(authors),
        tuple(mesh),
        tuple(chemicals),
        tuple(keywords),
        tuple(pub_types),
        tuple(references),
        None,
        "pubmed",
    )


def parse_book_article(element: etree._Element) -> Article:
    """One ``<PubmedBookArticle>`` (NCBI Bookshelf record) → :class:`Article` (basic fields)."""
    doc = element.find("BookDocument")
    if doc is None:
        raise RecordError("PubmedBookArticle has no BookDocument", field="BookDocument")
    pmid = parse_pmid(doc.find("PMID"))
    book = doc.find("Book")
    title = text_of(doc.find("ArticleTitle"))
    if title is None and book is not None:
        title = text_of(book.find("BookTitle"))
    keywords: tuple[str, ...] = ()
    for kl in doc.iterchildren("KeywordList"):
        keywords += parse_keywords(kl)
    references: list[Reference] = []
    for rl in doc.iterchildren("ReferenceList"):
        references.extend(parse_references(rl))
    book_data = element.find("PubmedBookData")
    ids = parse_article_ids(book_data.find("ArticleIdList") if book_data is not None else None)
    return Article(
        pmid=pmid,
        title=title,
        abstract_sections=parse_abstract(doc.find("Abstract")),
        language=_strip(doc.findtext("Language")),
        pub_date=parse_pub_date(book.find("PubDate") if book is not None else None),
        doi=ids.get("doi"),
        pmcid=normalise_pmcid(ids.get("pmc")),
        authors=parse_authors(doc.find("AuthorList")),
        keywords=keywords,
        publication_types=parse_publication_types(doc.find("PublicationTypeList")),
        references=tuple(references),
        source="pubmed",
    )


# --------------------------------------------------------------------------- the file
def iter_pubmed(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    skip_bad: bool = False,
    on_skip: Callable[[SkipInfo], None] | None = None,
    reopen: Reopen | None = None,
) -> Iterator[Record]:
    """Stream the records of a PubMed XML file: an :class:`Article` per ``<PubmedArticle>``
    (and ``<PubmedBookArticle>``), a :class:`Deletion` per PMID of ``<DeleteCitation>``.

    ``source`` is a path (plain XML or gzip, told apart by the magic bytes) or a binary
    file object holding XML (a gzip stream is detected when the object can ``peek``).

    Bad input raises :class:`~pubgraph.core.errors.InputError` naming the file, the record (its
    PMID, or its position after the last good PMID) and the line. With ``skip_bad=True`` a
    bad record is reported to ``on_skip`` and skipped, and an error the XML parser cannot
    get past (a bad byte or tag) costs only the damaged record: the file is read again
    (from its path, or ``reopen()`` for a stream) record by record, see
    :func:`~pubgraph.ingest.xmlstream.stream_records`.
    """
    return stream_records(
        source,
        tags=_RECORD_TAGS,
        roots=PUBMED_ROOTS,
        handler=_handle_pubmed,
        skip_bad=skip_bad,
        on_skip=on_skip,
        reopen=reopen,
    )


def _handle_pubmed(elem: etree._Element) -> tuple[Record, ...]:
    tag = elem.tag
    if tag == "PubmedArticle":
        return (parse_article(elem),)
    if tag == "PubmedBookArticle":
        return (parse_book_article(elem),)
    return parse_deletions(elem)
