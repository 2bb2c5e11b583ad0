"""Pairing strategies as graph jobs: named Cypher statements plus the Python glue between them.

Each strategy is a ``PairJob``: its label, its named statements (constants of
``pairing/queries.py``) and its parameters. ``generate_positives`` runs a positive job and
returns every candidate pair the graph yields; ``generate_negatives`` draws negatives for a
budget, proposing seeded candidates and letting the graph reject those that are linked.

Where Cypher is a poor fit the glue is Python, always on data a statement returned:
IDF weights from document frequencies, seeded sampling (Cypher's ``rand()`` cannot be
seeded), MeSH tree distances from tree numbers, and exact cosine ranks when no vector
index exists. ``Selector`` applies the rules every pair obeys: both articles in the same
split, no pair twice (a negative never repeats a positive), at most ``cap`` pairs per
article per strategy.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pubgraph.core.errors import PairingError
from pubgraph.graph.db import GraphDB, run_read
from pubgraph.pairing import queries as q
from pubgraph.pairing.config import (
    NEGATIVE_STRATEGIES,
    CitesParams,
    HardParams,
    MeshDistantParams,
    OverlapParams,
    RandomDistantParams,
    SharedMeshParams,
    StrategyParams,
    check_strategy,
)
from pubgraph.pairing.splits import SplitAssignment, derive_seed

#: Rows sent per ``UNWIND $pairs`` / ``UNWIND $anchors`` filter statement.
FILTER_BATCH = 2000
#: Anchor articles per transaction of the pairwise positive statements.
ANCHOR_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Statement:
    """One named Cypher statement of a job."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposed pair; ``source`` names the part of a strategy that proposed it."""

    pmid_a: str
    pmid_b: str
    score: float
    source: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """The unordered pair, as a sorted tuple."""
        return (
            (self.pmid_a, self.pmid_b) if self.pmid_a <= self.pmid_b else (self.pmid_b, self.pmid_a)
        )


@dataclass(frozen=True)
class PairJob:
    """A strategy as a graph job: label, named statements and parameters."""

    strategy: str
    label: int
    statements: tuple[Statement, ...]
    params: StrategyParams

    def statement(self, name: str) -> Statement:
        """The statement called ``name``."""
        for s in self.statements:
            if s.name == name:
                return s
        raise KeyError(f"{self.strategy} has no statement {name!r}")


def _s(name: str, query: str) -> Statement:
    return Statement(name, query)


def job_for(strategy: str, params: StrategyParams) -> PairJob:
    """The graph job of ``strategy`` with ``params`` (validated)."""
    check_strategy(strategy)
    params.validate()
    statements: tuple[Statement, ...]
    if strategy == "cites":
        statements = (_s("cites_pairs", q.CITES_PAIRS),)
    elif strategy == "co_citation":
        statements = (_s("co_citation_pairs", q.CO_CITATION_PAIRS),)
    elif strategy == "bib_coupling":
        statements = (_s("bib_coupling_pairs", q.BIB_COUPLING_PAIRS),)
    elif strategy == "shared_mesh":
        assert isinstance(params, SharedMeshParams)
        statements = (
            _s("mesh_article_count", q.MESH_ARTICLE_COUNT),
            _s("mesh_document_frequencies", q.MESH_DOCUMENT_FREQUENCIES),
            _s(
                "shared_mesh_pairs",
                q.SHARED_MESH_MAJOR_PAIRS if params.major_only else q.SHARED_MESH_PAIRS,
            ),
        )
    elif strategy == "random_distant":
        assert isinstance(params, RandomDistantParams)
        statements = (
            _s("mesh_article_count", q.MESH_ARTICLE_COUNT),
            _s("mesh_document_frequencies", q.MESH_DOCUMENT_FREQUENCIES),
            _s("no_path_within", q.no_path_within(params.max_hops)),
        )
    elif strategy == "mesh_distant":
        assert isinstance(params, MeshDistantParams)
        statements = (
            _s("mesh_hierarchy_loaded", q.MESH_HIERARCHY_LOADED),
            _s("mesh_article_count", q.MESH_ARTICLE_COUNT),
            _s("mesh_document_frequencies", q.MESH_DOCUMENT_FREQUENCIES),
            _s("article_tree_numbers", q.ARTICLE_TREE_NUMBERS),
            _s("no_path_within", q.no_path_within(params.max_hops)),
        )
    else:
        assert isinstance(params, HardParams)
        statements = (
            _s("mesh_hierarchy_loaded", q.MESH_HIERARCHY_LOADED),
            _s("major_branch_members", q.MAJOR_BRANCH_MEMBERS),
            _s("two_hop_candidates", q.TWO_HOP_CANDIDATES),
            _s("embedded_articles", q.EMBEDDED_ARTICLES),
            _s("article_vector_indexes", q.ARTICLE_VECTOR_INDEXES),
            _s("vector_neighbours", q.VECTOR_NEIGHBOURS),
            _s("article_embeddings", q.ARTICLE_EMBEDDINGS),
            _s("guard_direct", q.hard_guard(1)),
            _s("guard_vector", q.hard_guard(params.guard_hops)),
        )
    label = 0 if strategy in NEGATIVE_STRATEGIES else 1
    return PairJob(strategy, label, statements, params)


