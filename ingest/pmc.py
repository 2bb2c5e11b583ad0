"""Parser for PMC full-text articles in JATS XML (``.nxml``), one article or a
``<pmc-articleset>``, plain or gzipped.

Each ``<article>`` becomes an :class:`~ingest.records.Article` with ``source="pmc"``: ids
(PMID, PMCID, DOI), title, abstract sections, keywords, journal, publication date, authors
(with affiliations and ORCID), the reference list (PMID / DOI / PMCID of each ``<ref>``
plus a citation string) and, with ``include_body=True``, the body text.

A PMC article without a PMID cannot be keyed in the graph (``Article.pmid`` is a PubMed
id, never a ``PMC…`` id): in strict mode it raises :class:`~pubgraph.core.errors.InputError`
(field ``article-id[pmid]``), with ``skip_bad=True`` it is skipped with that reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from lxml import etree

from pubgraph.core.errors import InputError
from pubgraph.ingest.pubmed import normalise_orcid, normalise_pmcid, parse_pub_date
from pubgraph.ingest.records import (
    AbstractSection,
    Article,
    Author,
    Journal,
    PubDate,
    Record,
    Reference,
)
from pubgraph.ingest.xmlstream import (
    RecordError,
    Reopen,
    SkipInfo,
    source_name,
    stream_records,
    text_of,
)

__all__ = [
    "PMC_ROOTS",
    "iter_pmc",
    "parse_pmc",
    "parse_pmc_abstract",
    "parse_pmc_article",
    "parse_pmc_authors",
    "parse_pmc_body",
    "parse_pmc_ids",
    "parse_pmc_journal",
    "parse_pmc_keywords",
    "parse_pmc_pub_date",
    "parse_pmc_ref",
    "parse_pmc_references",
]

PMC_ROOTS = frozenset({"article", "pmc-articleset"})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# ISO 639-1 codes of JATS ``xml:lang`` → the MEDLINE three-letter codes PubMed uses.
_LANGS = {
    "en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por",
    "ja": "jpn", "zh": "chi", "ru": "rus", "nl": "dut", "pl": "pol", "ko": "kor",
}  # fmt: skip
_CITATION_TAGS = ("mixed-citation", "element-citation", "citation", "nlm-citation")
_SKIP_BODY = frozenset({"fig", "fig-group", "table-wrap", "table-wrap-group",
                        "supplementary-material", "ref-list", "graphic", "media"})  # fmt: skip
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[])\s+")
_PUB_TYPE_ORDER = ("ppub", "epub", "collection", "epub-ppub", "pmc-release")


def _child(el: etree._Element | None, tag: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el.iterchildren(tag):
        return c
    return None


def _spaced_text(el: etree._Element, skip: frozenset[str] = frozenset()) -> str | None:
    """Text of ``el`` with a space between elements (JATS citations put names, year, title
    in separate elements without separators), then tidied around punctuation."""
    parts: list[str] = []

    def walk(e: etree._Element) -> None:
        if e.text:
            parts.append(e.text)
        for c in e:
            if isinstance(c.tag, str) and c.tag not in skip:
                walk(c)
            if c.tail:
                parts.append(c.tail)

    walk(el)
    t = " ".join(" ".join(parts).split())
    t = _SPACE_AFTER_OPEN.sub(r"\1", _SPACE_BEFORE_PUNCT.sub(r"\1", t))
    return t or None


def _initials(given: str | None) -> str | None:
    if not given:
        return None
    letters = [p[0] for p in re.split(r"[\s.\-]+", given) if p and p[0].isalpha()]
    return "".join(letters).upper() or None


# --------------------------------------------------------------------------- field parsers


def parse_pmc_ids(article_meta: etree._Element | None) -> dict[str, str]:
    """``{pub-id-type: value}`` of the ``<article-id>`` children of ``<article-meta>``."""
    ids: dict[str, str] = {}
    if article_meta is None:
        return ids
    for aid in article_meta.iterchildren("article-id"):
        kind = aid.get("pub-id-type")
        value = (aid.text or "").strip()
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def parse_pmc_journal(journal_meta: etree._Element | None) -> Journal:
    """Title, ISO abbreviation (``iso-abbrev``, else ``nlm-ta``) and ISSN (print first) of
    a ``<journal-meta>``. JATS has no NLM unique id, so the journal key is the ISSN."""
    if journal_meta is None:
        return Journal()
    title = None
    journal_ids: dict[str, str] = {}
    issns: dict[str, str] = {}
    for child in journal_meta:
        tag = child.tag
        if tag == "journal-title-group":
            title = title or text_of(_child(child, "journal-title"))
        elif tag == "journal-title":
            title = title or text_of(child)
        elif tag == "journal-id":
            journal_ids.setdefault(child.get("journal-id-type") or "", (child.text or "").strip())
        elif tag == "issn":
            kind = child.get("pub-type") or child.get("publication-format") or ""
            issns.setdefault(kind, (child.text or "").strip())
    iso = journal_ids.get("iso-abbrev") or journal_ids.get("nlm-ta") or None
    issn = issns.get("ppub") or issns.get("print") or issns.get("epub") or issns.get("electronic")
    if not issn and issns:
        issn = next(iter(issns.values()))
    return Journal(title=title, iso_abbreviation=iso, issn=issn or None, nlm_unique_id=None)


def parse_pmc_pub_date(article_meta: etree._Element | None) -> PubDate:
    """Publication date of an ``<article-meta>``: print date first, then electronic, then
    the collection date (``pub-type``, or JATS 1.1 ``date-type``/``publication-format``)."""
    if article_meta is None:
        return PubDate()
    dates: dict[str, etree._Element] = {}
    for pd in article_meta.iterchildren("pub-date"):
        kind = pd.get("pub-type")
        if kind is None:
            fmt = pd.get("publication-format")
            kind = {"print": "ppub", "electronic": "epub"}.get(fmt or "", pd.get("date-type"))
        dates.setdefault(kind or "", pd)
    for kind in (*_PUB_TYPE_ORDER, *dates):
        pd = dates.get(kind)
        if pd is None:
            continue
        # JATS uses lower-case year/month/day: map to the PubMed element names.
        parsed = parse_pub_date(_as_pubmed_date(pd))
        if parsed.year is not None:
            return parsed
    return PubDate()


def _as_pubmed_date(pd: etree._Element) -> etree._Element:
    out = etree.Element("PubDate")
    for child in pd:
        name = {"year": "Year", "month": "Month", "day": "Day", "string-date": "MedlineDate"}
        tag = name.get(child.tag) if isinstance(child.tag, str) else None
        if tag:
            etree.SubElement(out, tag).text = child.text
    return out


def parse_pmc_abstract(article_meta: etree._Element | None) -> tuple[AbstractSection, ...]:
    """The main ``<abstract>`` of an ``<article-meta>`` (not graphical abstracts or author
    summaries): one section per ``<sec>`` (label = its title), else one unlabelled one."""
    if article_meta is None:
        return ()
    abstract = None
    for a in article_meta.iterchildren("abstract"):
        if a.get("abstract-type") in (None, "abstract", "structured"):
            abstract = a
            break
    if abstract is None:
        return ()
    sections: list[AbstractSection] = []
    loose: list[str] = []
    for child in abstract:
        tag = child.tag
        if tag == "sec":
            label = text_of(_child(child, "title"))
            text = " ".join(t for t in (text_of(p) for p in child.iter("p")) if t)
            if text:
                sections.append(
                    AbstractSection(text=text, label=label.rstrip(":") if label else None)
                )
        elif tag == "p":
            t = text_of(child)
            if t:
                loose.append(t)
    if loose:
        sections.insert(0, AbstractSection(text=" ".join(loose)))
    return tuple(sections)


def parse_pmc_authors(article_meta: etree._Element | None) -> tuple[Author, ...]:
    """Authors (``contrib-type="author"``) of an ``<article-meta>``: names, initials derived
    from the given names, collaboration name, affiliations (via ``xref``/``aff``), ORCID."""
    if article_meta is None:
        return ()
    affs: dict[str, str] = {}
    for aff in article_meta.iter("aff"):
        aff_id = aff.get("id")
        text = _spaced_text(aff, frozenset({"label", "sup"}))
        if aff_id and text:
            affs[aff_id] = text
    out = []
    for group in article_meta.iterchildren("contrib-group"):
        for contrib in group.iterchildren("contrib"):
            if contrib.get("contrib-type", "author") != "author":
                continue
            last = fore = collective = orcid = None
            affiliations: list[str] = []
            for child in contrib:
                tag = child.tag
                if tag in ("name", "name-alternatives"):
                    name = child if tag == "name" else _child(child, "name")
                    if name is not None and last is None:
                        last = text_of(_child(name, "surname"))
                        fore = text_of(_child(name, "given-names"))
                elif tag == "collab":
                    collective = text_of(child)
                elif tag == "contrib-id" and child.get("contrib-id-type") == "orcid":
                    orcid = normalise_orcid(child.text)
                elif tag == "xref" and child.get("ref-type") == "aff":
                    for rid in (child.get("rid") or "").split():
                        if rid in affs and affs[rid] not in affiliations:
                            affiliations.append(affs[rid])
                elif tag == "aff":
                    text = _spaced_text(child, frozenset({"label", "sup"}))
                    if text:
                        affiliations.append(text)
            if last is None and fore is None and collective is None:
                continue
            out.append(
                Author(
                    last_name=last,
                    fore_name=fore,
                    initials=_initials(fore),
                    collective_name=collective,
                    affiliations=tuple(affiliations),
                    orcid=orcid,
                )
            )
    return tuple(out)


def parse_pmc_keywords(article_meta: etree._Element | None) -> tuple[str, ...]:
    """``<kwd>`` texts of all ``<kwd-group>`` elements of an ``<article-meta>``."""
    if article_meta is None:
        return ()
    out = []
    for group in article_meta.iterchildren("kwd-group"):
        for kwd in group.iterchildren("kwd"):
            t = text_of(kwd)
            if t:
                out.append(t)
    return tuple(out)


def parse_pmc_ref(ref: etree._Element) -> Reference | None:
    """One ``<ref>``: PMID / DOI / PMCID from its ``<pub-id>`` elements and the citation
    text (names, year, title, source... separated by spaces; ids left out)."""
    citation_el = None
    for el in ref.iter(*_CITATION_TAGS):
        citation_el = el
        break
    if citation_el is None:
        return None
    pmid = doi = pmcid = None
    for pid in citation_el.iter("pub-id"):
        kind = pid.get("pub-id-type")
        value = (pid.text or "").strip()
        if not value:
            continue
        if kind == "pmid" and pmid is None and value.isascii() and value.isdigit():
            pmid = value
        elif kind == "doi" and doi is None:
            doi = value
        elif kind in ("pmc", "pmcid") and pmcid is None:
            pmcid = normalise_pmcid(value)
    citation = _spaced_text(citation_el, frozenset({"pub-id", "object-id"}))
    if pmid is None and doi is None and pmcid is None and citation is None:
        return None
    return Reference(pmid=pmid, doi=doi, pmcid=pmcid, citation=citation)


def parse_pmc_references(back: etree._Element | None) -> tuple[Reference, ...]:
    """Every ``<ref>`` of the ``<ref-list>`` elements (nested ones too) of a ``<back>``."""
    if back is None:
        return ()
    out = []
    for ref_list in back.iterchildren("ref-list"):
        for ref in ref_list.iter("ref"):
            r = parse_pmc_ref(ref)
            if r is not None:
                out.append(r)
    return tuple(out)


def parse_pmc_body(body: etree._Element | None) -> str | None:
    """Body text of a ``<body>``: section titles and paragraphs, one per line; figures,
    tables and supplementary material left out."""
    if body is None:
        return None
    lines: list[str] = []

    def walk(el: etree._Element) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP_BODY:
                continue
            if tag in ("p", "title"):
                t = text_of(child)
                if t:
                    lines.append(t)
            else:
                walk(child)

    walk(body)
    return "\n".join(lines) or None


def parse_pmc_article(article: etree._Element, *, include_body: bool = False) -> Article:
    """One JATS ``<article>`` → :class:`Article` (``source="pmc"``). RecordError if it has
    no PMID (see the module docstring)."""
    front = _child(article, "front")
    meta = _child(front, "article-meta")
    ids = parse_pmc_ids(meta)
    pmid = ids.get("pmid")
    pmcid = normalise_pmcid(ids.get("pmc") or ids.get("pmcid"))
    if not pmid:
        raise RecordError(
            f"PMC article {pmcid or '(no PMCID either)'} has no PMID; it cannot be keyed",
            field="article-id[pmid]",
            pmid=pmcid,
        )
    if not (pmid.isascii() and pmid.isdigit()):
        raise RecordError(f"PMID {pmid!r} is not a number", field="article-id[pmid]")
    title = text_of(_child(_child(meta, "title-group"), "article-title"))
    lang = article.get(_XML_LANG)
    body = parse_pmc_body(_child(article, "body")) if include_body else None
    article_type = article.get("article-type")
    return Article(
        pmid=pmid,
        title=title,
        abstract_sections=parse_pmc_abstract(meta),
        language=_LANGS.get(lang.lower(), lang) if lang else None,
        pub_date=parse_pmc_pub_date(meta),
        journal=parse_pmc_journal(_child(front, "journal-meta")),
        doi=ids.get("doi"),
        pmcid=pmcid,
        authors=parse_pmc_authors(meta),
        keywords=parse_pmc_keywords(meta),
        publication_types=(article_type,) if article_type else (),
        references=parse_pmc_references(_child(article, "back")),
        body=body,
        source="pmc",
    )


# --------------------------------------------------------------------------- files


def iter_pmc(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    include_body: bool = False,
    skip_bad: bool = False,
    on_skip: Callable[[SkipInfo], None] | None = None,
    reopen: Reopen | None = None,
) -> Iterator[Article]:
    """Stream the articles of a JATS file (one ``<article>`` or a ``<pmc-articleset>``).

    Errors as :func:`ingest.pubmed.iter_pubmed`: InputError naming file, record and line in
    strict mode; ``skip_bad=True`` reports to ``on_skip`` and goes on where it can.
    """

    def handler(elem: etree._Element) -> tuple[Record, ...]:
        # Only top-level articles: sub-articles are <sub-article>, but be safe.
        parent = elem.getparent()
        if parent is not None and parent.tag != "pmc-articleset":
            return ()
        return (parse_pmc_article(elem, include_body=include_body),)

    for rec in stream_records(
        source,
        tags=("article",),
        roots=PMC_ROOTS,
        handler=handler,
        skip_bad=skip_bad,
        on_skip=on_skip,
        reopen=reopen,
    ):
        assert isinstance(rec, Article)
        yield rec


def parse_pmc(path: str | os.PathLike[str] | BinaryIO, *, include_body: bool = False) -> Article:
    """The single article of a PMC ``.nxml`` file (strict: InputError if it has none)."""
    for article in iter_pmc(path, include_body=include_body):
        return article
    raise InputError("no <article> in the file", file=source_name(path))
