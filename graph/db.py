"""The one place a Neo4j driver is created: the database handle, plus managed-transaction
helpers.

Library code receives a :class:`GraphDB` (driver + database name, made once from
``Settings`` at the edge by :func:`connect`); it never creates a driver nor reads the
settings. Every helper runs its work through ``session.execute_read`` / ``execute_write``
so the driver retries transient failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import neo4j
from neo4j import GraphDatabase
from neo4j import exceptions as nx

from pubgraph.core.errors import ConfigError, Neo4jUnavailable
from pubgraph.core.settings import Settings

DEFAULT_BATCH_SIZE = 5000
# The schemes the Neo4j driver speaks (Bolt); http(s):// is the Browser/HTTP API, not Bolt.
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


@dataclass(frozen=True)
class GraphDB:
    """The database handle: one driver and the one database every session of it opens.

    Passing this instead of a driver plus ``database: str | None`` keeps schema and data in
    the same database: there is no ``None`` that one function reads as "the server's
    default" and another as ``NEO4J_DATABASE``.
    """

    driver: neo4j.Driver
    database: str
    batch_size: int = DEFAULT_BATCH_SIZE

    def session(self, **config: Any) -> neo4j.Session:
        """A session on this handle's database."""
        return self.driver.session(database=self.database, **config)

    def execute_query(
        self, query: str, parameters: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """``driver.execute_query`` on this handle's database (retried)."""
        kwargs.setdefault("database_", self.database)
        return self.driver.execute_query(query, dict(parameters or {}), **kwargs)

    def read(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """``run_read`` on this handle."""
        return run_read(self, query, params)

    def write(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """``run_write`` on this handle."""
        return run_write(self, query, params)

    def verify_connectivity(self) -> None:
        self.driver.verify_connectivity()

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> GraphDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _auth(settings: Settings) -> tuple[str, str] | None:
    if settings.uses_local_server:
        from pubgraph.graph.server import LocalNeo4j

        # Never create a password here: only `neo4j start` does (with the server).
        password = LocalNeo4j(settings).password()
        return (settings.neo4j_user, password) if password else None
    if settings.neo4j_password is None:
        return None
    return (settings.neo4j_user, settings.neo4j_password)


def connect(settings: Settings, *, verify: bool = True) -> GraphDB:
    """The handle for the configured Neo4j, checked to answer and accept the credentials.

    Failures become one-line errors naming the setting to fix.
    """
    s = settings
    uri = s.resolved_neo4j_uri
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in BOLT_SCHEMES:
        raise ConfigError(
            f"Neo4j URI '{uri}' is not a Bolt address: use bolt:// or neo4j:// "
            f"(e.g. bolt://localhost:7687; +s / +ssc for TLS)",
            "NEO4J_URI",
        )
    try:
        driver = GraphDatabase.driver(
            uri, auth=_auth(s), connection_timeout=10.0, notifications_min_severity="OFF"
        )
    except (ValueError, nx.ConfigurationError) as exc:
        raise ConfigError(f"invalid Neo4j URI '{uri}': {exc}", "NEO4J_URI") from None
    db = GraphDB(driver, s.neo4j_database, s.batch_size)
    if not verify:
        return db
    try:
        driver.verify_connectivity()
        driver.execute_query("RETURN 1", database_=s.neo4j_database)
    except nx.AuthError:
        driver.close()
        where = ""
        if s.uses_local_server:
            from pubgraph.graph.server import LocalNeo4j

            where = f" (password from {LocalNeo4j(s).password_source()})"
        raise Neo4jUnavailable(
            f"Neo4j at {uri} refused the credentials of user '{s.neo4j_user}'{where}",
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
    return db


#: What the driver raises once Neo4j is gone for longer than its retries last.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (nx.ServiceUnavailable, nx.SessionExpired)


def connection_lost(exc: BaseException, *, committed: str, command: str = "command"
                    ) -> Neo4jUnavailable:
    """The one-line error for Neo4j going away half-way: what happened, what was committed
    (``committed``, e.g. ``"1,200 rows in 4 batches"``), and that re-running is safe."""
    reason = " ".join(str(exc).split())[:120] or type(exc).__name__
    return Neo4jUnavailable(
        f"lost the connection to Neo4j ({type(exc).__name__}: {reason}); {committed} were "
        f"committed before it; re-running the same {command} is safe (it resumes/converges)"
    )


def run_write(
    driver: GraphDB,
    query: str,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run one write query in a managed (retried) transaction; returns the records as dicts."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return [r.data() for r in tx.run(query, dict(params or {}))]

    with driver.session() as session:
        return session.execute_write(work)


def run_read(
    driver: GraphDB,
    query: str,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run one read query in a managed (retried) transaction; returns the records as dicts."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return [r.data() for r in tx.run(query, dict(params or {}))]

    with driver.session() as session:
        return session.execute_read(work)


def run_statements(
    driver: GraphDB,
    statements: Sequence[tuple[str, str]],
    params: Mapping[str, Any] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run a graph job: named statements in order, each in its own managed transaction."""
    return {name: run_write(driver, q, params) for name, q in statements}


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
    driver: GraphDB,
    query: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int | None = None,
    **params: Any,
) -> int:
    """Write rows with an ``UNWIND $rows`` query, one managed transaction per batch."""
    n = 0
    for batch in batched(rows, batch_size or driver.batch_size):
        run_write(driver, query, {**params, "rows": batch})
        n += len(batch)
    return n


def server_version(driver: GraphDB) -> str:
    """The connected server's name, version and edition."""
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition "
        "RETURN name, versions[0] AS version, edition"
    )
    r = records[0]
    return f"{r['name']} {r['version']} {r['edition']}"
