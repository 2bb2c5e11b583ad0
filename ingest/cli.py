"""``pubgraph ingest ...``: PubMed/PMC files or NCBI E-utilities into Parquet records."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Parse PubMed/PMC XML (files or NCBI E-utilities) into a Parquet file of records.",
    no_args_is_help=True,
)



def register(root: typer.Typer) -> None:
    """Add the ``ingest`` group to the root CLI; each module adds its own commands."""
    from pubgraph.ingest import cli_files, cli_ncbi, cli_sample

    for module in (cli_files, cli_ncbi, cli_sample):
        module.register(app)
    root.add_typer(app, name="ingest")
