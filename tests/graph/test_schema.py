"""``graph init`` / ``reset`` / counts against the real Neo4j."""

from __future__ import annotations

import neo4j
import pytest

from pubgraph.graph.db import GraphDB, run_read, run_write, write_batches
from pubgraph.graph.schema import (
    SCHEMA_STATEMENTS,
    existing_schema,
    graph_counts,
    init_schema,
    reset_graph,
)

pytestmark = pytest.mark.neo4j


def test_schema_statements_are_idempotent_and_named() -> None:
    for name, statement in SCHEMA_STATEMENTS:
        assert f" {name} IF NOT EXISTS " in statement
    assert (
        dict(SCHEMA_STATEMENTS)["article_pmid"]
        == "CREATE CONSTRAINT article_pmid IF NOT EXISTS FOR (a:Article) REQUIRE a.pmid IS UNIQUE"
    )


def test_init_creates_constraints_once(graph_db: GraphDB) -> None:
    before = existing_schema(graph_db)
    init_schema(graph_db)
    init_schema(graph_db)
    after = existing_schema(graph_db)
    assert after == before
    assert {name for name, _ in SCHEMA_STATEMENTS} <= set(after)
    assert after["article_pmid"] == "UNIQUENESS"


def test_unique_pmid_is_enforced(graph_db: GraphDB) -> None:
    run_write(graph_db, "CREATE (:Article {pmid: $pmid})", {"pmid": "1"})
    with pytest.raises(neo4j.exceptions.ConstraintError):
        run_write(graph_db, "CREATE (:Article {pmid: $pmid})", {"pmid": "1"})


def test_counts_and_reset(graph_db: GraphDB) -> None:
    rows = [{"pmid": str(i)} for i in range(25)]
    n = write_batches(
        graph_db, "UNWIND $rows AS r MERGE (:Article {pmid: r.pmid})", rows, batch_size=10
    )
    assert n == 25
    run_write(
        graph_db, "MATCH (a:Article {pmid: '1'}), (b:Article {pmid: '2'}) MERGE (a)-[:CITES]->(b)"
    )
    counts = graph_counts(graph_db)
    assert counts["nodes"]["Article"] == 25
    assert counts["relationships"]["CITES"] == 1
    assert counts["total_nodes"] == 25
    reset_graph(graph_db)
    assert run_read(graph_db, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 0
    assert "article_pmid" in existing_schema(graph_db)  # data gone, schema kept
