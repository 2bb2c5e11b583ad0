"""``pubgraph ingest ...``: PubMed/PMC files or NCBI E-utilities into Parquet records."""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    help="Parse PubMed/PMC XML (files or NCBI E-utilities) into a Parquet file of records.",
    no_args_is_help=True,
)

# Each module adds its commands to the ``ingest`` group.
_COMMAND_MODULES = ("ingest.cli_files", "ingest.cli_ncbi", "ingest.cli_sample")


def register(root: typer.Typer) -> None:
    """Add the ``ingest`` group to the root CLI."""
    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)
    root.add_typer(app, name="ingest")
