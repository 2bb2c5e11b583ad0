"""Pure metric functions (numbers in, numbers out; no model)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def cosine_rows(a: Any, b: Any) -> np.ndarray:
    """Cosine similarity of row i of ``a`` with row i of ``b``."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    nx = np.linalg.norm(x, axis=1)
    ny = np.linalg.norm(y, axis=1)
    denom = np.where((nx * ny) == 0, 1.0, nx * ny)
    return np.asarray((x * y).sum(axis=1) / denom)


def pair_metrics(scores: Sequence[float], labels: Sequence[int]) -> dict[str, float]:
    """ROC-AUC, average precision and Spearman of scores against 0/1 labels.

    AUC and AP are NaN when only one class is present (they are undefined there).
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score, roc_auc_score

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if len(s) != len(y):
        raise ValueError("scores and labels differ in length")
    out = {"n": float(len(s))}
    if len(set(y.tolist())) < 2:
        out.update(auc=math.nan, ap=math.nan, spearman=math.nan)
        return out
    out["auc"] = float(roc_auc_score(y, s))
    out["ap"] = float(average_precision_score(y, s))
    out["spearman"] = float(spearmanr(s, y).statistic)
    return out


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (ties get average ranks)."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.asarray(a, dtype=float), np.asarray(b, dtype=float)).statistic)


def average_precision(relevance: Sequence[bool | int]) -> float:
    """AP of one ranking: mean of precision@i over the ranks i that hold a relevant item.

    ``relevance`` is the ranked list (best first) of 0/1 flags; 0.0 if nothing is relevant.
    """
    hits = 0
    total = 0.0
    for i, rel in enumerate(relevance, start=1):
        if rel:
            hits += 1
            total += hits / i
    return total / hits if hits else 0.0


def dcg_at_k(relevance: Sequence[bool | int], k: int) -> float:
    """Discounted cumulative gain of binary gains: sum of rel_i / log2(i + 1), i <= k."""
    return float(sum(float(r) / math.log2(i + 1) for i, r in enumerate(relevance[:k], start=1)))


def ndcg_at_k(relevance: Sequence[bool | int], k: int = 10) -> float:
    """DCG@k divided by the DCG@k of the ideal ordering (all relevant first); 0.0 if none."""
    ideal = sorted((int(bool(r)) for r in relevance), reverse=True)
    best = dcg_at_k(ideal, k)
    return dcg_at_k([int(bool(r)) for r in relevance], k) / best if best else 0.0


def reciprocal_rank(relevance: Sequence[bool | int], k: int | None = None) -> float:
    """1 / rank of the first relevant item within the top ``k`` (0.0 if none there)."""
    for i, rel in enumerate(relevance[:k] if k else relevance, start=1):
        if rel:
            return 1.0 / i
    return 0.0


def hit_at_k(relevance: Sequence[bool | int], k: int) -> float:
    """1.0 if a relevant item is in the top ``k``, else 0.0."""
    return 1.0 if any(relevance[:k]) else 0.0


def rank_relevance(scores: Sequence[float], relevant: Sequence[bool | int]) -> list[int]:
    """The relevance flags reordered by descending score.

    Ties are broken pessimistically (a relevant item ranks after equally scored
    irrelevant ones), so a model that scores everything the same earns no credit.
    """
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), bool(relevant[i])))
    return [int(bool(relevant[i])) for i in order]


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; NaN for no values."""
    return float(np.mean(values)) if len(values) else math.nan