class StatementRunner:
    """Runs named read statements (managed transactions) and logs name, rows and seconds.

    ``read_anchored`` splits a ``$anchors`` list into batches run by ``workers`` threads,
    each batch in its own transaction (the driver is thread-safe; sessions are per call).
    """

    def __init__(
        self,
        driver: GraphDB,
        *,
        workers: int = 1,
        anchor_batch: int = ANCHOR_BATCH,
    ) -> None:
        self.driver = driver
        self.workers = max(1, workers)
        self.anchor_batch = max(1, anchor_batch)
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def read(self, statement: Statement, **params: Any) -> list[dict[str, Any]]:
        """Run ``statement`` with ``params``; returns its records as dicts."""
        start = time.perf_counter()
        rows = run_read(self.driver, statement.query, params)
        with self._lock:
            self.log.append(
                {
                    "statement": statement.name,
                    "rows": len(rows),
                    "seconds": round(time.perf_counter() - start, 4),
                }
            )
        return rows

    def read_anchored(
        self, statement: Statement, anchors: Sequence[str], **params: Any
    ) -> list[dict[str, Any]]:
        """Run ``statement`` over ``anchors`` in batches; rows in batch order."""
        batches = [
            list(anchors[i : i + self.anchor_batch])
            for i in range(0, len(anchors), self.anchor_batch)
        ]
        if self.workers == 1 or len(batches) < 2:
            parts = [self.read(statement, anchors=b, **params) for b in batches]
        else:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                parts = list(pool.map(lambda b: self.read(statement, anchors=b, **params), batches))
        return [row for part in parts for row in part]


@dataclass
class Selector:
    """The rules every kept pair obeys, with counts of what each rule dropped.

    ``taken`` maps every unordered pair already kept in the run to its label; it is shared
    by the strategies of one run, so a pair is kept once and a negative never repeats a
    positive (counted as ``conflict``).
    """

    strategy: str
    label: int
    splits: SplitAssignment
    cap: int
    taken: dict[tuple[str, str], int]
    per_article: Counter[str] = field(default_factory=Counter)
    stats: Counter[str] = field(default_factory=Counter)
    kept: list[Candidate] = field(default_factory=list)

    def reason(self, a: str, b: str) -> str | None:
        """Why the pair (a, b) cannot be kept now, or None."""
        if a == b:
            return "self_pair"
        split_a, split_b = self.splits.split_of.get(a), self.splits.split_of.get(b)
        if split_a is None or split_b is None:
            return "unassigned"
        if split_a != split_b:
            return "cross_split"
        key = (a, b) if a <= b else (b, a)
        label = self.taken.get(key)
        if label is not None:
            return "duplicate" if label == self.label else "conflict"
        if self.per_article[a] >= self.cap or self.per_article[b] >= self.cap:
            return "capped"
        return None

    def offer(self, c: Candidate) -> bool:
        """Keep ``c`` if the rules allow; count the reason otherwise."""
        why = self.reason(c.pmid_a, c.pmid_b)
        if why is not None:
            self.stats[why] += 1
            return False
        self.taken[c.key] = self.label
        self.per_article[c.pmid_a] += 1
        self.per_article[c.pmid_b] += 1
        self.kept.append(c)
        self.stats["kept"] += 1
        if c.source:
            self.stats[f"kept_{c.source}"] += 1
        return True


