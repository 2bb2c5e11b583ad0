"""The demo never loads into a graph that holds other articles, unless told to empty it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import ConfigError
from pubgraph.demo import SIZES, DemoContext, check_graph_is_ours, corpus_figures
from pubgraph.demo_stages import StageRunner
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles

pytestmark = pytest.mark.neo4j


def _ctx(tmp_path: Path, db: GraphDB, settings: object) -> DemoContext:
    return DemoContext(SIZES["tiny"], tmp_path, settings, db, None)


def test_foreign_articles_refused_then_reset(
    graph_db: GraphDB, neo4j_settings: object, tmp_path: Path
) -> None:
    runner = StageRunner(tmp_path, log=lambda _m: None)
    ctx = _ctx(tmp_path, graph_db, neo4j_settings)
    check_graph_is_ours(ctx, runner, reset=False)  # an empty graph is fine
    add_articles(graph_db, [{"pmid": "1", "title": "a"}, {"pmid": "2", "title": "b"}])
    with pytest.raises(ConfigError, match="already holds 2 articles") as info:
        check_graph_is_ours(ctx, runner, reset=False)
    assert info.value.setting == "--reset"
    # the demo's own load, recorded in the run folder, is ours: resumed, not refused
    runner.run("load", lambda: {"corpus": corpus_figures(graph_db)})
    check_graph_is_ours(ctx, StageRunner(tmp_path, log=lambda _m: None), reset=False)
    # --reset empties the graph and forgets the stages that depend on it
    check_graph_is_ours(ctx, runner, reset=True)
    assert corpus_figures(graph_db)["text articles"] == 0
    assert runner.read("load") is None


def test_interrupted_load_is_resumed(
    graph_db: GraphDB, neo4j_settings: object, tmp_path: Path
) -> None:
    add_articles(graph_db, [{"pmid": "1", "title": "a"}])
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "load.started").write_text("x")
    runner = StageRunner(tmp_path, log=lambda _m: None)
    check_graph_is_ours(_ctx(tmp_path, graph_db, neo4j_settings), runner, reset=False)
