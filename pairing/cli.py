"""``pubgraph pairs run | list | show | diff | export | strategies``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
pairs_app = typer.Typer(
    help="Mine training pairs from the graph (named Cypher jobs), record them as PairRuns, "
    "export them for training.",
    no_args_is_help=True,
)


class ExportFormat(StrEnum):
    """What ``pairs export`` writes."""

    pairs = "pairs"
    triplets = "triplets"
    labelled = "labelled"
    citations = "citations"
    texts = "texts"
    all = "all"


class Split(StrEnum):
    """An article split."""

    train = "train"
    validation = "validation"
    test = "test"


def _bar(total: int | None, enabled: bool = True) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not enabled,
    )


def _connect() -> Any:
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    return connect(get_settings())


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return " ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)


def _strategy_table(by_strategy: dict[str, Any]) -> Table:
    table = Table(title="pairs by strategy")
    table.add_column("strategy", no_wrap=True)
    for col in ("label", "kept", "candidates", "pairs/s", "s"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("dropped", overflow="fold")
    for name, s in by_strategy.items():
        rate = s.get("pairs_per_second") or 0.0
        table.add_row(
            name,
            str(s["label"]),
            _fmt(s["kept"]),
            _fmt(s.get("candidates", "-")),
            f"{rate:,.0f}",
            f"{float(s['seconds']):.1f}",
            _fmt(s.get("dropped", {})) or "-",
        )
    return table


@pairs_app.command("run")
def run_command(
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            "-s",
            help="Comma list of strategies: cites, co_citation, bib_coupling, shared_mesh "
            "(positives); random_distant, mesh_distant, hard (negatives). Default: the "
            "config's, else cites,co_citation,bib_coupling,shared_mesh,random_distant,hard.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="pairs.yaml with run options and strategy parameters."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of every sampling step and of the hash split (default: config's, 13)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run directory for pairs.parquet, splits.parquet, run.json "
            "(default: <data_dir>/pairs/<run id>)."
        ),
    ] = None,
    split_by_year: Annotated[
        int | None,
        typer.Option(
            help="Test on articles of this year and later, train/validate on older ones "
            "(default: hash split by PMID)."
        ),
    ] = None,
    max_per_article: Annotated[
        int | None,
        typer.Option(help="Cap of pairs per article per strategy (default: config's, 10)."),
    ] = None,
    negatives_per_positive: Annotated[
        float | None,
        typer.Option(help="Negatives per positive, e.g. 1.0 for 1:1 (default: config's)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Parallel transactions for the pairwise queries (pairs do not depend on it).",
        ),
    ] = 2,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's id, path and counts as JSON.")
    ] = False,
) -> None:
    """Run pairing strategies on the graph; write the pairs and record a PairRun.

    Pairs are (pmid_a, pmid_b, label, strategy, score, split): label 1 for positives, 0 for
    negatives. Splits are by article, so no pair crosses splits; the same seed on the same
    graph gives identical pairs (and the same run id).

    Example: pubgraph pairs run --seed 13 --out runs/pairs
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.pairing.config import load_config
    from pubgraph.pairing.jobs import run_pairs

    cfg = load_config(config).with_overrides(
        strategies=strategy,
        seed=seed,
        split_by_year=split_by_year,
        max_pairs_per_article=max_per_article,
        negatives_per_positive=negatives_per_positive,
    )
    steps = len(cfg.strategies) + 1  # the article splits, then each strategy
    with _connect() as driver, _bar(steps, progress and not as_json) as bar:
        task = bar.add_task("pairing", total=steps)
        seen: list[str] = []

        def step(msg: str) -> None:
            # Each message starts the next stage: the previous one is done.
            if seen:
                bar.advance(task)
            seen.append(msg)
            bar.update(task, description=msg)

        result = run_pairs(
            driver, cfg, out, progress=step, workers=workers,
            pairs_root=get_settings().data_dir / "pairs",
        )
        bar.update(task, completed=steps, description="pairs written")
    c = result.counts
    if as_json:
        typer.echo(json.dumps(
            {"id": result.run_id, "out": str(result.out_dir), "pairs_path": str(result.pairs_path),
             "duration": round(result.duration, 3), "counts": c},
            indent=2, default=str,
        ))
        return
    console.print(_strategy_table(c["by_strategy"]))
    console.print(
        f"run [bold]{result.run_id}[/bold]: {c['pairs']:,} pairs ({c['positives']:,} positive, "
        f"{c['negatives']:,} negative) in {result.duration:.1f}s; by split "
        f"{_fmt(c['by_split'])}; articles {_fmt(c['articles'])}"
    )
    console.print(
        f"pairs crossing splits: {c['cross_split_pairs']} (share {c['cross_split_share']:.1%}); "
        f"candidates dropped for crossing splits: {c['dropped_cross_split']:,}"
    )
    # The run's warnings (e.g. shared_mesh found nothing) were logged by run_pairs: on
    # stderr, silenced by -q.
    typer.echo(str(result.pairs_path))


