"""Shared fixtures: the real Neo4j for graph tests, and paths to the shared data.

The session fixture uses ``NEO4J_URI`` when it is set; otherwise it starts the real local
Neo4j 5.26 server (from the Maven jars) once per test session on a free port. When the
environment variable ``CI`` is set and Neo4j cannot be reached or started, graph tests
fail instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pubgraph.core.errors import PubgraphError
from pubgraph.core.settings import Settings, get_settings, shared_data_dir
from pubgraph.graph.db import GraphDB, connect
from pubgraph.graph.schema import SCHEMA_NAMES, existing_schema, init_schema, reset_graph
from pubgraph.graph.server import LocalNeo4j, free_port

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()
TEST_PASSWORD = "pubgraph-test-password"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: the real PubMed/PMC files (read-only). Unlike Neo4j, it is not
    ours to install: where no copy exists (``.ci/run`` warns), its tests skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set PUBGRAPH_SHARED_DATA)")
    return SHARED_DATA


_SERVER: dict[str, str] = {}


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Versions in use, printed at the top of every run (and so in CI's log)."""
    import platform
    from importlib.metadata import version

    pkgs = ("torch", "sentence-transformers", "transformers", "neo4j")
    line = ", ".join(f"{p} {version(p)}" for p in pkgs)
    return [
        f"pubgraph: python {platform.python_version()}, {line} (driver)",
        f"pubgraph: Neo4j from {os.environ.get('NEO4J_URI') or 'the local server (Maven jars)'}",
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SERVER:
        terminalreporter.write_line(
            f"pubgraph: Neo4j server {_SERVER['version']} at {_SERVER['uri']}"
        )
    elif os.environ.get("CI"):
        terminalreporter.write_line("pubgraph: Neo4j server was not used in this run")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Neo4j is required in CI but is not available: {reason}", pytrace=False)
    pytest.skip(f"Neo4j not available: {reason}")


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at the test Neo4j; also exported to os.environ for subprocesses."""
    mp = pytest.MonkeyPatch()
    server: LocalNeo4j | None = None
    if os.environ.get("NEO4J_URI"):
        settings = Settings()
    else:
        data_dir = tmp_path_factory.mktemp("pubgraph-data")
        port = free_port()
        settings = Settings(
            data_dir=data_dir,
            neo4j_port=port,
            neo4j_password=TEST_PASSWORD,
            neo4j_heap=os.environ.get("PUBGRAPH_TEST_NEO4J_HEAP", "1g"),
            neo4j_pagecache=os.environ.get("PUBGRAPH_TEST_NEO4J_PAGECACHE", "512m"),
        )
        server = LocalNeo4j(settings)
        try:
            server.start()
        except PubgraphError as exc:
            _unavailable(str(exc))
        mp.setenv("NEO4J_URI", settings.resolved_neo4j_uri)
        mp.setenv("NEO4J_USER", settings.neo4j_user)
        mp.setenv("NEO4J_PASSWORD", TEST_PASSWORD)
        settings = Settings()
    mp.setenv("PUBGRAPH_DATA_DIR", str(tmp_path_factory.mktemp("pubgraph-work")))
    get_settings.cache_clear()
    yield settings
    mp.undo()
    get_settings.cache_clear()
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_settings: Settings) -> Iterator[GraphDB]:
    """One verified driver to the test Neo4j for the whole session."""
    try:
        driver = connect(neo4j_settings)
    except PubgraphError as exc:
        _unavailable(str(exc))
    from pubgraph.graph.db import server_version

    _SERVER.update(version=server_version(driver), uri=neo4j_settings.resolved_neo4j_uri)
    yield driver
    driver.close()


@pytest.fixture()
def graph_db(neo4j_driver: GraphDB) -> GraphDB:
    """The test Neo4j, emptied, with extra indexes dropped and pubgraph's schema in place."""
    reset_graph(neo4j_driver)
    extra = {n for n in existing_schema(neo4j_driver) if n not in SCHEMA_NAMES}
    if extra:
        reset_graph(neo4j_driver, drop_schema=True)
    init_schema(neo4j_driver)
    return neo4j_driver
