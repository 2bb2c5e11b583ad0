"""The local Neo4j server: start/stop through the CLI, and data survives a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pubgraph.graph.server import free_port

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
