"""Clustering, citation edges and structure on constructed data with known answers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from pubgraph.analysis import cluster as cl
from pubgraph.analysis import structure as st


def _blobs(n_per: int = 60, k: int = 4, d: int = 32, seed: int = 0) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    x = np.vstack([c + 0.25 * rng.normal(size=(n_per, d)) for c in centers])
    return cl.normalize_rows(x), np.repeat(np.arange(k), n_per)


def test_knn_equals_brute_force() -> None:
    x, _ = _blobs(n_per=20)
    idx, sim = cl.knn(x, 5, block=7)
    full = x @ x.T
    np.fill_diagonal(full, -np.inf)
    for i in range(len(x)):
        assert set(idx[i]) == set(np.argsort(-full[i])[:5])
        assert np.allclose(sim[i], np.sort(full[i])[::-1][:5], atol=1e-6)


def test_methods_recover_blobs_and_are_seeded() -> None:
    x, truth = _blobs()
    km = cl.kmeans(x, 4, seed=1)
    assert adjusted_rand_score(truth, km.labels) == 1.0
    auto = cl.kmeans(x, None, seed=1, k_range=(2, 4, 8))
    assert auto.info["k"] == 4
    ld = cl.leiden(x, seed=1, knn_dims=16)
    assert adjusted_rand_score(truth, ld.labels) == 1.0
    again = cl.leiden(x, seed=1, knn_dims=16)
    assert (again.labels == ld.labels).all()
    hd = cl.hdbscan(x, seed=1, reduce="pca", dims=5)
    assert (hd.labels >= 0).all()  # outliers re-assigned
    assert adjusted_rand_score(truth, hd.labels) > 0.9
    # topic 0 is the largest
    sizes = np.bincount(ld.labels)
    assert sizes[0] == sizes.max()


def test_leiden_target_k_hits_the_number_of_topics() -> None:
    x, _ = _blobs(n_per=40, k=8)
    res = cl.leiden(x, seed=3, knn_dims=16, target_k=8)
    assert abs(res.n_topics - 8) <= 1


def test_leiden_target_k_merges_one_full_run_on_its_aggregate_graph() -> None:
    # 12 groups of 4 nearby blobs, 12 topics asked: the one full run finds the ~48 blobs,
    # and the search merges them on that run's aggregate graph into the 12 groups.
    rng = np.random.default_rng(5)
    parts, truth = [], []
    for g, centre in enumerate(rng.normal(size=(12, 24))):
        for _ in range(4):
            sub = centre + 0.3 * rng.normal(size=24)
            parts.append(sub + 0.25 * rng.normal(size=(25, 24)))
            truth += [g] * 25
    x = cl.normalize_rows(np.vstack(parts))
    res = cl.leiden(x, seed=0, knn_dims=16, target_k=12)
    assert abs(res.n_topics - 12) <= 1
    full, merged = res.info["resolutions_tried"], res.info["aggregate_resolutions_tried"]
    assert len(full) == 1 and full[0][1] > 24 and merged, (full, merged)
    assert adjusted_rand_score(truth, res.labels) > 0.95
    again = cl.leiden(x, seed=0, knn_dims=16, target_k=12)
    assert (again.labels == res.labels).all()


def test_first_resolution_grows_with_the_target_and_shrinks_with_n() -> None:
    assert cl.first_resolution(3690, 74) < cl.first_resolution(3690, 150)
    assert cl.first_resolution(50_729, 653) < cl.first_resolution(3690, 653)
    assert cl.first_resolution(100, 2) == 1.0


def test_knn_ivf_probing_every_cell_is_exact_and_a_share_finds_most() -> None:
    x, _ = _blobs(n_per=100, k=20, d=16, seed=2)
    exact_idx, exact_sim = cl.knn(x, 10)
    all_idx, all_sim = cl.knn_ivf(x, 10, seed=0, probe_share=1.0)
    assert np.allclose(all_sim, exact_sim, atol=1e-6)
    assert all(set(a) == set(b) for a, b in zip(all_idx, exact_idx, strict=True))
    idx, sim = cl.knn(x, 10, exact_up_to=100, seed=0)  # 2,000 rows: the inverted file
    recall = np.mean([len(set(a) & set(b)) for a, b in zip(idx, exact_idx, strict=True)]) / 10
    assert recall > 0.9, recall
    assert (idx != np.arange(len(x))[:, None]).all()  # never its own neighbour
    assert (np.diff(sim, axis=1) <= 1e-7).all()  # most similar first
    # What it found is never more similar than the exact k-th neighbour allows.
    assert (sim[:, 0] <= exact_sim[:, 0] + 1e-6).all()


def test_citation_edges_join_what_the_vectors_do_not() -> None:
    # Articles a, b cite the same two references (coupling); c and d are cited together by
    # e, f (co-citation); g cites h.
    cites = pd.DataFrame(
        [("a", "r1"), ("a", "r2"), ("b", "r1"), ("b", "r2"), ("e", "c"), ("e", "d"),
         ("f", "c"), ("f", "d"), ("g", "h")],
        columns=["src", "dst"],
    )
    pmids = ["a", "b", "c", "d", "g", "h"]
    e = cl.citation_edges(pmids, cites)
    got = {(pmids[i], pmids[j], kind): w for i, j, w, kind in e.itertuples(index=False)}
    assert got == {("a", "b", "coupling"): 1.0, ("c", "d", "cocitation"): 1.0,
                   ("g", "h", "direct"): 1.0}
    # a hub reference shared by more than hub_cap articles is ignored
    assert len(cl.citation_edges(pmids, cites, hub_cap=1)) == 1


def test_reassign_moves_small_topics_to_nearest_centroid() -> None:
    x = cl.normalize_rows(np.array([[1, 0], [1, 0.1], [1, -0.1], [0, 1], [0.1, 1], [0.9, 0.2]]))
    labels = np.array([0, 0, 0, 1, 1, 2])
    new, moved = cl.reassign(x, labels, min_size=2)
    assert new.tolist() == [0, 0, 0, 1, 1, 0]
    assert moved.tolist() == [False] * 5 + [True]
    assert cl.relabel_by_size(np.array([5, 5, 3, -1, 3, 3])).tolist() == [1, 1, 0, -1, 0, 0]


def test_pagerank_equals_networkx() -> None:
    g = nx.gnp_random_graph(60, 0.06, seed=4, directed=True)
    g.add_nodes_from(range(60))
    src = np.array([u for u, _ in g.edges()])
    dst = np.array([v for _, v in g.edges()])
    ours = st.pagerank(src, dst, 60)
    ref = nx.pagerank(g, alpha=0.85, tol=1e-12)
    assert np.allclose(ours, [ref[i] for i in range(60)], atol=1e-8)


def test_structure_participation_and_flow() -> None:
    pmids = ["a", "b", "c", "d"]
    labels = np.array([0, 0, 1, 1])
    # a cites b (same topic) and c (other topic); d cites c; s is a stub cited by a
    cites = pd.DataFrame([("a", "b"), ("a", "c"), ("d", "c"), ("a", "s")],
                         columns=["src", "dst"])
    s = st.article_structure(pmids, labels, cites).set_index("pmid")
    assert s.loc["c", "in_degree"] == 2 and s.loc["c", "in_degree_corpus"] == 2
    assert s.loc["c", "centrality"] == 1  # cited by d of its own topic
    assert s.loc["a", "participation"] == 0.5  # neighbours b (topic 0) and c (topic 1)
    assert s.loc["b", "participation"] == 0.0
    flow = st.citation_flow(pmids, labels, cites)
    assert flow.values.tolist() == [[0, 1, 1]]


def _search(count: object, target: int, start: float = 1.0) -> list[tuple[float, int]]:
    tried = [(start, count(start))]  # type: ignore[operator]
    while abs(tried[-1][1] - target) > max(1, 0.1 * target) and len(tried) < 15:
        r = cl.next_resolution(tried, target)
        tried.append((r, count(r)))  # type: ignore[operator]
    return tried


def test_next_resolution_reaches_the_target_in_few_runs() -> None:
    # Topic counts that grow as a power of the resolution, as Leiden's do (51k articles:
    # 22 topics at 1, 806 at 64): a few runs, not the 8 that doubling then bisecting took.
    def power(r: float) -> int:
        return int(22 * r**0.88)

    for target in (5, 74, 653, 2000):
        tried = _search(power, target)
        assert abs(tried[-1][1] - target) <= max(1, 0.1 * target)
        assert len(tried) <= 4, tried


def test_next_resolution_stays_inside_the_bracket() -> None:
    # A step function (no count between 10 and 100) cannot be hit: every new resolution
    # lies strictly between the best too-low and too-high ones, so the search narrows
    # instead of cycling, and stops at the 15-run cap.
    def step(r: float) -> int:
        return 10 if r < 3.0 else 100

    tried = _search(step, 50)
    assert len(tried) == 15
    for i in range(2, len(tried)):
        lows = [r for r, k in tried[:i] if k < 50]
        highs = [r for r, k in tried[:i] if k > 50]
        if lows and highs:
            assert max(lows) < tried[i][0] < min(highs)
    assert abs(tried[-1][0] - 3.0) < 0.01
