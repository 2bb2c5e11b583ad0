"""Retrieval evaluations that can tell systems apart, on the graph itself.

* **Related articles over the whole corpus.** Each query is an article with at least one
  *related* article: another article with a vector that it cites or that cites it (CITES in
  either direction). Every ranker orders ALL articles with vectors (the query excluded):
  vector-only is the exact cosine order; a graph-aware ranker orders its candidates by score
  and the rest follow in cosine order. Metrics per query: recall@10, recall@100, nDCG@10
  (binary gains), average precision (over the full ranking; MAP is its mean).

  **What is hidden.** During a query, every CITES relationship with the query article at
  either end (its references and the articles citing it) is invisible to every ranker:
  ``queries.RELATED`` never traverses an edge that touches the query article (all
  intermediate and end nodes differ from it), so the ranking equals the one on a graph
  where those edges were deleted (``tests/embeddings/test_related.py`` checks exactly that).
  Everything else stays visible: the other articles' citations, MeSH, years.

* **Free-text retrieval** (``search_batch``, the same code as ``search text --queries``):
  PubMedQA questions against all 1,000 long answers, loaded as articles into an empty
  database (``load_documents``); MRR@10, nDCG@10, recall@10.

* **Splits.** A seeded hash split of the PMIDs (``seeded_split``: 80 % train, 10 %
  validation, 10 % test; sha256 of ``"{seed}:{pmid}"``) unless a pairing run's
  ``splits.parquet`` is given. Rankers are tuned on train/validation queries; the reported
  figures are over test-split queries only.

* **Intervals.** ``paired_bootstrap``: a 95 % percentile interval for the mean difference of
  two systems over the same queries (queries resampled with replacement).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pubgraph.embeddings import queries as q
from pubgraph.embeddings.related import Candidate, LinearRanker, rank_candidates
from pubgraph.graph.db import GraphDB, run_read, write_batches

SPLIT_SEED = 13
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
BOOTSTRAP_SAMPLES = 2000
METRICS = ("recall@10", "recall@100", "ndcg@10", "ap")


def seeded_split(pmid: str, seed: int = SPLIT_SEED) -> str:
    """``train``, ``validation`` or ``test`` from a hash of the seed and the PMID."""
    h = hashlib.sha256(f"{seed}:{pmid}".encode()).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    train, val, _ = SPLIT_FRACTIONS
    return "train" if u < train else "validation" if u < train + val else "test"


# --- corpus ---------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Every article with a vector (rows of ``matrix``, unit length) and the citation
    relations among them (``related[p]``: what ``p`` cites or is cited by)."""

    pmids: list[str]
    matrix: np.ndarray
    related: dict[str, set[str]]

    def __post_init__(self) -> None:
        self.row = {p: i for i, p in enumerate(self.pmids)}

    def cosines(self, pmid: str) -> np.ndarray:
        """Cosine of ``pmid`` to every article (its own entry is set to -inf)."""
        i = self.row[pmid]
        out: np.ndarray = self.matrix @ self.matrix[i]
        out[i] = -np.inf
        return out


def load_corpus(driver: GraphDB, page: int = 5000) -> Corpus:
    """Read every vector and the citations between articles with vectors."""
    pmids: list[str] = []
    vectors: list[list[float]] = []
    after = ""
    while True:
        rows = run_read(driver, q.EXPORT_PAGE, {"after": after, "page": page})
        if not rows:
            break
        for r in rows:
            pmids.append(r["pmid"])
            vectors.append(r["vector"])
        after = rows[-1]["pmid"]
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1.0)
    related: dict[str, set[str]] = {}
    for r in run_read(driver, q.EVAL_CITATIONS):
        related.setdefault(r["citing"], set()).add(r["cited"])
        related.setdefault(r["cited"], set()).add(r["citing"])
    return Corpus(pmids, matrix, related)


# --- metrics --------------------------------------------------------------------------------


