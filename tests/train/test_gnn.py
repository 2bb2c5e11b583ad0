"""GraphSAGE link prediction: PyG export, split/leakage rule, training vs text cosine.

Graph tests build small graphs by hand in the real Neo4j (``graph_db``); the pure parts
(splits, metrics, query strings) run without it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.core.contracts import SPLITS_FILE
from pubgraph.core.errors import InputError, TrainingError
from pubgraph.graph.db import GraphDB
from pubgraph.train import gnn
from pubgraph.train import gnn_queries as q

CREATE_ARTICLES = """
UNWIND $rows AS r
CREATE (a:Article {pmid: r.pmid, stub: r.stub, title: r.pmid})
WITH a, r WHERE r.vector IS NOT NULL
CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector)
"""
CREATE_CITES = """
UNWIND $rows AS r
MATCH (a:Article {pmid: r[0]}), (b:Article {pmid: r[1]})
CREATE (a)-[:CITES]->(b)
"""
CREATE_MESH = """
UNWIND $rows AS r
MATCH (a:Article {pmid: r[0]})
MERGE (m:MeshTerm {ui: r[1]})
CREATE (a)-[:HAS_MESH {major: false}]->(m)
"""


def _load(driver: GraphDB, articles: list[dict], cites: list[tuple[str, str]],
          mesh: list[tuple[str, str]] = ()) -> None:
    driver.execute_query(CREATE_ARTICLES, rows=articles)
    driver.execute_query(CREATE_CITES, rows=[list(c) for c in cites])
    if mesh:
        driver.execute_query(CREATE_MESH, rows=[list(m) for m in mesh])


def _write_splits(run_dir: Path, splits: dict[str, str]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(
        [{"pmid": p, "year": 2000, "split": s} for p, s in splits.items()]),
        run_dir / SPLITS_FILE)
    return run_dir


# -- a tiny graph whose every edge is checked ---------------------------------------------

TINY_VECTORS = {"101": [1.0, 0, 0, 0], "102": [0, 1.0, 0, 0], "103": [0, 0, 1.0, 0],
                "104": [0, 0, 0, 1.0]}
TINY_CITES = [("101", "102"), ("102", "103"), ("103", "104"), ("104", "101"), ("105", "104"),
              ("101", "901"), ("102", "901"), ("103", "902")]
TINY_MESH = [("101", "D1"), ("103", "D1"), ("101", "D2"), ("103", "D2"), ("104", "D3"),
             ("105", "D3")]
TINY_SPLITS = {"101": "train", "102": "train", "103": "test", "104": "test",
               "105": "validation"}


@pytest.fixture()
def tiny_graph(graph_db: GraphDB, tmp_path: Path) -> tuple[GraphDB, Path]:
    articles = [{"pmid": p, "stub": False, "vector": TINY_VECTORS.get(p)}
                for p in ("101", "102", "103", "104", "105")]
    articles += [{"pmid": p, "stub": True, "vector": None} for p in ("901", "902")]
    _load(graph_db, articles, TINY_CITES, TINY_MESH)
    return graph_db, _write_splits(tmp_path / "pairs-run", TINY_SPLITS)


def _named(export: gnn.GraphExport, edges: np.ndarray) -> set[tuple[str, str]]:
    return {(export.pmids[a], export.pmids[b]) for a, b in edges.T}


@pytest.mark.neo4j
def test_export_matches_the_hand_built_graph(tiny_graph: tuple[GraphDB, Path]) -> None:
    driver, run_dir = tiny_graph
    cfg = gnn.GnnConfig(mesh="cypher", mesh_k=2, mesh_max_df=0.5, mesh_min_idf=1.0, page=2)
    export = gnn.export_graph(driver, run_dir, cfg)

    # stub 902 has one citer: it cannot couple two articles, so it is left out
    assert export.pmids == ("101", "102", "103", "104", "105", "901")
    assert export.split == ("train", "train", "test", "test", "validation", "stub")
    assert export.features.shape == (6, 5)
    np.testing.assert_array_equal(export.features[2], [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(export.features[4], [0, 0, 0, 0, 1])  # no vector: flag
    np.testing.assert_array_equal(export.features[5], [0, 0, 0, 0, 1])  # stub
    assert export.has_vector.tolist() == [True, True, True, True, False, False]
    assert _named(export, export.cites) == {
        ("101", "102"), ("102", "103"), ("103", "104"), ("104", "101"), ("105", "104"),
        ("101", "901"), ("102", "901")}
    # D1+D2 shared by 101 and 103 (k=2); 104/105 share only D3
    assert _named(export, export.mesh) == {("101", "103")}

    data = gnn.to_pyg(export, gnn.split_edges(export))
    assert data.num_nodes == 6 and tuple(data.x.shape) == (6, 5)
    undirected = {tuple(sorted(e)) for e in _named(export, data.edge_index.numpy())}
    assert undirected == {tuple(sorted(c)) for c in _named(export, export.cites)} | {
        ("101", "103")}
    assert data.edge_index.shape[1] == 2 * len(undirected)  # both directions, once each
    assert _named(export, data.cites_index.numpy()) == _named(export, export.cites)
    assert data.train_mask.tolist() == [True, True, False, False, False, False]
    assert data.test_mask.tolist() == [False, False, True, True, False, False]
    assert _named(export, data.train_target_index.numpy()) == {("101", "102")}
    assert _named(export, data.test_target_index.numpy()) == {("103", "104")}


@pytest.mark.neo4j
def test_no_test_edge_reaches_training(tiny_graph: tuple[GraphDB, Path]) -> None:
    driver, run_dir = tiny_graph
    export = gnn.export_graph(driver, run_dir, gnn.GnnConfig(mesh="cypher", mesh_k=2,
                                                             mesh_max_df=0.5, mesh_min_idf=1.0))
    edges = gnn.split_edges(export)
    train_pairs = {tuple(sorted(e)) for e in _named(export, edges.train_message)}
    assert train_pairs == {("101", "102"), ("101", "901"), ("102", "901")}
    observed = {tuple(sorted(e)) for e in _named(export, edges.observed_message)}
    assert ("103", "104") not in observed  # the test target itself
    assert {("102", "103"), ("101", "104"), ("104", "105"), ("101", "103")} <= observed
    # the carried target id marks exactly the 101-102 columns
    marked = edges.train_message[:, edges.train_message_target >= 0]
    assert {tuple(sorted(e)) for e in _named(export, marked)} == {("101", "102")}


def _export(split: tuple[str, ...], cites: list[tuple[int, int]],
            mesh: list[tuple[int, int]] = ()) -> gnn.GraphExport:
    n = len(split)
    feats = np.eye(n, dtype=np.float32)
    return gnn.GraphExport(tuple(str(i) for i in range(n)), split, feats,
                           np.ones(n, dtype=bool), gnn._edges(cites), gnn._edges(mesh))


def test_split_rule_keeps_every_non_train_article_out_of_training() -> None:
    split = ("train", "train", "test", "test", "validation", "", "stub")
    cites = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 0), (5, 1), (0, 6), (2, 6), (3, 2)]
    mesh = [(2, 3), (0, 4), (1, 4), (3, 5)]
    edges = gnn.split_edges(_export(split, cites, mesh))
    train_side = {0, 1, 6}
    assert set(edges.train_message.ravel().tolist()) <= train_side
    assert {tuple(e) for e in edges.train_message.T} == {(0, 1), (1, 0), (0, 6), (6, 0)}
    for a, b in edges.observed_message.T:
        assert not (split[a] == "test" and split[b] == "test")
    assert {tuple(e) for e in edges.train_targets.T} == {(0, 1)}
    assert {tuple(e) for e in edges.test_targets.T} == {(2, 3), (3, 2)}
    assert edges.all_message.shape[1] == 2 * 10  # 8 distinct cite pairs + 2 new mesh pairs


def test_mesh_edges_as_targets() -> None:
    split = ("train", "train", "train", "test", "test", "test", "stub")
    cites = [(0, 1), (3, 4), (0, 6)]
    mesh = [(1, 2), (4, 3), (4, 5), (2, 3), (5, 6)]
    cites_only = gnn.split_edges(_export(split, cites, mesh))
    assert {tuple(e) for e in cites_only.train_targets.T} == {(0, 1)}
    assert {tuple(e) for e in cites_only.test_targets.T} == {(3, 4)}
    both = gnn.split_edges(_export(split, cites, mesh), "cites+mesh")
    assert {tuple(e) for e in both.train_targets.T} == {(0, 1), (1, 2)}
    # (4, 3) repeats the test citation 3-4; (2, 3) crosses splits; (5, 6) has a stub end
    assert {tuple(e) for e in both.test_targets.T} == {(3, 4), (4, 5)}
    # message passing is the same whatever the targets
    assert np.array_equal(both.observed_message, cites_only.observed_message)
    with pytest.raises(TrainingError, match="targets"):
        gnn.GnnConfig(targets="mesh-only").validate()
    with pytest.raises(TrainingError, match="needs MeSH"):
        gnn.GnnConfig(targets="cites+mesh", mesh="none").validate()


def test_metrics_reward_the_right_ranking() -> None:
    split = ("test",) * 6
    export = _export(split, [(0, 1), (2, 3), (4, 5)])
    edges = gnn.split_edges(export)
    task = gnn.link_task(export, edges, candidates=3, seed=1)
    assert task.size == 3 and task.negatives.shape[1] == 3
    linked = {(0, 1), (2, 3), (4, 5)}
    assert not {tuple(sorted(e)) for e in task.negatives.T} & linked
    # each linked pair shares a direction of its own
    vectors = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [-1, 0], [-1, 0]], dtype=float)
    good = gnn.evaluate_links(task, vectors)
    assert good["auc"] == 1.0 and good["mrr"] == 1.0 and good["positives"] == 3.0
    same = gnn.evaluate_links(task, np.ones((6, 2)))
    assert same["auc"] == 0.5 and same["mrr"] < 1.0  # ties ranked pessimistically


def test_bad_settings_and_inputs_raise_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="MeSH edge source"):
        gnn.GnnConfig(mesh="gds").validate()
    with pytest.raises(TrainingError, match="epochs must be >= 1"):
        gnn.GnnConfig(epochs=0).validate()
    with pytest.raises(TrainingError, match="no article has an embedding"):
        gnn.build_export([("1", None)], [], [], {})
    with pytest.raises(TrainingError, match="mixed dimensions"):
        gnn.build_export([("1", [1.0]), ("2", [1.0, 2.0])], [], [], {})
    with pytest.raises(InputError, match=r"splits\.parquet: not found"):
        gnn.read_splits(tmp_path)


def test_write_back_query_is_pinned() -> None:
    assert q.WRITE_GRAPH_EMBEDDINGS.strip() == (
        "UNWIND $rows AS r\nMATCH (a:Article {pmid: r.pmid})\n"
        "CALL db.create.setNodeVectorProperty(a, 'graph_embedding', r.vector)\n"
        "SET a.graph_embedding_run = $run")
    assert "$after" in q.TEXT_ARTICLES_EMBEDDING_PAGE and "LIMIT $page" in q.TEXT_ARTICLES_PAGE


# -- two communities: the GNN must beat an uninformative text cosine ----------------------


def _communities(per: int = 30, degree: int = 6, seed: int = 5) -> tuple[list[dict], list,
                                                                         dict[str, str]]:
    rng = random.Random(seed)
    vec_rng = np.random.default_rng(seed)
    articles, cites, splits = [], set(), {}
    groups = [[str(1000 * (g + 1) + i) for i in range(per)] for g in range(2)]
    for members in groups:
        for i, p in enumerate(members):
            # Features are pure noise, the same law in both communities: text says nothing.
            articles.append({"pmid": p, "stub": False,
                             "vector": vec_rng.normal(size=8).round(4).tolist()})
            splits[p] = "test" if i % 3 == 0 else "train"
            for other in rng.sample([m for m in members if m != p], degree):
                cites.add((p, other))
    for _ in range(4):  # a little cross-community noise
        cites.add((rng.choice(groups[0]), rng.choice(groups[1])))
    return articles, sorted(cites), splits


@pytest.mark.neo4j
def test_gnn_beats_uninformative_text_and_writes_back(graph_db: GraphDB,
                                                      tmp_path: Path) -> None:
    articles, cites, splits = _communities()
    _load(graph_db, articles, cites)
    run_dir = _write_splits(tmp_path / "pairs-run", splits)
    cfg = gnn.GnnConfig(epochs=60, hidden=32, out_dim=16, batch_size=32, mesh="none",
                        stubs=False, candidates=10, seed=3)
    result = gnn.run_gnn(graph_db, run_dir, tmp_path / "gnn", cfg, write_back=True,
                         progress=False)

    text = result.results[gnn.TEXT_SCORER]
    observed = result.results[gnn.GNN_OBSERVED_SCORER]
    isolated = result.results[gnn.GNN_TRAIN_SCORER]
    assert result.counts["test_targets"] == text["positives"] > 15
    assert 0.3 < text["auc"] < 0.7
    assert observed["auc"] - text["auc"] > 0.25
    assert observed["mrr"] > text["mrr"]
    # With test articles isolated only their noise features remain: no better than chance
    # (a leak of test edges into message passing would show up here).
    assert isolated["auc"] < observed["auc"] - 0.15
    assert result.losses[-1] < result.losses[0]

    records, _, _ = graph_db.execute_query(
        "MATCH (a:Article) WHERE a.graph_embedding IS NOT NULL "
        "RETURN count(a) AS n, collect(DISTINCT size(a.graph_embedding)) AS dims, "
        "collect(DISTINCT a.graph_embedding_run) AS runs")
    assert records[0]["n"] == len(articles) == result.wrote_back
    assert records[0]["dims"] == [16] and records[0]["runs"] == ["gnn-pairs-run-s3"]
    data = json.loads((tmp_path / "gnn" / "comparison.json").read_text())
    assert [r["scorer"] for r in data["rows"]] == [gnn.TEXT_SCORER, gnn.GNN_TRAIN_SCORER,
                                                   gnn.GNN_OBSERVED_SCORER]
    emb = pq.read_table(tmp_path / "gnn" / "graph_embeddings.parquet")
    assert emb.num_rows == len(articles)


@pytest.mark.neo4j
def test_cli_with_parquet_features(tiny_graph: tuple[GraphDB, Path],
                                   tmp_path: Path) -> None:
    _, run_dir = tiny_graph
    vectors = tmp_path / "vectors.parquet"
    # The Parquet vectors replace the stored ones: 104 gets none here
    pq.write_table(pa.Table.from_pylist([{"pmid": p, "vector": v} for p, v in
                                         TINY_VECTORS.items() if p != "104"]), vectors)
    out = tmp_path / "gnn-cli"
    result = CliRunner().invoke(app, [
        "gnn", "train", "--pairs", str(run_dir), "--features", str(vectors), "--epochs", "2",
        "--out", str(out), "--no-progress", "--mesh", "none", "--write-back"])
    assert result.exit_code == 0, result.output
    assert "| text cosine |" in result.output and "| GraphSAGE (train edges) |" in result.output
    meta = json.loads((out / "gnn.json").read_text())
    assert meta["counts"]["with_vector"] == 3 and meta["counts"]["test_targets"] == 1
    assert (out / "model.pt").is_file()

    bad = CliRunner().invoke(app, ["gnn", "train", "--pairs", str(tmp_path / "nope")])
    assert isinstance(bad.exception, InputError)
    assert "splits.parquet: not found" in str(bad.exception)
