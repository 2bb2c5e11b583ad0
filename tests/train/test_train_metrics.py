"""Pure metric functions on inputs whose answers can be worked out by hand."""

from __future__ import annotations

import math

import pytest

from pubgraph.train import metrics


def test_average_precision_by_hand() -> None:
    # relevant at ranks 1 and 3: (1/1 + 2/3) / 2
    assert metrics.average_precision([1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    assert metrics.average_precision([0, 0, 1]) == pytest.approx(1 / 3)
    assert metrics.average_precision([0, 0]) == 0.0


def test_ndcg_by_hand() -> None:
    assert metrics.ndcg_at_k([1, 0, 0], 10) == pytest.approx(1.0)
    # one relevant item at rank 2: (1/log2 3) / (1/log2 2)
    assert metrics.ndcg_at_k([0, 1, 0], 10) == pytest.approx(1 / math.log2(3))
    # relevant at ranks 1 and 3 vs ideal ranks 1 and 2
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at_k([1, 0, 1], 10) == pytest.approx(expected)
    # beyond k it does not count
    assert metrics.ndcg_at_k([0, 0, 1], 2) == 0.0


def test_reciprocal_rank_and_hits() -> None:
    assert metrics.reciprocal_rank([0, 0, 1, 1]) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank([0, 0, 1], k=2) == 0.0
    assert metrics.hit_at_k([0, 1, 0], 1) == 0.0
    assert metrics.hit_at_k([0, 1, 0], 2) == 1.0


def test_rank_relevance_orders_by_score_and_breaks_ties_pessimistically() -> None:
    assert metrics.rank_relevance([0.1, 0.9, 0.5], [1, 0, 0]) == [0, 0, 1]
    # a relevant item tied with an irrelevant one ranks after it
    assert metrics.rank_relevance([0.5, 0.5], [1, 0]) == [0, 1]


def test_pair_metrics_by_hand() -> None:
    scores = [0.9, 0.8, 0.3, 0.1]
    labels = [1, 0, 1, 0]
    out = metrics.pair_metrics(scores, labels)
    # positive/negative pairs ordered correctly: (0.9,0.8) (0.9,0.1) (0.3,0.1) of 4
    assert out["auc"] == pytest.approx(0.75)
    assert out["ap"] == pytest.approx((1 + 2 / 3) / 2)
    # score ranks 4,3,2,1 vs label ranks 3.5,1.5,3.5,1.5 -> 2 / (sqrt(5) * 2)
    assert out["spearman"] == pytest.approx(1 / math.sqrt(5))
    assert out["n"] == 4


def test_pair_metrics_one_class_is_nan() -> None:
    out = metrics.pair_metrics([0.2, 0.4], [1, 1])
    assert math.isnan(out["auc"]) and math.isnan(out["ap"])


def test_cosine_rows() -> None:
    got = metrics.cosine_rows([[1, 0], [1, 1], [0, 0]], [[2, 0], [-1, -1], [1, 0]])
    assert got.tolist() == pytest.approx([1.0, -1.0, 0.0])


def test_spearman_and_mean() -> None:
    assert metrics.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert metrics.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert metrics.mean([1.0, 2.0]) == 1.5
    assert math.isnan(metrics.mean([]))
