"""The query library on a small hand-built graph with 6-dimensional vectors.

Every expected result is computed here with numpy (cosine) and networkx (citation hops,
shortest paths) from the same data the graph is built from.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest

from pubgraph.core.errors import ConfigError, InputError
from pubgraph.embeddings import search as s
from pubgraph.embeddings.embed import ensure_vector_index
from pubgraph.embeddings.search import Filters
from pubgraph.graph.db import GraphDB
from pubgraph.graph.schema import init_schema, reset_graph
from tests.embeddings.conftest import add_articles, add_cites, add_journals, add_mesh

pytestmark = pytest.mark.neo4j

N, DIM, STUBS = 40, 6, 6
MESH = {
    "D1": "Root term",
    "D2": "Child term",
    "D3": "Grandchild term",
    "D4": "Other child",
    "D5": "Unrelated",
}
BROADER = [("D2", "D1"), ("D3", "D2"), ("D4", "D1")]
JOURNALS = [
    {"id": "J1", "title": "Journal One", "iso": "J One", "issn": "1111-1111"},
    {"id": "J2", "title": "Journal Two", "iso": "J Two", "issn": "2222-2222"},
    {"id": "J3", "title": "Journal Three", "iso": "J Three", "issn": "3333-3333"},
]


@dataclass
class Corpus:
    pmids: list[str]
    vectors: dict[str, np.ndarray]
    year: dict[str, int]
    journal: dict[str, str]
    mesh: dict[str, set[str]]
    cites: list[tuple[str, str]]

    def cos(self, a: np.ndarray, b: str) -> float:
        v = self.vectors[b]
        return float(a @ v / (np.linalg.norm(a) * np.linalg.norm(v)))

    def top(self, query: np.ndarray, k: int, keep: set[str] | None = None) -> list[str]:
        cands = [p for p in self.pmids if keep is None or p in keep]
        return sorted(cands, key=lambda p: (-self.cos(query, p), p))[:k]

    def graph(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(self.pmids)
        g.add_edges_from(self.cites)
        return g


def make_corpus(seed: int = 42) -> Corpus:
    rng = np.random.default_rng(seed)
    pmids = [str(1000 + i) for i in range(N)]
    vecs = rng.normal(size=(N, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    mesh: dict[str, set[str]] = {}
    for i, p in enumerate(pmids):
        tags = set()
        if i % 4 == 0:
            tags.add("D2")
        if i % 5 == 0:
            tags.add("D3")
        if i % 7 == 0:
            tags.add("D4")
        if i % 2 == 1:
            tags.add("D5")
        mesh[p] = tags
    nodes = pmids + [f"9{i:03d}" for i in range(STUBS)]
    cites: set[tuple[str, str]] = set()
    while len(cites) < 70:
        a, b = rng.choice(N), rng.choice(len(nodes))
        if a != b:
            cites.add((pmids[a], nodes[b]))
    # A hub cited together with several others: co-citation counts of 1, 2 and 3.
    for citing in ("1030", "1031", "1032"):
        cites.add((citing, "1005"))
    for citing, cited in (
        ("1030", "1006"),
        ("1031", "1006"),
        ("1032", "1006"),
        ("1030", "1007"),
        ("1031", "1007"),
        ("1030", "1008"),
    ):
        cites.add((citing, cited))
    return Corpus(
        pmids=pmids,
        vectors=dict(zip(pmids, vecs, strict=True)),
        year={p: 2000 + i % 10 for i, p in enumerate(pmids)},
        journal={p: JOURNALS[i % 3]["id"] for i, p in enumerate(pmids)},
        mesh=mesh,
        cites=sorted(cites),
    )


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus()


@pytest.fixture(scope="module")
def db(neo4j_driver: GraphDB, corpus: Corpus) -> GraphDB:
    """The corpus graph with its vector index, built once for this module's read-only tests.

    (The function-scoped ``graph_db`` of other modules empties the database before each of
    their tests, so sharing one build here is safe.)
    """
    reset_graph(neo4j_driver, drop_schema=True)
    init_schema(neo4j_driver)
    rows = [
        {
            "pmid": p,
            "title": f"article {p}",
            "year": corpus.year[p],
            "journal_id": corpus.journal[p],
            "vector": corpus.vectors[p].tolist(),
        }
        for p in corpus.pmids
    ]
    rows += [{"pmid": f"9{i:03d}", "stub": True} for i in range(STUBS)]
    add_articles(neo4j_driver, rows)
    add_cites(neo4j_driver, corpus.cites)
    add_journals(neo4j_driver, JOURNALS)
    tags = [(p, ui, ui == "D2") for p, uis in corpus.mesh.items() for ui in sorted(uis)]
    add_mesh(neo4j_driver, MESH, BROADER, tags)
    ensure_vector_index(neo4j_driver, DIM, wait=120)
    return neo4j_driver


@pytest.fixture()
def indexed(db: GraphDB) -> GraphDB:
    return db


def pmids(hits: list[s.Hit]) -> list[str]:
    return [h.pmid for h in hits]


def check_scores(hits: list[s.Hit], corpus: Corpus, query: np.ndarray) -> None:
    for h in hits:
        assert h.score == pytest.approx(corpus.cos(query, h.pmid), abs=1e-5)


QUERY = np.array([0.6, -0.2, 0.3, 0.5, -0.1, 0.4], dtype=np.float32)


# --- semantic search ------------------------------------------------------------------------


@pytest.mark.parametrize("exact", [True, False])
def test_vector_search_matches_numpy(indexed: GraphDB, corpus: Corpus, exact: bool) -> None:
    hits = s.search_vector(indexed, QUERY, k=7, exact=exact)
    assert pmids(hits) == corpus.top(QUERY, 7)
    check_scores(hits, corpus, QUERY)
    assert hits[0].title == f"article {hits[0].pmid}" and hits[0].journal in {"J1", "J2", "J3"}


FILTER_CASES = [
    (Filters(min_year=2003, max_year=2005), lambda c, p: 2003 <= c.year[p] <= 2005),
    (Filters(journal="Journal Two"), lambda c, p: c.journal[p] == "J2"),
    (Filters(journal="j three"), lambda c, p: c.journal[p] == "J3"),
    (Filters(journal="1111-1111"), lambda c, p: c.journal[p] == "J1"),
    # D1 has no article of its own: it matches through its narrower terms D2, D3, D4.
    (Filters(mesh="D1"), lambda c, p: bool(c.mesh[p] & {"D1", "D2", "D3", "D4"})),
    (Filters(mesh="child term"), lambda c, p: bool(c.mesh[p] & {"D2", "D3"})),
    (
        Filters(mesh="D3", min_year=2000, max_year=2004),
        lambda c, p: "D3" in c.mesh[p] and c.year[p] <= 2004,
    ),
    (
        Filters(mesh="D5", journal="J1", min_year=2005),
        lambda c, p: "D5" in c.mesh[p] and c.journal[p] == "J1" and c.year[p] >= 2005,
    ),
]


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize(("filters", "keep"), FILTER_CASES)
def test_filtered_search_matches_numpy(
    indexed: GraphDB, corpus: Corpus, filters: Filters, keep: object, exact: bool
) -> None:
    allowed = {p for p in corpus.pmids if keep(corpus, p)}  # type: ignore[operator]
    assert allowed, "the case must leave some articles"
    hits = s.search_vector(indexed, QUERY, k=5, filters=filters, exact=exact)
    assert pmids(hits) == corpus.top(QUERY, 5, allowed)
    check_scores(hits, corpus, QUERY)


def test_overfetch_shortfall_falls_back_to_exact(indexed: GraphDB, corpus: Corpus) -> None:
    k = 4
    allowed = {p for p in corpus.pmids if corpus.year[p] == 2009}
    # Precondition: the index's top-k (overfetch 1) holds fewer than k allowed articles,
    # so only the wider index pass (or the exact fallback after it) can fill the result.
    assert len(set(corpus.top(QUERY, k)) & allowed) < k <= len(allowed)
    hits = s.search_vector(
        indexed,
        QUERY,
        k=k,
        filters=Filters(min_year=2009, max_year=2009),
        overfetch=1,
        exact=False,
    )
    assert pmids(hits) == corpus.top(QUERY, k, allowed)


def test_similar_excludes_the_article_itself(indexed: GraphDB, corpus: Corpus) -> None:
    q = "1013"
    for exact in (True, False):
        hits = s.similar(indexed, q, k=6, exact=exact)
        expected = corpus.top(corpus.vectors[q], 6, set(corpus.pmids) - {q})
        assert pmids(hits) == expected
        check_scores(hits, corpus, corpus.vectors[q])


def test_small_graphs_use_exact_scoring(indexed: GraphDB) -> None:
    status = s.vector_status(indexed)
    assert (status.index_online, status.dimension, status.vectors) == (True, DIM, N)
    assert not status.use_index  # fewer than EXACT_BELOW vectors


# --- citation-aware -------------------------------------------------------------------------


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_cited_neighbours_match_breadth_first_search(
    db: GraphDB, corpus: Corpus, hops: int
) -> None:
    q = "1005"
    dist = nx.single_source_shortest_path_length(corpus.graph(), q, cutoff=hops)
    within = {p for p, d in dist.items() if d > 0 and p in corpus.vectors}
    k = 8
    hits = s.cited_neighbours(db, q, hops=hops, k=k)
    assert pmids(hits) == corpus.top(corpus.vectors[q], k, within)
    assert all(h.hops == dist[h.pmid] for h in hits)
    check_scores(hits, corpus, corpus.vectors[q])


@pytest.mark.parametrize("exact", [True, False])
def test_recommend_skips_articles_one_citation_away(
    indexed: GraphDB, corpus: Corpus, exact: bool
) -> None:
    q = "1005"
    g = corpus.graph()
    near = set(g.neighbors(q)) | {q}
    allowed = set(corpus.pmids) - near
    assert len(near) > 3
    hits = s.recommend(indexed, q, k=6, exact=exact)
    assert pmids(hits) == corpus.top(corpus.vectors[q], 6, allowed)
    unfiltered = corpus.top(corpus.vectors[q], 6, set(corpus.pmids) - {q})
    assert set(unfiltered) & near, "some nearest neighbour must be a cited one"
    for filters, keep in FILTER_CASES[:5]:
        kept = {p for p in allowed if keep(corpus, p)}  # type: ignore[operator]
        hits = s.recommend(indexed, q, k=3, filters=filters, exact=exact)
        assert pmids(hits) == corpus.top(corpus.vectors[q], 3, kept), filters


def expected_blend(corpus: Corpus, q: str, alpha: float, relation: str) -> list[tuple]:
    citing: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    for a, b in corpus.cites:
        citing.setdefault(b, set()).add(a)
        refs.setdefault(a, set()).add(b)
    rows = []
    for b in corpus.pmids:
        if b == q:
            continue
        if relation == "cocitation":
            links = len(citing.get(q, set()) & citing.get(b, set()))
        else:
            links = len(refs.get(q, set()) & refs.get(b, set()))
        rows.append((b, corpus.cos(corpus.vectors[q], b), links))
    top = max(r[2] for r in rows)
    scored = [(b, alpha * c + (1 - alpha) * (n / top if top else 0.0), n) for b, c, n in rows]
    return sorted(scored, key=lambda r: (-r[1], r[0]))


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("relation", ["cocitation", "coupling"])
def test_blended_score(
    indexed: GraphDB, corpus: Corpus, alpha: float, relation: str, exact: bool
) -> None:
    q = "1005"
    # overfetch * k >= N: every article is a candidate, as in the hand computation.
    hits = s.blended(indexed, q, alpha=alpha, k=8, relation=relation, overfetch=10, exact=exact)
    expected = expected_blend(corpus, q, alpha, relation)[:8]
    assert [h.pmid for h in hits] == [e[0] for e in expected]
    for h, (_, score, links) in zip(hits, expected, strict=True):
        assert h.score == pytest.approx(score, abs=1e-5)
        assert h.links == links
        assert h.cosine == pytest.approx(corpus.cos(corpus.vectors[q], h.pmid), abs=1e-5)
    if relation == "cocitation" and alpha == 0.0:
        # 1006 is co-cited with 1005 three times (the maximum), 1007 twice.
        assert [(h.pmid, h.links_norm) for h in hits[:2]] == [("1006", 1.0), ("1007", 2 / 3)]


# --- explain --------------------------------------------------------------------------------


def test_explain_lists_shared_mesh_and_shortest_citation_paths(
    db: GraphDB, corpus: Corpus
) -> None:
    g = corpus.graph()
    a = "1000"  # tagged D2 (major), D3, D4
    for b in ("1020", "1035", "1006"):
        e = s.explain(db, a, b)
        assert e.cosine == pytest.approx(corpus.cos(corpus.vectors[a], b), abs=1e-5)
        assert {m.ui for m in e.shared_mesh} == corpus.mesh[a] & corpus.mesh[b]
        assert all(m.major_in_both == (m.ui == "D2") for m in e.shared_mesh)
        try:
            expected = sorted(tuple(p) for p in nx.all_shortest_paths(g, a, b))
        except nx.NetworkXNoPath:
            expected = []
        if expected and len(expected[0]) - 1 > 3:
            expected = []
        assert [p.pmids for p in e.paths] == expected
        for p in e.paths:
            for (x, y), src in zip(zip(p.pmids, p.pmids[1:], strict=False), p.citing, strict=True):
                assert (src, y if src == x else x) in set(corpus.cites)


def test_explain_counts_cocitations(db: GraphDB) -> None:
    e = s.explain(db, "1005", "1006")
    assert e.cocitations == 3
    rendered = [p.render() for p in e.paths]
    assert any(r.startswith("1005 <-cites- 103") and r.endswith("-cites-> 1006") for r in rendered)


# --- errors ---------------------------------------------------------------------------------


def test_bad_parameters_raise_clear_errors(db: GraphDB) -> None:
    with pytest.raises(InputError, match="record 424242"):
        s.similar(db, "424242")
    with pytest.raises(InputError, match="no embedding"):
        s.cited_neighbours(db, "9000")
    with pytest.raises(InputError, match="MeSH"):
        s.search_vector(db, QUERY, filters=Filters(mesh="D999"))
    with pytest.raises(InputError, match="journal"):
        s.search_vector(db, QUERY, filters=Filters(journal="Nature"))
    with pytest.raises(ConfigError, match="year range"):
        s.search_vector(db, QUERY, filters=Filters(min_year=2010, max_year=2000))
    with pytest.raises(ConfigError, match="k must"):
        s.search_vector(db, QUERY, k=0)
    with pytest.raises(ConfigError, match="hops"):
        s.cited_neighbours(db, "1005", hops=4)
    with pytest.raises(ConfigError, match="alpha"):
        s.blended(db, "1005", alpha=1.5)
    with pytest.raises(ConfigError, match="relation"):
        s.blended(db, "1005", relation="bibliography")
    with pytest.raises(InputError, match="record 777"):
        s.explain(db, "1005", "777")