# --- positives --------------------------------------------------------------------------


def positive_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Best first (score descending), ties by PMIDs: the order caps are applied in."""
    return sorted(candidates, key=lambda c: (-c.score, c.pmid_a, c.pmid_b))


def idf_weights(n_articles: int, frequencies: Mapping[str, int], max_df: float) -> dict[str, float]:
    """``log(N / df)`` of each descriptor with 2 <= df <= max_df·N (others make no pairs)."""
    limit = max_df * n_articles
    return {
        ui: math.log(n_articles / df) for ui, df in sorted(frequencies.items()) if 2 <= df <= limit
    }


def _candidates(rows: Sequence[Mapping[str, Any]], source: str = "") -> list[Candidate]:
    return [Candidate(str(r["pmid_a"]), str(r["pmid_b"]), float(r["score"]), source) for r in rows]


def generate_positives(
    job: PairJob, runner: StatementRunner, anchors: Sequence[str]
) -> tuple[list[Candidate], dict[str, Any]]:
    """All candidate pairs of a positive job, best first; plus facts about the run.

    ``anchors`` are the text articles to start from (all of them, sorted): the pairwise
    statements run over them in batches."""
    p = job.params
    info: dict[str, Any] = {}
    if job.strategy == "cites":
        assert isinstance(p, CitesParams)
        rows = runner.read(job.statement("cites_pairs"))
    elif job.strategy in ("co_citation", "bib_coupling"):
        assert isinstance(p, OverlapParams)
        rows = runner.read_anchored(
            job.statement(f"{job.strategy}_pairs"), anchors, k=p.k, weight=p.weight
        )
    elif job.strategy == "shared_mesh":
        assert isinstance(p, SharedMeshParams)
        n = int(runner.read(job.statement("mesh_article_count"), major_only=p.major_only)[0]["n"])
        freq = {
            str(r["ui"]): int(r["df"])
            for r in runner.read(
                job.statement("mesh_document_frequencies"), major_only=p.major_only
            )
        }
        idf = idf_weights(n, freq, p.max_df)
        info.update(mesh_articles=n, descriptors=len(freq), eligible_descriptors=len(idf))
        rows = (
            runner.read_anchored(
                job.statement("shared_mesh_pairs"),
                anchors,
                idf=idf,
                k=p.k,
                min_idf=float(p.min_idf),
            )
            if idf
            else []
        )
    else:
        raise PairingError(f"{job.strategy} is not a positive strategy")
    return positive_order(_candidates(rows)), info


# --- MeSH tree distance -----------------------------------------------------------------


def tree_path(tree_number: str) -> tuple[str, ...]:
    """``A01.236.500`` → ``("A", "A01", "236", "500")``: the category letter is a level."""
    parts = tuple(p for p in tree_number.strip().split(".") if p)
    return (parts[0][:1], *parts) if parts else ()


def tree_distance(a: str | Sequence[str], b: str | Sequence[str]) -> int:
    """Hops between two tree numbers through their lowest common ancestor (one root above
    the category letters): ``A01.236.500`` ↔ ``A01.378`` = 3, ``A01`` ↔ ``C04`` = 4."""
    pa = tree_path(a) if isinstance(a, str) else tuple(a)
    pb = tree_path(b) if isinstance(b, str) else tuple(b)
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return (len(pa) - common) + (len(pb) - common)


def article_tree_distance(a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]) -> int | None:
    """Minimum tree distance over the descriptor tree numbers of two articles (None when
    either has none)."""
    if not a or not b:
        return None
    best: int | None = None
    for pa in a:
        for pb in b:
            d = tree_distance(pa, pb)
            if best is None or d < best:
                best = d
                if best == 0:
                    return 0
    return best


# --- negatives --------------------------------------------------------------------------


@dataclass
class NegativeContext:
    """What a negative job needs from the run: the split of every article, the anchors to
    draw negatives for (the first articles of the positives, or all articles), how many
    to keep, and the run's seed."""

    splits: SplitAssignment
    anchors: list[str]
    budget: int
    seed: int
    selector: Selector


