"""The ``pubgraph`` command. Each package adds its own commands through ``register(app)``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys

import typer
from rich.console import Console

from pubgraph.errors import PubgraphError

# In import order: cli -> dashboard -> {ingest, pairing, train, analysis} -> graph.
COMMAND_MODULES = (
    "graph.cli",
    "ingest.cli",
    "pairing.cli",
    "train.cli",
    "analysis.cli",
    "dashboard.cli",
    "pubgraph.pipeline",
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
    from pubgraph.settings import get_settings

    s = get_settings()
    try:
        from graph.db import connect, server_version

        with connect(s) as driver:
            typer.echo(f"neo4j-server {server_version(driver)} at {s.resolved_neo4j_uri}")
    except PubgraphError as exc:
        typer.echo(f"neo4j-server unavailable: {exc}")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)


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
