"""Queries that combine the vector index with the citation graph.

Every function takes a driver and plain parameters and returns typed rows:

* ``search_text`` / ``search_vector``: semantic search (free text -> top-k articles), with
  filters on year range, MeSH descriptor (narrower descriptors included, through BROADER)
  and journal;
* ``search_fulltext``: Lucene BM25 over title and abstract (the ``article_text`` index),
  the query escaped so that it always means its words (``escape_lucene``);
* ``search_hybrid`` / ``search_batch``: vector, full-text or both fused by min-max
  normalised score fusion (the default, ``fuse_weighted``), reciprocal-rank fusion
  (``fuse_rrf``) or max-normalised score fusion, same filters;
* ``similar``: nearest neighbours of an article;
* ``cited_neighbours``: articles within ``hops`` undirected CITES hops, ranked by cosine;
* ``recommend``: near in vector space but not within one CITES hop ("similar, not cited");
* ``blended``: ``alpha * cosine + (1 - alpha) * links / max(links)`` where links is the
  co-citation count (or shared references, ``relation="coupling"``);
* ``explain``: why two articles are related: cosine, shared MeSH terms, citation paths.

Scores are plain cosine similarities (``-1..1``). Top-k uses the vector index when it is
online and holds at least ``EXACT_BELOW`` vectors; otherwise (small graphs, no index) it
scores every candidate exactly with ``vector.similarity.cosine``. With filters the index is
over-fetched (``k * overfetch``); when fewer than ``k`` candidates survive the filters, one
wider pass (``WIDE_FETCH`` candidates) follows, and then exact scoring over the filtered set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pubgraph.core.errors import ConfigError, InputError
from pubgraph.embeddings import queries as q
from pubgraph.embeddings.embed import Embedder, vector_index
from pubgraph.graph.db import GraphDB, run_read

EXACT_BELOW = 1000
DEFAULT_K = 10
DEFAULT_OVERFETCH = 10
RESCORE_FACTOR = 2
# When a filtered index pass finds fewer than k, one wider pass comes before an exact scan:
# a filter that keeps a large share of the articles (a busy year) seldom needs the scan.
WIDE_FETCH = 1000


# --- result rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One article in a ranked result; ``score`` is the cosine similarity to the query."""

    pmid: str
    title: str | None
    year: int | None
    journal: str | None
    score: float


@dataclass(frozen=True)
class NeighbourHit(Hit):
    """A citation-graph neighbour; ``hops`` is its undirected CITES distance."""

    hops: int = 0


@dataclass(frozen=True)
class BlendedHit(Hit):
    """``score = alpha * cosine + (1 - alpha) * links_norm``."""

    cosine: float = 0.0
    links: int = 0
    links_norm: float = 0.0


@dataclass(frozen=True)
class MeshShare:
    ui: str
    name: str | None
    major_in_both: bool


@dataclass(frozen=True)
class CitationPath:
    """A shortest undirected CITES path; ``steps`` renders each edge with its direction."""

    pmids: tuple[str, ...]
    citing: tuple[str, ...]

    @property
    def length(self) -> int:
        return len(self.pmids) - 1

    def render(self) -> str:
        out = self.pmids[0]
        for i, src in enumerate(self.citing):
            arrow = "-cites->" if src == self.pmids[i] else "<-cites-"
            out += f" {arrow} {self.pmids[i + 1]}"
        return out


@dataclass(frozen=True)
class Explanation:
    pmid: str
    other: str
    title: str | None
    other_title: str | None
    cosine: float | None
    cocitations: int
    shared_references: int
    shared_mesh: tuple[MeshShare, ...] = field(default_factory=tuple)
    paths: tuple[CitationPath, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Filters:
    """Search filters; ``mesh`` and ``journal`` are resolved to UIs / journal ids."""

    min_year: int | None = None
    max_year: int | None = None
    mesh: str | None = None
    journal: str | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.min_year, self.max_year, self.mesh, self.journal))


# --- mode selection -------------------------------------------------------------------------


@dataclass(frozen=True)
class VectorStatus:
    index_online: bool
    dimension: int | None
    vectors: int

    @property
    def use_index(self) -> bool:
        return self.index_online and self.vectors >= EXACT_BELOW


