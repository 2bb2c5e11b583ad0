"""Neo4j going away mid-load and mid-embed (issue #14, defect 4), on a dedicated local
server (not the session's): the command ends with ONE line saying what happened, how much
was committed and that re-running is safe; after a restart the re-run ends in the
uninterrupted run's graph.

Mid-load the server is shut down cleanly (``LocalNeo4j.stop``); mid-embed its JVM is
SIGKILLed (a crash). The driver retries for ~30 s before it gives up: the test waits."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pubgraph.core.errors import PubgraphError
from pubgraph.core.settings import Settings
from pubgraph.graph.db import GraphDB, connect
from pubgraph.graph.fingerprint import graph_fingerprint
from pubgraph.graph.schema import init_schema
from pubgraph.graph.server import LocalNeo4j, free_port
from tests.reliability.conftest import (
    Baseline,
    assert_same,
    embed_args,
    load_args,
    vectors,
    wait_for_work,
)
from tests.reliability.helpers import cli, error_lines, popen

pytestmark = [pytest.mark.reliability, pytest.mark.reliability_long, pytest.mark.neo4j]

PASSWORD = "reliability-down-test"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[LocalNeo4j, dict[str, str]]]:
    # neo4j_uri=None: the session's NEO4J_URI (its own server) is in the environment and
    # would otherwise win over the dedicated server's port.
    settings = Settings(neo4j_uri=None, data_dir=tmp_path / "down", neo4j_port=free_port(),
                        neo4j_password=PASSWORD, neo4j_heap="512m", neo4j_pagecache="256m",
                        neo4j_start_timeout=300)
    server = LocalNeo4j(settings)
    try:
        server.start()
    except PubgraphError as exc:
        pytest.skip(f"dedicated Neo4j could not start: {exc}")
    env = {"NEO4J_URI": settings.resolved_neo4j_uri, "NEO4J_USER": "neo4j",
           "NEO4J_PASSWORD": PASSWORD}
    try:
        yield server, env
    finally:
        server.stop()


def _db(env: dict[str, str]) -> GraphDB:
    return connect(Settings(neo4j_uri=env["NEO4J_URI"], neo4j_password=PASSWORD))


def _one_line(stderr: str) -> str:
    lines = [x for x in error_lines(stderr) if not x.startswith(("model ", "loading"))]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    return lines[0]


def test_server_stopped_mid_load_then_mid_embed(own_server: tuple[LocalNeo4j, dict[str, str]],
                                                baseline: Baseline, corpus: Path,
                                                tiny_model: Path) -> None:
    server, env = own_server
    db = _db(env)
    init_schema(db)

    load = popen(*load_args(corpus), env=env)
    assert wait_for_work(db, load), "the load ended before the server could be stopped"
    db.close()
    server.stop()
    _, err = load.communicate(timeout=300)
    assert load.returncode == 2
    line = _one_line(err)
    assert "lost the connection to Neo4j" in line and "rows in" in line
    assert "re-running the same load is safe" in line

    server.start()
    cli(*load_args(corpus), env=env, check=True)
    db = _db(env)
    assert_same(graph_fingerprint(db), baseline.load)

    embed = popen(*embed_args(tiny_model), env=env)
    assert wait_for_work(db, embed), "embed ended before the server could be killed"
    db.close()
    pid = int(server.pid_file.read_text())
    os.kill(pid, signal.SIGKILL)  # a crash, not a shutdown
    _, err = embed.communicate(timeout=300)
    assert embed.returncode == 2
    line = _one_line(err)
    assert "lost the connection to Neo4j" in line and "vectors were committed" in line

    server.start()
    cli(*embed_args(tiny_model), env=env, check=True)
    db = _db(env)
    got, want = graph_fingerprint(db), baseline.embed
    assert got.duplicate_relationships == 0
    for name in ("articles", "cites", "relationships", "relationships_by_type", "vectors"):
        assert getattr(got, name) == getattr(want, name), name
    assert vectors(db).keys() == baseline.vectors.keys()
    db.close()
