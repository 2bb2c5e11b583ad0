"""``pubgraph graph load | load-mesh | load-edges``: added to the ``graph`` group by
``register(graph_app)`` (called from ``graph/cli.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _progress(enabled: bool = True) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not enabled,
    )


def _table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in rows.items():
        text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        table.add_row(name, text)
    return table


def load(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Parquet files of records (RECORD_SCHEMA, from `pubgraph ingest`), in order.",
            show_default=False,
        ),
    ],
    batch_size: int = typer.Option(
        None, "--batch-size", min=1,
        help="Graph rows (nodes + relationships) per transaction; an article counts 2 plus "
        "its authors, MeSH headings and references (default: the batch_size setting, 5000).",
    ),
    init: bool = typer.Option(
        True, "--init/--no-init", help="Create the constraints and indexes first (idempotent)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load article records into Neo4j: batched MERGEs, one transaction per batch.

    Idempotent and restartable: loading the same files again, or re-running a load that was
    interrupted, ends with the same graph. An update file loaded after the baseline replaces
    each changed article's properties and outgoing relationships; its DeleteCitation PMIDs
    are applied after its articles (a deleted article that others cite stays as a stub).

    Example: pubgraph graph load runs/records.parquet
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import CONNECTION_ERRORS, connect, connection_lost
    from pubgraph.graph.loader import GraphLoader, check_parquet
    from pubgraph.graph.schema import init_schema

    settings = get_settings()
    total = sum(check_parquet(Path(f)) for f in files)
    with connect(settings) as driver:
        if init:
            try:
                init_schema(driver)
            except CONNECTION_ERRORS as exc:
                raise connection_lost(exc, committed="0 rows in 0 batches (it was creating "
                                      "the schema)", command="load") from None
        with _progress(not as_json) as progress:
            task = progress.add_task("loading records", total=total)
            loader = GraphLoader(
                driver,
                batch_size=batch_size or settings.batch_size,
                on_progress=lambda n, _s: progress.advance(task, n),
            )
            summary = loader.load_parquet(files)
    rate = (summary.nodes_created + summary.relationships_created) / max(summary.seconds, 1e-9)
    figures: dict[str, Any] = {
                "rows read": summary.rows,
                "articles written": summary.articles,
                "stub articles created": summary.stubs_created,
                "MeSH links": summary.mesh_links,
                "author links": summary.author_links,
                "citations (CITES)": summary.citations,
                "deletions applied": summary.deletions,
                "deleted articles removed (not cited)": summary.articles_removed,
                "articles replaced from another file (last file wins)":
                    summary.replaced_from_other_file,
                "nodes created": summary.nodes_created,
                "relationships created": summary.relationships_created,
                "relationships deleted": summary.relationships_deleted,
                "graph rows / s": rate,
    }
    if as_json:
        import dataclasses

        data = dataclasses.asdict(summary)
        data.update(files=[str(f) for f in files], graph_rows_per_second=round(rate, 1))
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    console.print(_table(f"loaded {len(files)} file(s) in {summary.seconds:.1f} s", figures))


def load_mesh(
    file: Annotated[
        Path,
        typer.Argument(
            help="MeSH tree numbers: a TSV (mesh_id, mesh_name, mesh_tree_number) or NLM "
            "descYYYY.xml(.gz).",
            show_default=False,
        ),
    ],
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Rows per transaction."),
) -> None:
    """Load the MeSH hierarchy: MeshTerm.tree_numbers and (narrower)-[:BROADER]->(broader).

    Optional: articles load without it, but the `hard` and `mesh_distant` pair strategies
    use it. Idempotent. Example: pubgraph graph load-mesh ../shared/data/mesh/tree-numbers.tsv
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect
    from pubgraph.graph.mesh import load_mesh as run
    from pubgraph.graph.schema import init_schema

    settings = get_settings()
    with connect(settings) as driver:
        init_schema(driver)
        with console.status(f"loading MeSH hierarchy from {file}"):
            summary = run(
                driver, file, batch_size=batch_size or settings.batch_size,
            )
    console.print(
        _table(
            f"MeSH hierarchy loaded in {summary.seconds:.1f} s",
            {
                "descriptors": summary.descriptors,
                "BROADER edges": summary.broader,
                "parent tree numbers without a descriptor": summary.unresolved_parents,
                "MeshTerm nodes created": summary.nodes_created,
                "BROADER created": summary.relationships_created,
                "stale BROADER removed": summary.relationships_deleted,
            },
        )
    )


def load_edges(
    file: Annotated[
        Path,
        typer.Argument(
            help="Citation edge list: LINQS .cites.tab ('id paper:A | paper:B', A cites B) "
            "or two columns citing,cited.",
            show_default=False,
        ),
    ],
    source: str = typer.Option(
        None, "--source", help="Value of CITES.source (default: the file name's stem)."
    ),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Edges per transaction."),
) -> None:
    """Load an external citation edge list (no text): stub Articles plus CITES {source}.

    For graph-algorithm work at scale. Idempotent; self-citations are skipped.
    Example: pubgraph graph load-edges pubmed_diabetes.cites.tab --source linqs
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect
    from pubgraph.graph.edgelist import load_edge_list
    from pubgraph.graph.schema import init_schema

    settings = get_settings()
    with connect(settings) as driver:
        init_schema(driver)
        with _progress() as progress:
            task = progress.add_task("loading edges", total=None)
            summary = load_edge_list(
                driver, file, source=source, batch_size=batch_size or settings.batch_size,
                on_progress=lambda n: progress.advance(task, n),
            )
    console.print(
        _table(
            f"edge list loaded in {summary.seconds:.1f} s",
            {
                "edges": summary.edges,
                "self-citations skipped": summary.self_loops_skipped,
                "duplicates skipped": summary.duplicates_skipped,
                "articles named": summary.articles,
                "stub articles created": summary.stubs_created,
                "CITES created": summary.relationships_created,
            },
        )
    )


def register(graph_app: typer.Typer) -> None:
    """Add ``load``, ``load-mesh`` and ``load-edges`` to the ``pubgraph graph`` group."""
    graph_app.command("load")(load)
    graph_app.command("load-mesh")(load_mesh)
    graph_app.command("load-edges")(load_edges)
