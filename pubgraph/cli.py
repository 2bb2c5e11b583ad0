"""The ``pubgraph`` command. Each package adds its own commands through ``register(app)``.

Global options (before the command): ``--version``, ``-v/--verbose`` (repeat for debug),
``-q/--quiet``; they set the level of Python ``logging``, which the packages use for
warnings and progress notes (``logging.getLogger("pubgraph...")``).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from pubgraph import __version__
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
    "graph-trained biomedical sentence embeddings.\n\n"
    "Example: pubgraph -v pairs run --seed 13 --out runs/pairs",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)
log = logging.getLogger("pubgraph")


def configure_logging(verbose: int = 0, quiet: bool = False) -> int:
    """Route ``logging`` to stderr (rich): WARNING by default, INFO with -v, DEBUG with -vv,
    ERROR with -q. Returns the level set on the ``pubgraph`` logger."""
    from rich.logging import RichHandler

    level = logging.ERROR if quiet else (
        logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    )
    logger = logging.getLogger("pubgraph")
    logger.setLevel(level)
    if not any(getattr(h, "_pubgraph", False) for h in logger.handlers):
        handler = RichHandler(
            console=Console(stderr=True), show_time=False, show_path=False,
            markup=False, rich_tracebacks=False,
        )
        handler._pubgraph = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    # Third-party chatter (transformers, neo4j driver) only when asked for with -vv.
    logging.getLogger().setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    return level


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pubgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print pubgraph's version and exit."),
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True,
                          help="More output: -v informational notes, -vv debug.")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors (warnings are not shown).")
    ] = False,
) -> None:
    """Options that apply to every command; they go before the command name."""
    configure_logging(verbose, quiet)


def _pkg_version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


@app.command("versions")
def versions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the versions in use: pubgraph, Python, torch, the Neo4j driver and server.

    Example: pubgraph versions --json
    """
    from pubgraph.core.settings import get_settings

    out: dict[str, Any] = {
        "pubgraph": __version__,
        "python": platform.python_version(),
        "python_executable": sys.executable,
    }
    for pkg in ("torch", "sentence-transformers", "transformers", "neo4j", "lxml", "pyarrow"):
        out[pkg] = _pkg_version(pkg)
    s = get_settings()
    try:
        from pubgraph.graph.db import connect, server_version

        with connect(s) as driver:
            out["neo4j-server"] = server_version(driver)
            out["neo4j-uri"] = s.resolved_neo4j_uri
    except PubgraphError as exc:
        out["neo4j-server"] = None
        out["neo4j-error"] = str(exc)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"pubgraph {out['pubgraph']}")
    typer.echo(f"python {out['python']} ({out['python_executable']})")
    for pkg in ("torch", "sentence-transformers", "transformers", "neo4j", "lxml", "pyarrow"):
        typer.echo(f"{pkg} {out[pkg]}")
    if out["neo4j-server"]:
        typer.echo(f"neo4j-server {out['neo4j-server']} at {out['neo4j-uri']}")
    else:
        typer.echo(f"neo4j-server unavailable: {out['neo4j-error']}")


def _register_all() -> None:
    for module in COMMAND_MODULES:
        module.register(app)


_register_all()


def main() -> None:
    """Entry point: user errors print one line (naming the setting or file), no traceback.

    The Hugging Face hub is not switched off here: the bundled default model needs no hub
    (``pubgraph.core.models.resolve_model``), and any other model follows the user's
    ``HF_HUB_OFFLINE``.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from pubgraph.core.redact import install_log_redaction, redact
    from pubgraph.graph.db import CONNECTION_ERRORS, connection_lost

    install_log_redaction()
    # The driver logs each retry as a WARNING; with no handler configured Python would print
    # them all (dozens of lines while Neo4j is away). Retries stay silent; a final failure
    # is one line (below).
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    try:
        try:
            app()
        except CONNECTION_ERRORS as exc:
            # A command without its own count of what it wrote: still one line, no traceback.
            raise connection_lost(exc, committed="the transactions finished") from None
    except PubgraphError as exc:
        err.print(f"[bold red]error:[/bold red] {redact(str(exc))}", highlight=False,
                  soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
