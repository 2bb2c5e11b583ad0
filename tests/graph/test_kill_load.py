"""A load killed with SIGKILL half-way, then re-run, ends in exactly the graph of an
uninterrupted load (real input: 2,000 articles of pubmed20n0014 plus pubmed_small)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.schema import init_schema, reset_graph
from pubgraph.graph.stats import graph_snapshot
from tests.graph.test_load_real import actual_graph, expected_graph, slice_parquet, small_parquet

pytestmark = pytest.mark.neo4j

REPO = Path(__file__).resolve().parents[2]
BATCH = 1500  # graph rows per transaction: about 90 articles of pubmed20n0014
KILL_AFTER = 400  # text articles committed before the kill


def _load_command(paths: list[Path]) -> list[str]:
    return [sys.executable, "-m", "pubgraph.cli", "graph", "load", "--batch-size", str(BATCH),
            *map(str, paths)]


def _text_articles(driver: GraphDB) -> int:
    records = driver.execute_query(
        "MATCH (a:Article) WHERE a.stub = false RETURN count(a) AS n").records
    return int(records[0]["n"])


def test_killed_load_rerun_equals_uninterrupted_load(graph_db: GraphDB,
                                                     shared_data: Path) -> None:
    paths = [slice_parquet(shared_data, "pubmed20n0014", 2000), small_parquet(shared_data)]
    total = 2000 + 314

    proc = subprocess.Popen(_load_command(paths), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while _text_articles(graph_db) < KILL_AFTER:
            assert proc.poll() is None, "the load ended before it could be killed"
            assert time.monotonic() < deadline, "the load made no progress"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = _text_articles(graph_db)
    assert KILL_AFTER <= partial < total  # killed half-way: some batches in, not all

    rerun = subprocess.run(_load_command(paths), cwd=REPO, capture_output=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    after_kill = graph_snapshot(graph_db)

    reset_graph(graph_db)
    init_schema(graph_db)
    clean = subprocess.run(_load_command(paths), cwd=REPO, capture_output=True, timeout=600)
    assert clean.returncode == 0, clean.stderr.decode()[-2000:]
    uninterrupted = graph_snapshot(graph_db)

    assert after_kill == uninterrupted
    assert actual_graph(uninterrupted) == expected_graph(paths)