Source = tuple[str, Iterator[Candidate], Statement, dict[str, Any]]


def _fill(
    runner: StatementRunner, ctx: NegativeContext, sources: list[Source], oversample: float
) -> None:
    """Take proposals round-robin from ``sources``; each chunk is checked by the selector,
    then by the source's graph statement, and survivors are kept until the budget is met."""
    sel = ctx.selector
    active = list(sources)
    while active and len(sel.kept) < ctx.budget:
        still: list[Source] = []
        for source in active:
            remaining = ctx.budget - len(sel.kept)
            if remaining <= 0:
                break
            name, proposals, statement, params = source
            want = max(16, min(FILTER_BATCH, math.ceil(remaining * oversample / len(active))))
            chunk: list[Candidate] = []
            exhausted = False
            seen: set[tuple[str, str]] = set()
            while len(chunk) < want:
                c = next(proposals, None)
                if c is None:
                    exhausted = True
                    break
                why = sel.reason(c.pmid_a, c.pmid_b)
                if why is None and c.key in seen:
                    why = "duplicate"
                if why is not None:
                    sel.stats[why] += 1
                    continue
                seen.add(c.key)
                chunk.append(c)
            if chunk:
                rows = runner.read(statement, pairs=[[c.pmid_a, c.pmid_b] for c in chunk], **params)
                ok = {(str(r["pmid_a"]), str(r["pmid_b"])) for r in rows}
                for c in chunk:
                    if (c.pmid_a, c.pmid_b) not in ok:
                        sel.stats[f"linked_{name}" if name else "linked"] += 1
                    elif len(sel.kept) < ctx.budget:
                        sel.offer(c)
            if not exhausted:
                still.append(source)
        active = still


def _split_pools(splits: SplitAssignment, members: Sequence[str]) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for pmid in sorted(members):
        s = splits.split_of.get(pmid)
        if s is not None:
            pools.setdefault(s, []).append(pmid)
    return pools


def random_proposals(
    anchors: Sequence[str],
    pools: Mapping[str, Sequence[str]],
    split_of: Mapping[str, str],
    rng: np.random.Generator,
    limit: int,
    score: Callable[[str, str], float | None] | None = None,
    source: str = "",
) -> Iterator[Candidate]:
    """Seeded proposals: anchors in a shuffled order, cycled, each with a uniformly drawn
    partner from the anchor's split; ``score`` may reject (None) or score a proposal.
    Stops after ``limit`` draws."""
    usable = [a for a in anchors if len(pools.get(split_of.get(a, ""), ())) > 1]
    if not usable:
        return
    order = [usable[i] for i in rng.permutation(len(usable))]
    drawn = 0
    while drawn < limit:
        for a in order:
            pool = pools[split_of[a]]
            b = pool[int(rng.integers(len(pool)))]
            drawn += 1
            s = 0.0 if score is None else score(a, b)
            if s is not None and b != a:
                yield Candidate(a, b, float(s), source)
            if drawn >= limit:
                return


