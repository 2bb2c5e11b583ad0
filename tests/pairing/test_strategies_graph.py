"""Each strategy on a small hand-built graph: the expected pairs are listed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.pairing.config import SplitConfig, config_from_dict
from pubgraph.pairing.jobs import RunResult, run_pairs
from tests.pairing import graphs
from tests.pairing.graphs import pairs_of

pytestmark = pytest.mark.neo4j

ALL_TRAIN = {"train": 1.0, "validation": 0.0, "test": 0.0}


def run(
    driver: GraphDB,
    tmp_path: Path,
    strategies: list[str],
    params: dict[str, Any] | None = None,
    **options: Any,
) -> RunResult:
    data: dict[str, Any] = {"strategies": strategies, "splits": ALL_TRAIN, "params": params or {}}
    data.update(options)
    return run_pairs(driver, config_from_dict(data), tmp_path / "run", record=False)


def test_cites_pairs_only_text_articles(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    result = run(graph_db, tmp_path, ["cites"])
    directed = {(p["pmid_a"], p["pmid_b"]) for p in result.pairs}
    # Stubs 101..103 and the deleted article 9 have no text: their edges make no pairs.
    assert directed == {
        ("1", "2"),
        ("1", "3"),
        ("2", "3"),
        ("4", "2"),
        ("4", "3"),
        ("5", "2"),
        ("5", "3"),
        ("6", "1"),
        ("6", "2"),
        ("8", "1"),
        ("8", "2"),
    }
    assert {p["label"] for p in result.pairs} == {1}
    assert {p["score"] for p in result.pairs} == {1.0}


def test_co_citation_k2_with_salton_and_jaccard(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    # citers: 1 ← {6, 8}; 2 ← {1, 4, 5, 6, 8}; 3 ← {1, 2, 4, 5}.
    salton = run(graph_db, tmp_path, ["co_citation"], {"co_citation": {"k": 2}})
    scores = {(p["pmid_a"], p["pmid_b"]): p["score"] for p in salton.pairs}
    assert scores.keys() == {("1", "2"), ("2", "3")}
    assert scores[("1", "2")] == pytest.approx(2 / (2 * 5) ** 0.5)
    assert scores[("2", "3")] == pytest.approx(3 / (5 * 4) ** 0.5)

    jac = run(graph_db, tmp_path, ["co_citation"], {"co_citation": {"k": 3, "weight": "jaccard"}})
    assert [(p["pmid_a"], p["pmid_b"], round(p["score"], 6)) for p in jac.pairs] == [
        ("2", "3", round(3 / 6, 6))
    ]


def test_bib_coupling_counts_stub_references(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    # refs: 1 {2,3,9,101,102}; 4 {2,3,101,102,103}; 5 {2,3}; 6 {1,2}; 8 {1,2}; 2 {3}; 7 {101}.
    result = run(graph_db, tmp_path, ["bib_coupling"], {"bib_coupling": {"k": 2}})
    scores = {(p["pmid_a"], p["pmid_b"]): p["score"] for p in result.pairs}
    assert scores.keys() == {("1", "4"), ("1", "5"), ("4", "5"), ("6", "8")}
    assert scores[("1", "4")] == pytest.approx(4 / (5 * 5) ** 0.5)
    assert scores[("6", "8")] == pytest.approx(1.0)
    # Best score first: the order caps are applied in.
    assert [p["score"] for p in result.pairs] == sorted(scores.values(), reverse=True)

    k4 = run(graph_db, tmp_path, ["bib_coupling"], {"bib_coupling": {"k": 4}})
    assert pairs_of(k4.pairs) == {("1", "4")}


def test_shared_mesh_idf_and_document_frequency_cap(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.mesh_graph(graph_db)
    strict = run(
        graph_db,
        tmp_path,
        ["shared_mesh"],
        {"shared_mesh": {"k": 2, "max_df": 0.3, "min_idf": 2.5}},
    )
    assert pairs_of(strict.pairs) == {("11", "12"), ("15", "16")}
    assert {round(p["score"], 4) for p in strict.pairs} == {2.8134}  # log 5 + log(10/3)

    # k = 1: one shared df-2 descriptor (idf 1.609) passes min_idf 1.5, a df-3 one (1.204)
    # does not, and H (held by all 10 articles, above the cap) never makes a pair.
    loose = run(
        graph_db,
        tmp_path,
        ["shared_mesh"],
        {"shared_mesh": {"k": 1, "max_df": 0.3, "min_idf": 1.5}},
    )
    assert pairs_of(loose.pairs) == {
        ("11", "12"),
        ("15", "16"),
        ("13", "14"),
        ("14", "15"),
        ("17", "18"),
    }
    everything = run(
        graph_db,
        tmp_path,
        ["shared_mesh"],
        {"shared_mesh": {"k": 1, "max_df": 0.3, "min_idf": 0.0}},
    )
    assert pairs_of(everything.pairs) == pairs_of(loose.pairs) | {
        ("11", "13"),
        ("12", "13"),
        ("15", "17"),
        ("16", "17"),
    }
    assert everything.counts["by_strategy"]["shared_mesh"]["eligible_descriptors"] == 7


def test_shared_mesh_major_only(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.mesh_graph(graph_db)
    # Major topics: M1 and M2 on 11, 12; M5 on 15, 16 (M6 is not major there).
    result = run(
        graph_db,
        tmp_path,
        ["shared_mesh"],
        {"shared_mesh": {"k": 2, "max_df": 1.0, "min_idf": 0.0, "major_only": True}},
    )
    assert pairs_of(result.pairs) == {("11", "12")}


def _all_pairs(pmids: list[str]) -> set[tuple[str, str]]:
    return {(a, b) for i, a in enumerate(pmids) for b in pmids[i + 1 :]}


def test_random_distant_excludes_linked_and_mesh_sharing(
    graph_db: GraphDB, tmp_path: Path
) -> None:
    graphs.distant_graph(graph_db)
    pmids = [str(i) for i in range(21, 31)]
    # Within 2 undirected hops over 21→22→23→24 and 25→26; 27/28 share descriptor D.
    linked = {
        ("21", "22"),
        ("21", "23"),
        ("22", "23"),
        ("22", "24"),
        ("23", "24"),
        ("25", "26"),
        ("27", "28"),
    }
    result = run(graph_db, tmp_path, ["random_distant"], negatives_without_positives=1000)
    assert pairs_of(result.pairs) == _all_pairs(pmids) - linked
    assert {p["label"] for p in result.pairs} == {0}
    assert result.counts["by_strategy"]["random_distant"]["dropped"]["linked"] > 0

    three = run(
        graph_db,
        tmp_path,
        ["random_distant"],
        {"random_distant": {"max_hops": 3}},
        negatives_without_positives=1000,
    )
    assert pairs_of(three.pairs) == _all_pairs(pmids) - linked - {("21", "24")}


def test_random_distant_budget_and_seed(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.distant_graph(graph_db)
    a = run(graph_db, tmp_path, ["random_distant"], negatives_without_positives=10, seed=1)
    b = run(graph_db, tmp_path, ["random_distant"], negatives_without_positives=10, seed=1)
    c = run(graph_db, tmp_path, ["random_distant"], negatives_without_positives=10, seed=2)
    assert len(a.pairs) == 10
    assert a.pairs == b.pairs
    assert a.pairs != c.pairs


def test_mesh_distant_uses_tree_distance(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.hierarchy_graph(graph_db)
    # Distances (category letter as a level): 31-32 3, 31-36 1, 32-36 2, 33-34 3,
    # 31-33 8, 31-34 7, 31-35 6, 32-33 7, 32-34 6, 32-35 5, 33-35 6, 34-35 5,
    # 33-36 7, 34-36 6, 35-36 5. HUM (on all 6) is above max_df and ignored;
    # 31→33 is a direct citation, so (31, 33) is rejected by the graph.
    result = run(
        graph_db,
        tmp_path,
        ["mesh_distant"],
        {"mesh_distant": {"min_distance": 6, "max_df": 0.5}},
        negatives_without_positives=1000,
    )
    assert pairs_of(result.pairs) == {
        ("31", "34"),
        ("31", "35"),
        ("32", "33"),
        ("32", "34"),
        ("33", "35"),
        ("33", "36"),
        ("34", "36"),
    }
    scores = {tuple(sorted((p["pmid_a"], p["pmid_b"]))): p["score"] for p in result.pairs}
    assert scores[("32", "33")] == 7.0
    assert scores[("31", "35")] == 6.0


def test_hard_branch_and_two_hop(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.hard_graph(graph_db)
    # Branch C04 (major): 41, 42, 43 (44's DA is not major); G01: 45, 46; F01: 47.
    # (41, 43) are directly linked and (45, 46) share the major DG: both guarded out.
    # Two-hop: 48→43→41 gives (48, 41).
    result = run(graph_db, tmp_path, ["hard"], negatives_without_positives=1000)
    assert pairs_of(result.pairs) == {("41", "42"), ("42", "43"), ("41", "48")}
    counts = result.counts["by_strategy"]["hard"]
    assert counts["sources"] == {"branch": 2, "two_hop": 1}
    assert counts["vector"] == "skipped: no article has an embedding"

    only_two_hop = run(
        graph_db, tmp_path, ["hard"], {"hard": {"branch": False}}, negatives_without_positives=1000
    )
    assert pairs_of(only_two_hop.pairs) == {("41", "48")}


# Rank bands [2, 3] by angle (51:0°, 52:20°, 53:50°, 54:90°, 55:140°, 56:200°):
# 51 → {53, 54}, 52 → {53, 54}, 53 → {54, 51}, 54 → {55, 52}, 55 → {56, 53}, 56 → {54, 53}.
# Guard: (51, 53) cite directly, 54-57-55 is 2 hops, 52 and 54 share a major descriptor.
VECTOR_EXPECTED = {
    ("51", "54"),
    ("52", "53"),
    ("53", "54"),
    ("55", "56"),
    ("53", "55"),
    ("54", "56"),
    ("53", "56"),
}


@pytest.mark.parametrize("mode", ["exact", "index"])
def test_hard_vector_rank_band_with_guard(
    graph_db: GraphDB, tmp_path: Path, mode: str
) -> None:
    graphs.vector_graph(graph_db, index=(mode == "index"))
    params = {
        "hard": {
            "branch": False,
            "two_hop": False,
            "vector": mode,
            "rank_band": [2, 3],
            "guard_hops": 2,
        }
    }
    result = run(graph_db, tmp_path, ["hard"], params, negatives_without_positives=1000)
    assert pairs_of(result.pairs) == VECTOR_EXPECTED
    info = result.counts["by_strategy"]["hard"]
    # Every article is in the train split, so ranking within the split is ranking over all.
    assert info["vector"] == (
        "exact within split" if mode == "exact" else "index article_embedding_test"
    )


def test_split_config_defaults_are_a_partition() -> None:
    s = SplitConfig()
    assert s.train + s.validation + s.test == pytest.approx(1.0)