def relevant_positions(
    head: Sequence[str], cosines: np.ndarray, corpus: Corpus, relevant: Iterable[str]
) -> list[int]:
    """1-based positions of the relevant articles in the full ranking: ``head`` first (in
    order), then every other article (the query excluded: its cosine is -inf) by cosine."""
    pos_head = {p: i for i, p in enumerate(head, 1)}
    rest = cosines.copy()
    for p in head:
        rest[corpus.row[p]] = -np.inf
    out = []
    for p in relevant:
        if p in pos_head:
            out.append(pos_head[p])
        else:
            c = cosines[corpus.row[p]]
            out.append(len(head) + 1 + int(np.count_nonzero(rest > c)))
    return sorted(out)


def metrics_from_positions(positions: Sequence[int], n_relevant: int) -> dict[str, float]:
    """recall@10, recall@100, nDCG@10 (binary), average precision from sorted positions."""
    pos = sorted(positions)
    dcg = sum(1.0 / math.log2(p + 1) for p in pos if p <= 10)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, 10) + 1))
    ap = sum((i / p) for i, p in enumerate(pos, 1)) / n_relevant
    return {
        "recall@10": sum(p <= 10 for p in pos) / n_relevant,
        "recall@100": sum(p <= 100 for p in pos) / n_relevant,
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "ap": ap,
    }


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """1 / rank of the first relevant id within the top ``k`` (0 if none)."""
    for i, p in enumerate(ranked[:k], 1):
        if p in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary nDCG@k of one ranked list."""
    dcg = sum(1.0 / math.log2(i + 1) for i, p in enumerate(ranked[:k], 1) if p in relevant)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / idcg if idcg else 0.0


@dataclass(frozen=True)
class Interval:
    """Mean difference ``b - a`` over queries, with a paired bootstrap 95 % interval."""

    delta: float
    low: float
    high: float
    n: int

    def render(self) -> str:
        return f"{self.delta:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> Interval:
    """95 % percentile interval of ``mean(b - a)``, resampling queries with replacement."""
    x = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if x.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(samples, x.size))
    means = x[idx].mean(axis=1)
    return Interval(
        float(x.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)),
        int(x.size),
    )


# --- related-article evaluation -------------------------------------------------------------

CandidateFn = Callable[[str], Sequence[Candidate]]


def related_queries(corpus: Corpus, splits: Mapping[str, str], split: str) -> list[str]:
    """Articles of ``split`` that have at least one related article, sorted."""
    return sorted(p for p in corpus.pmids if splits.get(p) == split and corpus.related.get(p))


def evaluate_related(
    corpus: Corpus,
    queries: Sequence[str],
    candidates: Mapping[str, Sequence[Candidate]],
    rankers: Mapping[str, LinearRanker],
) -> dict[str, dict[str, list[float]]]:
    """Per-query metrics of ``vector`` (exact cosine over the corpus) and of each ranker
    over the precomputed candidates (then the rest by cosine). ``{system: {metric: [...]}}``."""
    out: dict[str, dict[str, list[float]]] = {
        name: {m: [] for m in METRICS} for name in ("vector", *rankers)
    }
    for pmid in queries:
        rel = corpus.related[pmid]
        cos = corpus.cosines(pmid)
        heads: dict[str, list[str]] = {"vector": []}
        for name, rk in rankers.items():
            heads[name] = [c.pmid for c, _ in rank_candidates(candidates[pmid], rk)]
        for name, head in heads.items():
            m = metrics_from_positions(relevant_positions(head, cos, corpus, rel), len(rel))
            for key in METRICS:
                out[name][key].append(m[key])
    return out


def labelled_candidates(
    corpus: Corpus, candidates: Mapping[str, Sequence[Candidate]]
) -> tuple[list[list[float]], list[int], list[str]]:
    """Training rows: each candidate's features, label 1 when it is related to its query."""
    from pubgraph.embeddings.related import feature_matrix

    x: list[list[float]] = []
    y: list[int] = []
    groups: list[str] = []
    for pmid, cands in candidates.items():
        rel = corpus.related.get(pmid, set())
        x.extend(feature_matrix(cands))
        y.extend(int(c.pmid in rel) for c in cands)
        groups.extend(pmid for _ in cands)
    return x, y, groups