def hierarchy_loaded(runner: StatementRunner, statement: Statement) -> bool:
    """True when MeshTerm nodes carry tree numbers (``pubgraph graph load-mesh`` ran)."""
    row = runner.read(statement)[0]
    return int(row["with_tree_numbers"]) > 0


def _excluded_descriptors(
    runner: StatementRunner, job: PairJob, major_only: bool, max_df: float
) -> tuple[list[str], int]:
    n = int(runner.read(job.statement("mesh_article_count"), major_only=major_only)[0]["n"])
    rows = runner.read(job.statement("mesh_document_frequencies"), major_only=major_only)
    excluded = [str(r["ui"]) for r in rows if int(r["df"]) > max_df * n]
    return excluded, n


def generate_negatives(
    job: PairJob, runner: StatementRunner, ctx: NegativeContext
) -> dict[str, Any]:
    """Keep up to ``ctx.budget`` negatives of ``job`` in ``ctx.selector``; returns facts."""
    info: dict[str, Any] = {"budget": ctx.budget}
    if ctx.budget <= 0:
        return info
    rng = np.random.default_rng(derive_seed(ctx.seed, job.strategy))
    p = job.params
    split_of = ctx.splits.split_of
    if job.strategy == "random_distant":
        assert isinstance(p, RandomDistantParams)
        excluded: list[str] = []
        if p.max_df < 1.0:
            excluded, _ = _excluded_descriptors(runner, job, False, p.max_df)
            info["excluded_descriptors"] = len(excluded)
        pools = _split_pools(ctx.splits, list(split_of))
        limit = math.ceil(ctx.budget * p.oversample * 10) + 100
        proposals = random_proposals(ctx.anchors, pools, split_of, rng, limit)
        _fill(
            runner,
            ctx,
            [("", proposals, job.statement("no_path_within"), {"excluded": excluded})],
            p.oversample,
        )
    elif job.strategy == "mesh_distant":
        assert isinstance(p, MeshDistantParams)
        if not hierarchy_loaded(runner, job.statement("mesh_hierarchy_loaded")):
            raise PairingError(
                "mesh_distant needs the MeSH hierarchy (MeshTerm.tree_numbers / BROADER), "
                "which is not loaded: run `pubgraph graph load-mesh` first"
            )
        excluded, _ = _excluded_descriptors(runner, job, p.major_only, p.max_df)
        rows = runner.read(
            job.statement("article_tree_numbers"), excluded=excluded, major_only=p.major_only
        )
        trees = {
            str(r["pmid"]): tuple(sorted({tree_path(t) for t in r["tree_numbers"]})) for r in rows
        }
        info.update(articles_with_tree_numbers=len(trees), excluded_descriptors=len(excluded))
        pools = _split_pools(ctx.splits, list(trees))
        anchors = [a for a in ctx.anchors if a in trees] or sorted(trees)

        def distance(a: str, b: str) -> float | None:
            d = article_tree_distance(trees[a], trees[b])
            return float(d) if d is not None and d >= p.min_distance else None

        limit = math.ceil(ctx.budget * p.oversample * 10) + 100
        proposals = random_proposals(anchors, pools, split_of, rng, limit, distance)
        _fill(
            runner,
            ctx,
            [("", proposals, job.statement("no_path_within"), {"excluded": excluded})],
            p.oversample,
        )
    elif job.strategy == "hard":
        assert isinstance(p, HardParams)
        info.update(_hard(job, p, runner, ctx, rng))
    else:
        raise PairingError(f"{job.strategy} is not a negative strategy")
    return info


