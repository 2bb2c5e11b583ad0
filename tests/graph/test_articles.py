"""graph.articles on a small hand-built graph: every expected value is written out here."""

from __future__ import annotations

import pytest

from pubgraph.graph import articles as ga
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles, add_cites, add_journals, add_mesh

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def small(graph_db: GraphDB) -> GraphDB:
    add_articles(
        graph_db,
        [
            {"pmid": "1", "title": "One", "abstract": "a1", "year": 2001, "journal_id": "J1",
             "vector": [1.0, 0.0]},
            {"pmid": "2", "title": "Two", "year": 2005, "journal_id": "J1"},
            {"pmid": "3", "title": "Three", "year": 2003, "journal_id": "J2"},
            {"pmid": "4", "title": "Four", "year": 2010},
            {"pmid": "9", "stub": True},
        ],
    )
    add_cites(graph_db, [("2", "1"), ("3", "1"), ("1", "9"), ("4", "2"), ("4", "3"), ("1", "4")])
    add_journals(graph_db, [{"id": "J1", "title": "Journal One", "iso": "J1", "issn": None},
                            {"id": "J2", "title": None, "iso": "J Two", "issn": None}])
    add_mesh(graph_db, {"D1": "Beta", "D2": "Alpha", "D3": "Gamma"}, [],
             [("1", "D1", False), ("1", "D2", False), ("1", "D3", True), ("2", "D1", True)])
    return graph_db


def test_article_detail(small: GraphDB) -> None:
    d = ga.article_detail(small, "1")
    assert d is not None
    assert (d.title, d.abstract, d.year, d.journal, d.journal_id) == (
        "One", "a1", 2001, "Journal One", "J1")
    assert (d.references, d.cited_by, d.has_vector, d.stub) == (2, 2, True, False)
    # major first, then by name
    assert [(m.ui, m.major) for m in d.mesh] == [("D3", True), ("D2", False), ("D1", False)]
    assert ga.article_detail(small, "404") is None
    three = ga.article_detail(small, "3")
    assert three is not None and three.journal == "J Two" and not three.has_vector


def test_citations_both_ways(small: GraphDB) -> None:
    # text articles before stubs; newest first
    assert [r.pmid for r in ga.references(small, "1")] == ["4", "9"]
    assert ga.references(small, "1")[1].stub
    assert [r.pmid for r in ga.cited_by(small, "1")] == ["2", "3"]
    assert [r.pmid for r in ga.cited_by(small, "1", limit=1)] == ["2"]


def test_cites_among_and_set_neighbours(small: GraphDB) -> None:
    assert ga.cites_among(small, ["1", "2", "3"]) == [("2", "1"), ("3", "1")]
    n = ga.citation_neighbours_of_set(small, ["2", "3"])
    # 4 cites both 2 and 3; 1 is cited by both; the stub 9 never appears
    assert [(x.pmid, x.links, x.via) for x in n] == [
        ("4", 2, ("2", "3")), ("1", 2, ("2", "3"))]
    assert ga.mesh_of_articles(small, ["1", "2", "3"]) == {
        "1": [ga.MeshTag("D3", "Gamma", True), ga.MeshTag("D2", "Alpha", False),
              ga.MeshTag("D1", "Beta", False)],
        "2": [ga.MeshTag("D1", "Beta", True)],
    }
    assert ga.articles_brief(small, ["3", "404"]) == {
        "3": ga.ArticleRef("3", "Three", 2003, "J Two")}
    assert ga.year_range(small) == (2001, 2010)
