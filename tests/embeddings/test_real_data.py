"""Real data end to end: a shared PubMed file parsed, loaded, embedded with all-MiniLM-L6-v2.

``pubmed_small/air_embolism_121.xml`` (121 articles, 54 citations between them) goes
through the real parser and graph loader into the real Neo4j; the offline copy of
all-MiniLM-L6-v2 (max_seq_length 128 to keep it quick) embeds it. Expected rankings are
recomputed with numpy from the exported vectors, citation distances with networkx from
the parsed reference lists (not from the graph).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest

from pubgraph.embeddings import search as s
from pubgraph.embeddings.embed import Embedder, embed_articles
from pubgraph.embeddings.export import export_embeddings
from pubgraph.graph.db import GraphDB

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    from pubgraph.core.models import resolve_model
    from pubgraph.core.settings import Settings

    path = resolve_model(Settings().base_model)
    if not Path(path).is_dir():
        pytest.skip("the offline all-MiniLM-L6-v2 copy is not installed")
    return Embedder.load(path, max_seq_length=128, device="cpu")


@pytest.fixture()
def loaded(graph_db: GraphDB, shared_data: Path, tmp_path: Path) -> dict:
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.ingest.files import sync_files

    parquet = tmp_path / "air.parquet"
    sync_files([shared_data / "pubmed_small" / "air_embolism_121.xml"], parquet, progress=False)
    GraphLoader(graph_db).load_parquet([parquet])
    rows = pq.read_table(parquet, columns=["pmid", "title", "abstract", "references"]).to_pylist()
    return {r["pmid"]: r for r in rows}


def test_real_file_embed_and_query(
    loaded: dict, graph_db: GraphDB, minilm: Embedder, tmp_path: Path
) -> None:
    summary = embed_articles(graph_db, minilm, chunk_size=64)
    with_text = {p for p, r in loaded.items() if (r["title"] or r["abstract"])}
    assert summary.with_text == summary.written == len(with_text) >= 100
    assert embed_articles(graph_db, minilm).encoded == 0

    export_embeddings(graph_db, tmp_path / "v.parquet")
    table = pq.read_table(tmp_path / "v.parquet").to_pydict()
    pmids = table["pmid"]
    assert set(pmids) == with_text
    mat = np.asarray(table["vector"], dtype=np.float32)
    vec = dict(zip(pmids, mat, strict=True))

    def top(query: np.ndarray, k: int, keep: set[str]) -> list[str]:
        cands = [p for p in pmids if p in keep]
        return sorted(cands, key=lambda p: (-float(vec[p] @ query), p))[:k]

    # Nearest neighbours equal numpy's (121 vectors: exact scoring).
    for q in sorted(with_text)[:3]:
        hits = s.similar(graph_db, q, k=5)
        assert [h.pmid for h in hits] == top(vec[q], 5, with_text - {q})
        for h in hits:
            assert h.score == pytest.approx(float(vec[q] @ vec[h.pmid]), abs=1e-4)

    # An article's own title finds it: in the top 3 for at least 4 of 5 articles.
    sample = [p for p in sorted(with_text) if loaded[p]["abstract"] and loaded[p]["title"]][:5]
    found = sum(
        p in [h.pmid for h in s.search_text(graph_db, minilm, loaded[p]["title"], k=3)]
        for p in sample
    )
    assert found >= 4

    # Citation neighbourhoods equal a breadth-first search over the parsed references.
    g = nx.Graph()
    for p, r in loaded.items():
        for ref in r["references"] or []:
            if ref["pmid"]:
                g.add_edge(p, ref["pmid"])
    q = max((p for p in with_text if p in g), key=lambda p: (g.degree(p), p))
    dist = nx.single_source_shortest_path_length(g, q, cutoff=2)
    within = {p for p, d in dist.items() if d > 0 and p in with_text}
    assert within, "the chosen article must have cited neighbours with text"
    hits = s.cited_neighbours(graph_db, q, hops=2, k=50)
    assert [h.pmid for h in hits] == top(vec[q], 50, within)
    assert all(h.hops == dist[h.pmid] for h in hits)

    why = s.explain(graph_db, q, hits[0].pmid)
    assert why.paths and all(p.length == hits[0].hops for p in why.paths)
    assert why.cosine == pytest.approx(hits[0].score, abs=1e-5)
