"""The CLI lists only real commands and turns bad configuration into one-line errors."""

from __future__ import annotations

import json
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


# --- the first hour (issue #13) --------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_version_flag_prints_the_package_version() -> None:
    import tomllib

    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    out = run_cli("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"pubgraph {expected}"


def test_http_uri_says_use_bolt() -> None:
    out = run_cli("graph", "stats", env={"NEO4J_URI": "http://localhost:7474"})
    _assert_one_line_error(out, "NEO4J_URI")
    assert "use bolt:// or neo4j://" in out.stderr
    assert "Failed to fetch" not in out.stderr


def test_read_only_commands_never_create_credentials(tmp_path: Path) -> None:
    env = {"PUBGRAPH_DATA_DIR": str(tmp_path / "data"), "PUBGRAPH_NEO4J_PORT": str(_closed_port())}
    stats = run_cli("graph", "stats", env=env)
    _assert_one_line_error(stats, "NEO4J_URI")
    status = run_cli("neo4j", "status", "--json", env=env)
    assert status.returncode == 1
    assert json.loads(status.stdout)["running"] is False
    assert not (tmp_path / "data" / "neo4j" / "password").exists()


def test_data_dir_default_is_absolute_from_any_directory(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "PUBGRAPH_NEO4J_PORT": str(_closed_port())}
    out = run_cli("neo4j", "status", "--json", env=env, cwd=tmp_path)
    assert json.loads(out.stdout)["home"] == str(tmp_path / "xdg" / "pubgraph" / "neo4j")


def test_explicit_config_file_that_is_missing_is_one_line(tmp_path: Path) -> None:
    out = run_cli("graph", "stats", env={"PUBGRAPH_CONFIG": str(tmp_path / "nope.toml")})
    _assert_one_line_error(out, "PUBGRAPH_CONFIG")
    assert "nope.toml does not exist" in out.stderr


def test_cuda_without_a_gpu_names_pubgraph_device(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = run_cli(
        "train", "--config", "configs/train_fast.yaml", "--output-dir", str(tmp_path / "m"),
        env={"PUBGRAPH_DEVICE": "cuda", "HF_HUB_OFFLINE": "1"},
    )
    _assert_one_line_error(out, "PUBGRAPH_DEVICE")
    assert "no CUDA GPU" in out.stderr


def test_train_without_pairs_says_how_to_make_them(tmp_path: Path) -> None:
    out = run_cli("train", "--pairs", "pr-doesnotexist",
                  env={"PUBGRAPH_DATA_DIR": str(tmp_path)})
    _assert_one_line_error(out, "pubgraph pairs run")


def test_ncbi_failure_names_the_eutils_setting(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b'{"error": "invalid query"}'
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = run_cli(
            "ingest", "pubmed", "--query", "x", "--from", "2020-01-01", "--to", "2020-01-02",
            "--out", str(tmp_path / "x.parquet"),
            env={"PUBGRAPH_EUTILS_URL": f"http://127.0.0.1:{server.server_port}/",
                 "PUBGRAPH_NCBI_EMAIL": "test@example.org", "PUBGRAPH_DATA_DIR": str(tmp_path),
                 "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
        )
    finally:
        server.shutdown()
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    last = [ln for ln in out.stderr.splitlines() if ln.strip()][-1]
    assert last.startswith("error:") and "PUBGRAPH_EUTILS_URL" in last, out.stderr


def test_json_outputs_parse(tmp_path: Path) -> None:
    fixture = REPO / "tests" / "fixtures" / "pubmed_fields.xml"
    out = run_cli("ingest", "files", str(fixture), "--out", str(tmp_path / "r.parquet"), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["articles"] == fixture.read_text().count("<PubmedArticle>")
    out = run_cli("versions", "--json", env={"NEO4J_URI": f"bolt://127.0.0.1:{_closed_port()}"})
    data = json.loads(out.stdout)
    assert data["pubgraph"] and data["neo4j-server"] is None and "NEO4J_URI" in data["neo4j-error"]


def _leaf_commands() -> list[tuple[list[str], object]]:
    import typer.main

    from pubgraph.cli import app

    def walk(cmd: object, path: list[str]) -> list[tuple[list[str], object]]:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            return [(path, cmd)]
        return [leaf for name, sub in subs.items() for leaf in walk(sub, [*path, name])]

    return walk(typer.main.get_command(app), [])


def test_every_command_has_an_example_in_its_help() -> None:
    missing = [" ".join(p) for p, cmd in _leaf_commands() if "Example" not in (cmd.help or "")]
    assert missing == []


def test_closed_choices_are_shown_in_help() -> None:
    from typer.testing import CliRunner

    from pubgraph.cli import app

    runner = CliRunner()
    for args, shown in (
        (["pairs", "export", "--help"], "triplets"),
        (["train", "--help"], "cached_mnrl"),
        (["ingest", "sample", "--help"], "mesh-tree"),
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert shown in result.output and "|" in result.output, args
    bad = runner.invoke(app, ["pairs", "export", "x", "--format", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_verbosity_options_set_the_logging_level() -> None:
    import logging

    from pubgraph.cli import configure_logging

    try:
        assert configure_logging(0, False) == logging.WARNING
        assert configure_logging(1, False) == logging.INFO
        assert configure_logging(2, False) == logging.DEBUG
        assert configure_logging(0, True) == logging.ERROR
        assert not logging.getLogger("pubgraph.pairing").isEnabledFor(logging.WARNING)
    finally:
        configure_logging(0, False)
    assert logging.getLogger("pubgraph.pairing").isEnabledFor(logging.WARNING)


@pytest.mark.neo4j
def test_auth_error_names_the_password_file(neo4j_settings: object, tmp_path: Path) -> None:
    # Local-server mode on the running test server's port, from another data directory.
    port = os.environ["NEO4J_URI"].rsplit(":", 1)[1]
    env = {"PUBGRAPH_DATA_DIR": str(tmp_path), "PUBGRAPH_NEO4J_PORT": port}
    if not os.environ["NEO4J_URI"].startswith("bolt://127.0.0.1"):
        pytest.skip("needs the local test server")
    pw_file = tmp_path / "neo4j" / "password"
    out = run_cli("graph", "stats", env=env)
    _assert_one_line_error(out, "NEO4J_PASSWORD")
    assert str(pw_file) in out.stderr and "does not exist" in out.stderr
    assert not pw_file.exists()  # a read-only command wrote no password
    pw_file.parent.mkdir(parents=True)
    pw_file.write_text("not-the-password")
    out = run_cli("graph", "stats", env=env)
    _assert_one_line_error(out, "NEO4J_PASSWORD")
    assert f"the password file {pw_file}" in out.stderr
