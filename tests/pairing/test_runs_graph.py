"""Runs on small hand-built graphs: splits, caps, balance, determinism, PairRun records,
and the errors a user can cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import PairingError
from pubgraph.graph.db import GraphDB, run_write
from pubgraph.pairing.config import config_from_dict
from pubgraph.pairing.jobs import diff_runs, get_run, list_runs, read_splits, run_pairs
from tests.pairing import graphs
from tests.pairing.graphs import pairs_of

pytestmark = pytest.mark.neo4j


def cfg(**data: Any) -> Any:
    return config_from_dict(data)


def chain_graph(driver: GraphDB) -> list[tuple[str, str]]:
    """Text articles 1000..1059; each cites the next two (118 text-text citations)."""
    pmids = [str(i) for i in range(1000, 1060)]
    graphs.articles(driver, pmids)
    edges = [(pmids[i], pmids[j]) for i in range(60) for j in (i + 1, i + 2) if j < 60]
    graphs.cites(driver, edges)
    return edges


def test_hash_split_keeps_only_same_split_pairs(graph_db: GraphDB, tmp_path: Path) -> None:
    edges = chain_graph(graph_db)
    result = run_pairs(graph_db, cfg(strategies=["cites"], seed=5), tmp_path / "r", record=False)
    split_of = read_splits(tmp_path / "r")
    assert set(split_of) == {str(i) for i in range(1000, 1060)}
    assert set(split_of.values()) == {"train", "validation", "test"}
    same = {e for e in edges if split_of[e[0]] == split_of[e[1]]}
    kept = {(p["pmid_a"], p["pmid_b"]) for p in result.pairs}
    assert kept == same
    assert all(p["split"] == split_of[p["pmid_a"]] == split_of[p["pmid_b"]] for p in result.pairs)
    counts = result.counts
    assert counts["dropped_cross_split"] == len(edges) - len(same) > 0
    assert counts["cross_split_pairs"] == 0
    assert counts["cross_split_share"] == 0.0
    # The Parquet file holds exactly the pairs, with the documented columns.
    table = pq.read_table(result.pairs_path)
    assert table.column_names == ["pmid_a", "pmid_b", "label", "strategy", "score", "split"]
    assert table.num_rows == len(kept)


def test_year_split_tests_on_newer_articles(graph_db: GraphDB, tmp_path: Path) -> None:
    years = {"1": 2016, "2": 2015, "3": 2014, "4": 2020, "5": 2021, "6": 2019, "8": 2022}
    graphs.citation_graph(graph_db)
    run_write(graph_db, "MATCH (a:Article) SET a.year = null")
    graphs.articles(graph_db, list(years), years=years)  # 7 keeps no year
    graphs.cites(graph_db, [("5", "4"), ("8", "6")])
    config = cfg(
        strategies=["cites"], splits={"train": 0.9, "validation": 0.0, "test": 0.1, "by_year": 2019}
    )
    result = run_pairs(graph_db, config, tmp_path / "r", record=False)
    by_split = {
        s: {(p["pmid_a"], p["pmid_b"]) for p in result.pairs if p["split"] == s}
        for s in ("train", "validation", "test")
    }
    assert by_split == {
        "train": {("1", "2"), ("1", "3"), ("2", "3")},
        "validation": set(),
        "test": {("5", "4"), ("8", "6")},
    }
    # 4→2, 4→3, 5→2, 5→3, 6→1, 6→2, 8→1, 8→2 join a new article to an old one.
    assert result.counts["dropped_cross_split"] == 8
    assert result.counts["articles"] == {"train": 3, "validation": 0, "test": 4, "unassigned": 1}


def test_per_article_cap_limits_hub(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.articles(graph_db, [str(i) for i in range(60, 76)])
    graphs.cites(graph_db, [(str(i), "60") for i in range(61, 76)])
    config = cfg(
        strategies=["cites"],
        max_pairs_per_article=5,
        splits={"train": 1.0, "validation": 0.0, "test": 0.0},
    )
    result = run_pairs(graph_db, config, tmp_path / "r", record=False)
    # Equal scores: ties are broken by PMID, so the five lowest citers are kept.
    assert [(p["pmid_a"], p["pmid_b"]) for p in result.pairs] == [
        ("61", "60"),
        ("62", "60"),
        ("63", "60"),
        ("64", "60"),
        ("65", "60"),
    ]
    assert result.counts["by_strategy"]["cites"]["dropped"] == {"capped": 10}

    own = cfg(
        strategies=["cites"],
        params={"cites": {"max_per_article": 2}},
        splits={"train": 1.0, "validation": 0.0, "test": 0.0},
    )
    assert len(run_pairs(graph_db, own, tmp_path / "r2", record=False).pairs) == 2


@pytest.mark.parametrize("ratio,expected", [(1.0, 4), (2.0, 8), (0.5, 2)])
def test_negative_ratio_and_anchors(
    graph_db: GraphDB, tmp_path: Path, ratio: float, expected: int
) -> None:
    graphs.distant_graph(graph_db)  # 4 citations: 21→22, 22→23, 23→24, 25→26
    config = cfg(
        strategies=["cites", "random_distant"],
        negatives_per_positive=ratio,
        splits={"train": 1.0, "validation": 0.0, "test": 0.0},
    )
    result = run_pairs(graph_db, config, tmp_path / "r", record=False)
    negatives = [p for p in result.pairs if p["label"] == 0]
    assert result.counts["positives"] == 4
    assert len(negatives) == expected
    # Negatives are drawn for the positives' anchors (the citing articles).
    assert {p["pmid_a"] for p in negatives} <= {"21", "22", "23", "25"}
    assert not pairs_of(negatives) & pairs_of(p for p in result.pairs if p["label"] == 1)


def combined_graph(driver: GraphDB) -> None:
    graphs.citation_graph(driver)
    graphs.mesh_graph(driver)
    graphs.distant_graph(driver)


def test_same_seed_same_pairs_and_one_pair_run(graph_db: GraphDB, tmp_path: Path) -> None:
    combined_graph(graph_db)
    params = {"co_citation": {"k": 2}, "shared_mesh": {"max_df": 0.3, "min_idf": 1.5, "k": 1}}
    first = run_pairs(graph_db, cfg(seed=7, params=params), tmp_path / "a")
    second = run_pairs(graph_db, cfg(seed=7, params=params), tmp_path / "b")
    other = run_pairs(graph_db, cfg(seed=8, params=params), tmp_path / "c")
    assert first.pairs == second.pairs
    assert first.run_id == second.run_id != other.run_id
    assert {p["strategy"] for p in first.pairs} >= {"cites", "shared_mesh", "random_distant"}
    assert pq.read_table(first.pairs_path).equals(pq.read_table(second.pairs_path))

    runs = list_runs(graph_db)
    assert sorted(r["id"] for r in runs) == sorted({first.run_id, other.run_id})
    record = get_run(graph_db, first.run_id[:7])
    assert record["id"] == first.run_id
    assert record["seed"] == 7
    assert record["strategy"] == "cites,co_citation,bib_coupling,shared_mesh,random_distant,hard"
    assert record["params"]["params"]["shared_mesh"]["min_idf"] == 1.5
    assert record["counts"]["pairs"] == len(first.pairs)
    assert Path(record["out"]) == (tmp_path / "b").resolve()  # the re-run updated it
    manifest = json.loads((tmp_path / "a" / "run.json").read_text())
    assert manifest["id"] == first.run_id
    assert any(s["statement"] == "shared_mesh_pairs" for s in manifest["statements"])

    d = diff_runs(graph_db, first.run_id, other.run_id)
    assert d["common"] + d["only_a"] == len(first.pairs)
    assert d["common"] + d["only_b"] == len(other.pairs)
    assert d["a"]["positive_share"] == pytest.approx(first.counts["positives"] / len(first.pairs))
    assert 0 < d["a"]["mesh"]["descriptor_share"] <= 1
    assert diff_runs(graph_db, first.run_id, first.run_id)["identical"] is True


def test_empty_graph_is_an_error(graph_db: GraphDB, tmp_path: Path) -> None:
    with pytest.raises(PairingError, match="no articles with text"):
        run_pairs(graph_db, cfg(), tmp_path / "r")
    graphs.articles(graph_db, ["1", "2"], stub=True)
    with pytest.raises(PairingError, match="no articles with text"):
        run_pairs(graph_db, cfg(), tmp_path / "r")


def test_mesh_distant_without_hierarchy_says_load_mesh(
    graph_db: GraphDB, tmp_path: Path
) -> None:
    graphs.mesh_graph(graph_db)  # descriptors without tree numbers, no BROADER
    with pytest.raises(PairingError, match="pubgraph graph load-mesh"):
        run_pairs(graph_db, cfg(strategies=["mesh_distant"]), tmp_path / "r")


def test_vector_index_mode_without_index_is_an_error(
    graph_db: GraphDB, tmp_path: Path
) -> None:
    graphs.vector_graph(graph_db, index=False)
    config = cfg(strategies=["hard"], params={"hard": {"vector": "index"}})
    with pytest.raises(PairingError, match="no ONLINE vector index"):
        run_pairs(graph_db, config, tmp_path / "r")


def test_unknown_run_is_an_error(graph_db: GraphDB) -> None:
    with pytest.raises(PairingError, match="no pairing run 'pr-nope'"):
        get_run(graph_db, "pr-nope")
