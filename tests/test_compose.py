"""docker-compose.yml cannot run here (no Docker engine); check what it declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def test_neo4j_service() -> None:
    neo4j = _compose()["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    ports = {p.split(":")[-1] for p in neo4j["ports"]}
    assert {"7687", "7474"} <= ports
    assert "neo4j-data:/data" in neo4j["volumes"]
    assert "neo4j-data" in _compose()["volumes"]
    assert neo4j["healthcheck"]["test"]
    auth = neo4j["environment"]["NEO4J_AUTH"]
    # the password comes from the environment, never from the file
    assert auth.startswith("neo4j/${NEO4J_PASSWORD")


def test_dashboard_service_points_at_neo4j() -> None:
    compose = _compose()
    dash = compose["services"]["dashboard"]
    assert dash["build"]["dockerfile"] == "Dockerfile"
    assert (REPO / dash["build"]["dockerfile"]).exists()
    env = dash["environment"]
    assert env["NEO4J_URI"] == "bolt://neo4j:7687"
    assert env["NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD")
    assert dash["depends_on"]["neo4j"]["condition"] == "service_healthy"


def test_ports_are_published_on_loopback_by_default() -> None:
    """Issue #14: every published port binds to 127.0.0.1 unless PUBGRAPH_BIND says else."""
    compose = _compose()
    published = [p for svc in compose["services"].values() for p in svc.get("ports", [])]
    assert len(published) == 3
    for port in published:
        assert port.startswith("${PUBGRAPH_BIND:-127.0.0.1}:"), port


def test_no_hard_coded_password() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if "PASSWORD" in line and ":" in line and not line.strip().startswith("#"):
            assert "${NEO4J_PASSWORD" in line, line


def test_dashboard_service_serves_the_dashboard() -> None:
    """The service runs `pubgraph dashboard` on all interfaces of the container, on the
    port it publishes, and its healthcheck asks the dashboard itself."""
    import shlex

    dash = _compose()["services"]["dashboard"]
    command = dash["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    assert argv[:2] == ["pubgraph", "dashboard"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8050"
    assert any(str(p).split(":")[-1] == port for p in dash["ports"])
    test = " ".join(dash["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/healthz" in test


def test_dashboard_command_parses() -> None:
    """The compose command is accepted by the real CLI (no unknown option)."""
    from typer.testing import CliRunner

    from pubgraph.cli import app

    dash = _compose()["services"]["dashboard"]
    out = CliRunner().invoke(app, [*dash["command"][1:], "--help"])
    assert out.exit_code == 0, out.output
    assert "--analysis-run" in out.output