STATUS_TTL = 30.0
_status_cache: dict[tuple[int, str], tuple[float, VectorStatus]] = {}


def clear_status_cache() -> None:
    """Forget the cached vector status (``embed_articles`` calls this when it finishes)."""
    _status_cache.clear()


def cached_vector_status(driver: GraphDB) -> VectorStatus:
    """``vector_status``, remembered per driver for ``STATUS_TTL`` seconds.

    Deciding index vs exact costs two small queries; repeated searches (a dashboard, the
    benchmark) should not pay them every time.
    """
    key = (id(driver.driver), driver.database)
    now = time.monotonic()
    hit = _status_cache.get(key)
    if hit is not None and now - hit[0] < STATUS_TTL:
        return hit[1]
    status = vector_status(driver)
    _status_cache[key] = (now, status)
    return status


def vector_status(driver: GraphDB) -> VectorStatus:
    """Whether the vector index is online, its dimension, and how many vectors exist.

    The count comes from the EmbeddingModel nodes (cheap); a graph without them (vectors
    written by hand) is counted directly.
    """
    idx = vector_index(driver)
    counted = run_read(driver, q.COUNT_MODEL_VECTORS)[0]
    if counted["models"]:
        n = int(counted["n"] or 0)
    else:
        n = int(run_read(driver, q.COUNT_VECTORS)[0]["n"])
    return VectorStatus(
        index_online=idx is not None and idx.state == "ONLINE",
        dimension=idx.dimension if idx else None,
        vectors=n,
    )


def _use_index(driver: GraphDB, exact: bool | None) -> bool:
    if exact is not None:
        return not exact
    return cached_vector_status(driver).use_index


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer, not {k!r}")


def _filter_params(
    driver: GraphDB, filters: Filters | None
) -> dict[str, Any]:
    f = filters or Filters()
    if f.min_year is not None and f.max_year is not None and f.min_year > f.max_year:
        raise ConfigError(f"year range {f.min_year}..{f.max_year} is empty")
    params: dict[str, Any] = {
        "min_year": f.min_year,
        "max_year": f.max_year,
        # Bounds for the year-index seek of an exact scan (open ends made finite).
        "year_lo": f.min_year if f.min_year is not None else -(10**6),
        "year_hi": f.max_year if f.max_year is not None else 10**6,
        "mesh_uis": None,
        "journal_ids": None,
    }
    if f.mesh is not None:
        uis = run_read(driver, q.RESOLVE_MESH, {"mesh": f.mesh})[0]["uis"]
        if not uis:
            raise InputError(f"no MeSH descriptor {f.mesh!r} in the graph", field="mesh")
        params["mesh_uis"] = uis
    if f.journal is not None:
        ids = run_read(driver, q.RESOLVE_JOURNAL, {"journal": f.journal})[0][
            "ids"
        ]
        if not ids:
            raise InputError(f"no journal {f.journal!r} in the graph", field="journal")
        params["journal_ids"] = ids
    return params


def _exact_start(params: dict[str, Any]) -> str:
    """Where an exact scan starts: the most selective filter that is set."""
    if params["mesh_uis"]:
        return "mesh"
    if params["journal_ids"]:
        return "journal"
    if params["min_year"] is not None or params["max_year"] is not None:
        return "year"
    return "all"


def _hits(rows: list[dict[str, Any]]) -> list[Hit]:
    return [Hit(r["pmid"], r["title"], r["year"], r["journal"], float(r["score"])) for r in rows]


# --- semantic search ------------------------------------------------------------------------


def search_vector(
    driver: GraphDB,
    vector: Sequence[float],
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    exclude: Sequence[str] = (),
    overfetch: int = DEFAULT_OVERFETCH,
    exact: bool | None = None,
) -> list[Hit]:
    """Top-k articles by cosine to ``vector``, filtered, best first."""
    _check_k(k)
    if overfetch < 1:
        raise ConfigError(f"overfetch must be >= 1, not {overfetch}")
    params = _filter_params(driver, filters)
    params.update(vector=[float(x) for x in vector], k=k, exclude=list(exclude))
    if _use_index(driver, exact):
        # Filters need the over-fetch; without them 2k candidates are re-scored exactly,
        # which repairs the order the (quantised) index gives near the k-th place.
        needs = (filters is not None and filters.active) or bool(exclude)
        params["fetch"] = k * overfetch if needs else RESCORE_FACTOR * k
        return _index_then_exact(
            driver, q.VECTOR_SEARCH_INDEX, q.VECTOR_SEARCH_EXACT, params, k
        )
    return _hits(
        run_read(driver, q.VECTOR_SEARCH_EXACT[_exact_start(params)], params)
    )


