"""Issue #13 on a real graph: ``graph load``, ``pairs run`` and ``pairs export`` print JSON,
and a small corpus gets the shared_mesh and hard warnings instead of silence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pubgraph.cli import app
from tests.test_docs import write_tiny_corpus

pytestmark = pytest.mark.neo4j


def _json(result: Any) -> Any:
    assert result.exit_code == 0, f"{result.output[-1500:]}\n{result.exception!r}"
    return json.loads(result.stdout)


def test_small_graph_json_outputs_and_warnings(graph_db: Any, tmp_path: Path) -> None:
    xml, _tree = write_tiny_corpus(tmp_path)
    runner = CliRunner()
    records = tmp_path / "records.parquet"
    ingest = _json(runner.invoke(app, ["ingest", "files", str(xml), "--out", str(records),
                                       "--json"]))
    assert ingest["articles"] == 60
    load = _json(runner.invoke(app, ["graph", "load", str(records), "--json"]))
    assert load["articles"] == 60 and load["citations"] > 0

    run_dir = tmp_path / "pairs"
    run = _json(runner.invoke(app, ["pairs", "run", "--seed", "13", "--out", str(run_dir),
                                    "--json", "--no-progress"]))
    assert run["pairs_path"] == str(run_dir / "pairs.parquet")
    counts = run["counts"]
    assert counts["pairs"] > 0
    # 60 articles: max_df 0.005 leaves no descriptor (each needs >= 2 articles) -> 0 pairs.
    mesh = counts["by_strategy"]["shared_mesh"]
    assert mesh["kept"] == 0 and "max_df" in mesh["warning"]
    # no MeSH hierarchy, no vectors: hard says what it needs when it finds little.
    hard = counts["by_strategy"]["hard"]
    if hard["kept"] < 0.1 * hard["budget"]:
        assert "pubgraph graph load-mesh" in hard["warning"]
        assert "pubgraph embed" in hard["warning"]
    assert mesh["warning"] in counts["warnings"]

    exported = _json(runner.invoke(app, ["pairs", "export", str(run_dir), "--format", "all",
                                         "--json", "--no-progress"]))
    assert len(exported) == 12 and all(Path(e["path"]).is_file() for e in exported)
