"""Queries on tiny graphs built inside each test (function-scoped ``graph_db``)."""

from __future__ import annotations

import pytest

from pubgraph.embeddings import search as s
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles, add_cites

pytestmark = pytest.mark.neo4j


def test_search_text_encodes_with_the_model(graph_db: GraphDB, tiny_embedder) -> None:
    texts = {"1": "insulin glucose diabetes", "2": "brain memory cortex", "3": "air embolism"}
    vecs = tiny_embedder.encode(list(texts.values()))
    add_articles(
        graph_db,
        [
            {"pmid": p, "title": t, "vector": v.tolist()}
            for (p, t), v in zip(texts.items(), vecs, strict=True)
        ],
    )
    hits = s.search_text(graph_db, tiny_embedder, "brain memory cortex", k=3)
    # A random tiny model puts every text close together: compare scores, not just order.
    q = tiny_embedder.encode(["brain memory cortex"])[0]
    expected = {p: float(v @ q) for p, v in zip(texts, vecs, strict=True)}
    assert {h.pmid: pytest.approx(h.score, abs=1e-5) for h in hits} == expected
    assert expected["2"] == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_stubs_bridge_but_are_never_returned(graph_db: GraphDB) -> None:
    add_articles(
        graph_db,
        [
            {"pmid": "1", "vector": [1.0, 0.0]},
            {"pmid": "2", "vector": [0.0, 1.0]},
            {"pmid": "3", "vector": [1.0, 1.0]},
            {"pmid": "8", "stub": True},
        ],
    )
    add_cites(graph_db, [("1", "8"), ("2", "8"), ("3", "1")])
    one = s.cited_neighbours(graph_db, "1", hops=1)
    two = s.cited_neighbours(graph_db, "1", hops=2)
    assert [(h.pmid, h.hops) for h in one] == [("3", 1)]
    assert [(h.pmid, h.hops) for h in two] == [("3", 1), ("2", 2)]
    assert two[1].score == pytest.approx(0.0, abs=1e-6)
