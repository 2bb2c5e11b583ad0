"""``pubgraph analyze run | list | show | diff | prune``.

Heavy imports happen inside the commands so that ``pubgraph --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from pubgraph.graph.db import GraphDB

console = Console()
err = Console(stderr=True)

analyze_app = typer.Typer(
    help="Topics, labels, trends and citation structure of the embedded articles, "
    "written back to the graph.",
    no_args_is_help=True,
)


def _connect() -> GraphDB:
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    return connect(get_settings())


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _dump(obj: Any) -> None:
    from pubgraph.analysis.write import clean

    typer.echo(json.dumps(clean(obj), indent=2, default=str))


@analyze_app.command("run")
def run_cmd(
    method: str = typer.Option("leiden", "--method", help="leiden, kmeans or hdbscan."),
    k: int = typer.Option(None, "--k", min=2,
                          help="k-means' k, or the number of topics leiden aims at "
                          "(default: silhouette / resolution 1)."),
    seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same topics."),
    model: str = typer.Option(None, "--model", help="EmbeddingModel id whose vectors to use "
                              "(default: the most recently updated with vectors)."),
    no_citations: bool = typer.Option(False, "--no-citations",
                                      help="leiden: vector neighbours only, no citation edges."),
    resolution: float = typer.Option(1.0, "--resolution", help="leiden resolution."),
    min_topic_size: int = typer.Option(5, "--min-topic-size", min=1,
                                       help="Smaller communities join the nearest topic."),
    reduce: str = typer.Option("umap", "--reduce", help="hdbscan: umap, pca or none."),
    no_reassign: bool = typer.Option(False, "--no-reassign",
                                     help="hdbscan: keep outliers in topic -1."),
    do_map: bool = typer.Option(True, "--map/--no-map", help="Compute the 2-D map (UMAP)."),
    out: str = typer.Option(None, "--out", help="Parent folder of the run folder "
                            "(default: <data_dir>/analysis)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Cluster the stored vectors into topics, label them with MeSH and c-TF-IDF, test
    their trends, measure citation structure and write the run into the graph.

    Example: pubgraph analyze run --method leiden --seed 1 --no-map
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pubgraph.analysis.run import AnalysisParams, run_analysis
    from pubgraph.core.settings import get_settings

    params = AnalysisParams(
        method=method, k=k, seed=seed, model=model, citations=not no_citations, map=do_map,
        resolution=resolution, min_topic_size=min_topic_size, hdbscan_reduce=reduce,
        reassign_outliers=not no_reassign,
    )
    params.validate()
    out_dir = Path(out) if out is not None else get_settings().data_dir / "analysis"
    db = _connect()
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   console=err, disable=not progress or as_json, transient=True)
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    with db, bar:
        result = run_analysis(db, params, out_dir, report)
    summary = result.summary()
    if as_json:
        _dump(summary)
        return
    table = Table(title=f"analysis run {result.id}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("method", "model", "n_articles", "n_topics", "outlier_share",
                "reassigned_share", "unassigned_share", "trend_method", "nmi_mesh"):
        table.add_row(key, _fmt(summary.get(key)))
    table.add_row("time (s)", _fmt(result.timings.get("total")))
    table.add_row("folder", str(result.out_dir))
    console.print(table)
    for title, rows in (("rising", summary["rising"]), ("falling", summary["falling"])):
        if not rows:
            console.print(f"no {title} topics at q < {params.alpha}")
            continue
        t = Table(title=f"{title} topics")
        for c in ("topic", "label", "size", "trend", "effect", "q"):
            t.add_column(c)
        for r in rows:
            t.add_row(*(_fmt(r[c]) for c in ("topic", "label", "size", "trend", "effect", "q")))
        console.print(t)


@analyze_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The analysis runs in the graph, newest first.

    Example: pubgraph analyze list --json
    """
    from pubgraph.analysis.read import list_runs

    with _connect() as db:
        runs = list_runs(db)
    if as_json:
        _dump(runs.to_dict(orient="records"))
        return
    t = Table(title="analysis runs")
    for c in ("id", "method", "embedding_model", "created", "n_articles", "n_topics", "nmi"):
        t.add_column(c)
    for r in runs.itertuples(index=False):
        metrics: dict[str, Any] = r.metrics if isinstance(r.metrics, dict) else {}
        t.add_row(str(r.id), str(r.method), str(r.embedding_model), str(r.created)[:19],
                  _fmt(r.n_articles), _fmt(r.n_topics), _fmt(metrics.get("nmi_mesh")))
    console.print(t)