def _packed(
    corpus: Corpus, queries: Sequence[str], candidates: Mapping[str, Sequence[Candidate]]
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per query: the feature matrix, the related mask, and the ideal DCG@10."""
    from pubgraph.embeddings.related import feature_matrix

    out = []
    for pmid in queries:
        rel = corpus.related[pmid]
        cands = candidates[pmid]
        x = np.asarray(feature_matrix(cands), dtype=float).reshape(len(cands), -1)
        mask = np.asarray([c.pmid in rel for c in cands], dtype=bool)
        idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), 10) + 1))
        out.append((x, mask, idcg))
    return out


_DISCOUNT = 1.0 / np.log2(np.arange(2, 12))


def _mean_ndcg_packed(packed: list[tuple[np.ndarray, np.ndarray, float]], w: np.ndarray) -> float:
    from pubgraph.embeddings.related import FEATURES

    icos = FEATURES.index("cosine")
    total = 0.0
    for x, mask, idcg in packed:
        if not len(x):
            continue
        order = np.lexsort((-x[:, icos], -(x @ w)))[:10]
        total += float((mask[order] * _DISCOUNT[: len(order)]).sum()) / idcg
    return total / len(packed) if packed else 0.0


def mean_ndcg(
    corpus: Corpus, queries: Sequence[str], candidates: Mapping[str, Sequence[Candidate]],
    ranker: LinearRanker,
) -> float:
    """Mean nDCG@10 of ``ranker`` over the candidate lists (the tuning objective)."""
    from pubgraph.embeddings.related import FEATURES

    w = np.asarray([ranker.weights.get(f, 0.0) for f in FEATURES])
    return _mean_ndcg_packed(_packed(corpus, queries, candidates), w)


def tune_weights(
    corpus: Corpus,
    queries: Sequence[str],
    candidates: Mapping[str, Sequence[Candidate]],
    start: Mapping[str, float],
    grid: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0),
    rounds: int = 2,
) -> tuple[dict[str, float], float]:
    """Coordinate search of the non-cosine weights (cosine fixed at 1) for mean nDCG@10.

    Each step keeps a change only if it raises the validation mean, so starting from
    cosine alone (all other weights 0) the result is never worse than cosine on ``queries``.
    """
    from pubgraph.embeddings.related import FEATURES

    packed = _packed(corpus, queries, candidates)
    weights = {f: float(start.get(f, 0.0)) for f in FEATURES}

    def value(ws: Mapping[str, float]) -> float:
        return _mean_ndcg_packed(packed, np.asarray([ws[f] for f in FEATURES]))

    best = value(weights)
    for _ in range(rounds):
        for f in FEATURES:
            if f == "cosine":
                continue
            for g in grid:
                for sign in (1.0, -1.0):
                    trial = {**weights, f: sign * g}
                    v = value(trial)
                    if v > best + 1e-9:
                        best, weights = v, trial
    return weights, best


# --- free text ------------------------------------------------------------------------------


def load_documents(
    driver: GraphDB,
    docs: Mapping[str, str],
    vectors: np.ndarray,
    model_id: str,
    *,
    batch_size: int = 500,
) -> int:
    """Documents (id -> text) as articles with vectors (text as the abstract), in an empty
    evaluation database; the schema (full-text index) and vector index are the caller's."""
    rows: list[dict[str, Any]] = [
        {"pmid": str(k), "title": None, "abstract": v, "vector": [float(x) for x in vec]}
        for (k, v), vec in zip(docs.items(), vectors, strict=True)
    ]
    return write_batches(
        driver, q.LOAD_DOCUMENTS, rows, batch_size=batch_size, model_id=model_id
    )
