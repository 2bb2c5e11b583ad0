"""Loading against the real Neo4j: a hand-written baseline + update (changed article, new
MeSH term, removed citation, deletions), idempotence, and the expected graph as tuples."""

from __future__ import annotations

from typing import Any

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.stats import graph_snapshot, graph_stats
from pubgraph.ingest.records import (
    AbstractSection,
    Article,
    Author,
    Deletion,
    Journal,
    MeshHeading,
    PubDate,
    Qualifier,
    Reference,
    to_row,
)

pytestmark = pytest.mark.neo4j

J1 = Journal(title="Journal One", iso_abbreviation="J One", issn="1111-1111", nlm_unique_id="J1")
J2 = Journal(title="Journal Two", nlm_unique_id="J2")
J3 = Journal(title="Journal Three", nlm_unique_id="J3")
SMITH, DOE, ROE, SOLO = (Author("Smith", "John", "J"), Author("Doe", "Ann", "A"),
                         Author("Roe", "Rick", "R"), Author("Solo", "Sam", "S"))
HEART = MeshHeading("D1", "Heart", major=True)
LUNG_SURGERY = MeshHeading("D2", "Lung", qualifiers=(Qualifier("Q1", "surgery", major=True),))
LIVER = MeshHeading("D3", "Liver")


def _refs(*pmids: str) -> tuple[Reference, ...]:
    return tuple(Reference(pmid=p) for p in pmids)


def baseline_rows() -> list[dict[str, Any]]:
    records = [
        Article("1", title="one", abstract_sections=(AbstractSection("abs one"),),
                pub_date=PubDate(1990, 5), journal=J1, authors=(SMITH, DOE),
                mesh=(HEART, LUNG_SURGERY), keywords=("k1",), references=_refs("2", "3", "100")),
        Article("2", title="two", pub_date=PubDate(1991), journal=J1, authors=(SMITH,),
                mesh=(HEART,), references=_refs("3")),
        Article("3", title="three", journal=J2, authors=(ROE,), mesh=(LIVER,),
                references=_refs("101")),
        Article("4", title="four", journal=J3, authors=(SOLO,), references=_refs("1")),
    ]
    return [to_row(r, "base.xml") for r in records]


def update_rows() -> list[dict[str, Any]]:
    records = [
        # changed: new title, no abstract/keywords, Doe dropped, Heart no longer major,
        # a MeSH term never seen before, citations of 3 and 100 removed.
        Article("1", title="one v2", pub_date=PubDate(1990, 5), journal=J1, authors=(SMITH,),
                mesh=(MeshHeading("D1", "Heart"), MeshHeading("D9", "New Term")),
                references=_refs("2")),
        Deletion("3"),  # cited by 2: stays as a stub
        Deletion("4"),  # cited by nobody: removed
        Deletion("555"),  # unknown: nothing happens
    ]
    return [to_row(r, "update.xml") for r in records]


def _articles(nodes: set[Any]) -> dict[str, dict[str, Any]]:
    return {dict(p)["pmid"]: dict(p) for labels, p in nodes if labels == ("Article",)}


def _keys(nodes: set[Any], label: str, key: str) -> set[str]:
    return {dict(p)[key] for labels, p in nodes if labels == (label,)}


def _rels(rels: set[Any], rel_type: str) -> set[tuple[Any, Any]]:
    return {(a, b) for t, _, a, _, b, _ in rels if t == rel_type}


