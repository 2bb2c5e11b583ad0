"""``pubgraph embed``, ``pubgraph search ...`` and ``pubgraph embeddings export``.

Heavy imports (torch, sentence-transformers, pyarrow) happen inside the commands so that
``pubgraph --help`` stays fast.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:

    from pubgraph.embeddings.embed import Embedder
    from pubgraph.embeddings.search import Filters
    from pubgraph.graph.db import GraphDB

console = Console()
err = Console(stderr=True)

search_app = typer.Typer(
    help="Query the articles by meaning, combined with the citation graph and MeSH.",
    no_args_is_help=True,
)
embeddings_app = typer.Typer(help="Work with the stored article embeddings.", no_args_is_help=True)

_MODEL_HELP = (
    "Model directory (e.g. a trained model from `pubgraph train`) or a name resolve_model "
    "knows (sentence-transformers/all-MiniLM-L6-v2 maps to the bundled offline copy)."
)


def _quiet_loading() -> None:
    """No per-weight progress bars from transformers while a model loads."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _connect() -> GraphDB:
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    return connect(get_settings())


# --- embed ----------------------------------------------------------------------------------


def embed(
    model: str = typer.Option(
        None, "--model", "-m", help=_MODEL_HELP + " Default: PUBGRAPH_BASE_MODEL."
    ),
    batch: int = typer.Option(32, "--batch", min=1, help="Texts per forward pass."),
    chunk: int = typer.Option(
        512, "--chunk", min=1, help="Texts per write-back transaction (a crash loses <= 1)."
    ),
    text: str = typer.Option(
        "title+abstract", "--text", help="What to encode: title+abstract, title or abstract."
    ),
    limit: int = typer.Option(
        None, "--limit", min=0, help="Encode at most N pending articles in this run."
    ),
    max_seq_length: int = typer.Option(
        None, "--max-seq-length", min=8, help="Truncate texts to N tokens (default: model's)."
    ),
    device: str = typer.Option(None, "--device", help="torch device (default: settings/auto)."),
    precision: str = typer.Option(
        "auto", "--precision",
        help="auto (bf16 where the CPU computes it natively, else fp32), fp32 or bf16. "
        "Part of the model id: switching re-encodes every article.",
    ),
    no_overlap: bool = typer.Option(
        False, "--no-overlap", help="Write each chunk before encoding the next (slower)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Encode every article with text and store normalised vectors plus a vector index.

    Re-runs encode only missing or stale vectors (another model or precision, or changed
    text).

    Example: pubgraph embed --model runs/train/pubgraph-minilm --limit 2000 --precision auto
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from pubgraph.core.contracts import TEXT_MODES
    from pubgraph.core.errors import ConfigError
    from pubgraph.core.models import check_device
    from pubgraph.core.settings import get_settings
    from pubgraph.embeddings.embed import Embedder, EmbedPlan, embed_articles

    if text not in TEXT_MODES:
        raise ConfigError(f"--text must be one of {', '.join(TEXT_MODES)}, not {text!r}")
    settings = get_settings()
    name = model or settings.base_model
    _quiet_loading()
    with console.status(f"loading model {name} ..."):
        embedder = Embedder.load(
            name,
            max_seq_length=max_seq_length,
            batch_size=batch,
            device=check_device(device, "--device") or check_device(settings.device),
            precision=precision,
        )
    info = embedder.info
    console.print(
        f"model {info.id} ({info.dimension} dimensions, max_seq_length {info.max_seq_length})"
    )
    bar = Progress(
        TextColumn("[bold]embed"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} docs/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not progress,
    )
    task = bar.add_task("embed", total=None, rate="-")

    def on_plan(plan: EmbedPlan) -> None:
        todo = len(plan.pending) if limit is None else min(limit, len(plan.pending))
        bar.update(task, total=todo)

    def on_progress(n: int) -> None:
        bar.advance(task, n)
        t = bar.tasks[0]
        if t.elapsed:
            bar.update(task, rate=f"{t.completed / t.elapsed:.1f}")

    with _connect() as driver, bar:
        summary = embed_articles(
            driver,
            embedder,
            text_mode=text,
            chunk_size=chunk,
            limit=limit,
            overlap=not no_overlap,
            on_plan=on_plan,
            on_progress=on_progress,
        )
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    console.print(summary.index_message)
    table = Table(title="pubgraph embed")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("articles with text", f"{summary.with_text:,}"),
        ("already up to date", f"{summary.up_to_date:,}"),
        ("missing vectors", f"{summary.missing:,}"),
        ("stale (other model)", f"{summary.stale_model:,}"),
        ("stale (text changed)", f"{summary.stale_text:,}"),
        ("encoded this run", f"{summary.encoded:,}"),
        ("written this run", f"{summary.written:,}"),
        ("vectors cleared (no text)", f"{summary.cleared:,}"),
        ("seconds", f"{summary.seconds:.1f}"),
        ("docs/s", f"{summary.docs_per_second:.1f}"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    left = summary.missing + summary.stale_model + summary.stale_text - summary.written
    if left > 0:
        console.print(f"{left:,} articles still pending: run `pubgraph embed` again to continue")


# --- search ---------------------------------------------------------------------------------


def _filters(
    min_year: int | None, max_year: int | None, mesh: str | None, journal: str | None
) -> Filters:
    from pubgraph.embeddings.search import Filters

    return Filters(min_year=min_year, max_year=max_year, mesh=mesh, journal=journal)


def _exact(mode: str) -> bool | None:
    from pubgraph.core.errors import ConfigError

    modes = {"auto": None, "exact": True, "index": False}
    if mode not in modes:
        raise ConfigError(f"--mode must be auto, exact or index, not {mode!r}")
    return modes[mode]


def _print_hits(title: str, hits: list[Any], as_json: bool, extra: tuple[str, ...] = ()) -> None:
    if as_json:
        typer.echo(json.dumps([asdict(h) for h in hits], indent=2))
        return
    table = Table(title=title)
    for col in ("#", "pmid", "score", *extra, "year", "title"):
        table.add_column(col, justify="right" if col in {"#", "score", "year"} else "left")
    for i, h in enumerate(hits, 1):
        cells = [
            str(getattr(h, c)) if not isinstance(getattr(h, c), float) else f"{getattr(h, c):.3f}"
            for c in extra
        ]
        title_text = (h.title or "")[:90]
        table.add_row(str(i), h.pmid, f"{h.score:.3f}", *cells, str(h.year or ""), title_text)
    console.print(table)
    if not hits:
        console.print("no results")


def _query_embedder(driver: GraphDB, model: str | None) -> Embedder:
    """The model for query texts: --model, else the one recorded with the stored vectors."""
    from pubgraph.core.errors import ConfigError
    from pubgraph.embeddings.embed import Embedder, current_model, stored_model_embedder

    stored = current_model(driver)
    _quiet_loading()
    if model is None:
        try:
            embedder = stored_model_embedder(driver)
        except ConfigError as exc:
            raise ConfigError(str(exc), "--model") from None
    else:
        embedder = Embedder.load(model)
    if embedder.info.dimension != stored.dimension:
        raise ConfigError(
            f"model {embedder.info.id} makes {embedder.info.dimension}-dimensional vectors but "
            f"the stored ones ({stored.id}) have {stored.dimension}",
            "--model",
        )
    if embedder.info.id != stored.id:
        err.print(f"note: query model {embedder.info.id} differs from the vectors' {stored.id}")
    return embedder


_K = typer.Option(10, "-k", "--top", min=1, help="How many results.")
_JSON = typer.Option(False, "--json", help="Print JSON rows.")
_MODE = typer.Option("auto", "--mode", help="auto (index when >= 1,000 vectors), exact or index.")
_MIN_YEAR = typer.Option(None, "--from-year", help="Only articles published in or after.")
_MAX_YEAR = typer.Option(None, "--to-year", help="Only articles published in or before.")
_MESH = typer.Option(
    None, "--mesh", help="MeSH descriptor UI or name; narrower descriptors count too."
)
_JOURNAL = typer.Option(None, "--journal", help="Journal id, ISSN, title or ISO abbreviation.")


_INDEX = typer.Option(
    "auto", "--index", help="Vector scoring: auto (index when >= 1,000 vectors), exact or index."
)


_QUERIES = typer.Option(
    None,
    "--queries",
    help="Batch: a file with one query a line (id<TAB>text, or text numbered by line); "
    "writes one JSON line per query: {id, hits: [{pmid, score}]}.",
)


def _hit_rows(hits: list[Any]) -> list[dict[str, Any]]:
    return [{"pmid": h.pmid, "score": h.score} for h in hits]


@search_app.command("text")
def search_text_cmd(
    query: str = typer.Argument(None, help="Free text to search for (or --queries FILE)."),
    queries: str = _QUERIES,
    k: int = _K,
    min_year: int = _MIN_YEAR,
    max_year: int = _MAX_YEAR,
    mesh: str = _MESH,
    journal: str = _JOURNAL,
    model: str = typer.Option(None, "--model", "-m", help="Query model (default: the vectors')."),
    mode: str = typer.Option(
        "hybrid",
        "--mode",
        help="hybrid (vector + BM25 full-text, fused), vector (cosine) or fulltext (BM25).",
    ),
    fusion: str = typer.Option(
        "minmax",
        "--fusion",
        help="hybrid: minmax (min-max normalised scores, default), rrf (reciprocal-rank "
        "fusion) or weighted (scores / max).",
    ),
    alpha: float = typer.Option(
        0.6, "--alpha", min=0.0, max=1.0, help="hybrid: weight of the vector list (0.5: equal)."
    ),
    index: str = _INDEX,
    as_json: bool = _JSON,
) -> None:
    """Free text to the top-k articles (hybrid by default), with year/MeSH/journal filters.

    Examples:

      pubgraph search text "amyloid beta clearance" -k 5

      pubgraph search text "tau: (PET)" --mode fulltext --from-year 2015

      pubgraph search text --queries questions.tsv -k 10 --json > hits.jsonl
    """
    from pubgraph.core.errors import ConfigError
    from pubgraph.embeddings.search import read_queries, search_batch, search_hybrid

    if (query is None) == (queries is None):
        raise ConfigError("give either a QUERY or --queries FILE")
    filters = _filters(min_year, max_year, mesh, journal)
    batch = read_queries(queries) if queries is not None else None
    with _connect() as driver:
        embedder = None if mode == "fulltext" else _query_embedder(driver, model)
        if batch is not None:
            results = search_batch(
                driver, embedder, batch, k=k, filters=filters, mode=mode, fusion=fusion,
                alpha=alpha, exact=_exact(index),
            )
        else:
            hits = search_hybrid(
                driver, embedder, query, k=k, filters=filters, mode=mode, fusion=fusion,
                alpha=alpha, exact=_exact(index),
            )
    if batch is not None:
        if not as_json:
            for qid, hits in results:
                _print_hits(f"{qid}: {dict(batch)[qid][:60]}", hits, False)
            return
        for qid, hits in results:
            typer.echo(json.dumps({"id": qid, "hits": _hit_rows(hits)}))
        return
    _print_hits(f"search ({mode}): {query[:60]}", hits, as_json)


_METHOD = typer.Option(
    "graph",
    "--method",
    help="graph (vector neighbours + the citation graph around them, learned ranker) or "
    "vector (cosine only).",
)
_RANKER = typer.Option(
    None, "--ranker", help="Ranker JSON for --method graph (default: the shipped one)."
)


def _check_method(method: str) -> None:
    from pubgraph.core.errors import ConfigError

    if method not in ("graph", "vector"):
        raise ConfigError(f"--method must be graph or vector, not {method!r}")


@search_app.command("similar")
def similar_cmd(
    pmid: str = typer.Argument(..., help="PMID of the query article."),
    k: int = _K,
    min_year: int = _MIN_YEAR,
    max_year: int = _MAX_YEAR,
    mesh: str = _MESH,
    journal: str = _JOURNAL,
    method: str = _METHOD,
    ranker: str = _RANKER,
    mode: str = _MODE,
    as_json: bool = _JSON,
) -> None:
    """Related articles (itself excluded): graph-aware by default, or nearest by cosine.

    The graph-aware ranking never reads the article's own citations, so a new article
    whose references are unknown is ranked the same way.

    Example: pubgraph search similar 12345678 -k 5 --method vector
    """
    _check_method(method)
    filters = _filters(min_year, max_year, mesh, journal)
    with _connect() as driver:
        if method == "graph":
            from pubgraph.embeddings.related import load_ranker, related

            hits: list[Any] = related(
                driver, pmid, k=k, filters=filters, ranker=load_ranker(ranker),
                exact=_exact(mode),
            )
        else:
            from pubgraph.embeddings.search import similar

            hits = similar(driver, pmid, k=k, filters=filters, exact=_exact(mode))
    _print_hits(
        f"similar to {pmid} ({method})", hits, as_json,
        extra=("cosine",) if method == "graph" else (),
    )


@search_app.command("cited-neighbours")
def cited_neighbours_cmd(
    pmid: str = typer.Argument(..., help="PMID of the query article."),
    hops: int = typer.Option(2, "--hops", min=1, max=3, help="Undirected CITES hops (1-3)."),
    k: int = _K,
    as_json: bool = _JSON,
) -> None:
    """Articles within N citation hops (either direction), ranked by similarity.

    Example: pubgraph search cited-neighbours 12345678
    """
    from pubgraph.embeddings.search import cited_neighbours

    with _connect() as driver:
        hits = cited_neighbours(driver, pmid, hops=hops, k=k)
    _print_hits(f"within {hops} citation hops of {pmid}", hits, as_json, extra=("hops",))


@search_app.command("recommend")
def recommend_cmd(
    pmid: str = typer.Argument(..., help="PMID of the query article."),
    k: int = _K,
    min_year: int = _MIN_YEAR,
    max_year: int = _MAX_YEAR,
    mesh: str = _MESH,
    journal: str = _JOURNAL,
    method: str = _METHOD,
    ranker: str = _RANKER,
    mode: str = _MODE,
    as_json: bool = _JSON,
) -> None:
    """Similar but not cited: related, and not one citation hop away.

    Example: pubgraph search recommend 12345678 --top 10
    """
    _check_method(method)
    filters = _filters(min_year, max_year, mesh, journal)
    with _connect() as driver:
        if method == "graph":
            from pubgraph.embeddings.related import load_ranker, related

            hits: list[Any] = related(
                driver, pmid, k=k, filters=filters, ranker=load_ranker(ranker),
                not_cited=True, exact=_exact(mode),
            )
        else:
            from pubgraph.embeddings.search import recommend

            hits = recommend(driver, pmid, k=k, filters=filters, exact=_exact(mode))
    _print_hits(f"similar to {pmid}, not cited ({method})", hits, as_json)


@search_app.command("blended")
def blended_cmd(
    pmid: str = typer.Argument(..., help="PMID of the query article."),
    alpha: float = typer.Option(
        0.5, "--alpha", min=0.0, max=1.0, help="Weight of cosine (1 - alpha: link count)."
    ),
    relation: str = typer.Option(
        "cocitation", "--relation", help="cocitation (cited together) or coupling (shared refs)."
    ),
    k: int = _K,
    mode: str = _MODE,
    as_json: bool = _JSON,
) -> None:
    """Blend similarity with co-citation: alpha*cosine + (1-alpha)*normalised count.

    Example: pubgraph search blended 12345678
    """
    from pubgraph.embeddings.search import blended

    with _connect() as driver:
        hits = blended(driver, pmid, alpha=alpha, k=k, relation=relation, exact=_exact(mode))
    _print_hits(
        f"blended ({relation}, alpha={alpha}) for {pmid}",
        hits,
        as_json,
        extra=("cosine", "links"),
    )


@search_app.command("explain")
def explain_cmd(
    pmid: str = typer.Argument(..., help="PMID of the query article."),
    other: str = typer.Argument(..., help="PMID of a result to explain."),
    max_paths: int = typer.Option(10, "--max-paths", min=1, help="Citation paths to list."),
    ranker: str = _RANKER,
    as_json: bool = _JSON,
) -> None:
    """Why two articles relate: cosine, shared MeSH terms, citation paths (<= 3 hops), and
    each feature's contribution to the graph-aware score of `search similar`.

    Example: pubgraph search explain 12345678 23456789
    """
    from pubgraph.embeddings.related import explain_related, load_ranker
    from pubgraph.embeddings.search import explain

    with _connect() as driver:
        e = explain(driver, pmid, other, max_paths=max_paths)
        g = explain_related(driver, pmid, other, ranker=load_ranker(ranker))
    if as_json:
        out = asdict(e)
        out["paths"] = [{**asdict(p), "rendered": p.render()} for p in e.paths]
        out["ranker"] = asdict(g)
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(f"[bold]{e.pmid}[/bold] {e.title or ''}")
    console.print(f"[bold]{e.other}[/bold] {e.other_title or ''}")
    cos = "n/a (no vector)" if e.cosine is None else f"{e.cosine:.3f}"
    console.print(
        f"cosine {cos}; co-cited by {e.cocitations}; shared references {e.shared_references}"
    )
    if e.shared_mesh:
        names = ", ".join(
            f"{m.name or m.ui}{'*' if m.major_in_both else ''}" for m in e.shared_mesh
        )
        console.print(f"shared MeSH ({len(e.shared_mesh)}; * = major in both): {names}")
    else:
        console.print("no shared MeSH terms")
    if e.paths:
        console.print(f"citation paths (length {e.paths[0].length}):")
        for p in e.paths:
            console.print(f"  {p.render()}")
    else:
        console.print("no citation path of length <= 3")
    _print_contributions(g)


def _print_contributions(g: Any) -> None:
    if g.features is None:
        console.print(f"graph-aware ranker {g.ranker}: {g.other} is not a candidate for {g.pmid}")
        return
    console.print(
        f"graph-aware ranker {g.ranker}: rank {g.rank}, score {g.score:.3f} "
        f"(intercept {g.intercept:+.3f}; the query's own citations are not used)"
    )
    table = Table()
    for col in ("feature", "value", "weight", "contribution"):
        table.add_column(col, justify="left" if col == "feature" else "right")
    for f, c in sorted(g.contributions.items(), key=lambda fc: -abs(fc[1])):
        table.add_row(f, f"{g.features[f]:.3f}", f"{g.weights.get(f, 0.0):+.3f}", f"{c:+.3f}")
    console.print(table)


# --- export ---------------------------------------------------------------------------------


@embeddings_app.command("export")
def export_cmd(
    out: str = typer.Option(..., "--out", "-o", help="Parquet file to write (pmid, vector)."),
    model_id: str = typer.Option(None, "--model-id", help="Only vectors of this model id."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress."),
) -> None:
    """Write the stored embeddings to Parquet: pmid, vector as list<float32>.

    Example: pubgraph embeddings export --out runs/embeddings.parquet
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pubgraph.embeddings.export import export_embeddings

    bar = Progress(
        TextColumn("[bold]export"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        disable=not progress,
    )
    task = bar.add_task("export", total=None)
    with _connect() as driver, bar:
        summary = export_embeddings(
            driver, Path(out), model_id=model_id, on_progress=lambda n: bar.advance(task, n)
        )
    console.print(
        f"wrote {summary.rows:,} vectors ({summary.dimension} dimensions, models: "
        f"{', '.join(summary.models) or '-'}) to {summary.path} in {summary.seconds:.1f} s"
    )


@embeddings_app.command("models")
def models_cmd(as_json: bool = _JSON) -> None:
    """List the models that produced the stored vectors, with their counts.

    Example: pubgraph embeddings models --json
    """
    from pubgraph.embeddings.embed import stored_models

    with _connect() as driver:
        models = stored_models(driver)
    if as_json:
        typer.echo(json.dumps([asdict(m) for m in models], indent=2))
        return
    table = Table(title="embedding models")
    for col in ("id", "dimension", "vectors", "text", "updated", "path"):
        table.add_column(col)
    for m in models:
        table.add_row(
            m.id, str(m.dimension), f"{m.count:,}", m.text or "", m.updated or "", m.path or ""
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``embed``, the ``search`` group and the ``embeddings`` group to the root CLI."""
    app.command("embed")(embed)
    app.add_typer(search_app, name="search")
    app.add_typer(embeddings_app, name="embeddings")
