"""The embed job against the real Neo4j: vectors, bookkeeping, index, resume, staleness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pubgraph.core.contracts import article_text
from pubgraph.embeddings.embed import (
    Embedder,
    embed_articles,
    stored_models,
    text_hash,
    vector_index,
)
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles

pytestmark = pytest.mark.neo4j

ARTICLES = [
    {"pmid": str(100 + i), "title": f"{w} study {i}", "abstract": f"{w} patients treatment {i}."}
    for i, w in enumerate(
        ["insulin", "glucose", "tumor", "virus", "brain", "embolism", "heart", "lung", "kidney"]
    )
]
# Not embedded: a stub, a deleted article, an article without any text.
OTHERS = [
    {"pmid": "900", "stub": True},
    {"pmid": "901", "title": "deleted venous gas", "deleted": True},
    {"pmid": "902"},
]


@pytest.fixture()
def corpus(graph_db: GraphDB) -> GraphDB:
    add_articles(graph_db, ARTICLES + OTHERS)
    return graph_db


def stored(driver: GraphDB) -> dict[str, dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Article) WHERE a.embedding IS NOT NULL "
        "RETURN a.pmid AS pmid, a.embedding AS v, a.embedding_model AS model, "
        "a.embedding_hash AS h"
    )
    return {r["pmid"]: {"v": np.array(r["v"]), "model": r["model"], "h": r["h"]} for r in records}


def test_embed_writes_normalised_vectors_of_every_text_article(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    summary = embed_articles(corpus, tiny_embedder, chunk_size=4)

    got = stored(corpus)
    assert set(got) == {a["pmid"] for a in ARTICLES}
    texts = [article_text(a["title"], a["abstract"]) for a in ARTICLES]
    expected = tiny_embedder.encode(texts)
    for a, exp in zip(ARTICLES, expected, strict=True):
        row = got[a["pmid"]]
        np.testing.assert_allclose(row["v"], exp, atol=1e-6)  # stored as float32
        assert row["model"] == tiny_embedder.info.id
        assert row["h"] == text_hash(article_text(a["title"], a["abstract"]))
    norms = np.linalg.norm(np.stack([g["v"] for g in got.values()]), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert (summary.with_text, summary.missing, summary.encoded, summary.written) == (9, 9, 9, 9)
    assert summary.up_to_date == 0


def test_embed_records_the_model_and_creates_the_index(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    summary = embed_articles(corpus, tiny_embedder)

    assert "created" in summary.index_message
    idx = vector_index(corpus)
    assert idx is not None and idx.dimension == 32
    (model,) = stored_models(corpus)
    info = tiny_embedder.info
    assert (model.id, model.dimension, model.count) == (info.id, 32, len(ARTICLES))
    assert model.path == str(Path(info.path)) and model.text == "title+abstract"
    assert model.created is not None
    assert info.id.endswith("@" + info.version) and len(info.version) == 12


def test_rerun_encodes_nothing_when_up_to_date(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    embed_articles(corpus, tiny_embedder)
    before = stored(corpus)
    again = embed_articles(corpus, tiny_embedder)

    assert (again.encoded, again.written, again.up_to_date) == (0, 0, len(ARTICLES))
    assert "exists" in again.index_message
    after = stored(corpus)
    assert all(np.array_equal(before[p]["v"], after[p]["v"]) for p in before)


def test_limited_run_then_rerun_encodes_only_the_rest(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    first = embed_articles(corpus, tiny_embedder, limit=4, chunk_size=3)
    done_first = set(stored(corpus))
    assert first.written == 4 and len(done_first) == 4

    encoded: list[int] = []
    second = embed_articles(corpus, tiny_embedder, chunk_size=3, on_progress=encoded.append)

    assert second.missing == len(ARTICLES) - 4
    assert second.up_to_date == 4
    assert second.encoded == sum(encoded) == len(ARTICLES) - 4
    assert set(stored(corpus)) == {a["pmid"] for a in ARTICLES}


@pytest.mark.parametrize("overlap", [True, False])
def test_crash_after_a_chunk_keeps_it_and_the_rerun_does_the_rest(
    corpus: GraphDB, tiny_embedder: Embedder, overlap: bool
) -> None:
    class Crash(Exception):
        pass

    def crash(n: int) -> None:
        raise Crash(f"killed after a chunk of {n}")

    with pytest.raises(Crash):
        embed_articles(corpus, tiny_embedder, chunk_size=2, overlap=overlap, on_progress=crash)
    survived = stored(corpus)
    # The callback runs after the chunk's transaction committed: exactly one chunk is kept.
    assert len(survived) == 2

    rerun = embed_articles(corpus, tiny_embedder, chunk_size=2, overlap=overlap)
    assert (rerun.up_to_date, rerun.encoded) == (2, len(ARTICLES) - 2)
    assert len(stored(corpus)) == len(ARTICLES)


def test_changed_text_makes_exactly_that_vector_stale(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    embed_articles(corpus, tiny_embedder)
    before = stored(corpus)
    corpus.execute_query(
        "MATCH (a:Article {pmid: '103'}) SET a.title = 'virus vaccine antibody infection'"
    )
    rerun = embed_articles(corpus, tiny_embedder)

    assert (rerun.stale_text, rerun.stale_model, rerun.missing) == (1, 0, 0)
    assert rerun.encoded == 1
    after = stored(corpus)
    expected = tiny_embedder.encode(
        [article_text("virus vaccine antibody infection", ARTICLES[3]["abstract"])]
    )[0]
    np.testing.assert_allclose(after["103"]["v"], expected, atol=1e-6)
    assert not np.allclose(after["103"]["v"], before["103"]["v"])
    unchanged = [p for p in before if p != "103"]
    assert all(np.array_equal(before[p]["v"], after[p]["v"]) for p in unchanged)


def test_other_model_makes_every_vector_stale(
    corpus: GraphDB, tiny_embedder: Embedder, other_model_dir: Path
) -> None:
    embed_articles(corpus, tiny_embedder)
    other = Embedder.load(other_model_dir, device="cpu")
    assert other.info.id != tiny_embedder.info.id

    rerun = embed_articles(corpus, other)

    assert rerun.stale_model == len(ARTICLES) and rerun.encoded == len(ARTICLES)
    assert {g["model"] for g in stored(corpus).values()} == {other.info.id}
    counts = {m.id: m.count for m in stored_models(corpus)}
    assert counts == {tiny_embedder.info.id: 0, other.info.id: len(ARTICLES)}


def test_other_dimension_recreates_the_index(
    corpus: GraphDB, tiny_embedder: Embedder, wide_model_dir: Path
) -> None:
    embed_articles(corpus, tiny_embedder)
    wide = Embedder.load(wide_model_dir, device="cpu")

    rerun = embed_articles(corpus, wide)

    assert "had 32 dimensions: dropped and recreated with 48" in rerun.index_message
    idx = vector_index(corpus)
    assert idx is not None and idx.dimension == 48
    assert {len(g["v"]) for g in stored(corpus).values()} == {48}


def test_text_mode_title_only(corpus: GraphDB, tiny_embedder: Embedder) -> None:
    embed_articles(corpus, tiny_embedder, text_mode="title")
    got = stored(corpus)
    expected = tiny_embedder.encode([a["title"] for a in ARTICLES])
    for a, exp in zip(ARTICLES, expected, strict=True):
        np.testing.assert_allclose(got[a["pmid"]]["v"], exp, atol=1e-6)
    # Switching the mode changes every text, so every vector is stale.
    rerun = embed_articles(corpus, tiny_embedder, text_mode="title+abstract")
    assert rerun.stale_text == len(ARTICLES)


def test_vectors_of_articles_that_lost_their_text_are_cleared(
    corpus: GraphDB, tiny_embedder: Embedder
) -> None:
    embed_articles(corpus, tiny_embedder)
    corpus.execute_query("MATCH (a:Article {pmid: '104'}) SET a.deleted = true")
    rerun = embed_articles(corpus, tiny_embedder)

    assert rerun.cleared == 1
    got = stored(corpus)
    assert "104" not in got and len(got) == len(ARTICLES) - 1
    records, _, _ = corpus.execute_query(
        "MATCH (a:Article {pmid: '104'}) RETURN a.embedding_model AS m, a.embedding_hash AS h"
    )
    assert (records[0]["m"], records[0]["h"]) == (None, None)
