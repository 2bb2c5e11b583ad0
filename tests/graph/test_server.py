"""The local Neo4j server: start/stop through the CLI, and data survives a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pubgraph.core.errors import ConfigError, Neo4jUnavailable
from pubgraph.core.settings import Settings
from pubgraph.graph import server as server_module
from pubgraph.graph.server import LocalNeo4j, free_port, last_meaningful_line

pytestmark = pytest.mark.neo4j


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pubgraph", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.skipif(
    bool(os.environ.get("PUBGRAPH_TEST_NO_SECOND_SERVER")),
    reason="a second server is not wanted here",
)
def test_start_init_stats_stop_then_data_survives_restart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "PUBGRAPH_"))}
    env.update(
        PUBGRAPH_DATA_DIR=str(tmp_path / "data"),
        PUBGRAPH_NEO4J_PORT=str(free_port()),
        PUBGRAPH_NEO4J_HEAP="512m",
        PUBGRAPH_NEO4J_PAGECACHE="128m",
    )
    try:
        start = _cli(env, "neo4j", "start")
        assert start.returncode == 0, start.stderr
        assert start.stdout.strip().splitlines()[-1].startswith("bolt://127.0.0.1:")
        assert _cli(env, "neo4j", "status").returncode == 0
        assert _cli(env, "graph", "init").returncode == 0
        # auth is on by default: a generated password, readable only by the owner
        pw_file = tmp_path / "data" / "neo4j" / "password"
        assert pw_file.stat().st_mode & 0o777 == 0o600
        code = (
            "from pubgraph.core.settings import get_settings\n"
            "from pubgraph.graph.db import connect, run_write\n"
            "d = connect(get_settings())\n"
            "run_write(d, \"MERGE (:Article {pmid: $p, title: $t})\", {'p': '42', 't': 'kept'})\n"
            "d.close()\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
        stats = _cli(env, "graph", "stats", "--json")
        assert stats.returncode == 0, stats.stderr
        assert '"Article": 1' in stats.stdout
        assert _cli(env, "neo4j", "stop").returncode == 0
        assert _cli(env, "neo4j", "status").returncode == 1

        assert _cli(env, "neo4j", "start").returncode == 0
        stats = _cli(env, "graph", "stats", "--json")
        assert '"Article": 1' in stats.stdout, stats.stdout
    finally:
        _cli(env, "neo4j", "stop")
    assert _cli(env, "neo4j", "status").returncode == 1


def _settings(tmp_path: Path, password: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", neo4j_port=free_port(), neo4j_password=password,
        neo4j_heap="512m", neo4j_pagecache="64m",
    )


def test_short_password_is_refused_before_anything_starts(tmp_path: Path) -> None:
    server = LocalNeo4j(_settings(tmp_path, "short"))
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as info:
        server.start()
    assert time.monotonic() - t0 < 5
    assert info.value.setting == "NEO4J_PASSWORD"
    assert "at least 8 characters" in str(info.value)
    assert not server.pid_file.exists()


def test_launcher_exits_on_a_start_up_exception_and_the_cause_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let the short password through to Neo4j itself: the launcher's main thread fails
    # after the engine started; the JVM must exit and the error must say why.
    monkeypatch.setattr(server_module, "MIN_PASSWORD_LENGTH", 0)
    server = LocalNeo4j(_settings(tmp_path, "short1"))
    with pytest.raises(Neo4jUnavailable) as info:
        server.start(timeout=900)  # generous: a loaded machine starts the engine slowly
    message = str(info.value)
    # "exited" (not "did not answer within"): the JVM ended on its own, long before the timeout.
    assert "exited during start-up" in message, message
    assert "8 characters" in message  # Neo4j's own reason, from the server log
    assert "PUBGRAPH_NEO4J_START_TIMEOUT" not in message
    assert server.status().running is False


def test_last_meaningful_line_skips_stack_frames() -> None:
    log = "\n".join([
        "2026-11-30 INFO  Starting...",
        "java.lang.RuntimeException: wrapper",
        "\tat org.neo4j.Foo.bar(Foo.java:1)",
        "Caused by: org.neo4j.InvalidArgumentsException: A password must be at least 8 characters.",
        "\tat org.neo4j.Baz.qux(Baz.java:2)",
        "\t... 12 more",
        "",
    ])
    assert last_meaningful_line(log) == (
        "org.neo4j.InvalidArgumentsException: A password must be at least 8 characters."
    )
    marked = log + "\npubgraph-neo4j: start-up failed: InvalidArgumentsException: too short\n"
    assert last_meaningful_line(marked) == "InvalidArgumentsException: too short"
    assert last_meaningful_line("") == "no output"


def test_password_is_created_only_on_request(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, neo4j_port=free_port(), neo4j_password=None)
    server = LocalNeo4j(settings)
    assert server.password() is None
    assert not server.password_file.exists()
    assert "does not exist" in server.password_source()
    created = server.password(create=True)
    assert created and server.password() == created
    assert server.password_file.stat().st_mode & 0o777 == 0o600
