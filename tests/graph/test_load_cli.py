"""``pubgraph graph load | load-mesh | load-edges`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.stats import graph_stats
from pubgraph.ingest.records import RECORD_SCHEMA, Article, Deletion, MeshHeading, Reference, to_row

REPO = Path(__file__).resolve().parents[2]


def _pubgraph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pubgraph.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_help_lists_the_load_commands() -> None:
    out = _pubgraph("graph", "--help")
    assert out.returncode == 0
    for command in ("load", "load-mesh", "load-edges"):
        assert command in out.stdout


def test_missing_and_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    out = _pubgraph("graph", "load", str(tmp_path / "nope.parquet"))
    assert out.returncode == 2
    assert "nope.parquet: no such file" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"x": [1]}), bad)
    out = _pubgraph("graph", "load", str(bad))
    assert out.returncode == 2 and "field record_type" in out.stderr


@pytest.mark.neo4j
def test_cli_loads_records_mesh_and_edges(graph_db: GraphDB, tmp_path: Path) -> None:
    rows = [to_row(Article("1", title="one", mesh=(MeshHeading("C2", "Child"),),
                           references=(Reference(pmid="2"),)), "f.xml"),
            to_row(Article("3", title="three"), "f.xml"), to_row(Deletion("3"), "f.xml")]
    records = tmp_path / "r.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), records)
    out = _pubgraph("graph", "load", "--batch-size", "1", str(records))
    assert out.returncode == 0, out.stderr
    assert "articles written" in out.stdout and "deletions applied" in out.stdout

    mesh = tmp_path / "tree.tsv"
    mesh.write_text("mesh_id\tmesh_name\tmesh_tree_number\nP1\tParent\tA01\nC2\tChild\tA01.5\n")
    out = _pubgraph("graph", "load-mesh", str(mesh))
    assert out.returncode == 0, out.stderr
    assert "BROADER" in out.stdout

    edges = tmp_path / "x.cites.tab"
    edges.write_text("#DIRECTED\tcites\n1\tpaper:2\t|\tpaper:1\n")
    out = _pubgraph("graph", "load-edges", "--source", "toy", str(edges))
    assert out.returncode == 0, out.stderr

    stats = graph_stats(graph_db)
    assert (stats["text_articles"], stats["stub_articles"], stats["deleted_articles"]) == (1, 1, 0)
    assert (stats["cites"], stats["has_mesh"], stats["broader"]) == (2, 1, 1)
    assert stats["mesh_terms"] == 2