def _index_then_exact(
    driver: GraphDB,
    index_query: str,
    exact_queries: Mapping[str, str],
    params: dict[str, Any],
    k: int,
) -> list[Hit]:
    """The index answer when it has k hits (after one wider pass of ``WIDE_FETCH``
    candidates if needed), else the exact query over the filtered set."""
    rows = run_read(driver, index_query, params)
    if len(rows) < k and params["fetch"] < WIDE_FETCH:
        rows = run_read(driver, index_query, {**params, "fetch": WIDE_FETCH})
    if len(rows) < k:
        rows = run_read(driver, exact_queries[_exact_start(params)], params)
    return _hits(rows)


def search_text(
    driver: GraphDB,
    embedder: Embedder,
    text: str,
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    overfetch: int = DEFAULT_OVERFETCH,
    exact: bool | None = None,
) -> list[Hit]:
    """Semantic search: encode ``text`` with the model that made the vectors, then top-k."""
    if not text.strip():
        raise ConfigError("empty query text")
    vector = embedder.encode([text])[0]
    return search_vector(
        driver, vector, k=k, filters=filters, overfetch=overfetch, exact=exact
    )


def article_vector(driver: GraphDB, pmid: str) -> list[float]:
    """The stored vector of an article; InputError when the article or its vector is missing."""
    rows = run_read(driver, q.ARTICLE_VECTOR, {"pmid": str(pmid)})
    if not rows:
        raise InputError("no such article in the graph", record=str(pmid))
    if rows[0]["vector"] is None:
        raise InputError(
            "article has no embedding (no text, or `pubgraph embed` has not reached it)",
            record=str(pmid),
            field="embedding",
        )
    return list(rows[0]["vector"])


def similar(
    driver: GraphDB,
    pmid: str,
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    overfetch: int = DEFAULT_OVERFETCH,
    exact: bool | None = None,
) -> list[Hit]:
    """Nearest neighbours of an article by its stored vector, itself excluded."""
    vector = article_vector(driver, pmid)
    return search_vector(
        driver,
        vector,
        k=k,
        filters=filters,
        exclude=[str(pmid)],
        overfetch=overfetch,
        exact=exact,
    )


# --- citation-aware -------------------------------------------------------------------------


def cited_neighbours(
    driver: GraphDB,
    pmid: str,
    *,
    hops: int = 2,
    k: int = DEFAULT_K,
) -> list[NeighbourHit]:
    """Articles within ``hops`` undirected CITES hops (stubs count as bridges), by cosine."""
    _check_k(k)
    try:
        query = q.cited_neighbours_query(hops)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    article_vector(driver, pmid)
    rows = run_read(driver, query, {"pmid": str(pmid), "k": k})
    return [
        NeighbourHit(
            r["pmid"], r["title"], r["year"], r["journal"], float(r["score"]), hops=int(r["hops"])
        )
        for r in rows
    ]


def recommend(
    driver: GraphDB,
    pmid: str,
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    overfetch: int = DEFAULT_OVERFETCH,
    exact: bool | None = None,
) -> list[Hit]:
    """ "Similar but not cited": vector neighbours that are not within one CITES hop."""
    _check_k(k)
    article_vector(driver, pmid)
    params = _filter_params(driver, filters)
    params.update(pmid=str(pmid), k=k, exclude=[str(pmid)], fetch=k * overfetch)
    if _use_index(driver, exact):
        return _index_then_exact(driver, q.RECOMMEND_INDEX, q.RECOMMEND_EXACT, params, k)
    return _hits(
        run_read(driver, q.RECOMMEND_EXACT[_exact_start(params)], params)
    )


