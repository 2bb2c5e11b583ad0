"""``pubgraph ingest files --load`` streams records into the real Neo4j while writing Parquet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.schema import reset_graph
from pubgraph.graph.stats import graph_snapshot

pytestmark = pytest.mark.neo4j


def _ingest_load(paths: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pubgraph", "ingest", "files", *map(str, paths),
           "--out", str(out), "--load", "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), timeout=600)


def test_streamed_load_equals_parquet_load_and_is_idempotent(
    graph_db: GraphDB, shared_data: Path, tmp_path: Path
) -> None:
    files = [shared_data / "pubmed_small" / "air_embolism_121.xml",
             shared_data / "pubmed_small" / "il6_cytokine_100.xml"]
    out = tmp_path / "records.parquet"
    run = _ingest_load(files, out)
    assert run.returncode == 0, run.stderr
    assert "loaded into Neo4j" in run.stdout
    streamed = graph_snapshot(graph_db)
    text_articles = {n for n in streamed[0] if n[0] == ("Article",) and ("stub", False) in n[1]}
    assert len(text_articles) == 221

    reset_graph(graph_db)
    GraphLoader(graph_db).load_parquet([out])
    assert graph_snapshot(graph_db) == streamed

    again = _ingest_load(files, tmp_path / "again.parquet")
    assert again.returncode == 0, again.stderr
    assert graph_snapshot(graph_db) == streamed


def test_bad_record_keeps_what_was_loaded(graph_db: GraphDB, tmp_path: Path) -> None:
    bad = Path(__file__).resolve().parents[1] / "fixtures" / "pubmed_missing_pmid.xml"
    run = _ingest_load([bad], tmp_path / "bad.parquet")
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert "pubmed_missing_pmid.xml" in run.stderr
    with graph_db.session() as s:
        loaded = s.run("MATCH (a:Article {stub: false}) RETURN count(a) AS n").single()["n"]
    parsed_before = len(list(_good_prefix(bad)))
    assert loaded == parsed_before


def _good_prefix(path: Path) -> list[object]:
    from pubgraph.core.errors import InputError
    from pubgraph.ingest.pubmed import iter_pubmed

    good: list[object] = []
    try:
        for record in iter_pubmed(path):
            good.append(record)
    except InputError:
        pass
    return good