@pairs_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the recorded PairRuns, newest first.

    Example: pubgraph pairs list --json
    """
    from pubgraph.pairing.jobs import list_runs

    with _connect() as driver:
        runs = list_runs(driver)
    if as_json:
        typer.echo(json.dumps(runs, indent=2, default=str))
        return
    table = Table(title=f"{len(runs)} pairing runs (details: pubgraph pairs show ID)")
    table.add_column("id", no_wrap=True)
    table.add_column("strategy", overflow="fold")
    for col in ("seed", "pairs", "pos", "neg", "seconds"):
        table.add_column(col, justify="right")
    table.add_column("updated", overflow="fold")
    for r in runs:
        counts = r.get("counts") or {}
        table.add_row(
            r["id"],
            r["strategy"],
            str(r["seed"]),
            _fmt(counts.get("pairs", 0)),
            _fmt(counts.get("positives", 0)),
            _fmt(counts.get("negatives", 0)),
            f"{float(r.get('duration') or 0.0):.1f}",
            str(r.get("updated") or "")[:16].replace("T", " "),
        )
    console.print(table)


@pairs_app.command("show")
def show_command(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a run: parameters, counts per strategy and split, label balance.

    Example: pubgraph pairs show pr-1a2b3c
    """
    from pubgraph.pairing.jobs import get_run, pair_summary, read_pairs

    with _connect() as driver:
        info = get_run(driver, run)
    summary = pair_summary(read_pairs(info))
    if as_json:
        typer.echo(json.dumps({"run": info, "pairs": summary}, indent=2, default=str))
        return
    console.print(
        f"[bold]{info['id']}[/bold] strategy={info['strategy']} seed={info['seed']} "
        f"updated={info.get('updated')} duration={float(info['duration']):.1f}s"
    )
    console.print(f"out: {info['out']}")
    console.print("params: " + json.dumps(info["params"]["params"], sort_keys=True))
    table = Table(title="pairs by strategy and split")
    table.add_column("strategy")
    for col in ("train", "validation", "test"):
        table.add_column(col, justify="right")
    for name, row in summary["by_strategy"].items():
        table.add_row(name, *(_fmt(row[s]) for s in ("train", "validation", "test")))
    console.print(table)
    counts = info["counts"]
    console.print(
        f"{summary['positives']:,} positives / {summary['negatives']:,} negatives "
        f"(positive share {summary['positive_share']:.1%}), "
        f"{summary['articles']:,} articles; pairs crossing splits: "
        f"{counts.get('cross_split_pairs', 0)}"
    )


