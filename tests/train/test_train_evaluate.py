"""Evaluators run on the tiny model and tiny data.

The inputs are built so that the right answer does not depend on the (random) model:
a text compared with itself has cosine 1, more than with any different text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pubgraph.train import evaluate
from pubgraph.train.benchmarks import RetrievalSet, ScoredPairs
from pubgraph.train.data import PairTable


def test_identical_pairs_are_separated_perfectly(tiny_model, articles: pd.DataFrame) -> None:
    texts = list(articles["abstract"][:6])
    frame = pd.DataFrame({
        "text1": texts,
        "text2": [*texts[:3], texts[4], texts[5], texts[3]],
        "label": [1, 1, 1, 0, 0, 0],
    })
    task = evaluate.labelled_pairs_task("pairs", PairTable("labelled", frame, "mem"))
    out = task.run(tiny_model)
    assert out["auc"] == pytest.approx(1.0) and out["ap"] == pytest.approx(1.0)
    assert out["n"] == 6


def test_citation_candidates_are_seeded_and_exclude_relevant() -> None:
    pool = [str(i) for i in range(100)]
    relevant = {"1": {"2", "3", "4", "5", "6", "7", "999"}}
    first = evaluate.citation_candidates(["1", "50"], relevant, pool, n_negatives=10,
                                         max_positives=5, seed=3)
    assert first == evaluate.citation_candidates(["1", "50"], relevant, pool, n_negatives=10,
                                                 max_positives=5, seed=3)
    assert list(first) == ["1"]  # "50" has no relevant articles
    rel, neg = first["1"]
    assert rel == ["2", "3", "4", "5", "6"]
    assert len(neg) == 10 and not set(neg) & {"1", "2", "3", "4", "5", "6", "7"}
    other = evaluate.citation_candidates(["1"], relevant, pool, n_negatives=10, seed=4)
    assert other["1"][1] != neg


def test_citation_task_ranks_a_copy_first(tiny_model, articles: pd.DataFrame) -> None:
    # each query's only relevant article is a copy of itself under another id
    texts = dict(zip(articles["pmid"], articles["abstract"], strict=True))
    queries = {p: texts[p] for p in list(texts)[:5]}
    pool = dict(texts)
    relevant = {}
    for p, t in queries.items():
        pool[f"copy-{p}"] = t
        relevant[p] = {f"copy-{p}"}
    out = evaluate.citation_task("cites", queries, relevant, pool, n_negatives=8).run(tiny_model)
    assert out["map"] == pytest.approx(1.0) and out["ndcg@10"] == pytest.approx(1.0)
    assert out["n"] == 5


def test_retrieval_task_reports_ir_metrics(tiny_model) -> None:
    docs = {"a": "insulin glucose pancreas", "b": "tumor metastasis biopsy",
            "c": "virus antigen outbreak"}
    data = RetrievalSet(dict(docs), dict(docs), {k: {k} for k in docs})
    out = evaluate.retrieval_task("ir", data).run(tiny_model)
    assert set(out) >= {"acc@1", "acc@3", "mrr@10", "ndcg@10", "map@100", "n"}
    assert out["acc@1"] == pytest.approx(1.0) and out["mrr@10"] == pytest.approx(1.0)


def test_similarity_task(tiny_model) -> None:
    s = ["insulin glucose", "tumor biopsy", "virus outbreak", "neuron memory"]
    # identical pairs get the top gold score, mismatched ones lower
    data = ScoredPairs(s + s, s + s[::-1], [4.0, 4.0, 4.0, 4.0, 0.0, 0.0, 0.0, 0.0])
    out = evaluate.similarity_task("sim", data).run(tiny_model)
    assert out["spearman"] > 0.5 and out["n"] == 8


def test_tasks_from_pairs_dir(tiny_model, pairs_dir: Path) -> None:
    tasks = {t.name: t for t in evaluate.tasks_from_pairs_dir(pairs_dir)}
    assert set(tasks) == {"pairs:test", "citations", "title_abstract"}
    raw = pd.read_parquet(pairs_dir / "pairs.parquet")
    assert tasks["pairs:test"].size == int((raw["split"] == "test").sum())
    cites = pd.read_parquet(pairs_dir / "citations_test.parquet")
    assert tasks["citations"].size == len(cites)
    results = evaluate.run_tasks(tiny_model, list(tasks.values()))
    assert 0.0 <= results["pairs:test"]["auc"] <= 1.0
    assert 0.0 < results["citations"]["map"] <= 1.0
    assert 0.0 <= results["title_abstract"]["acc@10"] <= 1.0
    assert all(r["seconds"] >= 0 for r in results.values())


def test_csv_task(tiny_model, labelled_csv: Path) -> None:
    task = evaluate.csv_task(labelled_csv)
    assert task.name == "csv:labelled"
    out = task.run(tiny_model)
    assert out["n"] == len(pd.read_csv(labelled_csv)) and 0 <= out["auc"] <= 1


def test_pair_file_given_directly(pairs_dir: Path) -> None:
    direct = evaluate.tasks_from_pairs_dir(pairs_dir / "pairs.parquet", split="validation")
    assert {t.name for t in direct} == {"pairs:validation", "citations", "title_abstract"}


def test_graph_tasks_are_capped_by_seeded_samples(pairs_dir: Path) -> None:
    full = {t.name: t for t in evaluate.tasks_from_pairs_dir(pairs_dir, max_pairs=None,
                                                             max_queries=None)}
    assert full["pairs:test"].size > 3 and full["title_abstract"].size > 2
    capped = {t.name: t for t in evaluate.tasks_from_pairs_dir(pairs_dir, max_pairs=3,
                                                               max_queries=2)}
    assert capped["pairs:test"].size == 3
    assert capped["title_abstract"].size == 2
    # fewer title queries, the same candidates: every test-split abstract
    n_corpus = full["title_abstract"].size
    fewer = {t.name: t for t in evaluate.tasks_from_pairs_dir(pairs_dir, max_pairs=None,
                                                              max_queries=2)}
    assert fewer["title_abstract"].description == (
        f"2 test-article titles -> own abstract among {n_corpus} test-split abstracts")
    assert capped["citations"].size == min(2, full["citations"].size)


def test_subsamples_are_seeded() -> None:
    items = [str(i) for i in range(100)]
    a = evaluate._sample(items, 10, seed=1)
    assert a == evaluate._sample(list(reversed(items)), 10, seed=1)  # order-independent
    assert a != evaluate._sample(items, 10, seed=2)
    assert len(a) == 10 and set(a) < set(items)
    assert evaluate._sample(items, None, seed=1) == sorted(items)
