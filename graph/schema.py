"""Constraints and indexes (``pubgraph graph init``), reset, and generic graph counts.

The schema is a list of named, idempotent statements (``IF NOT EXISTS``); running
``init_schema`` any number of times leaves the same schema.
"""

from __future__ import annotations

from typing import Any

from pubgraph.graph.db import GraphDB, run_read, run_write

SCHEMA_STATEMENTS: tuple[tuple[str, str], ...] = (
    (
        "article_pmid",
        "CREATE CONSTRAINT article_pmid IF NOT EXISTS FOR (a:Article) REQUIRE a.pmid IS UNIQUE",
    ),
    ("mesh_ui", "CREATE CONSTRAINT mesh_ui IF NOT EXISTS FOR (m:MeshTerm) REQUIRE m.ui IS UNIQUE"),
    (
        "journal_id",
        "CREATE CONSTRAINT journal_id IF NOT EXISTS FOR (j:Journal) REQUIRE j.id IS UNIQUE",
    ),
    (
        "author_key",
        "CREATE CONSTRAINT author_key IF NOT EXISTS FOR (a:Author) REQUIRE a.key IS UNIQUE",
    ),
    (
        "pairrun_id",
        "CREATE CONSTRAINT pairrun_id IF NOT EXISTS FOR (r:PairRun) REQUIRE r.id IS UNIQUE",
    ),
    ("article_year", "CREATE INDEX article_year IF NOT EXISTS FOR (a:Article) ON (a.year)"),
    ("article_stub", "CREATE INDEX article_stub IF NOT EXISTS FOR (a:Article) ON (a.stub)"),
    ("article_doi", "CREATE INDEX article_doi IF NOT EXISTS FOR (a:Article) ON (a.doi)"),
    ("mesh_name", "CREATE INDEX mesh_name IF NOT EXISTS FOR (m:MeshTerm) ON (m.name)"),
    # Analysis runs (pubgraph.analysis): a Topic is keyed by "<run>:<id>" because composite
    # node keys need Neo4j Enterprise; ``topic_run`` finds a run's topics for reads and prune.
    (
        "analysisrun_id",
        "CREATE CONSTRAINT analysisrun_id IF NOT EXISTS FOR (r:AnalysisRun) REQUIRE r.id IS UNIQUE",
    ),
    (
        "topic_key",
        "CREATE CONSTRAINT topic_key IF NOT EXISTS FOR (t:Topic) REQUIRE t.key IS UNIQUE",
    ),
    ("topic_run", "CREATE INDEX topic_run IF NOT EXISTS FOR (t:Topic) ON (t.run)"),
    # Lucene BM25 over the article's text for keyword and hybrid search (``search text``).
    # The English analyzer stems and drops stop words, so "tumours" finds "tumour"; updates
    # are applied when a load's transaction commits (not eventually consistent).
    (
        "article_text",
        "CREATE FULLTEXT INDEX article_text IF NOT EXISTS FOR (a:Article) "
        "ON EACH [a.title, a.abstract] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}}",
    ),
)

FULLTEXT_INDEX = "article_text"
"""The full-text index over ``Article.title`` and ``Article.abstract``."""

SCHEMA_NAMES = frozenset(name for name, _ in SCHEMA_STATEMENTS)

SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN *"
SHOW_INDEXES = (
    "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, owningConstraint "
    "RETURN name, type, labelsOrTypes, properties, owningConstraint"
)
# Deleting in chunks keeps each transaction under the heap's transaction memory limit on a
# large graph; relationships go first so a node chunk never drags its edges along.
DELETE_RELATIONSHIPS = "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS"
DELETE_NODES = "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS"
GRAPH_COUNTS = "CALL db.stats.retrieve('GRAPH COUNTS') YIELD data RETURN data"


def init_schema(driver: GraphDB) -> list[str]:
    """Create every constraint and index that does not exist yet; returns their names."""
    for _, statement in SCHEMA_STATEMENTS:
        run_write(driver, statement)
    return [name for name, _ in SCHEMA_STATEMENTS]


def existing_schema(driver: GraphDB) -> dict[str, str]:
    """Names of the constraints and (non-lookup) indexes that exist, with their type."""
    out = {r["name"]: r["type"] for r in run_read(driver, SHOW_CONSTRAINTS)}
    for r in run_read(driver, SHOW_INDEXES):
        if r["type"] != "LOOKUP" and not r["owningConstraint"]:
            out[r["name"]] = r["type"]
    return out


def reset_graph(
    driver: GraphDB, drop_schema: bool = False
) -> None:
    """Delete every node and relationship; optionally drop all constraints and indexes.

    Drops are driven by the names ``SHOW`` returns; names cannot be parameters in
    schema commands, so they are quoted as identifiers (never values).
    """
    with driver.session() as session:
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction.
        session.run(DELETE_RELATIONSHIPS).consume()
        session.run(DELETE_NODES).consume()
    if drop_schema:
        constraints = run_read(driver, SHOW_CONSTRAINTS)
        for r in constraints:
            run_write(driver, f"DROP CONSTRAINT {_ident(r['name'])} IF EXISTS")
        for name, kind in existing_schema(driver).items():
            if kind != "LOOKUP":
                run_write(driver, f"DROP INDEX {_ident(name)} IF EXISTS")


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def graph_counts(driver: GraphDB) -> dict[str, Any]:
    """Node counts by label and relationship counts by type, from the count store."""
    data = run_read(driver, GRAPH_COUNTS)[0]["data"]
    nodes: dict[str, int] = {}
    total_nodes = 0
    for row in data["nodes"]:
        if "label" in row:
            nodes[row["label"]] = int(row["count"])
        else:
            total_nodes = int(row["count"])
    rels: dict[str, int] = {}
    total_rels = 0
    for row in data["relationships"]:
        if "startLabel" in row or "endLabel" in row:
            continue
        if "relationshipType" in row:
            rels[row["relationshipType"]] = int(row["count"])
        else:
            total_rels = int(row["count"])
    return {
        "nodes": dict(sorted(nodes.items())),
        "relationships": dict(sorted(rels.items())),
        "total_nodes": total_nodes,
        "total_relationships": total_rels,
    }