def test_baseline_graph(graph_db: GraphDB) -> None:
    summary = GraphLoader(graph_db, batch_size=2).load_rows(baseline_rows())
    nodes, rels = graph_snapshot(graph_db)
    arts = _articles(nodes)
    assert {p for p, a in arts.items() if not a["stub"]} == {"1", "2", "3", "4"}
    assert {p for p, a in arts.items() if a["stub"]} == {"100", "101"}
    assert arts["100"] == {"pmid": "100", "stub": True}
    assert arts["1"] == {
        "pmid": "1", "stub": False, "title": "one", "abstract": "abs one", "year": 1990,
        "pub_date": "1990-05", "journal_id": "J1", "keywords": ("k1",), "source": "pubmed",
        "source_file": "base.xml",
    }
    assert _rels(rels, "CITES") == {("1", "2"), ("1", "3"), ("1", "100"), ("2", "3"),
                                    ("3", "101"), ("4", "1")}
    assert _rels(rels, "PUBLISHED_IN") == {("1", "J1"), ("2", "J1"), ("3", "J2"), ("4", "J3")}
    assert _rels(rels, "AUTHORED_BY") == {("1", "smith j"), ("1", "doe a"), ("2", "smith j"),
                                          ("3", "roe r"), ("4", "solo s")}
    has_mesh = {(a, b): dict(p) for t, _, a, _, b, p in rels if t == "HAS_MESH"}
    assert has_mesh[("1", "D2")] == {
        "major": True, "descriptor_major": False, "qualifiers": ("surgery",),
        "major_qualifiers": ("surgery",)}
    assert has_mesh[("1", "D1")] == {"major": True, "descriptor_major": True}
    assert set(has_mesh) == {("1", "D1"), ("1", "D2"), ("2", "D1"), ("3", "D3")}
    positions = {(a, b): dict(p)["position"] for t, _, a, _, b, p in rels if t == "AUTHORED_BY"}
    assert positions[("1", "doe a")] == 2
    # batch_size=2 graph rows: every article is a batch of its own. Article 1 creates stubs
    # 2, 3 and 100 (2 and 3 get their text later, in place); article 3 creates stub 101.
    assert summary.articles == 4 and summary.stubs_created == 4 and summary.citations == 6
    assert summary.batches == 4
    stats = graph_stats(graph_db)
    assert (stats["text_articles"], stats["stub_articles"], stats["cites"]) == (4, 2, 6)
    assert stats["cites_in_corpus"] == 4
    assert stats["nodes_by_label"]["Author"] == 4


def test_update_after_baseline_equals_expected_graph(graph_db: GraphDB) -> None:
    loader = GraphLoader(graph_db, batch_size=2)
    loader.load_rows(baseline_rows())
    summary = loader.load_rows(update_rows())
    nodes, rels = graph_snapshot(graph_db)
    arts = _articles(nodes)

    assert set(arts) == {"1", "2", "3"}  # 4 deleted (uncited); stubs 100, 101 lost citers
    assert arts["1"] == {
        "pmid": "1", "stub": False, "title": "one v2", "year": 1990, "pub_date": "1990-05",
        "journal_id": "J1", "source": "pubmed", "source_file": "update.xml",
    }
    assert arts["3"] == {"pmid": "3", "stub": True, "deleted": True}
    assert _keys(nodes, "Author", "key") == {"smith j"}
    assert _keys(nodes, "Journal", "id") == {"J1"}
    assert _keys(nodes, "MeshTerm", "ui") == {"D1", "D2", "D3", "D9"}
    assert _rels(rels, "CITES") == {("1", "2"), ("2", "3")}
    assert _rels(rels, "PUBLISHED_IN") == {("1", "J1"), ("2", "J1")}
    assert _rels(rels, "AUTHORED_BY") == {("1", "smith j"), ("2", "smith j")}
    has_mesh = {(a, b): dict(p) for t, _, a, _, b, p in rels if t == "HAS_MESH"}
    assert set(has_mesh) == {("1", "D1"), ("1", "D9"), ("2", "D1")}
    assert has_mesh[("1", "D1")]["major"] is False
    assert (summary.deletions, summary.articles_removed) == (2, 1)

    # Loading everything again changes nothing, down to every property.
    loader.load_rows(baseline_rows() + update_rows())
    assert graph_snapshot(graph_db) == (nodes, rels)


def test_same_data_twice_is_identical(graph_db: GraphDB) -> None:
    loader = GraphLoader(graph_db, batch_size=3)
    loader.load_rows(baseline_rows())
    first = graph_snapshot(graph_db)
    again = loader.load_rows(baseline_rows())
    assert graph_snapshot(graph_db) == first
    assert again.nodes_created == 0 and again.relationships_created == 0
    assert again.relationships_deleted == 0


