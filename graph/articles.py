"""Reads of single articles and their citation neighbourhood, as typed rows.

What a reader of one article wants from the graph: its record (title, abstract, year,
journal, citation counts), its MeSH descriptors, the articles it cites and those citing
it, and the citation edges among a handful of articles (for a neighbourhood drawing).
Callers (the dashboard) pass a :class:`~pubgraph.graph.db.GraphDB`; the Cypher lives in
``graph/queries.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pubgraph.graph import queries as q
from pubgraph.graph.db import GraphDB, run_read

DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class MeshTag:
    """A MeSH descriptor on an article; ``major`` when it is a major topic."""

    ui: str
    name: str | None
    major: bool


@dataclass(frozen=True)
class ArticleRef:
    """An article named in a list (cited, citing, neighbour)."""

    pmid: str
    title: str | None
    year: int | None
    journal: str | None
    stub: bool = False


@dataclass(frozen=True)
class LinkedArticle(ArticleRef):
    """A citation neighbour of a set: ``links`` of the set touch it, ``via`` which ones."""

    links: int = 0
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleDetail:
    """One article's record and its citation counts (``references`` = outgoing CITES)."""

    pmid: str
    title: str | None
    abstract: str | None
    year: int | None
    doi: str | None
    pmcid: str | None
    stub: bool
    deleted: bool
    journal: str | None
    journal_id: str | None
    references: int
    cited_by: int
    has_vector: bool
    mesh: tuple[MeshTag, ...] = field(default_factory=tuple)


def article_detail(db: GraphDB, pmid: str) -> ArticleDetail | None:
    """The article with its MeSH descriptors (major first), or ``None`` when absent."""
    rows = run_read(db, q.ARTICLE_DETAIL, {"pmid": str(pmid)})
    if not rows:
        return None
    mesh = tuple(
        MeshTag(r["ui"], r["name"], bool(r["major"]))
        for r in run_read(db, q.ARTICLE_MESH, {"pmid": str(pmid)})
    )
    return ArticleDetail(**rows[0], mesh=mesh)


def mesh_of_articles(db: GraphDB, pmids: Sequence[str]) -> dict[str, list[MeshTag]]:
    """MeSH descriptors of each article (major first, then by name); absent = no entry."""
    out: dict[str, list[MeshTag]] = {}
    for r in run_read(db, q.MESH_OF_ARTICLES, {"pmids": [str(p) for p in pmids]}):
        out.setdefault(r["pmid"], []).append(MeshTag(r["ui"], r["name"], bool(r["major"])))
    return out


def _refs(rows: list[dict[str, object]]) -> list[ArticleRef]:
    return [ArticleRef(**r) for r in rows]  # type: ignore[arg-type]


def references(db: GraphDB, pmid: str, *, limit: int = DEFAULT_LIMIT) -> list[ArticleRef]:
    """Articles ``pmid`` cites: text articles first, newest first, at most ``limit``."""
    return _refs(run_read(db, q.ARTICLE_REFERENCES, {"pmid": str(pmid), "limit": int(limit)}))


def cited_by(db: GraphDB, pmid: str, *, limit: int = DEFAULT_LIMIT) -> list[ArticleRef]:
    """Articles citing ``pmid``: text articles first, newest first, at most ``limit``."""
    return _refs(run_read(db, q.ARTICLE_CITED_BY, {"pmid": str(pmid), "limit": int(limit)}))


def articles_brief(db: GraphDB, pmids: Sequence[str]) -> dict[str, ArticleRef]:
    """Title, year and journal of each existing article among ``pmids``."""
    rows = run_read(db, q.ARTICLES_BRIEF, {"pmids": [str(p) for p in pmids]})
    return {r["pmid"]: ArticleRef(**r) for r in rows}


def cites_among(db: GraphDB, pmids: Sequence[str]) -> list[tuple[str, str]]:
    """The CITES edges ``(citing, cited)`` whose both ends are in ``pmids``."""
    rows = run_read(db, q.CITES_AMONG, {"pmids": sorted({str(p) for p in pmids})})
    return sorted((r["src"], r["dst"]) for r in rows)


def citation_neighbours_of_set(
    db: GraphDB, pmids: Sequence[str], *, limit: int = 20
) -> list[LinkedArticle]:
    """Text articles one CITES hop (either direction) from any of ``pmids`` and not among
    them, ranked by how many of ``pmids`` they touch (then newest)."""
    rows = run_read(
        db,
        q.CITATION_NEIGHBOURS_OF_SET,
        {"pmids": [str(p) for p in pmids], "limit": int(limit)},
    )
    return [
        LinkedArticle(
            r["pmid"], r["title"], r["year"], r["journal"], False,
            links=int(r["links"]), via=tuple(sorted(r["via"])),
        )
        for r in rows
    ]


def year_range(db: GraphDB) -> tuple[int, int] | None:
    """The smallest and largest publication year of the articles, ``None`` without years."""
    r = run_read(db, q.YEAR_RANGE)[0]
    if r["min_year"] is None:
        return None
    return int(r["min_year"]), int(r["max_year"])