def blended(
    driver: GraphDB,
    pmid: str,
    *,
    alpha: float = 0.5,
    k: int = DEFAULT_K,
    relation: str = "cocitation",
    overfetch: int = DEFAULT_OVERFETCH,
    exact: bool | None = None,
) -> list[BlendedHit]:
    """Rank by ``alpha * cosine + (1 - alpha) * links / max(links)``.

    ``links`` is the co-citation count (articles citing both) or, with
    ``relation="coupling"``, the number of shared references. Candidates are the vector
    top ``k * overfetch`` plus every linked article that has a vector; the normalisation
    divides by the largest link count among them.
    """
    _check_k(k)
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be within 0..1, not {alpha}")
    if relation not in q.BLEND_RELATIONS:
        raise ConfigError(f"relation must be one of {', '.join(q.BLEND_RELATIONS)}")
    article_vector(driver, pmid)
    mode = "index" if _use_index(driver, exact) else "exact"
    rows = run_read(
        driver,
        q.BLENDED[(relation, mode)],
        {"pmid": str(pmid), "k": k, "alpha": float(alpha), "fetch": k * overfetch},
    )
    return [
        BlendedHit(
            r["pmid"],
            r["title"],
            r["year"],
            r["journal"],
            float(r["score"]),
            cosine=float(r["cosine"]),
            links=int(r["links"]),
            links_norm=float(r["links_norm"]),
        )
        for r in rows
    ]


# --- explain --------------------------------------------------------------------------------


def explain(
    driver: GraphDB,
    pmid: str,
    other: str,
    *,
    max_paths: int = 10,
) -> Explanation:
    """Why ``other`` relates to ``pmid``: cosine, shared MeSH, shortest CITES paths (<= 3)."""
    params = {"pmid": str(pmid), "other": str(other), "max_paths": int(max_paths)}
    pair = run_read(driver, q.EXPLAIN_PAIR, params)
    if not pair:
        missing = [
            p
            for p in (pmid, other)
            if not run_read(driver, q.ARTICLE_VECTOR, {"pmid": str(p)})
        ]
        bad = missing[0] if missing else pmid
        raise InputError("no such article in the graph", record=str(bad))
    p = pair[0]
    mesh = run_read(driver, q.EXPLAIN_SHARED_MESH, params)
    paths = run_read(driver, q.EXPLAIN_PATHS, params)
    return Explanation(
        pmid=p["pmid"],
        other=p["other"],
        title=p["title"],
        other_title=p["other_title"],
        cosine=None if p["cosine"] is None else float(p["cosine"]),
        cocitations=int(p["cocitations"]),
        shared_references=int(p["shared_references"]),
        shared_mesh=tuple(MeshShare(m["ui"], m["name"], bool(m["major_in_both"])) for m in mesh),
        paths=tuple(
            sorted(
                (CitationPath(tuple(r["pmids"]), tuple(r["citing"])) for r in paths),
                key=lambda c: c.pmids,
            )
        ),
    )


# --- full-text and hybrid search ------------------------------------------------------------

SEARCH_MODES = ("hybrid", "vector", "fulltext")
"""``search_hybrid`` modes: both lists fused (default), cosine only, BM25 only."""
FUSIONS = ("rrf", "weighted", "minmax")
"""How hybrid merges the two lists: reciprocal-rank fusion, or a weighted sum of scores
normalised by each list's maximum (``weighted``) or min-max (``minmax``)."""
RRF_K = 60
"""The rank offset of reciprocal-rank fusion (Cormack et al. 2009 use 60): a document's fused
score is ``sum over lists of 1 / (RRF_K + rank)``, rank counted from 1."""
HYBRID_DEPTH = 50
"""Candidates taken from each list before fusing (at least ``k``)."""
DEFAULT_FUSION = "minmax"
DEFAULT_ALPHA = 0.6
"""Weight of the vector list (``1 - alpha``: the BM25 list), in every fusion; for RRF the
list weights are ``2 * alpha`` and ``2 * (1 - alpha)``, so 0.5 is plain RRF.

The defaults (min-max fusion, alpha 0.6) were chosen on a dev half of the PubMedQA
questions and beat vector-only on the other half (MRR@10 +0.025, paired bootstrap 95 %
interval +0.011..+0.039); plain RRF gained +0.011 with an interval that includes 0
(docs/benchmarks.md, "Retrieval")."""

