"""Typed, immutable records for PubMed / PMC articles, and their Parquet row form.

The records are what the parsers yield. ``RECORD_SCHEMA`` is the columnar contract
between ingest (which writes Parquet) and the graph loader (which reads it): the graph
package never imports ingest, it only reads rows with these column names.

One Parquet row is either an article (``record_type == "article"``) or a deletion from a
``DeleteCitation`` block (``record_type == "deletion"``, only ``pmid`` set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from pubgraph.core.contracts import RECORD_COLUMNS


@dataclass(frozen=True, slots=True)
class PubDate:
    """Publication date; ``MedlineDate`` free text is reduced to its first year."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    medline_date: str | None = None

    def iso(self) -> str | None:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as far as the parts are known."""
        if self.year is None:
            return None
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out


@dataclass(frozen=True, slots=True)
class Journal:
    title: str | None = None
    iso_abbreviation: str | None = None
    issn: str | None = None
    nlm_unique_id: str | None = None

    @property
    def key(self) -> str | None:
        """Stable journal identity: NLM unique id, else ISSN, else the title."""
        return self.nlm_unique_id or self.issn or self.title


@dataclass(frozen=True, slots=True)
class Author:
    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    collective_name: str | None = None
    affiliations: tuple[str, ...] = ()
    orcid: str | None = None


@dataclass(frozen=True, slots=True)
class Qualifier:
    ui: str
    name: str
    major: bool = False


@dataclass(frozen=True, slots=True)
class MeshHeading:
    ui: str
    name: str
    major: bool = False
    qualifiers: tuple[Qualifier, ...] = ()


@dataclass(frozen=True, slots=True)
class Chemical:
    ui: str | None
    name: str
    registry_number: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of a reference list: a cited PMID, or only the citation string."""

    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    citation: str | None = None


@dataclass(frozen=True, slots=True)
class AbstractSection:
    text: str
    label: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    pmid: str
    title: str | None = None
    abstract_sections: tuple[AbstractSection, ...] = ()
    language: str | None = None
    pub_date: PubDate = field(default_factory=PubDate)
    journal: Journal = field(default_factory=Journal)
    doi: str | None = None
    pmcid: str | None = None
    authors: tuple[Author, ...] = ()
    mesh: tuple[MeshHeading, ...] = ()
    chemicals: tuple[Chemical, ...] = ()
    keywords: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    body: str | None = None
    source: Literal["pubmed", "pmc"] = "pubmed"

    @property
    def abstract(self) -> str | None:
        """The abstract as one text; labelled sections keep their label (``LABEL: text``)."""
        if not self.abstract_sections:
            return None
        parts = [f"{s.label}: {s.text}" if s.label else s.text for s in self.abstract_sections]
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A PMID withdrawn by a ``DeleteCitation`` block of an update file."""

    pmid: str


Record = Article | Deletion

_QUALIFIER = pa.struct([("ui", pa.string()), ("name", pa.string()), ("major", pa.bool_())])

RECORD_SCHEMA = pa.schema(
    [
        ("record_type", pa.string()),  # "article" | "deletion"
        ("pmid", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        (
            "abstract_sections",
            pa.list_(
                pa.struct(
                    [("label", pa.string()), ("category", pa.string()), ("text", pa.string())]
                )
            ),
        ),
        ("language", pa.string()),
        ("year", pa.int32()),
        ("month", pa.int32()),
        ("day", pa.int32()),
        ("pub_date", pa.string()),
        ("medline_date", pa.string()),
        ("journal_id", pa.string()),
        ("journal_title", pa.string()),
        ("journal_iso", pa.string()),
        ("journal_issn", pa.string()),
        ("doi", pa.string()),
        ("pmcid", pa.string()),
        (
            "authors",
            pa.list_(
                pa.struct(
                    [
                        ("last_name", pa.string()),
                        ("fore_name", pa.string()),
                        ("initials", pa.string()),
                        ("collective_name", pa.string()),
                        ("affiliations", pa.list_(pa.string())),
                        ("orcid", pa.string()),
                    ]
                )
            ),
        ),
        (
            "mesh",
            pa.list_(
                pa.struct(
                    [
                        ("ui", pa.string()),
                        ("name", pa.string()),
                        ("major", pa.bool_()),
                        ("qualifiers", pa.list_(_QUALIFIER)),
                    ]
                )
            ),
        ),
        (
            "chemicals",
            pa.list_(
                pa.struct(
                    [("ui", pa.string()), ("name", pa.string()), ("registry_number", pa.string())]
                )
            ),
        ),
        ("keywords", pa.list_(pa.string())),
        ("publication_types", pa.list_(pa.string())),
        (
            "references",
            pa.list_(
                pa.struct(
                    [
                        ("pmid", pa.string()),
                        ("doi", pa.string()),
                        ("pmcid", pa.string()),
                        ("citation", pa.string()),
                    ]
                )
            ),
        ),
        ("body", pa.string()),
        ("source", pa.string()),
        ("source_file", pa.string()),
    ]
)
if tuple(RECORD_SCHEMA.names) != RECORD_COLUMNS:  # the contract graph.loader reads
    raise AssertionError("RECORD_SCHEMA disagrees with pubgraph.core.contracts.RECORD_COLUMNS")


def to_row(record: Record, source_file: str | None = None) -> dict[str, Any]:
    """Flatten a record into one row of ``RECORD_SCHEMA`` (plain dicts and lists)."""
    if isinstance(record, Deletion):
        row: dict[str, Any] = {name: None for name in RECORD_SCHEMA.names}
        row.update(record_type="deletion", pmid=record.pmid, source_file=source_file)
        return row
    a = record
    return {
        "record_type": "article",
        "pmid": a.pmid,
        "title": a.title,
        "abstract": a.abstract,
        "abstract_sections": [
            {"label": s.label, "category": s.category, "text": s.text} for s in a.abstract_sections
        ],
        "language": a.language,
        "year": a.pub_date.year,
        "month": a.pub_date.month,
        "day": a.pub_date.day,
        "pub_date": a.pub_date.iso(),
        "medline_date": a.pub_date.medline_date,
        "journal_id": a.journal.key,
        "journal_title": a.journal.title,
        "journal_iso": a.journal.iso_abbreviation,
        "journal_issn": a.journal.issn,
        "doi": a.doi,
        "pmcid": a.pmcid,
        "authors": [
            {
                "last_name": x.last_name,
                "fore_name": x.fore_name,
                "initials": x.initials,
                "collective_name": x.collective_name,
                "affiliations": list(x.affiliations),
                "orcid": x.orcid,
            }
            for x in a.authors
        ],
        "mesh": [
            {
                "ui": m.ui,
                "name": m.name,
                "major": m.major,
                "qualifiers": [
                    {"ui": q.ui, "name": q.name, "major": q.major} for q in m.qualifiers
                ],
            }
            for m in a.mesh
        ],
        "chemicals": [
            {"ui": c.ui, "name": c.name, "registry_number": c.registry_number} for c in a.chemicals
        ],
        "keywords": list(a.keywords),
        "publication_types": list(a.publication_types),
        "references": [
            {"pmid": r.pmid, "doi": r.doi, "pmcid": r.pmcid, "citation": r.citation}
            for r in a.references
        ],
        "body": a.body,
        "source": a.source,
        "source_file": source_file,
    }
