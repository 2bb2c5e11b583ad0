"""Fixtures for analysis tests: tiny sentence-transformers models and small graphs.

The tiny models are random BERTs (hidden 32, 2 layers, a WordPiece vocabulary written
here) with mean pooling, saved as SentenceTransformer directories once per session. They
encode in milliseconds; their vectors mean nothing, which is fine: tests compare what the
code stores and ranks against what numpy computes from the same model.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pubgraph.graph.db import GraphDB

# fmt: off
WORDS = [
    "insulin", "glucose", "diabetes", "pancreas", "tumor", "cancer", "chemotherapy", "virus",
    "vaccine", "infection", "antibody", "neuron", "brain", "memory", "cortex", "embolism",
    "air", "venous", "gas", "pressure", "study", "case", "patients", "treatment", "effect",
    "trial", "risk", "cells", "protein", "gene", "receptor", "blood", "heart", "lung",
    "liver", "kidney",
]
# fmt: on
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_model(out: Path, *, seed: int, hidden: int = 32) -> Path:
    """A SentenceTransformer directory: random BERT (``hidden`` wide, 2 layers) + mean pool."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers import models  # type: ignore[no-redef]
    from transformers import BertConfig, BertModel, BertTokenizerFast

    bert_dir = out / "bert"
    bert_dir.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL + sorted(set(WORDS)) + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab += list("abcdefghijklmnopqrstuvwxyz0123456789.,:;()-")
    vocab_file = bert_dir / "vocab.txt"
    vocab_file.write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(dict.fromkeys(vocab)),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(bert_dir)
    tokens = list(dict.fromkeys(vocab))
    # transformers 5 takes the vocabulary itself (``vocab=``); 4.x takes ``vocab_file=``.
    if "vocab" in inspect.signature(BertTokenizerFast.__init__).parameters:
        tokenizer = BertTokenizerFast(
            vocab={t: i for i, t in enumerate(tokens)}, do_lower_case=True
        )
    else:
        tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    tokenizer.save_pretrained(bert_dir)
    transformer = models.Transformer(str(bert_dir), max_seq_length=48)
    pooling = models.Pooling(hidden, pooling_mode="mean")
    st_dir = out / "st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
    return st_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-a"), seed=1)


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same architecture and dimension as ``tiny_model_dir``, other weights."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-b"), seed=2)


@pytest.fixture(scope="session")
def wide_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 48-dimensional model (for the index-dimension change)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-wide"), seed=3, hidden=48)


@pytest.fixture(scope="session")
def tiny_embedder(tiny_model_dir: Path) -> Any:
    from pubgraph.embeddings.embed import Embedder

    # fp32 pinned: "auto" would be bf16 (and the id suffixed) on a CPU with native bf16.
    return Embedder.load(tiny_model_dir, device="cpu", precision="fp32")


# --- small hand-built graphs ----------------------------------------------------------------


def add_articles(driver: GraphDB, rows: Iterable[Mapping[str, Any]]) -> None:
    """Article nodes; a row's ``vector`` (if any) is stored like the embed job stores it."""
    rows = [dict(r) for r in rows]
    for r in rows:
        r.setdefault("stub", False)
        for key in ("title", "abstract", "year", "journal_id", "vector", "deleted"):
            r.setdefault(key, None)
    driver.execute_query(
        """
        UNWIND $rows AS r
        CREATE (a:Article {pmid: r.pmid, stub: r.stub})
        SET a.title = r.title, a.abstract = r.abstract, a.year = r.year,
            a.journal_id = r.journal_id, a.deleted = r.deleted
        WITH a, r WHERE r.vector IS NOT NULL
        CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector)
        """,
        rows=rows,
    )


def add_cites(driver: GraphDB, edges: Sequence[tuple[str, str]]) -> None:
    driver.execute_query(
        """
        UNWIND $edges AS e
        MATCH (a:Article {pmid: e[0]}), (b:Article {pmid: e[1]})
        CREATE (a)-[:CITES]->(b)
        """,
        edges=[list(e) for e in edges],
    )


def add_mesh(
    driver: GraphDB,
    terms: Mapping[str, str],
    broader: Sequence[tuple[str, str]],
    tagged: Sequence[tuple[str, str, bool]],
) -> None:
    """MeSH terms (ui -> name), (narrower, broader) edges, (pmid, ui, major) tags."""
    driver.execute_query(
        "UNWIND $terms AS t CREATE (:MeshTerm {ui: t[0], name: t[1]})",
        terms=[[k, v] for k, v in terms.items()],
    )
    driver.execute_query(
        """
        UNWIND $edges AS e
        MATCH (n:MeshTerm {ui: e[0]}), (b:MeshTerm {ui: e[1]})
        CREATE (n)-[:BROADER]->(b)
        """,
        edges=[list(e) for e in broader],
    )
    driver.execute_query(
        """
        UNWIND $tags AS t
        MATCH (a:Article {pmid: t[0]}), (m:MeshTerm {ui: t[1]})
        CREATE (a)-[:HAS_MESH {major: t[2]}]->(m)
        """,
        tags=[list(t) for t in tagged],
    )


def add_journals(driver: GraphDB, journals: Sequence[Mapping[str, Any]]) -> None:
    """Journal nodes and PUBLISHED_IN from every article whose journal_id matches."""
    driver.execute_query(
        """
        UNWIND $journals AS j
        CREATE (n:Journal {id: j.id, title: j.title, iso_abbreviation: j.iso, issn: j.issn})
        WITH n
        MATCH (a:Article {journal_id: n.id})
        CREATE (a)-[:PUBLISHED_IN]->(n)
        """,
        journals=list(journals),
    )
