"""Fixtures for train tests: one tiny BERT (session), and small pair files made here.

The texts are synthetic: four topics, each article's title and abstract built from its
topic's words, so "same topic" is a real (if easy) signal.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

TOPICS = {
    "diabetes": "insulin glucose diabetes pancreas glycemic metformin beta cells obesity",
    "cancer": "tumor chemotherapy cancer metastasis oncology carcinoma immunotherapy biopsy",
    "virus": "virus vaccine infection antibody viral antigen immunity outbreak",
    "brain": "neuron brain cognition cortex synapse memory dementia neural",
}
PAIR_RUN_ID = "pairrun-test-0001"


def make_articles(per_topic: int = 8, seed: int = 7) -> pd.DataFrame:
    """pmid, title, abstract, topic: ``per_topic`` articles for each topic."""
    rng = random.Random(seed)
    rows = []
    pmid = 1000
    for topic, words in TOPICS.items():
        vocab = words.split()
        for i in range(per_topic):
            pmid += 1
            title = f"{topic} study {i}: " + " ".join(rng.sample(vocab, 3))
            abstract = " ".join(rng.choice(vocab) for _ in range(24)) + f" case {i}."
            rows.append({"pmid": str(pmid), "title": title, "abstract": abstract, "topic": topic})
    return pd.DataFrame(rows)


def make_graph_pairs(articles: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """pmid_a, pmid_b, label, strategy, score, split: same-topic positives, cross-topic
    negatives sharing the anchor; articles split train/val/test by index."""
    rng = random.Random(seed)
    rows = []
    by_topic = {t: list(g["pmid"]) for t, g in articles.groupby("topic")}
    all_pmids = list(articles["pmid"])
    topic_of = dict(zip(articles["pmid"], articles["topic"], strict=True))
    for topic, pmids in by_topic.items():
        for i, a in enumerate(pmids):
            b = pmids[(i + 1) % len(pmids)]
            last = len(pmids) - 3
            split = "train" if i < last else ("validation" if i == last else "test")
            rows.append({"pmid_a": a, "pmid_b": b, "label": 1, "strategy": "citation",
                         "score": 1.0, "split": split})
            neg = rng.choice([p for p in all_pmids if topic_of[p] != topic])
            rows.append({"pmid_a": a, "pmid_b": neg, "label": 0, "strategy": "random",
                         "score": 0.0, "split": split})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def articles() -> pd.DataFrame:
    return make_articles()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, articles: pd.DataFrame) -> Path:
    """A tiny random BERT (hidden 32, 2 layers, WordPiece vocab from the test texts) with
    mean pooling, saved as a SentenceTransformer directory. Built once per session."""
    from pubgraph.train.models import build_tiny_model

    texts = list(articles["title"]) + list(articles["abstract"])
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts, max_seq_length=48)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_dir), device="cpu")


@pytest.fixture()
def pairs_dir(tmp_path: Path, articles: pd.DataFrame) -> Path:
    """A pairing-like output folder: pairs.parquet, texts.parquet, citations_test.parquet,
    pair_run.json."""
    folder = tmp_path / "pairs"
    folder.mkdir()
    make_graph_pairs(articles).to_parquet(folder / "pairs.parquet", index=False)
    articles[["pmid", "title", "abstract"]].to_parquet(folder / "texts.parquet", index=False)
    test = make_graph_pairs(articles)
    test = test[(test["split"] == "test") & (test["label"] == 1)]
    cites = test.groupby("pmid_a")["pmid_b"].apply(list).reset_index()
    cites.columns = ["pmid", "relevant_pmids"]
    cites.to_parquet(folder / "citations_test.parquet", index=False)
    (folder / "pair_run.json").write_text(json.dumps({"id": PAIR_RUN_ID}), encoding="utf-8")
    return folder


@pytest.fixture()
def labelled_csv(tmp_path: Path, articles: pd.DataFrame) -> Path:
    """text1,text2,label built from the graph pairs (no split column)."""
    texts = dict(zip(articles["pmid"], articles["title"] + " " + articles["abstract"],
                     strict=True))
    pairs = make_graph_pairs(articles)
    frame = pd.DataFrame({"text1": pairs["pmid_a"].map(texts), "text2": pairs["pmid_b"].map(texts),
                          "label": pairs["label"]})
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    return path
