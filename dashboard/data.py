"""The pages' reads: the packages' own query functions, checked and cached.

Each ``require_*`` raises :class:`NeedsCommand` naming what to run when the graph lacks
what a page needs (articles, vectors, an analysis run). No Cypher here: graph reads come
from ``pubgraph.graph``, vectors from ``pubgraph.embeddings``, topics from
``pubgraph.analysis``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pubgraph.dashboard.context import DashboardContext, NeedsCommand

if TYPE_CHECKING:
    from pubgraph.embeddings.search import VectorStatus
    from pubgraph.graph.db import GraphDB

_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pubgraph-dashboard")


def pool() -> ThreadPoolExecutor:
    """Threads for a page's independent reads (each read opens its own session)."""
    return _POOL


LOAD_COMMAND = "pubgraph ingest sample   (or: pubgraph graph load records.parquet)"
EMBED_COMMAND = "pubgraph embed"
ANALYSIS_COMMAND = "pubgraph analyze run"


def node_counts(ctx: DashboardContext) -> dict[str, int]:
    """Node counts by label (Neo4j's count store: cheap)."""
    from pubgraph.graph.schema import graph_counts

    db = ctx.db()
    counts: dict[str, int] = ctx.cached("node_counts", lambda: graph_counts(db)["nodes"], 10.0)
    return counts


def require_articles(ctx: DashboardContext) -> GraphDB:
    """The handle, or NeedsCommand when the graph holds no article."""
    if node_counts(ctx).get("Article", 0) == 0:
        raise NeedsCommand(
            "The graph holds no articles yet. Load a corpus first.",
            LOAD_COMMAND,
            "The graph is empty",
        )
    return ctx.db()


def vector_status(ctx: DashboardContext) -> VectorStatus:
    from pubgraph.embeddings.search import cached_vector_status

    return cached_vector_status(ctx.db())


def has_vectors(ctx: DashboardContext) -> bool:
    return vector_status(ctx).vectors > 0


def require_vectors(ctx: DashboardContext) -> GraphDB:
    """The handle, or NeedsCommand when there are no articles or no vectors."""
    db = require_articles(ctx)
    if not has_vectors(ctx):
        raise NeedsCommand(
            "The articles have no vectors yet, so search and similar articles cannot run.",
            EMBED_COMMAND,
            "No vectors",
        )
    return db


def year_range(ctx: DashboardContext) -> tuple[int, int] | None:
    from pubgraph.graph.articles import year_range as yr

    db = ctx.db()
    return ctx.cached("year_range", lambda: yr(db))


# --- analysis -----------------------------------------------------------------------------


def analysis_read() -> Any:
    """``pubgraph.analysis.read``; NeedsCommand when this installation lacks it."""
    try:
        from pubgraph.analysis import read
    except ImportError:
        raise NeedsCommand(
            "This installation has no analysis package (topics, trends, map).",
            "pip install -e .   (a pubgraph with pubgraph.analysis.read)",
            "No analysis package",
        ) from None
    return read


def analysis_runs(ctx: DashboardContext) -> Any:
    """The analysis runs (a DataFrame or list, as ``analysis.read.list_runs`` returns)."""
    read = analysis_read()
    db = ctx.db()
    return ctx.cached("analysis_runs", lambda: read.list_runs(db), 15.0)


def run_id(ctx: DashboardContext) -> str:
    """The pinned analysis run, else the latest; NeedsCommand when there is none."""
    require_articles(ctx)
    if ctx.analysis_run:
        return ctx.analysis_run
    read = analysis_read()
    db = ctx.db()
    latest = ctx.cached("latest_run", lambda: read.latest_run(db), 15.0)
    if latest is None:
        raise NeedsCommand(
            "No analysis run in the graph yet: topics, trends and the map come from one.",
            ANALYSIS_COMMAND,
            "No analysis run",
        )
    return str(latest)


PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


def topic_colour(topic: int) -> str:
    """A stable colour per topic id (the outlier topic -1 is grey)."""
    if topic < 0:
        return "#c7c7c7"
    return PALETTE[topic % len(PALETTE)]


def topics_of(ctx: DashboardContext, pmids: list[str]) -> dict[str, tuple[int, str, str]]:
    """``pmid -> (topic, label, colour)`` in the analysis run; empty without a run.

    One lookup in the run's cached map points (pmid -> topic) instead of a query per pmid.
    """
    try:
        run = run_id(ctx)
    except NeedsCommand:
        return {}

    def index() -> dict[str, tuple[int, str]]:
        pts = map_points(ctx, run)
        return {str(p): (int(t), str(lab)) for p, t, lab in
                zip(pts["pmid"], pts["topic"], pts["label"], strict=True)}

    by_pmid = ctx.cached(("topic_index", run), index, 600.0)
    out: dict[str, tuple[int, str, str]] = {}
    for pmid in pmids:
        hit = by_pmid.get(str(pmid))
        if hit is not None:
            out[str(pmid)] = (hit[0], hit[1], topic_colour(hit[0]))
    return out


def run_summary(ctx: DashboardContext, run: str) -> dict[str, Any]:
    """The run's properties (``n_articles``, ``trend_method``, ...), or {}."""
    read = analysis_read()
    db = ctx.db()
    info = ctx.cached(("run_info", run), lambda: read.run_info(db, run)) if hasattr(
        read, "run_info") else None
    return dict(info or {})


def topics(ctx: DashboardContext, run: str) -> Any:
    """The run's topics (DataFrame: topic, label, size, trend, trend_method, q, effect)."""
    read = analysis_read()
    db = ctx.db()
    return ctx.cached(("topics", run), lambda: read.topics(db, run))


def topic_year_counts(ctx: DashboardContext, run: str) -> Any:
    read = analysis_read()
    db = ctx.db()
    return ctx.cached(("topic_years", run), lambda: read.topic_year_counts(db, run))


def map_points(ctx: DashboardContext, run: str) -> Any:
    """Every mapped article of the run (cached: a run never changes); pages filter years."""
    read = analysis_read()
    db = ctx.db()
    return ctx.cached(("map", run), lambda: read.map_points(db, run), 600.0)


def topic_detail(ctx: DashboardContext, run: str, topic: int) -> Any:
    """``analysis.read.topic_detail`` (cached per run and topic), or None."""
    read = analysis_read()
    db = ctx.db()
    # Runs are immutable snapshots: kept as long as the run's figures (see pages/map.py).
    return ctx.cached(("topic", run, topic), lambda: read.topic_detail(db, run, topic), 600.0)


def analysis_figures() -> Any:
    """``pubgraph.analysis.figures`` (the pure DataFrame -> figure functions)."""
    analysis_read()
    from pubgraph.analysis import figures

    return figures
