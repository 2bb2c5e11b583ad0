"""``pubgraph ingest pubmed``: fetch a PubMed query over E-utilities into a Parquet file."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]


def default_cache_dir(data_dir: Path, query: str, mindate: str, maxdate: str) -> Path:
    """Where a query's cache lives when ``--cache`` is not given (stable, so resume finds it)."""
    key = hashlib.sha256(f"{query}\n{mindate}\n{maxdate}".encode()).hexdigest()[:12]
    return data_dir / "ncbi" / f"pubmed-{key}"


def pubmed(
    query: Annotated[
        str, typer.Option("--query", "-q", help="PubMed query, as on pubmed.ncbi.nlm.nih.gov.")
    ],
    date_from: Annotated[
        datetime,
        typer.Option("--from", formats=DATE_FORMATS, help="First publication date (YYYY-MM-DD)."),
    ],
    date_to: Annotated[
        datetime,
        typer.Option(
            "--to", formats=DATE_FORMATS, help="Last publication date (YYYY-MM-DD), inclusive."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Parquet file to write (records schema).")
    ],
    max_records: Annotated[
        int | None, typer.Option("--max", min=1, help="Stop after this many articles.")
    ] = None,
    with_citations: Annotated[
        bool,
        typer.Option(
            "--with-citations",
            help="Also ask elink who each article cites and is cited by (pubmed_pubmed_refs, "
            "pubmed_pubmed_citedin, pmc_refs_pubmed) and add those as references.",
        ),
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, max=500, help="Records per efetch request (200-500 advised)."
        ),
    ] = 200,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="Cache directory for raw answers, parsed batches and the resume watermark "
            "(default: <data_dir>/ncbi/pubmed-<hash of query and dates>).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue the run kept in the cache directory after a crash."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Search PubMed for --query between --from and --to; write each record once to --out.

    Date ranges over PubMed's 9,999-record search cap are split automatically.
    Requests keep to NCBI's rate limit (3/s; 10/s with PUBGRAPH_NCBI_API_KEY) and are retried.
    Everything fetched stays in the cache directory: a crashed run continues with --resume.

    Example: pubgraph ingest pubmed --query "cancer immunotherapy" --from 2024-01-01
    --to 2024-01-31 --max 500 --out immunotherapy.parquet
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from pubgraph.core.errors import NcbiError
    from pubgraph.core.redact import redact
    from pubgraph.core.settings import get_settings
    from pubgraph.ingest.eutils import EutilsClient
    from pubgraph.ingest.ncbi import SyncEvent, SyncOptions, sync_pubmed

    settings = get_settings()
    if not settings.ncbi_email:
        err.print(
            "[yellow]warning:[/yellow] no contact email for NCBI: set PUBGRAPH_NCBI_EMAIL "
            "(NCBI asks E-utilities users for one so they can reach you before blocking).",
            highlight=False,
        )
    mindate, maxdate = date_from.date(), date_to.date()
    cache_dir = cache or default_cache_dir(
        settings.data_dir, query, mindate.isoformat(), maxdate.isoformat()
    )
    options = SyncOptions(
        query=query, mindate=mindate, maxdate=maxdate, out=out, cache_dir=cache_dir,
        batch_size=batch_size, max_records=max_records, with_citations=with_citations,
        resume=resume,
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("planning date slices", total=None)

        def on_retry(what: str, attempt: int, reason: str, delay: float) -> None:
            bar.console.print(
                f"[dim]retry {attempt} of {what} in {delay:.1f}s: {redact(reason)}[/dim]",
                highlight=False,
            )

        def on_event(e: SyncEvent) -> None:
            if e.kind == "planned":
                bar.update(task, description="fetching", total=e.total, completed=e.done)
            elif e.kind == "batch":
                bar.update(task, completed=e.done)
            elif e.kind == "links":
                bar.update(task, description=f"citations (batch {e.batch})")

        client = EutilsClient.from_settings(settings, on_retry=on_retry)
        try:
            summary = sync_pubmed(client, options, progress=on_event)
        except NcbiError as exc:
            # Name the address asked, and the setting that changes it.
            raise type(exc)(
                f"NCBI E-utilities at {settings.eutils_url} failed: {exc} "
                "(check PUBGRAPH_EUTILS_URL and the network; PUBGRAPH_NCBI_API_KEY raises "
                "the rate limit)"
            ) from None
        bar.update(task, description="done")

    if as_json:
        import dataclasses
        import json

        data = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
        data["cache"] = str(cache_dir)
        typer.echo(json.dumps(data, indent=2, default=str))
        return

    table = Table(title=f"PubMed -> {summary.out}", show_header=False)
    table.add_row("articles", f"{summary.articles:,}")
    table.add_row("with abstract", f"{summary.with_abstract:,}")
    table.add_row("with MeSH", f"{summary.with_mesh:,}")
    table.add_row("references", f"{summary.references:,}")
    if with_citations:
        table.add_row("  of which from elink", f"{summary.references_from_elink:,}")
        table.add_row("citing articles outside the set", f"{summary.citing_outside:,}")
    table.add_row("deletions", f"{summary.deletions:,}")
    for reason, n in sorted(summary.skipped.items()):
        table.add_row(f"skipped: {reason}", f"{n:,}")
    table.add_row("date slices / batches", f"{summary.slices} / {summary.batches}")
    table.add_row("requests (retries)", f"{summary.requests} ({summary.retries})")
    table.add_row("cache", str(cache_dir))
    console.print(table)


def register(ingest_app: typer.Typer) -> None:
    """Add ``pubmed`` to the ``pubgraph ingest`` group."""
    ingest_app.command("pubmed")(pubmed)