# Lucene's query syntax: these characters are operators, and so are the upper-case words.
# ``&&`` and ``||`` are covered by escaping ``&`` and ``|`` one by one.
_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
_LUCENE_WORDS = frozenset({"AND", "OR", "NOT", "TO"})


def escape_lucene(text: str) -> str:
    """``text`` as a Lucene query that means exactly its words, OR-ed (BM25 ranks them).

    Every syntax character gets a backslash (``a:b`` stays the two words, a lone ``"`` no
    longer opens a phrase, ``(`` no longer groups) and the operator words ``AND``, ``OR``,
    ``NOT``, ``TO`` are lower-cased, which the analyzer would do to any other word: they
    are searched as words (and dropped as stop words by the English analyzer), never
    applied as operators.
    """
    out: list[str] = []
    for word in text.split():
        if word in _LUCENE_WORDS:
            out.append(word.lower())
            continue
        out.append("".join("\\" + c if c in _LUCENE_SPECIAL else c for c in word))
    return " ".join(out)


def fuse_rrf(
    lists: Sequence[Sequence[str]],
    *,
    k0: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of ranked id lists, best first.

    ``score(d) = sum_i w_i / (k0 + rank_i(d))`` with ranks from 1 over the lists that hold
    ``d`` (``w_i = 1`` unless ``weights`` is given). Ties break by the id, so the order is
    deterministic.
    """
    if weights is not None and len(weights) != len(lists):
        raise ConfigError(f"{len(weights)} weights for {len(lists)} lists")
    scores: dict[str, float] = {}
    for i, ids in enumerate(lists):
        w = 1.0 if weights is None else float(weights[i])
        for rank, doc in enumerate(ids, 1):
            scores[doc] = scores.get(doc, 0.0) + w / (k0 + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse_weighted(
    lists: Sequence[Sequence[tuple[str, float]]],
    weights: Sequence[float],
    *,
    minmax: bool = False,
) -> list[tuple[str, float]]:
    """Weighted score fusion of ``(id, score)`` lists, best first.

    Each list's scores are divided by that list's largest score (the "naive" normalisation of
    neo4j-graphrag's hybrid retriever: BM25 is unbounded, cosine is not), or with ``minmax``
    mapped to ``(s - min) / (max - min)`` (the convex combination of Bruch et al. 2023);
    then ``score(d) = sum_i w_i * norm_i(d)``, a missing document counting 0.
    """
    if len(weights) != len(lists):
        raise ConfigError(f"{len(weights)} weights for {len(lists)} lists")
    scores: dict[str, float] = {}
    for w, rows in zip(weights, lists, strict=True):
        top = max((s for _, s in rows), default=0.0)
        low = min((s for _, s in rows), default=0.0) if minmax else 0.0
        span = top - low
        for doc, s in rows:
            norm = (s - low) / span if span > 0 else (1.0 if minmax else 0.0)
            scores[doc] = scores.get(doc, 0.0) + float(w) * norm
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True)
class HybridHit(Hit):
    """A fused result: ``score`` is the fused score; each list's rank (from 1) and raw score
    (cosine, BM25), ``None`` where the list did not return the article."""

    vector_rank: int | None = None
    vector_score: float | None = None
    text_rank: int | None = None
    text_score: float | None = None


_fulltext_cache: dict[tuple[int, str], tuple[float, bool]] = {}


def fulltext_ready(driver: GraphDB) -> bool:
    """Whether the ``article_text`` full-text index exists and is online (cached briefly)."""
    key = (id(driver.driver), driver.database)
    now = time.monotonic()
    hit = _fulltext_cache.get(key)
    if hit is not None and now - hit[0] < STATUS_TTL:
        return hit[1]
    rows = run_read(driver, q.SHOW_FULLTEXT_INDEX, {"name": q.FULLTEXT_INDEX})
    ready = bool(rows) and rows[0]["state"] == "ONLINE"
    _fulltext_cache[key] = (now, ready)
    return ready


def _require_fulltext(driver: GraphDB) -> None:
    if not fulltext_ready(driver):
        raise ConfigError(
            f"the full-text index {q.FULLTEXT_INDEX} is missing or not online: run "
            "`pubgraph graph init` (idempotent), or use --mode vector"
        )


def search_fulltext(
    driver: GraphDB,
    text: str,
    *,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    overfetch: int = DEFAULT_OVERFETCH,
) -> list[Hit]:
    """Keyword search: top-k articles by Lucene BM25 over title and abstract, filtered.

    ``text`` is plain text (escaped here with ``escape_lucene``); ``score`` is the BM25
    score. With filters the index is over-fetched ``k * overfetch`` (then ``WIDE_FETCH``)
    candidates; a filter rarer than that can return fewer than ``k`` hits.
    """
    _check_k(k)
    if not text.strip():
        raise ConfigError("empty query text")
    _require_fulltext(driver)
    params = _filter_params(driver, filters)
    needs = filters is not None and filters.active
    params.update(query=escape_lucene(text), k=k, exclude=[], fetch=k * overfetch if needs else k)
    if not params["query"]:
        return []
    rows = run_read(driver, q.FULLTEXT_SEARCH, params)
    if needs and len(rows) < k and params["fetch"] < WIDE_FETCH:
        rows = run_read(driver, q.FULLTEXT_SEARCH, {**params, "fetch": WIDE_FETCH})
    return _hits(rows)


def fuse_hits(
    vector_hits: Sequence[Hit],
    text_hits: Sequence[Hit],
    *,
    k: int,
    fusion: str = DEFAULT_FUSION,
    alpha: float = DEFAULT_ALPHA,
) -> list[HybridHit]:
    """The hybrid top-k from a cosine list and a BM25 list (what ``search_hybrid`` does after
    its two queries; exposed so that an evaluation can fuse stored lists the same way)."""
    if fusion == "rrf":
        fused = fuse_rrf(
            [[h.pmid for h in vector_hits], [h.pmid for h in text_hits]],
            weights=[2 * alpha, 2 * (1 - alpha)],
        )
    elif fusion == "minmax":
        fused = fuse_weighted(
            [[(h.pmid, h.score) for h in vector_hits], [(h.pmid, h.score) for h in text_hits]],
            [alpha, 1.0 - alpha],
            minmax=True,
        )
    else:
        # Cosine may be negative; shift to 0..2 so that dividing by the maximum keeps order.
        fused = fuse_weighted(
            [
                [(h.pmid, h.score + 1.0) for h in vector_hits],
                [(h.pmid, h.score) for h in text_hits],
            ],
            [alpha, 1.0 - alpha],
        )
    vec = {h.pmid: (i, h) for i, h in enumerate(vector_hits, 1)}
    txt = {h.pmid: (i, h) for i, h in enumerate(text_hits, 1)}
    out: list[HybridHit] = []
    for pmid, score in fused[:k]:
        v = vec.get(pmid)
        t = txt.get(pmid)
        base = (v or t)[1]  # type: ignore[index]
        out.append(
            HybridHit(
                pmid,
                base.title,
                base.year,
                base.journal,
                float(score),
                vector_rank=v[0] if v else None,
                vector_score=v[1].score if v else None,
                text_rank=t[0] if t else None,
                text_score=t[1].score if t else None,
            )
        )
    return out


def _check_mode(mode: str, fusion: str, alpha: float) -> None:
    if mode not in SEARCH_MODES:
        raise ConfigError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
    if fusion not in FUSIONS:
        raise ConfigError(f"fusion must be one of {', '.join(FUSIONS)}, not {fusion!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be within 0..1, not {alpha}")


def _search_encoded(
    driver: GraphDB,
    vector: Sequence[float] | None,
    text: str,
    *,
    k: int,
    filters: Filters | None,
    mode: str,
    fusion: str,
    alpha: float,
    depth: int,
    exact: bool | None,
) -> list[Hit]:
    if mode == "vector":
        assert vector is not None
        return search_vector(driver, vector, k=k, filters=filters, exact=exact)
    if mode == "fulltext":
        return search_fulltext(driver, text, k=k, filters=filters)
    assert vector is not None
    n = max(k, depth)
    vector_hits = search_vector(driver, vector, k=n, filters=filters, exact=exact)
    text_hits = search_fulltext(driver, text, k=n, filters=filters)
    return list(fuse_hits(vector_hits, text_hits, k=k, fusion=fusion, alpha=alpha))


def search_hybrid(
    driver: GraphDB,
    embedder: Embedder | None,
    text: str,
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    *,
    mode: str = "hybrid",
    fusion: str = DEFAULT_FUSION,
    alpha: float = DEFAULT_ALPHA,
    depth: int = HYBRID_DEPTH,
    exact: bool | None = None,
) -> list[Hit]:
    """Free-text search in one of ``SEARCH_MODES`` (the ``search text`` command).

    * ``hybrid`` (default): the top ``max(k, depth)`` by cosine (vector index, as
      ``search_text``) and the top ``max(k, depth)`` by BM25 (full-text index, as
      ``search_fulltext``), both filtered, fused by
      ``alpha * minmax(cosine) + (1 - alpha) * minmax(bm25)`` (``fusion="minmax"``, the
      default, alpha 0.6), by reciprocal-rank fusion (``fusion="rrf"``, ``RRF_K``, list
      weights ``2 * alpha`` and ``2 * (1 - alpha)``) or by
      ``alpha * cosine/max + (1 - alpha) * bm25/max`` (``fusion="weighted"``). Returns
      ``HybridHit`` rows with each list's rank and score.
    * ``vector``: ``search_text``; ``fulltext``: ``search_fulltext``.

    ``embedder`` must be the model that made the stored vectors (``None`` only for
    ``fulltext``).
    """
    _check_k(k)
    _check_mode(mode, fusion, alpha)
    if not text.strip():
        raise ConfigError("empty query text")
    if mode == "hybrid":
        _require_fulltext(driver)
    vector = None
    if mode != "fulltext":
        if embedder is None:
            raise ConfigError(f"mode {mode} needs the query model (embedder)")
        vector = embedder.encode([text])[0]
    return _search_encoded(
        driver, vector, text, k=k, filters=filters, mode=mode, fusion=fusion, alpha=alpha,
        depth=depth, exact=exact,
    )


def search_batch(
    driver: GraphDB,
    embedder: Embedder | None,
    queries: Sequence[tuple[str, str]],
    k: int = DEFAULT_K,
    filters: Filters | None = None,
    *,
    mode: str = "hybrid",
    fusion: str = DEFAULT_FUSION,
    alpha: float = DEFAULT_ALPHA,
    depth: int = HYBRID_DEPTH,
    exact: bool | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[tuple[str, list[Hit]]]:
    """``search_hybrid`` for many ``(id, text)`` queries: the texts are encoded in batches
    (one model pass), then each query runs against the graph. The evaluation uses this."""
    _check_k(k)
    _check_mode(mode, fusion, alpha)
    for qid, text in queries:
        if not text.strip():
            raise InputError("empty query text", record=str(qid))
    if mode == "hybrid":
        _require_fulltext(driver)
    vectors: Any = [None] * len(queries)
    if mode != "fulltext":
        if embedder is None:
            raise ConfigError(f"mode {mode} needs the query model (embedder)")
        vectors = embedder.encode([t for _, t in queries])
    out: list[tuple[str, list[Hit]]] = []
    for (qid, text), vector in zip(queries, vectors, strict=True):
        hits = _search_encoded(
            driver, vector, text, k=k, filters=filters, mode=mode, fusion=fusion,
            alpha=alpha, depth=depth, exact=exact,
        )
        out.append((qid, hits))
        if on_progress is not None:
            on_progress(1)
    return out


def read_queries(path: str | Path) -> list[tuple[str, str]]:
    """Queries from a text file: one a line, ``id<TAB>text`` or the text alone (its id is
    then the line number, from 1). Blank lines are skipped; ids must be unique."""
    p = Path(path)
    if not p.is_file():
        raise InputError("query file not found", file=str(p))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" in line:
            qid, text = (part.strip() for part in line.split("\t", 1))
        else:
            qid, text = str(n), line.strip()
        if not qid or not text:
            raise InputError(f"line {n}: expected id<TAB>text or text", file=str(p))
        if qid in seen:
            raise InputError(f"line {n}: duplicate query id {qid!r}", file=str(p))
        seen.add(qid)
        out.append((qid, text))
    return out
