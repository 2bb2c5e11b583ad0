"""``pubgraph ingest files``: local PubMed / PMC XML files into a Parquet file of records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from pubgraph.ingest.files import IngestSummary


def register(ingest_app: typer.Typer) -> None:
    """Add the ``files`` command to the ``pubgraph ingest`` group."""
    ingest_app.command("files")(files)


def files(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="PubMed XML (.xml / .xml.gz, PubmedArticleSet) or PMC JATS (.nxml) files, "
            "or directories holding them (searched recursively).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Parquet file of records to write.")
    ] = Path("records.parquet"),
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Skip a bad record (a bad byte or tag costs only that record: the file is "
            "re-read record by record), list it in the summary and go on; exit 1 if a file "
            "could not be read to its end (corrupt gzip, truncated). Without it the first "
            "bad record stops the run; rows parsed before it stay in OUT.partial.",
        ),
    ] = False,
    pmc_body: Annotated[
        bool, typer.Option("--pmc-body", help="Keep the body text of PMC full-text articles.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    load: Annotated[
        bool,
        typer.Option(
            "--load",
            help="Also stream the records straight into Neo4j as they are parsed "
            "(the same loader as `pubgraph graph load`; idempotent, safe to re-run).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (no progress bar).")
    ] = False,
) -> None:
    """Parse PubMed / PMC XML files into a Parquet file of records (streaming, flat memory).

    Example: pubgraph ingest files ../shared/data/pubmed --out records.parquet --skip-bad
    """
    from pubgraph.ingest.files import sync_files

    progress = progress and not as_json
    if not load:
        summary = sync_files(
            paths, out, skip_bad=skip_bad, progress=progress, include_body=pmc_body
        )
        if as_json:
            typer.echo(json.dumps(summary_dict(summary), indent=2))
        else:
            print_summary(summary)
        _exit_if_incomplete(summary)
        return

    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect
    from pubgraph.ingest.load import StreamingLoad

    settings = get_settings()
    with connect(settings) as driver:
        stream = StreamingLoad(
            driver, batch_size=settings.batch_size
        )
        try:
            summary = sync_files(
                paths, out, skip_bad=skip_bad, progress=progress, include_body=pmc_body,
                on_record=stream.on_record,
            )
        finally:
            # Rows parsed before a bad record are still loaded, then the error is raised.
            loaded = stream.finish()
    figures = {k: v for k, v in loaded.as_dict().items() if isinstance(v, int | float)}
    if as_json:
        typer.echo(json.dumps({**summary_dict(summary), "loaded": figures}, indent=2))
        return
    print_summary(summary)
    from rich.console import Console

    Console().print("loaded into Neo4j: " + ", ".join(
        f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:.1f}" for k, v in figures.items()
    ))
    _exit_if_incomplete(summary)


def _exit_if_incomplete(summary: IngestSummary) -> None:
    """Exit 1 when a file could not be read to its end: its records after the damage are
    lost, and how many is unknown (the output holds everything that could be read)."""
    if not summary.incomplete_files:
        return
    from rich.console import Console

    err = Console(stderr=True)
    for name in summary.incomplete_files:
        err.print(f"[bold red]error:[/bold red] {name}: could not be read to its end "
                  "(see the skipped table); the records before the damage were kept",
                  highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def summary_dict(summary: IngestSummary) -> dict[str, Any]:
    """The summary as plain JSON values (skips as a list of dicts)."""
    import dataclasses

    data = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
    data["skips"] = [
        {k: getattr(s, k) for k in ("file", "record", "line", "reason") if hasattr(s, k)}
        for s in summary.skips
    ]
    data["articles_per_second"] = round(summary.articles_per_second, 1)
    return data


def print_summary(summary: IngestSummary) -> None:
    """The end-of-run table: articles, abstracts, MeSH, references, deletions, skips."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"ingest files → {summary.out}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("files", summary.files),
        ("articles", summary.articles),
        ("  with abstract", summary.with_abstract),
        ("  with MeSH", summary.with_mesh),
        ("  with references", summary.articles_with_references),
        ("  repeated PMIDs (versions)", summary.duplicate_pmids),
        ("cited PMIDs", summary.references),
        ("citations without PMID", summary.citations_without_pmid),
        ("deletions", summary.deletions),
        ("skipped (records lost)", summary.skipped),
        ("files not read to their end", len(summary.incomplete_files)),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    console.print(table)
    console.print(
        f"{summary.bytes_read / 1e6:,.1f} MB in {summary.seconds:,.1f} s "
        f"({summary.articles_per_second:,.0f} articles/s)"
    )
    if summary.skips:
        skips = Table(title="skipped", show_header=True)
        skips.add_column("file")
        skips.add_column("record")
        skips.add_column("line", justify="right")
        skips.add_column("reason")
        for s in summary.skips[:50]:
            skips.add_row(Path(s.file).name, s.record or "", str(s.line or ""), s.reason)
        console.print(skips)
        if summary.skipped > 50:
            console.print(f"... and {summary.skipped - 50:,} more")
