"""Concurrent writers (issue #14, defect 1): two `graph load` of the same file at once, and
a load beside an `embed`, end in the graph one load (plus one embed) gives.

Before the fix both loads saw "no relationships yet" for the same articles and both took
the CREATE path: thousands of duplicate relationships on the 30k file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.fingerprint import duplicate_relationships, graph_fingerprint
from pubgraph.graph.loader import iter_parquet_rows, transform_batch, write_article_batch
from tests.reliability.conftest import Baseline, assert_same, embed_args, empty, load_args
from tests.reliability.helpers import cli, popen

pytestmark = [pytest.mark.reliability, pytest.mark.neo4j]


def test_interleaved_batches_of_the_same_articles_do_not_duplicate(graph_db: GraphDB,
                                                                    corpus: Path) -> None:
    """Deterministic form of the race: transaction 1 has written a batch but not committed;
    transaction 2 writes the same batch. Before the fix, 2 saw "no relationships yet" and
    created them again once 1 committed (duplicates); now 2 waits on 1's article locks and
    then merges."""
    empty(graph_db)
    rows = [r for r in iter_parquet_rows([corpus]) if r["record_type"] == "article"][:40]
    plan = transform_batch(rows)
    first = graph_db.session()
    tx = first.begin_transaction()
    write_article_batch(tx, plan)  # type: ignore[arg-type]
    done: dict[str, object] = {}

    def second() -> None:
        with graph_db.session() as s:
            done["summary"] = s.execute_write(write_article_batch, plan)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(1.5)
    waited = thread.is_alive()  # blocked on the first transaction's locks
    tx.commit()
    first.close()
    thread.join(120)
    assert not thread.is_alive()
    assert waited
    assert duplicate_relationships(graph_db) == {}
    assert "summary" in done


def test_graph_check_counts_a_duplicate(graph_db: GraphDB, corpus: Path) -> None:
    empty(graph_db)
    rows = [r for r in iter_parquet_rows([corpus]) if r["record_type"] == "article"][:5]
    with graph_db.session() as s:
        s.execute_write(write_article_batch, transform_batch(rows))
    graph_db.write("MATCH (a:Article)-[r:PUBLISHED_IN]->(j) WITH a, j LIMIT 1 "
                   "CREATE (a)-[:PUBLISHED_IN]->(j)")
    assert duplicate_relationships(graph_db) == {"PUBLISHED_IN": 1}
    assert graph_fingerprint(graph_db).duplicate_relationships == 1
    run = cli("graph", "check")
    assert run.returncode == 1 and "duplicate relationships: 1 (PUBLISHED_IN 1)" in run.stdout


def test_two_loads_at_once_equal_one_load(graph_db: GraphDB, baseline: Baseline,
                                          corpus: Path) -> None:
    empty(graph_db)
    procs = [popen(*load_args(corpus)) for _ in range(2)]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert_same(graph_fingerprint(graph_db), baseline.load)
    check = cli("graph", "check")
    assert check.returncode == 0 and "duplicate relationships: 0" in check.stdout


def test_load_beside_embed_equals_load_then_embed(graph_db: GraphDB, baseline: Baseline,
                                                  corpus: Path, tiny_model: Path) -> None:
    empty(graph_db)
    cli(*load_args(corpus), check=True)
    procs = [popen(*load_args(corpus)), popen(*embed_args(tiny_model))]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    got = graph_fingerprint(graph_db)
    want = baseline.embed
    assert got.duplicate_relationships == 0
    # Everything but the PairRun node of the baseline's pairing step.
    for name in ("articles", "cites", "relationships", "relationships_by_type", "vectors"):
        assert getattr(got, name) == getattr(want, name), name