@analyze_app.command("show")
def show_cmd(
    run: str = typer.Argument(..., help="Run id (see `analyze list`), or 'latest'."),
    topic: int = typer.Option(None, "--topic", help="Show one topic in detail."),
    top: int = typer.Option(30, "--top", min=1, help="Topics to list."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """A run's topics (label, size, trend, q), or one topic in detail.

    Example: pubgraph analyze show latest --topic 0
    """
    from pubgraph.analysis import read
    from pubgraph.core.errors import InputError

    with _connect() as db:
        if run == "latest":
            run = read.latest_run(db) or ""
        info = read.run_info(db, run)
        if info is None:
            raise InputError(f"no analysis run {run!r} in the graph (see `pubgraph analyze "
                             "list`)", field="RUN")
        if topic is not None:
            d = read.topic_detail(db, run, topic)
            if d is None:
                raise InputError(f"run {run} has no topic {topic}", field="--topic")
            if as_json:
                _dump({k: (v.to_dict(orient="records") if hasattr(v, "to_dict") else v)
                       for k, v in d.__dict__.items()})
                return
            console.print(f"[bold]topic {d.topic}[/bold]: {d.label} ({d.size} articles), "
                          f"trend {d.trend} ({d.trend_method}, effect {_fmt(d.effect)}, "
                          f"q {_fmt(d.q)})")
            console.print("terms: " + ", ".join(d.terms))
            for name, df in (("signature", d.signature.head(10)),
                             ("representatives", d.representatives),
                             ("most cited", d.most_cited), ("related", d.related.head(8)),
                             ("MeSH trends inside", d.mesh_trends)):
                t = Table(title=name)
                for c in df.columns:
                    t.add_column(str(c))
                for row in df.itertuples(index=False):
                    t.add_row(*(_fmt(v) for v in row))
                console.print(t)
            return
        tp = read.topics(db, run)
    if as_json:
        _dump({"run": info, "topics": tp.to_dict(orient="records")})
        return
    t = Table(title=f"run {run}: {info['n_topics']} topics over {info['n_articles']} articles "
              f"({info['trend_method']})")
    for c in ("topic", "label", "size", "trend", "effect", "q"):
        t.add_column(c)
    for r in tp.head(top).itertuples(index=False):
        t.add_row(str(r.topic), r.label, str(r.size), r.trend, _fmt(r.effect), _fmt(r.q))
    console.print(t)


@analyze_app.command("diff")
def diff_cmd(
    run_a: str = typer.Argument(..., help="First run id."),
    run_b: str = typer.Argument(..., help="Second run id."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """How two runs agree (NMI, adjusted Rand over common articles) and which topics match.

    Example: pubgraph analyze diff leiden-0123abcd4567 kmeans-89abcdef0123
    """
    from pubgraph.analysis.read import diff_runs

    with _connect() as db:
        d = diff_runs(db, run_a, run_b)
    if as_json:
        _dump(d)
        return
    console.print(f"{d['common_articles']} common articles (only in A: {d['only_a']}, only in "
                  f"B: {d['only_b']}); NMI {_fmt(d['nmi'])}, adjusted Rand {_fmt(d['ari'])}")
    t = Table(title="best match of each topic of A")
    for c in ("topic_a", "label_a", "topic_b", "label_b", "jaccard"):
        t.add_column(c)
    for m in d["matches"]:
        t.add_row(*(_fmt(m[c]) for c in ("topic_a", "label_a", "topic_b", "label_b",
                                          "jaccard")))
    console.print(t)


@analyze_app.command("prune")
def prune_cmd(
    keep: int = typer.Option(..., "--keep", min=0, help="How many of the newest runs to keep."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Delete all but the newest N runs from the graph (their folders stay on disk).

    Example: pubgraph analyze prune --keep 3
    """
    from pubgraph.analysis.write import prune_runs

    with _connect() as db:
        gone = prune_runs(db, keep)
    if as_json:
        _dump({"deleted": gone})
        return
    console.print(f"deleted {len(gone)} run(s)" + (": " + ", ".join(gone) if gone else ""))


def register(app: typer.Typer) -> None:
    """Add ``pubgraph analyze ...``."""
    app.add_typer(analyze_app, name="analyze")