@pairs_app.command("diff")
def diff_command(
    run_a: Annotated[str, typer.Argument(help="First run id.")],
    run_b: Annotated[str, typer.Argument(help="Second run id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two runs: pair overlap, label balance and MeSH coverage.

    Example: pubgraph pairs diff pr-1a2b3c pr-4d5e6f
    """
    from pubgraph.pairing.jobs import diff_runs

    with _connect() as driver:
        d = diff_runs(driver, run_a, run_b)
    if as_json:
        typer.echo(json.dumps(d, indent=2, default=str))
        return
    table = Table(title="pairing runs compared")
    table.add_column("")
    table.add_column(d["a"]["id"], justify="right")
    table.add_column(d["b"]["id"], justify="right")
    rows = [
        ("strategy", d["a"]["strategy"], d["b"]["strategy"]),
        ("seed", str(d["a"]["seed"]), str(d["b"]["seed"])),
        ("pairs", _fmt(d["a"]["pairs"]), _fmt(d["b"]["pairs"])),
        ("positive share", f"{d['a']['positive_share']:.1%}", f"{d['b']['positive_share']:.1%}"),
        (
            "MeSH descriptors",
            _fmt(d["a"]["mesh"]["descriptors"]),
            _fmt(d["b"]["mesh"]["descriptors"]),
        ),
        (
            "MeSH descriptor coverage",
            f"{d['a']['mesh']['descriptor_share']:.1%}",
            f"{d['b']['mesh']['descriptor_share']:.1%}",
        ),
        (
            "articles with MeSH",
            f"{d['a']['mesh']['article_share']:.1%}",
            f"{d['b']['mesh']['article_share']:.1%}",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(
        f"common pairs {d['common']:,}, only in first {d['only_a']:,}, only in second "
        f"{d['only_b']:,}; Jaccard {d['jaccard']:.3f}" + (" (identical)" if d["identical"] else "")
    )


@pairs_app.command("export")
def export_command(
    run: Annotated[str, typer.Argument(help="Run id (or unique prefix), or a run directory.")],
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="pairs (anchor,positive), triplets (anchor,positive,negative), labelled "
            "(text1,text2,label), citations (held-out relevance lists), texts, or all.",
        ),
    ] = ExportFormat.pairs,
    split: Annotated[Split, typer.Option(help="The article split to export.")] = Split.train,
    out: Annotated[
        Path | None,
        typer.Option(help="Output file, .parquet or .csv (default: in the run directory)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="PMIDs per text query.")] = 1000,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the files written as JSON.")
    ] = False,
) -> None:
    """Export a run's pairs with texts read from the graph, in the forms the trainer reads.

    Example: pubgraph pairs export runs/pairs --format all
    """
    from pubgraph.pairing.export import ALL_EXPORTS, export_all, export_run
    from pubgraph.pairing.jobs import get_run

    fmt = format.value
    total = len(ALL_EXPORTS) if fmt == "all" else 1
    with _connect() as driver, _bar(total, progress and not as_json) as bar:
        task = bar.add_task(f"export {fmt}", total=total)
        target: Any = Path(run) if Path(run).is_dir() else get_run(driver, run)
        if fmt == "all":
            if out is not None:
                raise typer.BadParameter("--out cannot be used with --format all")

            def one_done(summary: Any) -> None:
                bar.update(task, advance=1, description=f"{summary.format} {summary.split}")

            done = export_all(driver, target, batch_size=batch_size, on_done=one_done)
        else:
            done = [export_run(driver, target, fmt, split.value, out, batch_size=batch_size)]
            bar.advance(task)
    if as_json:
        typer.echo(json.dumps(
            [{"format": s.format, "split": s.split, "rows": s.rows, "path": str(s.path),
              "skipped": s.skipped} for s in done],
            indent=2,
        ))
        return
    for s in done:
        skipped = f" (skipped {_fmt(s.skipped)})" if any(s.skipped.values()) else ""
        console.print(f"{s.format} {s.split}: {s.rows:,} rows -> {s.path}{skipped}")


@pairs_app.command("strategies")
def strategies_command() -> None:
    """List the strategies, their default parameters and their named Cypher statements.

    Example: pubgraph pairs strategies
    """
    import dataclasses

    from pubgraph.pairing.config import DEFAULT_STRATEGIES, STRATEGIES, default_params
    from pubgraph.pairing.strategies import job_for

    for name in STRATEGIES:
        job = job_for(name, default_params(name))
        params = {k: v for k, v in dataclasses.asdict(job.params).items() if k != "strategy"}
        kind = "positive" if job.label else "negative"
        default = " (default)" if name in DEFAULT_STRATEGIES else ""
        console.print(f"[bold]{name}[/bold] {kind}{default}: {_fmt(params)}")
        console.print("  statements: " + ", ".join(s.name for s in job.statements))


def register(app: typer.Typer) -> None:
    """Add the ``pairs`` group to the root CLI."""
    app.add_typer(pairs_app, name="pairs")
