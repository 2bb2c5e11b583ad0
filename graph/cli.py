"""``pubgraph neo4j ...`` (the local server) and ``pubgraph graph ...`` (schema, stats, reset)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from pubgraph.core.settings import get_settings
from pubgraph.graph.db import GraphDB

console = Console()
neo4j_app = typer.Typer(
    help="Run the local Neo4j 5.26 Community server (no Docker needed: jars from Maven Central).",
    no_args_is_help=True,
)
graph_app = typer.Typer(
    help="Create the schema, load data, inspect and reset the graph.", no_args_is_help=True
)


@neo4j_app.command("start")
def neo4j_start(
    timeout: float = typer.Option(None, help="Seconds to wait for Bolt (default: settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start the local server (first run fetches Neo4j from Maven Central) and wait for Bolt.

    Example: NEO4J_PASSWORD=a-long-secret pubgraph neo4j start
    """
    from pubgraph.graph.server import LocalNeo4j

    server = LocalNeo4j(get_settings())
    before = server.status()
    with console.status("starting Neo4j (the first start resolves the jars with Maven)..."):
        status = server.start(timeout=timeout)
    verb = "already running" if before.running else "started"
    if as_json:
        typer.echo(json.dumps({**_status_dict(status), "started": not before.running}, indent=2))
        return
    console.print(
        f"Neo4j {status.version} {verb}: [bold]{status.uri}[/bold] (pid {status.pid}, "
        f"data {status.home})"
    )
    typer.echo(status.uri)


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Shut the local server down cleanly (data is kept).

    Example: pubgraph neo4j stop
    """
    from pubgraph.graph.server import LocalNeo4j

    stopped = LocalNeo4j(get_settings()).stop()
    console.print("Neo4j stopped" if stopped else "Neo4j was not running")


def _status_dict(s: object) -> dict[str, object]:
    from dataclasses import asdict

    out = asdict(s)  # type: ignore[call-overload]
    out["home"] = str(out["home"])
    return dict(out)


@neo4j_app.command("status")
def neo4j_status(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Say whether the local server runs, where, and which version. Exit 1 when it does not.

    Read-only: never creates a data directory or password. Example: pubgraph neo4j status --json
    """
    from pubgraph.graph.server import LocalNeo4j

    server = LocalNeo4j(get_settings())
    s = server.status()
    other = not s.running and server.other_server_answers()
    if as_json:
        typer.echo(json.dumps({**_status_dict(s), "other_server_on_port": other}, indent=2))
    elif s.running:
        console.print(f"running: {s.uri} Neo4j {s.version} (pid {s.pid}, data {s.home})")
    else:
        console.print(f"not running (data {s.home})", highlight=False)
        if other:
            console.print(
                f"note: something answers on {server.settings.neo4j_host}:"
                f"{server.settings.neo4j_port}, but it was not started from this data "
                "directory (another PUBGRAPH_DATA_DIR, or another program)",
                highlight=False,
            )
    if not s.running:
        raise typer.Exit(1)


@graph_app.command("init")
def graph_init() -> None:
    """Create constraints and indexes (idempotent).

    Example: pubgraph graph init
    """
    from pubgraph.graph.db import connect
    from pubgraph.graph.schema import init_schema

    with connect(get_settings()) as driver:
        names = init_schema(driver)
    console.print(f"schema ready: {len(names)} constraints and indexes ({', '.join(names)})")


@graph_app.command("stats")
def graph_stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Node counts by label and relationship counts by type (plus corpus figures).

    Example: pubgraph graph stats --json
    """
    from pubgraph.graph.db import connect
    from pubgraph.graph.schema import graph_counts

    with connect(get_settings()) as driver:
        counts = graph_counts(driver)
        extra = _corpus_stats(driver)
    if as_json:
        typer.echo(json.dumps({**counts, "corpus": extra}, indent=2))
        return
    table = Table(title="pubgraph graph")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, n in counts["nodes"].items():
        table.add_row("nodes", label, f"{n:,}")
    for rel, n in counts["relationships"].items():
        table.add_row("relationships", rel, f"{n:,}")
    for name, n in extra.items():
        table.add_row("corpus", name, f"{n:,}")
    table.add_row("total", "nodes", f"{counts['total_nodes']:,}")
    table.add_row("total", "relationships", f"{counts['total_relationships']:,}")
    console.print(table)


def _corpus_stats(driver: GraphDB) -> dict[str, int]:
    """Article-level figures from the loader's stats query."""
    from pubgraph.graph import stats

    result: dict[str, int] = stats.corpus_stats(driver)
    return result


@graph_app.command("check")
def graph_check(
    fingerprint: bool = typer.Option(
        False, "--fingerprint", help="Also read the whole graph and print its fingerprint "
        "(counts and SHA-256 digests; compare two runs with it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the graph's integrity: duplicate relationships (exit 1 when there are any).

    Example: pubgraph graph check --fingerprint --json
    """
    from pubgraph.graph.db import connect
    from pubgraph.graph.fingerprint import duplicate_relationships, graph_fingerprint

    with connect(get_settings()) as driver:
        duplicates = duplicate_relationships(driver)
        fp = graph_fingerprint(driver) if fingerprint else None
    total = sum(duplicates.values())
    if as_json:
        out: dict[str, object] = {"duplicate_relationships": total, "by_type": duplicates}
        if fp is not None:
            out["fingerprint"] = fp.as_dict()
        typer.echo(json.dumps(out, indent=2))
    else:
        detail = ", ".join(f"{t} {n:,}" for t, n in sorted(duplicates.items()))
        console.print(f"duplicate relationships: {total:,}" + (f" ({detail})" if detail else ""))
        if fp is not None:
            for name, value in fp.as_dict().items():
                console.print(f"{name}: {value}")
    if total:
        raise typer.Exit(1)


@graph_app.command("reset")
def graph_reset(
    yes: bool = typer.Option(False, "--yes", help="Really delete everything."),
    drop_schema: bool = typer.Option(False, "--drop-schema", help="Also drop constraints/indexes."),
) -> None:
    """Delete every node and relationship in the configured database.

    Example: pubgraph graph reset --yes
    """
    from pubgraph.graph.db import connect
    from pubgraph.graph.schema import reset_graph

    if not yes:
        console.print("refusing to delete the graph without --yes")
        raise typer.Exit(2)
    with connect(get_settings()) as driver:
        reset_graph(driver, drop_schema=drop_schema)
    console.print("graph emptied" + (" and schema dropped" if drop_schema else ""))


def register(app: typer.Typer) -> None:
    """Add the ``neo4j`` and ``graph`` groups to the root CLI."""
    from pubgraph.graph import cli_load

    cli_load.register(graph_app)
    app.add_typer(neo4j_app, name="neo4j")
    app.add_typer(graph_app, name="graph")
