"""Graph-aware related articles: features by hand on a tiny graph, the query article's own
citations hidden (the ranking equals the one on a graph without them), the ranker file, and
the evaluation's metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pubgraph.core.errors import InputError
from pubgraph.embeddings import evaluate as ev
from pubgraph.embeddings import related as r
from pubgraph.embeddings import search as s
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles, add_cites, add_mesh

VECS = {
    "1": [1.0, 0.0, 0.0],  # the query article
    "2": [0.95, 0.3, 0.0],  # closest neighbour (seed)
    "3": [0.9, 0.4, 0.0],  # second seed
    "7": [0.7, 0.7, 0.0],  # third vector candidate
    "4": [0.0, 1.0, 0.0],
    "5": [0.0, 0.0, 1.0],
    "6": [0.1, 0.9, 0.1],
}
OTHERS = [("2", "4"), ("5", "3"), ("6", "2"), ("6", "4"), ("3", "99"), ("6", "99")]
OWN = [("1", "4"), ("5", "1"), ("1", "99"), ("1", "6"), ("1", "2"), ("3", "1")]


def cos(a: str, b: str) -> float:
    x, y = np.asarray(VECS[a]), np.asarray(VECS[b])
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


@pytest.fixture()
def tiny(graph_db: GraphDB) -> GraphDB:
    s.clear_status_cache()
    add_articles(
        graph_db,
        [{"pmid": p, "title": f"t{p}", "year": 2000 + int(p), "vector": v}
         for p, v in VECS.items()],
    )
    add_articles(graph_db, [{"pmid": "99", "stub": True}])
    add_cites(graph_db, OTHERS + OWN)
    add_mesh(
        graph_db,
        {"D1": "Rare", "D2": "Common"},
        [],
        [("1", "D1", True), ("4", "D1", False)]
        + [(p, "D2", False) for p in ("1", "2", "3", "4", "5")],
    )
    return graph_db


def by_pmid(cands: list[r.Candidate]) -> dict[str, dict[str, float]]:
    return {c.pmid: c.features for c in cands}




@pytest.mark.neo4j
def test_features_by_hand(tiny: GraphDB) -> None:
    got = by_pmid(r.related_candidates(tiny, "1", fetch=3, seeds=2, exact=True))
    assert set(got) == {"2", "3", "7", "4", "5", "6"}
    c2, c3 = cos("1", "2"), cos("1", "3")
    idf1, idf2 = math.log(7 / 3), math.log(7 / 6)
    want = {
        # 2 cites 4; 6 cites 2 and 4 (co-cited with seed 2); 2, 6 cite it (1's citation hidden)
        "4": {"cited_by_seeds": c2, "cites_seeds": 0, "cocited": c2, "coupled": 0,
              "citations": 2, "mesh": 1.0, "near": 1.0},
        # 5 cites seed 3 (its citation of 1 is hidden)
        "5": {"cited_by_seeds": 0, "cites_seeds": c3, "cocited": 0, "coupled": 0,
              "citations": 0, "mesh": idf2 / (idf1 + idf2), "near": 1.0},
        # 6 cites seed 2, shares reference 4 with seed 2 and stub 99 with seed 3
        "6": {"cited_by_seeds": 0, "cites_seeds": c2, "cocited": 0, "coupled": c2 + c3,
              "citations": 0, "mesh": 0.0, "near": 1.0},
        # vector candidate only
        "7": {"cited_by_seeds": 0, "cites_seeds": 0, "cocited": 0, "coupled": 0,
              "citations": 0, "mesh": 0.0, "near": 1 / 3},
    }
    for pmid, feats in want.items():
        for f, v in feats.items():
            expected = math.log1p(v) if f in {"cited_by_seeds", "cites_seeds", "cocited",
                                                "coupled", "citations"} else v
            assert got[pmid][f] == pytest.approx(expected, abs=1e-5), (pmid, f)
        assert got[pmid]["cosine"] == pytest.approx(cos("1", pmid), abs=1e-5)
        assert got[pmid]["year_gap"] == pytest.approx((int(pmid) - 1) / 10)


@pytest.mark.neo4j
def test_own_citations_are_hidden(tiny: GraphDB) -> None:
    """The candidates and features of article 1 equal those on the graph where every CITES
    edge touching 1 is deleted; the same holds for a query whose edges stay (article 3's
    candidates change once 3's edges go, so the comparison can fail)."""
    kw = {"fetch": 3, "seeds": 2, "exact": True}
    with_edges = r.related_candidates(tiny, "1", **kw)
    other_before = by_pmid(r.related_candidates(tiny, "3", **kw))
    n = tiny.execute_query(
        "MATCH (:Article {pmid: '1'})-[c:CITES]-() DELETE c RETURN count(c) AS n"
    ).records[0]["n"]
    assert n == len(OWN)
    without = r.related_candidates(tiny, "1", **kw)
    assert with_edges == without
    # Deleting 1's edges does change what article 3 sees (1 cites 2 and 3 cites 1), so the
    # features do read other articles' edges: the equality above is not vacuous.
    assert by_pmid(r.related_candidates(tiny, "3", **kw)) != other_before


@pytest.mark.neo4j
def test_related_ranks_with_the_ranker_and_explains(tiny: GraphDB, tmp_path: Path) -> None:
    ranker = r.LinearRanker("t", {"cosine": 1.0, "cites_seeds": 2.0}, intercept=0.5)
    hits = r.related(tiny, "1", k=3, ranker=ranker, exact=True)
    feats = by_pmid(r.related_candidates(tiny, "1", exact=True))
    scores = {p: ranker.score(f) for p, f in feats.items()}
    want = sorted(scores, key=lambda p: (-scores[p], -feats[p]["cosine"], p))[:3]
    assert [h.pmid for h in hits] == want
    assert hits[0].score == pytest.approx(scores[want[0]])
    e = r.explain_related(tiny, "1", want[1], ranker=ranker)
    assert e.rank == 2 and e.contributions is not None
    assert sum(e.contributions.values()) + e.intercept == pytest.approx(e.score)
    assert e.contributions["cites_seeds"] == pytest.approx(2.0 * feats[want[1]]["cites_seeds"])
    # "not cited": 1 cites 2, 4, 6 and is cited by 3, 5: only 7 is left.
    assert [h.pmid for h in r.related(tiny, "1", ranker=ranker, not_cited=True, exact=True)] == [
        "7"
    ]
    path = ranker.save(tmp_path / "rk.json")
    assert r.load_ranker(path) == ranker
    (tmp_path / "bad.json").write_text('{"name": "x"}')
    with pytest.raises(InputError, match=r"bad\.json"):
        r.load_ranker(tmp_path / "bad.json")


# --- unit: features, metrics, bootstrap, split ----------------------------------------------


def test_feature_values_transform() -> None:
    row = {"cosine": 0.5, "cited_by": 0.8, "cites": 0.0, "cocited": 1.5, "coupled": -0.2,
           "citations": 3, "mesh_shared_idf": 1.0, "mesh_query_idf": 4.0, "year": 1990,
           "query_year": 2030}
    f = r.feature_values(row)
    assert f == {
        "cosine": 0.5, "cited_by_seeds": pytest.approx(math.log1p(0.8)), "cites_seeds": 0.0,
        "cocited": pytest.approx(math.log1p(1.5)), "coupled": 0.0,
        "mesh": 0.25, "near": 1.0, "citations": pytest.approx(math.log(4)), "year_gap": 3.0,
    }
    f2 = r.feature_values({**row, "cited_by": 0, "cocited": 0, "coupled": 0.0,
                           "mesh_query_idf": 0.0, "year": None})
    assert (f2["near"], f2["mesh"], f2["year_gap"]) == (pytest.approx(1 / 3), 0.0, 1.5)


def test_metrics_by_hand() -> None:
    m = ev.metrics_from_positions([1, 3, 150], 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["recall@100"] == pytest.approx(2 / 3)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / idcg)
    assert m["ap"] == pytest.approx((1 / 1 + 2 / 3 + 3 / 150) / 3)
    assert ev.reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank(["a"] * 10 + ["c"], {"c"}) == 0.0


def test_positions_put_the_head_first_then_cosine() -> None:
    pmids = ["q", "a", "b", "c", "d"]
    mat = np.asarray([[1, 0], [0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0, 1]], dtype=np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    corpus = ev.Corpus(pmids, mat, {"q": {"c", "d"}})
    cosq = corpus.cosines("q")
    # vector order: a, b, c, d
    assert ev.relevant_positions([], cosq, corpus, {"c", "d"}) == [3, 4]
    # head [d, b]: then a, c by cosine
    assert ev.relevant_positions(["d", "b"], cosq, corpus, {"c", "d"}) == [1, 4]


def test_paired_bootstrap() -> None:
    a = [0.1, 0.5, 0.3, 0.9]
    same = ev.paired_bootstrap(a, a)
    assert (same.delta, same.low, same.high) == (0.0, 0.0, 0.0)
    up = ev.paired_bootstrap(a, [x + 0.1 for x in a])
    assert up.low == pytest.approx(0.1) and up.high == pytest.approx(0.1)
    noisy = ev.paired_bootstrap([0, 0, 0, 0, 0, 0], [1, -1, 1, -1, 1, -1], seed=1)
    assert noisy.low < 0 < noisy.high


def test_seeded_split_is_stable_and_proportional() -> None:
    splits = [ev.seeded_split(str(i)) for i in range(20000)]
    assert splits == [ev.seeded_split(str(i)) for i in range(20000)]
    share = {k: splits.count(k) / len(splits) for k in ("train", "validation", "test")}
    assert share["train"] == pytest.approx(0.8, abs=0.01)
    assert share["test"] == pytest.approx(0.1, abs=0.01)
    assert [ev.seeded_split(str(i), seed=1) for i in range(50)] != splits[:50]


def _cand(pmid: str, cosine: float, cites: float) -> r.Candidate:
    feats = dict.fromkeys(r.FEATURES, 0.0)
    feats.update(cosine=cosine, cites_seeds=cites)
    return r.Candidate(pmid, None, None, None, feats)


def test_tuning_objective_matches_the_ranking_and_improves() -> None:
    """The vectorised nDCG equals ranking the candidates one by one; tuning finds the link
    weight that lifts the related articles above closer unrelated ones."""
    mat = np.eye(2, dtype=np.float32)
    corpus = ev.Corpus(["q", "x"], mat, {"q": {"r1", "r2"}, "p": {"r3"}})
    cands = {
        "q": [_cand("u1", 0.9, 0.0), _cand("u2", 0.8, 0.0), _cand("r1", 0.5, 1.0),
              _cand("r2", 0.4, 0.7)],
        "p": [_cand("r3", 0.2, 0.5), _cand("u3", 0.6, 0.0)],
    }
    queries = ["q", "p"]
    cosine_only = r.LinearRanker("c", {"cosine": 1.0})
    by_hand = np.mean([
        ev.ndcg_at([c.pmid for c, _ in r.rank_candidates(cands[p], cosine_only)],
                   corpus.related[p]) for p in queries
    ])
    assert ev.mean_ndcg(corpus, queries, cands, cosine_only) == pytest.approx(by_hand)
    weights, best = ev.tune_weights(corpus, queries, cands, {"cosine": 1.0})
    assert best == pytest.approx(1.0) and best > by_hand
    assert weights["cites_seeds"] > 0.4  # enough to lift r1 (0.5 + w) above u1 (0.9)


def test_learned_rankers_recover_the_informative_feature() -> None:
    """Related candidates differ only in ``cites_seeds``: both learners weight it most."""
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(40):
        x = rng.normal(size=(30, len(r.FEATURES)))
        y = np.zeros(30, dtype=int)
        y[:3] = 1
        x[:3, r.FEATURES.index("cites_seeds")] += 3.0
        groups.append((x.tolist(), y.tolist()))
    pair = r.fit_pairwise(groups, hard=5, easy=5)
    point = r.fit_logistic(
        [row for x, _ in groups for row in x], [lab for _, y in groups for lab in y]
    )
    for ranker in (pair, point):
        top = max(ranker.weights, key=lambda f: abs(ranker.weights[f]))
        assert top == "cites_seeds" and ranker.weights[top] > 0
    assert pair.intercept == 0.0 and pair.meta["pairs"] == 40 * 3 * 10
