"""Pairing on the full shared PubMed files (both, ~51k articles) + MeSH tree numbers.

Slow: parses and loads the files once for the module (``neo4j_driver``; the graph is
emptied first), then checks what every strategy produced against independent queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pubgraph.graph.db import GraphDB, run_read
from pubgraph.pairing.config import DEFAULT_STRATEGIES, config_from_dict
from pubgraph.pairing.export import export_run
from pubgraph.pairing.jobs import RunResult, read_splits, run_pairs

pytestmark = [pytest.mark.slow, pytest.mark.neo4j]

FILES = ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")

ARTICLE_MESH = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:HAS_MESH]->(m:MeshTerm)
RETURN pmid, collect(m.ui) AS mesh
"""
MESH_DF = """
MATCH (m:MeshTerm)
RETURN m.ui AS ui, COUNT { (m)<-[:HAS_MESH]-(:Article) } AS df
"""
DIRECT_CITES = """
UNWIND $pairs AS pair
MATCH (a:Article {pmid: pair[0]}), (b:Article {pmid: pair[1]})
WHERE EXISTS { (a)-[:CITES]-(b) }
RETURN count(*) AS n
"""
CITATION_RELATED_PAIRS = """
UNWIND $pairs AS pair
MATCH (a:Article {pmid: pair[0]}), (b:Article {pmid: pair[1]})
WHERE EXISTS { (a)-[:CITES]-(b) } OR EXISTS { (a)<-[:CITES]-(:Article)-[:CITES]->(b) }
   OR COUNT { (a)-[:CITES]->(:Article)<-[:CITES]-(b) } >= 2
RETURN count(*) AS n
"""
STUBS = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.stub <> false
RETURN count(a) AS n
"""
MESH_ARTICLES = (
    "MATCH (a:Article) WHERE a.stub = false AND EXISTS { (a)-[:HAS_MESH]->() } RETURN count(a) AS n"
)


@pytest.fixture(scope="module")
def full_graph(
    neo4j_driver: GraphDB, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GraphDB]:
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.mesh import load_mesh
    from pubgraph.graph.schema import init_schema, reset_graph
    from pubgraph.ingest.files import sync_files

    parquet = tmp_path_factory.mktemp("pubmed") / "pubmed.parquet"
    sync_files([shared_data / "pubmed" / f for f in FILES], parquet, progress=False)
    reset_graph(neo4j_driver, drop_schema=True)
    init_schema(neo4j_driver)
    GraphLoader(neo4j_driver).load_parquet([parquet])
    load_mesh(neo4j_driver, shared_data / "mesh" / "tree-numbers.tsv")
    # No teardown reset: the next graph_db fixture empties the database anyway.
    yield neo4j_driver


@pytest.fixture(scope="module")
def default_run(full_graph: GraphDB, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    config = config_from_dict({"strategies": [*DEFAULT_STRATEGIES, "mesh_distant"], "seed": 13})
    return run_pairs(full_graph, config, tmp_path_factory.mktemp("pairs") / "run")


def _pairs(result: RunResult, strategy: str, limit: int = 3000) -> list[list[str]]:
    """The first ``limit`` pairs of ``strategy`` (enough to check, cheap to query)."""
    pairs = [[p["pmid_a"], p["pmid_b"]] for p in result.pairs if p["strategy"] == strategy]
    return pairs[:limit]


def test_every_strategy_yields_pairs_within_one_split(
    full_graph: GraphDB, default_run: RunResult
) -> None:
    counts = default_run.counts
    for name in (*DEFAULT_STRATEGIES, "mesh_distant"):
        assert counts["by_strategy"][name]["kept"] > 0, name
    assert counts["cross_split_pairs"] == 0 and counts["cross_split_share"] == 0.0
    assert counts["dropped_cross_split"] > 0
    split_of = read_splits(default_run.out_dir)
    assert all(
        split_of[p["pmid_a"]] == split_of[p["pmid_b"]] == p["split"] for p in default_run.pairs
    )
    assert counts["negatives"] == counts["positives"]  # 1:1 by default
    assert {
        p["label"]
        for p in default_run.pairs
        if p["strategy"] in ("random_distant", "mesh_distant", "hard")
    } == {0}
    pmids = sorted({x for p in default_run.pairs for x in (p["pmid_a"], p["pmid_b"])})
    assert run_read(full_graph, STUBS, {"pmids": pmids})[0]["n"] == 0
    keys = Counter(tuple(sorted((p["pmid_a"], p["pmid_b"]))) for p in default_run.pairs)
    assert max(keys.values()) == 1
    per_article = Counter(
        (p["strategy"], x) for p in default_run.pairs for x in (p["pmid_a"], p["pmid_b"])
    )
    assert max(per_article.values()) <= 10


def test_pairs_satisfy_their_definitions(full_graph: GraphDB, default_run: RunResult) -> None:
    n_mesh = run_read(full_graph, MESH_ARTICLES)[0]["n"]
    df = {r["ui"]: r["df"] for r in run_read(full_graph, MESH_DF)}
    shared = _pairs(default_run, "shared_mesh")
    distant = _pairs(default_run, "random_distant")
    pmids = sorted({x for pair in shared + distant for x in pair})
    mesh = {r["pmid"]: set(r["mesh"]) for r in run_read(full_graph, ARTICLE_MESH, {"pmids": pmids})}
    for a, b in shared:
        specific = {m for m in mesh[a] & mesh[b] if df[m] <= 0.005 * n_mesh}
        assert len(specific) >= 2, (a, b)  # generic headings (Humans...) never count
    assert all(not (mesh.get(a, set()) & mesh.get(b, set())) for a, b in distant)
    for strategy in ("random_distant", "mesh_distant", "hard"):
        assert (
            run_read(full_graph, DIRECT_CITES, {"pairs": _pairs(default_run, strategy)})[0]["n"]
            == 0
        ), strategy
    cites = _pairs(default_run, "cites")
    assert run_read(full_graph, DIRECT_CITES, {"pairs": cites})[0]["n"] == len(cites)


def test_same_seed_same_pairs(
    full_graph: GraphDB, tmp_path: Path, default_run: RunResult
) -> None:
    config = config_from_dict(
        {"strategies": ["cites", "bib_coupling", "random_distant"], "seed": 5}
    )
    a = run_pairs(full_graph, config, tmp_path / "a", record=False)
    b = run_pairs(full_graph, config, tmp_path / "b", record=False, workers=1)
    assert a.pairs == b.pairs and len(a.pairs) > 1000
    assert a.run_id == b.run_id


def test_held_out_citation_lists(full_graph: GraphDB, default_run: RunResult) -> None:
    s = export_run(full_graph, default_run.out_dir, "citations", "test")
    frame = pd.read_parquet(s.path)
    split_of = read_splits(default_run.out_dir)
    # Few citations join two text articles in these files; coupling adds more queries.
    assert len(frame) >= 50
    assert {split_of[p] for p in frame.pmid} == {"test"}
    pairs = [[p, r] for p, rel in zip(frame.pmid, frame.relevant_pmids, strict=True) for r in rel]
    assert {split_of[r] for _, r in pairs} > {"test"}  # relevant articles of any split
    linked = run_read(full_graph, CITATION_RELATED_PAIRS, {"pairs": pairs})[0]["n"]
    assert linked == len(pairs)