def test_stub_becomes_text_article_in_place(graph_db: GraphDB) -> None:
    loader = GraphLoader(graph_db)
    loader.load_rows([to_row(Article("10", title="ten", references=_refs("11")), "a.xml")])
    [[node_id]] = graph_db.execute_query(
        "MATCH (b:Article {pmid: '11'}) RETURN elementId(b)").records
    loader.load_rows([to_row(Article("11", title="eleven"), "b.xml")])
    records = graph_db.execute_query(
        "MATCH (a:Article {pmid: '10'})-[:CITES]->(b:Article) "
        "RETURN elementId(b) AS id, b.stub AS stub, b.title AS title").records
    assert [(r["id"], r["stub"], r["title"]) for r in records] == [(node_id, False, "eleven")]


def test_deleted_then_reloaded_article_is_text_again(graph_db: GraphDB) -> None:
    loader = GraphLoader(graph_db)
    rows = [to_row(Article("1", title="one", references=_refs("2")), "a.xml"),
            to_row(Article("2", title="two"), "a.xml")]
    loader.load_rows([*rows, to_row(Deletion("2"), "a.xml")])
    [rec] = graph_db.execute_query("MATCH (a:Article {pmid: '2'}) RETURN a").records
    assert dict(rec["a"]) == {"pmid": "2", "stub": True, "deleted": True}
    loader.load_rows([to_row(Article("2", title="two again"), "b.xml")])
    [rec] = graph_db.execute_query("MATCH (a:Article {pmid: '2'}) RETURN a").records
    assert dict(rec["a"])["title"] == "two again" and "deleted" not in dict(rec["a"])


def test_deletions_wait_for_the_articles_of_their_file(graph_db: GraphDB) -> None:
    # The deletion of 5 comes first in u.xml but is applied after all of u.xml's articles
    # (5 itself and 6, which cites it), before the articles of the next file.
    rows = [to_row(Deletion("5"), "u.xml"), to_row(Article("5", title="five"), "u.xml"),
            to_row(Article("6", title="six", references=_refs("5")), "u.xml"),
            to_row(Article("7", title="seven", references=_refs("5")), "v.xml")]
    summary = GraphLoader(graph_db, batch_size=1).load_rows(rows)
    [rec] = graph_db.execute_query("MATCH (a:Article {pmid: '5'}) RETURN a").records
    assert dict(rec["a"]) == {"pmid": "5", "stub": True, "deleted": True}
    assert (summary.deletions, summary.articles_removed) == (1, 0)
    cites = graph_db.execute_query(
        "MATCH (a)-[:CITES]->(b) RETURN a.pmid AS a, b.pmid AS b ORDER BY a").records
    assert [(r["a"], r["b"]) for r in cites] == [("6", "5"), ("7", "5")]


def test_external_properties_survive_an_update(graph_db: GraphDB) -> None:
    loader = GraphLoader(graph_db)
    loader.load_rows([to_row(Article("1", title="one"), "a.xml")])
    graph_db.execute_query("MATCH (a:Article {pmid: '1'}) SET a.embedding = [0.5, 0.25]")
    loader.load_rows([to_row(Article("1", title="one b"), "b.xml")])
    [rec] = graph_db.execute_query(
        "MATCH (a:Article {pmid: '1'}) RETURN a.title AS t, a.embedding AS e").records
    assert (rec["t"], rec["e"]) == ("one b", [0.5, 0.25])


def test_bad_row_stops_the_load_but_keeps_committed_batches(graph_db: GraphDB) -> None:
    from pubgraph.core.errors import InputError

    bad = to_row(Article("3", title="x"), "bad.xml")
    bad["record_type"] = "weird"
    rows = [to_row(Article("1", title="one"), "bad.xml"), to_row(Article("2"), "bad.xml"), bad]
    with pytest.raises(InputError, match="record_type") as err:
        GraphLoader(graph_db, batch_size=2).load_rows(rows)
    assert err.value.file == "bad.xml" and err.value.record == "3"
    [[n]] = graph_db.execute_query("MATCH (a:Article) RETURN count(a)").records
    assert n == 2
