"""The ``pubgraph`` command. Each package adds its own commands through ``register(app)``."""

from __future__ import annotations

import os
import platform
import sys

import typer
from rich.console import Console

from pubgraph import demo as demo_cli
from pubgraph.analysis import cli as analysis_cli
from pubgraph.core.errors import PubgraphError
from pubgraph.dashboard import cli as dashboard_cli
from pubgraph.embeddings import cli as embeddings_cli
from pubgraph.graph import cli as graph_cli
from pubgraph.ingest import cli as ingest_cli
from pubgraph.pairing import cli as pairing_cli
from pubgraph.train import cli as train_cli

# Every command group, registered in this order. A plain import: a missing module fails loudly.
COMMAND_MODULES = (
    graph_cli, ingest_cli, pairing_cli, train_cli, embeddings_cli, analysis_cli, dashboard_cli,
    demo_cli,
)

app = typer.Typer(
    name="pubgraph",
    help="pubgraph: PubMed into a Neo4j graph, graph-mined training pairs, "
    "graph-trained biomedical sentence embeddings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)


@app.command("versions")
def versions() -> None:
    """Print the versions in use: Python, torch, the Neo4j driver and server."""
    from importlib.metadata import PackageNotFoundError, version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "not installed"

    typer.echo(f"python {platform.python_version()} ({sys.executable})")
    for pkg in ("torch", "sentence-transformers", "transformers", "neo4j", "lxml", "pyarrow"):
        typer.echo(f"{pkg} {v(pkg)}")
    from pubgraph.core.settings import get_settings

    s = get_settings()
    try:
        from pubgraph.graph.db import connect, server_version

        with connect(s) as driver:
            typer.echo(f"neo4j-server {server_version(driver)} at {s.resolved_neo4j_uri}")
    except PubgraphError as exc:
        typer.echo(f"neo4j-server unavailable: {exc}")


def _register_all() -> None:
    for module in COMMAND_MODULES:
        module.register(app)


_register_all()


def main() -> None:
    """Entry point: user errors print one line (naming the setting or file), no traceback."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except PubgraphError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
