"""``pubgraph dashboard``: serve the Dash explorer."""

from __future__ import annotations

import threading
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_RUNS_DIR = typer.Option(
    None, "--runs-dir", help="Folder(s) scanned for trained models (default: ./runs and "
    "$PUBGRAPH_DATA_DIR/runs).")


def dashboard(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. 0.0.0.0 exposes the "
                             "dashboard (and your graph) to the network: it has no login."),
    port: int = typer.Option(8050, "--port", min=1, max=65535, help="Port to listen on."),
    analysis_run: str = typer.Option(
        None, "--analysis-run", help="Analysis run for trends, topics and the map "
        "(default: the latest, see `pubgraph analyze list`)."),
    runs_dir: list[Path] = _RUNS_DIR,
    debug: bool = typer.Option(False, "--debug", help="Dash dev tools and reloading (local only)."),
) -> None:
    """Serve the explorer: topic trends, search, article neighbourhoods, map, runs.

    Example: pubgraph dashboard --port 8050, then open http://127.0.0.1:8050/
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.dashboard.app import context_of, create_app
    from pubgraph.graph.db import connect

    settings = get_settings()
    if host not in LOCAL_HOSTS:
        err.print(
            f"[bold yellow]warning:[/bold yellow] binding {host}:{port}: anyone who can reach "
            "this machine can read the graph through the dashboard (no login). Use the default "
            "--host 127.0.0.1 unless that is what you want.",
            highlight=False,
        )
    if debug and host not in LOCAL_HOSTS:
        raise typer.BadParameter("--debug only with a local --host (it can run code)")
    dirs = list(runs_dir or []) or [Path("runs"), Path(settings.data_dir) / "runs"]
    app = create_app(lambda: connect(settings), analysis_run=analysis_run, runs_dirs=dirs)
    # Load the query model while the server starts: the first search need not wait.
    threading.Thread(target=context_of(app).warm, daemon=True).start()
    err.print(f"pubgraph dashboard on http://{host}:{port}/ (Neo4j {settings.resolved_neo4j_uri})",
              highlight=False)
    app.run(host=host, port=port, debug=debug)


def register(app: typer.Typer) -> None:
    """Add ``pubgraph dashboard`` to the CLI."""
    app.command("dashboard")(dashboard)
