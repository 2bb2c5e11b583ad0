"""External citation edge list (LINQS .cites.tab) → stub Articles + CITES {source}."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import InputError
from pubgraph.graph.db import GraphDB
from pubgraph.graph.edgelist import load_edge_list, parse_edge_line, parse_edge_list
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.stats import graph_snapshot, graph_stats
from pubgraph.ingest.records import Article, Reference, to_row


def test_parse_edge_line_formats() -> None:
    assert parse_edge_line("33824\tpaper:19127292\t|\tpaper:17363749\n") == ("19127292", "17363749")
    assert parse_edge_line("12,34") == ("12", "34")
    assert parse_edge_line("12\t34") == ("12", "34")
    assert parse_edge_line("#DIRECTED\tcites") is None
    assert parse_edge_line("   ") is None
    with pytest.raises(ValueError, match="PMID token"):
        parse_edge_line("1\tpaper:x12\t|\tpaper:3")


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "e.cites.tab"
    path.write_text("#DIRECTED\tcites\n1\tpaper:1\t|\tpaper:2\nnonsense here now and more\n")
    with pytest.raises(InputError, match="line 3") as err:
        parse_edge_list(path)
    assert err.value.file == str(path)


def test_shared_pubmed_diabetes_file(shared_data: Path) -> None:
    # The shared README documents 44,338 edges among 19,717 PMIDs.
    edges, loops, dups = parse_edge_list(shared_data / "citation_graph" /
                                         "pubmed_diabetes.cites.tab")
    assert len(edges) + loops + dups == 44_338
    assert len({p for e in edges for p in e}) == 19_717
    # Direction: the citing paper is newer, so its PMID is usually the larger one.
    assert sum(int(a) > int(b) for a, b in edges) > 0.8 * len(edges)


@pytest.mark.neo4j
def test_load_edges_idempotent_and_kept_by_record_updates(graph_db: GraphDB,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "toy.cites.tab"
    path.write_text("#DIRECTED\tcites\n#NO_FEATURES\n"
                    "1\tpaper:30\t|\tpaper:10\n2\tpaper:30\t|\tpaper:20\n"
                    "3\tpaper:20\t|\tpaper:10\n4\tpaper:20\t|\tpaper:20\n"
                    "5\tpaper:30\t|\tpaper:10\n")
    summary = load_edge_list(graph_db, path, batch_size=2)
    assert (summary.edges, summary.self_loops_skipped, summary.duplicates_skipped) == (3, 1, 1)
    assert (summary.stubs_created, summary.relationships_created) == (3, 3)
    nodes, rels = graph_snapshot(graph_db)
    assert {(a, b, dict(p)["source"]) for t, _, a, _, b, p in rels if t == "CITES"} == {
        ("30", "10", "toy"), ("30", "20", "toy"), ("20", "10", "toy")}
    assert all(dict(p)["stub"] for _, p in nodes)

    again = load_edge_list(graph_db, path)
    assert (again.stubs_created, again.relationships_created) == (0, 0)
    assert graph_snapshot(graph_db) == (nodes, rels)

    # A record for 30 citing only 99 replaces its record citations, not the edge list's.
    GraphLoader(graph_db).load_rows(
        [to_row(Article("30", title="thirty", references=(Reference(pmid="99"),)), "r.xml")])
    _, rels = graph_snapshot(graph_db)
    assert {(a, b, dict(p).get("source")) for t, _, a, _, b, p in rels if t == "CITES"} == {
        ("30", "10", "toy"), ("30", "20", "toy"), ("20", "10", "toy"), ("30", "99", None)}


@pytest.mark.neo4j
def test_load_shared_pubmed_diabetes(graph_db: GraphDB, shared_data: Path) -> None:
    path = shared_data / "citation_graph" / "pubmed_diabetes.cites.tab"
    edges, _, _ = parse_edge_list(path)
    summary = load_edge_list(graph_db, path)
    stats = graph_stats(graph_db)
    assert stats["cites"] == summary.relationships_created == len(edges)
    assert stats["stub_articles"] == stats["articles"] == len({p for e in edges for p in e})
    [[n]] = graph_db.execute_query(
        "MATCH ()-[r:CITES {source: 'pubmed_diabetes'}]->() RETURN count(r)").records
    assert n == len(edges)