def _hard(
    job: PairJob,
    p: HardParams,
    runner: StatementRunner,
    ctx: NegativeContext,
    rng: np.random.Generator,
) -> dict[str, Any]:
    info: dict[str, Any] = {}
    split_of = ctx.splits.split_of
    distinct: list[str] = list(dict.fromkeys(a for a in ctx.anchors if a in split_of))
    anchors = [distinct[i] for i in rng.permutation(len(distinct))]
    sources: list[Source] = []
    direct = job.statement("guard_direct")
    guard = {"guard_major_k": p.guard_major_k}

    if p.branch:
        if hierarchy_loaded(runner, job.statement("mesh_hierarchy_loaded")):
            rows = runner.read(job.statement("major_branch_members"))
            branches_of: dict[str, list[str]] = {}
            pools: dict[tuple[str, str], list[str]] = {}
            for r in rows:
                branch = str(r["branch"])
                for pmid in sorted(str(m) for m in r["members"]):
                    s = split_of.get(pmid)
                    if s is None:
                        continue
                    branches_of.setdefault(pmid, []).append(branch)
                    pools.setdefault((branch, s), []).append(pmid)
            info["branches"] = len(rows)
            sources.append(
                (
                    "branch",
                    _branch_proposals(
                        anchors, branches_of, pools, split_of, rng, limit=ctx.budget * 20 + 100
                    ),
                    direct,
                    guard,
                )
            )
        else:
            info["branch"] = "skipped: MeSH hierarchy not loaded (pubgraph graph load-mesh)"
    if p.two_hop:
        found: list[Candidate] = []
        for i in range(0, len(distinct), FILTER_BATCH):
            rows = runner.read(
                job.statement("two_hop_candidates"), anchors=distinct[i : i + FILTER_BATCH]
            )
            found.extend(_candidates(rows, "two_hop"))
        info["two_hop_candidates"] = len(found)
        shuffled = [found[i] for i in rng.permutation(len(found))]
        sources.append(("two_hop", iter(shuffled), direct, guard))
    if p.vector != "off":
        vec = _vector_source(job, p, runner, anchors, rng, split_of)
        if isinstance(vec, str):
            info["vector"] = vec
        else:
            info["vector"] = vec[0]
            sources.append(("vector", vec[1], job.statement("guard_vector"), guard))
    _fill(runner, ctx, sources, oversample=2.0)
    return info


def _branch_proposals(
    anchors: Sequence[str],
    branches_of: Mapping[str, Sequence[str]],
    pools: Mapping[tuple[str, str], Sequence[str]],
    split_of: Mapping[str, str],
    rng: np.random.Generator,
    limit: int,
) -> Iterator[Candidate]:
    usable = [a for a in anchors if a in branches_of]
    drawn = 0
    while usable and drawn < limit:
        for a in usable:
            branches = branches_of[a]
            branch = branches[int(rng.integers(len(branches)))]
            pool = pools[(branch, split_of[a])]
            b = pool[int(rng.integers(len(pool)))]
            drawn += 1
            if b != a:
                shared = len(set(branches) & set(branches_of[b]))
                yield Candidate(a, b, float(shared), "branch")
            if drawn >= limit:
                return


def rank_band(neighbours: Sequence[tuple[str, float]], lo: int, hi: int) -> list[tuple[str, float]]:
    """Neighbours ranked ``lo..hi`` (1 = nearest), ordered by score descending then PMID."""
    ranked = sorted(neighbours, key=lambda x: (-x[1], x[0]))
    return ranked[lo - 1 : hi]


