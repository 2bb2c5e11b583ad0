"""Related articles from the vector neighbours *and* the citation graph around them.

``related(db, pmid)`` ranks the candidates that ``queries.RELATED`` generates in one Cypher
statement: the query article's nearest vector neighbours, plus the articles the closest
``GRAPH_SEEDS`` neighbours cite, are cited by, are co-cited or coupled with. Each candidate
gets the features below, and a linear ranker (``LinearRanker``: one weight per feature plus an
intercept, stored as a small JSON file) turns them into a score. ``explain_related`` shows
each feature's contribution ``weight * value``.

The query article's own CITES edges are never read (see ``queries.RELATED``): the ranker
works the same for a new article whose references are unknown, and the evaluation
(``embeddings/evaluate.py``) cannot read the answer off the edges.

Features (all computed in the Cypher statement, transformed here):

=================  =========================================================================
``cosine``         cosine of the two articles' vectors
``cited_by_seeds`` ln(1 + sum of c_n over seeds n that cite the candidate), c_n = cosine(q, n)
``cites_seeds``    ln(1 + sum of c_n over seeds the candidate cites)
``cocited``        ln(1 + sum over seeds of c_n * articles citing both the seed and candidate)
``coupled``        ln(1 + sum over seeds of c_n * references shared with the seed)
``mesh``           IDF of the MeSH descriptors shared with q / IDF of all of q's descriptors
``near``           1 / hops from the seed set: 1 (a direct citation), 1/2 (co-cited or
                   coupled), 1/3 (vector candidate only)
``citations``      ln(1 + articles citing the candidate), q's own citation excluded
``year_gap``       min(|year - query year|, 30) / 10
=================  =========================================================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pubgraph.core.errors import ConfigError, InputError
from pubgraph.embeddings import queries as q
from pubgraph.embeddings.search import (
    DEFAULT_K,
    Filters,
    Hit,
    _check_k,
    _filter_params,
    _use_index,
    article_vector,
    cached_vector_status,
)
from pubgraph.graph.db import GraphDB, run_read

FEATURES: tuple[str, ...] = (
    "cosine",
    "cited_by_seeds",
    "cites_seeds",
    "cocited",
    "coupled",
    "mesh",
    "near",
    "citations",
    "year_gap",
)

VECTOR_CANDIDATES = 100
"""Nearest vector neighbours taken as candidates."""
GRAPH_SEEDS = 20
"""The closest neighbours whose citation graph is expanded."""
GRAPH_CANDIDATES = 300
"""Graph candidates kept (by total link weight)."""
MAX_FANOUT = 100
"""Coupling skips references cited by more articles than this (uninformative, expensive)."""
YEAR_GAP_CAP = 30

TRANSPARENT_WEIGHTS: dict[str, float] = {
    "cosine": 1.0,
    "cited_by_seeds": 0.1,
    "cites_seeds": 0.1,
    "cocited": -0.02,
    "coupled": 0.0,
    "mesh": 0.3,
    "near": 0.0,
    "citations": 0.0,
    "year_gap": 0.02,
}
"""The transparent score: cosine plus link and MeSH evidence. Tuned by
``bench/bench_retrieval.py related`` (coordinate search from cosine alone over a grid,
nDCG@10 on 200 validation-split queries of the Alzheimer bench graph, 2026-11-30):
validation nDCG@10 0.356 against 0.331 for the best logistic regression, so it is also
the shipped ranker (``related_ranker.json``). Figures in docs/benchmarks.md."""

DEFAULT_RANKER_FILE = Path(__file__).with_name("related_ranker.json")
"""The ranker ``search similar`` loads (trained on the bench graph's train split)."""


@dataclass(frozen=True)
class LinearRanker:
    """``score = intercept + sum(weights[f] * features[f])``; saved as JSON."""

    name: str
    weights: Mapping[str, float]
    intercept: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ConfigError(f"ranker {self.name}: unknown features {sorted(unknown)}")

    def score(self, features: Mapping[str, float]) -> float:
        """The ranking score of one candidate."""
        return self.intercept + sum(w * features[f] for f, w in self.weights.items())

    def contributions(self, features: Mapping[str, float]) -> dict[str, float]:
        """``weight * value`` for every feature (they sum to ``score - intercept``)."""
        return {f: self.weights.get(f, 0.0) * features[f] for f in FEATURES}

    def save(self, path: str | Path) -> Path:
        """Write the ranker as JSON (``name``, ``weights``, ``intercept``, ``meta``)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["weights"] = dict(self.weights)
        data["meta"] = dict(self.meta)
        p.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return p


TRANSPARENT = LinearRanker("transparent", TRANSPARENT_WEIGHTS)


def load_ranker(path: str | Path | None = None) -> LinearRanker:
    """A ranker from JSON; the shipped ``DEFAULT_RANKER_FILE`` when ``path`` is None, or the
    transparent weights if no file was shipped."""
    p = Path(path) if path is not None else DEFAULT_RANKER_FILE
    if not p.is_file():
        if path is None:
            return TRANSPARENT
        raise InputError("ranker file not found", file=str(p))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return LinearRanker(
            name=str(data["name"]),
            weights={str(k): float(v) for k, v in data["weights"].items()},
            intercept=float(data.get("intercept", 0.0)),
            meta=dict(data.get("meta", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"not a ranker file ({exc})", file=str(p)) from None


# --- features -------------------------------------------------------------------------------


def feature_values(row: Mapping[str, Any]) -> dict[str, float]:
    """The ranker's features from one candidate row of ``queries.RELATED``."""

    def log1p_pos(x: Any) -> float:
        return math.log1p(max(float(x or 0.0), 0.0))

    direct = float(row["cited_by"] or 0.0) + float(row["cites"] or 0.0)
    indirect = float(row["cocited"] or 0.0) + float(row["coupled"] or 0.0)
    hops = 1 if direct > 0 else 2 if indirect > 0 else 3
    total_idf = float(row["mesh_query_idf"] or 0.0)
    mesh = float(row["mesh_shared_idf"] or 0.0) / total_idf if total_idf > 0 else 0.0
    year, qyear = row.get("year"), row.get("query_year")
    gap = min(abs(int(year) - int(qyear)), YEAR_GAP_CAP) if year and qyear else YEAR_GAP_CAP // 2
    return {
        "cosine": float(row["cosine"]),
        "cited_by_seeds": log1p_pos(row["cited_by"]),
        "cites_seeds": log1p_pos(row["cites"]),
        "cocited": log1p_pos(row["cocited"]),
        "coupled": log1p_pos(row["coupled"]),
        "mesh": mesh,
        "near": 1.0 / hops,
        "citations": log1p_pos(row["citations"]),
        "year_gap": gap / 10.0,
    }


@dataclass(frozen=True)
class Candidate:
    """A candidate article and its features (before scoring)."""

    pmid: str
    title: str | None
    year: int | None
    journal: str | None
    features: dict[str, float]


def related_candidates(
    driver: GraphDB,
    pmid: str,
    *,
    filters: Filters | None = None,
    not_cited: bool = False,
    exact: bool | None = None,
    fetch: int = VECTOR_CANDIDATES,
    seeds: int = GRAPH_SEEDS,
    graph_limit: int = GRAPH_CANDIDATES,
    max_fanout: int = MAX_FANOUT,
) -> list[Candidate]:
    """Every candidate of ``pmid`` with its features (one Cypher statement).

    ``not_cited`` drops candidates one CITES hop from the query article ("recommend").
    """
    params = _filter_params(driver, filters)
    params.update(
        pmid=str(pmid),
        exclude=[str(pmid)],
        fetch=int(fetch),
        seeds=int(seeds),
        graph_limit=int(graph_limit),
        max_fanout=int(max_fanout),
        n_articles=max(cached_vector_status(driver).vectors, 1),
    )
    mode = "index" if _use_index(driver, exact) else "exact"
    rows = run_read(driver, q.RELATED[(mode, not_cited)], params)
    if not rows:
        article_vector(driver, pmid)  # no such article, or no vector: say which
    return [
        Candidate(r["pmid"], r["title"], r["year"], r["journal"], feature_values(r)) for r in rows
    ]


@dataclass(frozen=True)
class RelatedHit(Hit):
    """A graph-aware result: ``score`` is the ranker's; ``features`` its inputs."""

    cosine: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def rank_candidates(
    candidates: Sequence[Candidate], ranker: LinearRanker
) -> list[tuple[Candidate, float]]:
    """Candidates with their scores, best first (ties: higher cosine, then pmid)."""
    scored = [(c, ranker.score(c.features)) for c in candidates]
    scored.sort(key=lambda cs: (-cs[1], -cs[0].features["cosine"], cs[0].pmid))
    return scored


def related(
    driver: GraphDB,
    pmid: str,
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    ranker: LinearRanker | None = None,
    not_cited: bool = False,
    exact: bool | None = None,
) -> list[RelatedHit]:
    """Graph-aware related articles of ``pmid``: candidates from the vector neighbours and the
    citation graph around them, ranked by ``ranker`` (default: ``load_ranker()``).

    Filters apply to the candidates (a rare filter can leave fewer than ``k``).
    ``not_cited=True`` is "similar but not cited" (``recommend``).
    """
    _check_k(k)
    rk = ranker or load_ranker()
    cands = related_candidates(driver, pmid, filters=filters, not_cited=not_cited, exact=exact)
    return [
        RelatedHit(
            c.pmid, c.title, c.year, c.journal, float(s), cosine=c.features["cosine"],
            features=c.features,
        )
        for c, s in rank_candidates(cands, rk)[:k]
    ]


@dataclass(frozen=True)
class RelatedExplanation:
    """Why ``other`` ranks where it does for ``pmid``: each feature, its weight and its
    contribution ``weight * value`` to the score; ``None`` features when ``other`` is not
    a candidate at all (no vector/graph route reaches it)."""

    pmid: str
    other: str
    ranker: str
    rank: int | None
    score: float | None
    intercept: float
    features: dict[str, float] | None
    weights: dict[str, float]
    contributions: dict[str, float] | None


def explain_related(
    driver: GraphDB, pmid: str, other: str, *, ranker: LinearRanker | None = None
) -> RelatedExplanation:
    """The graph-aware score of ``other`` for ``pmid``, feature by feature."""
    rk = ranker or load_ranker()
    ranked = rank_candidates(related_candidates(driver, pmid), rk)
    for i, (c, s) in enumerate(ranked, 1):
        if c.pmid == str(other):
            return RelatedExplanation(
                str(pmid), str(other), rk.name, i, float(s), rk.intercept, c.features,
                dict(rk.weights), rk.contributions(c.features),
            )
    return RelatedExplanation(
        str(pmid), str(other), rk.name, None, None, rk.intercept, None, dict(rk.weights), None
    )


# --- training -------------------------------------------------------------------------------


def feature_matrix(candidates: Sequence[Candidate]) -> list[list[float]]:
    """Rows of ``FEATURES`` values, in that order."""
    return [[c.features[f] for f in FEATURES] for c in candidates]


def fit_logistic(
    x: Sequence[Sequence[float]],
    y: Sequence[int],
    *,
    c: float = 1.0,
    meta: Mapping[str, Any] | None = None,
) -> LinearRanker:
    """A logistic-regression ranker (scikit-learn) over ``FEATURES``; its decision function
    is linear, so it is stored and explained like the transparent score."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=int)
    if len(set(ya.tolist())) < 2:
        raise ConfigError("training needs both related and unrelated candidates")
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(xa, ya)
    weights = {f: float(w) for f, w in zip(FEATURES, model.coef_[0], strict=True)}
    return LinearRanker(
        "logistic", weights, float(model.intercept_[0]), dict(meta or {}, C=c)
    )


def fit_pairwise(
    groups: Sequence[tuple[Sequence[Sequence[float]], Sequence[int]]],
    *,
    c: float = 1.0,
    hard: int = 30,
    easy: int = 30,
    seed: int = 0,
    meta: Mapping[str, Any] | None = None,
) -> LinearRanker:
    """A pairwise logistic ranker (RankNet/RankSVM-style, scikit-learn): for each query
    ``(features, labels)``, every related candidate is paired with its ``hard`` most similar
    unrelated candidates (by cosine) and ``easy`` random others; the model learns
    ``P(a above b) = sigmoid(w . (x_a - x_b))``. No intercept (it cancels in a difference);
    the weights score candidates like any ``LinearRanker``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    icos = FEATURES.index("cosine")
    diffs = []
    for x, y in groups:
        xa = np.asarray(x, dtype=float).reshape(len(y), len(FEATURES))
        ya = np.asarray(y, dtype=bool)
        pos, neg = xa[ya], xa[~ya]
        if not len(pos) or not len(neg):
            continue
        order = np.argsort(-neg[:, icos])
        rest = order[hard:]
        pick = np.concatenate([order[:hard], rng.permutation(rest)[:easy]])
        d = (pos[:, None, :] - neg[pick][None, :, :]).reshape(-1, len(FEATURES))
        diffs.append(d)
    if not diffs:
        raise ConfigError("training needs queries with both related and unrelated candidates")
    dx = np.vstack(diffs)
    model = LogisticRegression(C=c, max_iter=2000, fit_intercept=False)
    model.fit(np.vstack([dx, -dx]), np.r_[np.ones(len(dx), int), np.zeros(len(dx), int)])
    weights = {f: float(w) for f, w in zip(FEATURES, model.coef_[0], strict=True)}
    return LinearRanker("pairwise", weights, 0.0, dict(meta or {}, C=c, pairs=len(dx)))
