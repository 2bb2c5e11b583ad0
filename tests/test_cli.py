"""The CLI lists only real commands and turns bad configuration into one-line errors."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "PUBGRAPH_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pubgraph", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
    )


def test_help_lists_registered_commands() -> None:
    out = run_cli("--help")
    assert out.returncode == 0, out.stderr
    for cmd in ("neo4j", "graph", "versions"):
        assert re.search(rf"\b{cmd}\b", out.stdout)


def test_no_command_is_a_placeholder() -> None:
    offenders = []
    for path in REPO.glob("*/**/*.py"):
        if "tests" in path.parts or ".venv" in path.parts:
            continue
        text = path.read_text(errors="replace").lower()
        if "not implemented" in text or "raise notimplementederror" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def _assert_one_line_error(out: subprocess.CompletedProcess[str], setting: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error:")
    assert setting in lines[0]


def test_unreachable_uri_names_neo4j_uri(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        out = run_cli("graph", "stats", env={"NEO4J_URI": f"bolt://127.0.0.1:{port}"})
    _assert_one_line_error(out, "NEO4J_URI")


def test_bad_uri_scheme_names_neo4j_uri() -> None:
    _assert_one_line_error(run_cli("graph", "stats", env={"NEO4J_URI": "http2://x"}), "NEO4J_URI")


def test_local_server_not_started_says_how(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
        out = run_cli(
            "graph", "stats", env={"PUBGRAPH_DATA_DIR": str(tmp_path), "PUBGRAPH_NEO4J_PORT": port}
        )
    _assert_one_line_error(out, "NEO4J_URI")
    assert "pubgraph neo4j start" in out.stderr


def test_missing_java_names_pubgraph_java(tmp_path: Path) -> None:
    out = run_cli(
        "neo4j",
        "start",
        env={
            "PUBGRAPH_DATA_DIR": str(tmp_path),
            "PUBGRAPH_JAVA": "no-such-java-binary",
            "PUBGRAPH_NEO4J_PORT": "1",
        },
    )
    _assert_one_line_error(out, "PUBGRAPH_JAVA")


def test_port_in_use_names_the_port_setting(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = str(s.getsockname()[1])
        out = run_cli(
            "neo4j", "start", env={"PUBGRAPH_DATA_DIR": str(tmp_path), "PUBGRAPH_NEO4J_PORT": port}
        )
    _assert_one_line_error(out, "PUBGRAPH_NEO4J_PORT")


def test_bad_setting_value_names_it() -> None:
    _assert_one_line_error(
        run_cli("graph", "stats", env={"PUBGRAPH_NEO4J_PORT": "abc"}), "PUBGRAPH_NEO4J_PORT"
    )


@pytest.mark.neo4j
def test_wrong_password_names_the_password(neo4j_settings: object) -> None:
    env = {
        "NEO4J_URI": os.environ["NEO4J_URI"],
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": "definitely-wrong",
    }
    _assert_one_line_error(run_cli("graph", "stats", env=env), "NEO4J_PASSWORD")


@pytest.mark.neo4j
def test_missing_database_names_neo4j_database(neo4j_settings: object) -> None:
    env = {k: os.environ[k] for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")}
    env["NEO4J_DATABASE"] = "nosuchdb"
    _assert_one_line_error(run_cli("graph", "stats", env=env), "NEO4J_DATABASE")


@pytest.mark.neo4j
def test_versions_reports_the_real_server(neo4j_settings: object) -> None:
    env = {k: os.environ[k] for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")}
    out = run_cli("versions", env=env)
    assert out.returncode == 0, out.stderr
    assert re.search(r"neo4j-server Neo4j Kernel 5\.26\.\d+ community", out.stdout)
    assert re.search(r"^torch \d+\.\d+", out.stdout, re.M)