def _vector_source(
    job: PairJob,
    p: HardParams,
    runner: StatementRunner,
    anchors: Sequence[str],
    rng: np.random.Generator,
    split_of: Mapping[str, str],
) -> str | tuple[str, Iterator[Candidate]]:
    """The vector-near source: ``(mode, proposals)``, or why it is not used."""
    lo, hi = p.rank_band
    if int(runner.read(job.statement("embedded_articles"))[0]["n"]) == 0:
        return "skipped: no article has an embedding"
    index_name: str | None = None
    # The index ranks over the whole corpus and cannot restrict to a split, so ranking
    # within the anchor's split is exact cosine unless the index is asked for by name.
    if p.vector == "index" or (p.vector == "auto" and not p.within_split):
        online = [
            r
            for r in runner.read(job.statement("article_vector_indexes"))
            if r["state"] == "ONLINE"
        ]
        if online:
            index_name = str(online[0]["name"])
        elif p.vector == "index":
            raise PairingError(
                "hard: vector='index' but no ONLINE vector index on Article.embedding exists"
            )
    if index_name is not None:
        return f"index {index_name}", _index_band(job, runner, anchors, index_name, lo, hi, rng)
    rows = runner.read(job.statement("article_embeddings"))
    pmids = [str(r["pmid"]) for r in rows]
    raw = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    matrix = (raw / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    if p.within_split:
        return "exact within split", _exact_band(pmids, matrix, anchors, lo, hi, rng, split_of)
    return "exact", _exact_band(pmids, matrix, anchors, lo, hi, rng)


def _pick(
    band: Sequence[tuple[str, float]], a: str, rng: np.random.Generator
) -> Iterator[Candidate]:
    # Two draws per anchor: the second stands in when the guard rejects the first.
    if not band:
        return
    for i in rng.permutation(len(band))[:2]:
        pmid, score = band[int(i)]
        yield Candidate(a, pmid, float(score), "vector")


def _index_band(
    job: PairJob,
    runner: StatementRunner,
    anchors: Sequence[str],
    index: str,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    batch: int = 100,
) -> Iterator[Candidate]:
    for i in range(0, len(anchors), batch):
        part = list(anchors[i : i + batch])
        rows = runner.read(
            job.statement("vector_neighbours"), anchors=part, index=index, top_k=hi + 1
        )
        by_anchor: dict[str, list[tuple[str, float]]] = {}
        for r in rows:
            by_anchor.setdefault(str(r["pmid_a"]), []).append((str(r["pmid_b"]), float(r["score"])))
        for a in part:
            yield from _pick(rank_band(by_anchor.get(a, []), lo, hi), a, rng)


def _exact_band(
    pmids: Sequence[str],
    matrix: np.ndarray[Any, Any],
    anchors: Sequence[str],
    lo: int,
    hi: int,
    rng: np.random.Generator,
    split_of: Mapping[str, str] | None = None,
    batch: int = 256,
) -> Iterator[Candidate]:
    """Rank bands by exact cosine, over all ``pmids`` or (with ``split_of``) over the
    articles of each anchor's own split; anchors keep their order."""
    if split_of is None:
        groups = {"": list(range(len(pmids)))}
    else:
        groups = {}
        for j, pmid in enumerate(pmids):
            s = split_of.get(pmid)
            if s is not None:
                groups.setdefault(s, []).append(j)
    group_of = {pmids[j]: g for g, cols in groups.items() for j in cols}
    columns = {g: np.asarray(cols) for g, cols in groups.items()}
    # One copy of each split's rows (the vectors once more in all), not one per batch;
    # none without splits.
    blocks = {
        g: matrix if split_of is None else np.ascontiguousarray(matrix[cols])
        for g, cols in columns.items()
    }
    index = {p: i for i, p in enumerate(pmids)}
    usable = [a for a in anchors if a in group_of]
    for i in range(0, len(usable), batch):
        part = usable[i : i + batch]
        found: dict[str, list[tuple[str, float]]] = {}
        for g in dict.fromkeys(group_of[a] for a in part):
            members = [a for a in part if group_of[a] == g]
            cols = columns[g]
            k = min(hi + 1, len(cols))
            sims = matrix[[index[a] for a in members]] @ blocks[g].T
            for row, a in zip(sims, members, strict=True):
                top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
                found[a] = [(pmids[cols[j]], float(row[j])) for j in top if pmids[cols[j]] != a]
        for a in part:
            yield from _pick(rank_band(found[a], lo, hi), a, rng)
