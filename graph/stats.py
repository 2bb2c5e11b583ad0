"""Graph statistics and snapshots.

``graph_stats`` takes counts by label and type from Neo4j's count store
(``graph.schema.graph_counts``); only the text/stub split and the citations inside the
corpus need a query of their own. ``graph_snapshot`` returns the whole graph as sets
of hashable tuples, for tests and for checking that two loads ended in the same graph.
"""

from __future__ import annotations

from typing import Any

import neo4j

from pubgraph.graph import queries as q
from pubgraph.graph.db import GraphDB
from pubgraph.graph.schema import graph_counts


def _scalar(session: neo4j.Session, query: str) -> int:
    record = session.run(query).single()
    return int(record["n"]) if record is not None else 0


def graph_stats(driver: GraphDB) -> dict[str, Any]:
    """Counts of the graph: articles (text, stubs, deleted), MeSH terms, journals, authors,
    CITES, HAS_MESH, citations inside the corpus (both ends have text), and node counts by
    label and relationship counts by type.
    """
    counts = graph_counts(driver)
    by_label: dict[str, int] = counts["nodes"]
    by_type: dict[str, int] = counts["relationships"]
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        text = _scalar(s, q.COUNT_TEXT_ARTICLES)
        stubs = _scalar(s, q.COUNT_STUB_ARTICLES)
        deleted = _scalar(s, q.COUNT_DELETED_ARTICLES)
        in_corpus = _scalar(s, q.COUNT_CITES_IN_CORPUS)
    return {
        "articles": by_label.get("Article", 0),
        "text_articles": text,
        "stub_articles": stubs,
        "deleted_articles": deleted,
        "mesh_terms": by_label.get("MeshTerm", 0),
        "journals": by_label.get("Journal", 0),
        "authors": by_label.get("Author", 0),
        "cites": by_type.get("CITES", 0),
        "has_mesh": by_type.get("HAS_MESH", 0),
        "authored_by": by_type.get("AUTHORED_BY", 0),
        "published_in": by_type.get("PUBLISHED_IN", 0),
        "broader": by_type.get("BROADER", 0),
        "cites_in_corpus": in_corpus,
        "nodes_by_label": by_label,
        "relationships_by_type": by_type,
    }


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


NodeTuple = tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]
RelTuple = tuple[str, tuple[str, ...], Any, tuple[str, ...], Any, tuple[tuple[str, Any], ...]]


def graph_snapshot(
    driver: GraphDB
) -> tuple[set[NodeTuple], set[RelTuple]]:
    """The whole graph as ``(nodes, relationships)`` sets of tuples.

    A node is ``(labels, properties)``; a relationship is ``(type, start labels, start key,
    end labels, end key, properties)`` where a key is the node's unique key property.
    Meant for tests and small graphs: it reads everything.
    """
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        nodes = {
            (tuple(sorted(r["labels"])), _freeze(r["props"])) for r in s.run(q.DUMP_NODES)
        }
        rels = {
            (
                r["type"],
                tuple(sorted(r["a_labels"])),
                r["a_key"],
                tuple(sorted(r["b_labels"])),
                r["b_key"],
                _freeze(r["props"]),
            )
            for r in s.run(q.DUMP_RELATIONSHIPS)
        }
    return nodes, rels


def corpus_stats(driver: GraphDB) -> dict[str, int]:
    """Article-level figures for ``pubgraph graph stats``: text articles, stubs, deleted
    stubs, and CITES inside the corpus (both ends have text)."""
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        return {
            "text articles": _scalar(s, q.COUNT_TEXT_ARTICLES),
            "stub articles": _scalar(s, q.COUNT_STUB_ARTICLES),
            "deleted articles (kept as cited stubs)": _scalar(s, q.COUNT_DELETED_ARTICLES),
            "citations inside the corpus": _scalar(s, q.COUNT_CITES_IN_CORPUS),
        }
