"""The one place a Neo4j driver is created, plus managed-transaction helpers.

Writers and loaders receive the driver; they never create one. Every helper runs its
work through ``session.execute_read`` / ``execute_write`` so the driver retries
transient failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import neo4j
from neo4j import GraphDatabase
from neo4j import exceptions as nx

from pubgraph.errors import ConfigError, Neo4jUnavailable
from pubgraph.settings import Settings, get_settings


def _auth(settings: Settings) -> tuple[str, str] | None:
    if settings.uses_local_server:
        from graph.server import LocalNeo4j

        password = LocalNeo4j(settings).password()
        return (settings.neo4j_user, password) if password else None
    if settings.neo4j_password is None:
        return None
    return (settings.neo4j_user, settings.neo4j_password)


def connect(settings: Settings | None = None, *, verify: bool = True) -> neo4j.Driver:
    """A driver for the configured Neo4j, checked to answer and accept the credentials.

    Failures become one-line errors naming the setting to fix.
    """
    s = settings or get_settings()
    uri = s.resolved_neo4j_uri
    try:
        driver = GraphDatabase.driver(
            uri, auth=_auth(s), connection_timeout=10.0, notifications_min_severity="OFF"
        )
    except (ValueError, nx.ConfigurationError) as exc:
        raise ConfigError(f"invalid Neo4j URI '{uri}': {exc}", "NEO4J_URI") from None
    if not verify:
        return driver
    try:
        driver.verify_connectivity()
        driver.execute_query("RETURN 1", database_=s.neo4j_database)
    except nx.AuthError:
        driver.close()
        raise Neo4jUnavailable(
            f"Neo4j at {uri} refused the credentials of user '{s.neo4j_user}'",
            "NEO4J_USER / NEO4J_PASSWORD",
        ) from None
    except (nx.ServiceUnavailable, OSError) as exc:
        driver.close()
        if s.uses_local_server:
            raise Neo4jUnavailable(
                f"no Neo4j answers at {uri}; start the local one with `pubgraph neo4j start` "
                "or point to another",
                "NEO4J_URI",
            ) from None
        reason = re.search(r"reason (.*?)\)*$", str(exc).strip())
        why = f" ({reason.group(1)})" if reason else ""
        raise Neo4jUnavailable(f"Neo4j at {uri} is unreachable{why}", "NEO4J_URI") from None
    except nx.ClientError as exc:
        driver.close()
        if "DatabaseNotFound" in (exc.code or ""):
            raise ConfigError(
                f"database '{s.neo4j_database}' does not exist on {uri}", "NEO4J_DATABASE"
            ) from None
        raise
    return driver


def _db(database: str | None) -> str:
    return database or get_settings().neo4j_database


def run_write(
    driver: neo4j.Driver,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
) -> list[dict[str, Any]]:
    """Run one write query in a managed (retried) transaction; returns the records as dicts."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return [r.data() for r in tx.run(query, dict(params or {}))]

    with driver.session(database=_db(database)) as session:
        return session.execute_write(work)


def run_read(
    driver: neo4j.Driver,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
) -> list[dict[str, Any]]:
    """Run one read query in a managed (retried) transaction; returns the records as dicts."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return [r.data() for r in tx.run(query, dict(params or {}))]

    with driver.session(database=_db(database)) as session:
        return session.execute_read(work)


def run_statements(
    driver: neo4j.Driver,
    statements: Sequence[tuple[str, str]],
    params: Mapping[str, Any] | None = None,
    *,
    database: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run a graph job: named statements in order, each in its own managed transaction."""
    return {name: run_write(driver, q, params, database=database) for name, q in statements}


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most ``size`` items."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_batches(
    driver: neo4j.Driver,
    query: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int | None = None,
    database: str | None = None,
    **params: Any,
) -> int:
    """Write rows with an ``UNWIND $rows`` query, one managed transaction per batch."""
    n = 0
    for batch in batched(rows, batch_size or get_settings().batch_size):
        run_write(driver, query, {**params, "rows": batch}, database=database)
        n += len(batch)
    return n


def server_version(driver: neo4j.Driver) -> str:
    """The connected server's name, version and edition."""
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition "
        "RETURN name, versions[0] AS version, edition"
    )
    r = records[0]
    return f"{r['name']} {r['version']} {r['edition']}"
