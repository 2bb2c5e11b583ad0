"""A real run on a small real corpus in the real Neo4j.

The three ``pubmed_small`` files (air embolism, AMPK phosphorylation, IL-6: 314 articles)
go through the real parser and loader; their vectors come from a small LSA encoder (TF-IDF
+ SVD, 64 dimensions) stored as ``pubgraph embed`` stores them. The analysis must write
the node and relationship sets the graph model describes, find the three subjects again,
give the same topics for the same seed, and prune only what it is asked to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pubgraph.analysis import read
from pubgraph.analysis.run import AnalysisParams, run_analysis
from pubgraph.analysis.write import prune_runs
from pubgraph.graph.db import GraphDB, run_read
from pubgraph.graph.schema import SCHEMA_NAMES, existing_schema, init_schema, reset_graph

pytestmark = pytest.mark.neo4j
FILES = ("air_embolism_121.xml", "ampk_phospho_93.xml", "il6_cytokine_100.xml")


MODEL_ID = "test-lsa-64"


def lsa_vectors(texts: list[str], dims: int = 64) -> np.ndarray:
    """A tiny, fast and meaningful encoder: TF-IDF + truncated SVD (LSA), unit rows."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(stop_words="english", min_df=2, sublinear_tf=True).fit_transform(texts)
    z = TruncatedSVD(n_components=dims, random_state=0).fit_transform(x)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def corpus(neo4j_driver: GraphDB, shared_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """pmid -> source file of every embedded article; the graph stays for the module.

    Vectors are stored the way ``pubgraph embed`` stores them (``Article.embedding`` via
    ``db.create.setNodeVectorProperty``, ``embedding_model``, an ``EmbeddingModel`` node with
    its count); a sentence-transformer would take minutes on a busy two-core machine.
    """
    from pubgraph.core.contracts import article_text
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.ingest.files import sync_files

    db = neo4j_driver
    reset_graph(db)
    if {n for n in existing_schema(db) if n not in SCHEMA_NAMES}:
        reset_graph(db, drop_schema=True)
    init_schema(db)
    tmp = tmp_path_factory.mktemp("small")
    frames = []
    for name in FILES:
        parquet = tmp / f"{name}.parquet"
        sync_files([shared_data / "pubmed_small" / name], parquet, progress=False)
        GraphLoader(db).load_parquet([parquet])
        frames.append(pd.read_parquet(parquet, columns=["pmid", "title", "abstract"])
                      .assign(source=name))
    arts = pd.concat(frames).drop_duplicates("pmid")
    arts["text"] = [article_text(t if isinstance(t, str) else None,
                                 a if isinstance(a, str) else None)
                    for t, a in zip(arts["title"], arts["abstract"], strict=True)]
    arts = arts[arts["text"] != ""]
    vec = lsa_vectors(arts["text"].tolist())
    db.execute_query(
        """
        UNWIND $rows AS r
        MATCH (a:Article {pmid: r.pmid})
        CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector)
        SET a.embedding_model = $model
        """,
        {"rows": [{"pmid": p, "vector": v.tolist()} for p, v in zip(arts["pmid"], vec,
                                                                    strict=True)],
         "model": MODEL_ID},
    )
    db.execute_query(
        "CREATE (:EmbeddingModel {id: $model, name: $model, dimension: 64, count: $n, "
        "updated: datetime()})", {"model": MODEL_ID, "n": len(arts)})
    yield dict(zip(arts["pmid"], arts["source"], strict=True))
    reset_graph(db)


def _counts(db: GraphDB) -> dict[str, int]:
    q = """
    CALL () { MATCH (r:AnalysisRun) RETURN count(r) AS runs }
    CALL () { MATCH (t:Topic) RETURN count(t) AS topics }
    CALL () { MATCH ()-[m:IN_TOPIC]->() RETURN count(m) AS in_topic }
    CALL () { MATCH ()-[s:SIGNATURE]->() RETURN count(s) AS signature }
    CALL () { MATCH ()-[r:RELATED]->() RETURN count(r) AS related }
    CALL () { MATCH ()-[r:MESH_TREND]->() RETURN count(r) AS mesh_trend }
    CALL () { MATCH ()-[r:OF_RUN]->() RETURN count(r) AS of_run }
    RETURN runs, topics, in_topic, signature, related, mesh_trend, of_run
    """
    return run_read(db, q)[0]


def test_run_writes_the_model_and_finds_the_subjects(
    neo4j_driver: GraphDB, corpus: dict[str, str], tmp_path: Path
) -> None:
    db = neo4j_driver
    # PCA map: UMAP's first call compiles with numba for minutes on a busy machine.
    params = AnalysisParams(method="kmeans", k=3, seed=7, map=True, map_method="pca")
    res = run_analysis(db, params, tmp_path)
    n = len(corpus)
    assert n >= 250
    c = _counts(db)
    assert c["runs"] == 1 and c["topics"] == 3 and c["of_run"] == 3
    assert c["in_topic"] == n  # every embedded article in exactly one topic
    assert c["signature"] == len(res.tables["signatures"]) > 0
    assert c["related"] == len(res.tables["related"]) == 6  # 3 topics × 2 others
    assert c["mesh_trend"] == int(res.tables["mesh_trends"]["p"].notna().sum())
    # every IN_TOPIC carries the run, coordinates and centrality
    bad = run_read(db, """
        MATCH (a:Article)-[m:IN_TOPIC]->(t:Topic)
        WHERE m.run <> t.run OR m.x IS NULL OR m.pagerank IS NULL OR a.embedding IS NULL
        RETURN count(m) AS n""")[0]["n"]
    assert bad == 0
    # The three files are three subjects: the topics find them.
    a = read.assignments(db, res.id)
    truth = [corpus[p] for p in a.index]
    assert adjusted_rand_score(truth, a.to_numpy()) > 0.8
    # The signatures name each subject; q-values are BH (>= p) and < 0.05.
    sig = res.tables["signatures"]
    assert (sig["q"] < 0.05).all() and (sig["q"] >= sig["p"]).all() and (sig["lift"] > 1).all()
    labels = " | ".join(read.topics(db, res.id)["label"]).lower()
    assert "embolism" in labels and "interleukin-6" in labels
    # files of the run folder
    folder = tmp_path / res.id
    for f in ("topics.parquet", "assignments.parquet", "topic_years.parquet", "trends.png",
              "map.png", "run.json"):
        assert (folder / f).is_file(), f
    assert json.loads((folder / "run.json").read_text())["id"] == res.id


def test_same_seed_same_topics_and_idempotent_write(
    neo4j_driver: GraphDB, corpus: dict[str, str]
) -> None:
    db = neo4j_driver
    params = AnalysisParams(method="leiden", seed=3, map=False, k_neighbors=10)
    first = run_analysis(db, params)
    before = _counts(db)
    topics_before = read.topics(db, first.id)
    assign_before = read.assignments(db, first.id)
    second = run_analysis(db, params)
    assert second.id == first.id
    assert _counts(db) == before  # replaced, not added
    pd.testing.assert_frame_equal(read.topics(db, second.id), topics_before)
    pd.testing.assert_series_equal(read.assignments(db, second.id).sort_index(),
                                   assign_before.sort_index())
    other = run_analysis(db, AnalysisParams(method="leiden", seed=3, map=False, k_neighbors=10,
                                            citations=False))
    assert other.id != first.id
    assert other.metrics["cluster_info"]["citation_edges"] == 0
    assert first.metrics["cluster_info"]["citation_edges"] > 0


def test_read_api(neo4j_driver: GraphDB, corpus: dict[str, str]) -> None:
    db = neo4j_driver
    run = read.latest_run(db)
    assert run is not None
    runs = read.list_runs(db)
    assert runs["id"].iloc[0] == run and isinstance(runs["metrics"].iloc[0], dict)
    tp = read.topics(db, run)
    assert tp["size"].sum() == len(corpus)
    years = read.topic_year_counts(db, run)
    per_year = years.groupby("year")["count"].sum()
    assert (per_year == years.groupby("year")["total"].first()).all()
    assert np.allclose(years.groupby("year")["share"].sum(), 1.0)
    big = int(tp["topic"].iloc[0])
    d = read.topic_detail(db, run, big)
    assert d is not None and d.size == int(tp["size"].iloc[0])
    assert list(d.signature.columns[:4]) == ["ui", "name", "lift", "q"]
    assert len(d.representatives) > 0 and set(d.related.columns) >= {"topic", "similarity"}
    assert set(d.mesh_trends.columns) >= {"ui", "trend", "q"}
    assert read.topic_detail(db, run, 9999) is None
    pmid = next(iter(corpus))
    at = read.article_topic(db, run, pmid)
    assert at is not None and at["topic"] in set(tp["topic"])
    mapped = run_read(db, "MATCH (r:AnalysisRun) WHERE r.parameters CONTAINS '\"map\": true' "
                      "RETURN r.id AS id")
    pts = read.map_points(db, mapped[0]["id"], year_min=2000)
    assert len(pts) > 0 and (pts["year"] >= 2000).all()
    d2 = read.diff_runs(db, run, mapped[0]["id"])
    assert d2["common_articles"] == len(corpus) and 0 < d2["nmi"] <= 1


def test_prune_removes_only_the_old_runs(neo4j_driver: GraphDB, corpus: dict[str, str]) -> None:
    db = neo4j_driver
    runs = read.list_runs(db)["id"].tolist()
    assert len(runs) == 3
    newest = runs[0]
    kept_topics = len(read.topics(db, newest))
    gone = prune_runs(db, keep=1)
    assert gone == runs[1:]
    assert read.list_runs(db)["id"].tolist() == [newest]
    c = _counts(db)
    assert c["topics"] == kept_topics == c["of_run"]
    assert c["in_topic"] == len(corpus)
    assert run_read(db, "MATCH (t:Topic) WHERE t.run <> $r RETURN count(t) AS n",
                    {"r": newest})[0]["n"] == 0


def test_cli(neo4j_driver: GraphDB, corpus: dict[str, str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pubgraph.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["analyze", "run", "--method", "kmeans", "--k", "3", "--no-map",
                            "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["n_topics"] == 3 and out["n_articles"] == len(corpus)
    r = runner.invoke(app, ["analyze", "show", "latest", "--json"])
    assert r.exit_code == 0 and len(json.loads(r.stdout)["topics"]) == 3
    r = runner.invoke(app, ["analyze", "show", out["run"], "--topic", "0"])
    assert r.exit_code == 0 and "signature" in r.stdout
    r = runner.invoke(app, ["analyze", "show", "nope"])
    assert r.exit_code != 0
    r = runner.invoke(app, ["analyze", "list", "--json"])
    assert out["run"] in [x["id"] for x in json.loads(r.stdout)]
    r = runner.invoke(app, ["analyze", "prune", "--keep", "0", "--json"])
    assert r.exit_code == 0 and out["run"] in json.loads(r.stdout)["deleted"]
    assert _counts(neo4j_driver)["topics"] == 0
