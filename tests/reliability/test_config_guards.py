"""Configuration that would silently do something else is refused (issue #14, defects 6, 7):
an unauthenticated Neo4j open to the network, and a ``strategies:`` mapping whose
parameters were dropped (``max_hops: 99`` ran as 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import ConfigError, PairingError
from pubgraph.core.settings import Settings, is_loopback, load_settings
from pubgraph.graph.server import LocalNeo4j, check_exposure
from pubgraph.pairing.config import load_config
from tests.reliability.helpers import cli, error_lines

pytestmark = pytest.mark.reliability


def test_open_host_without_auth_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBGRAPH_NEO4J_HOST", "0.0.0.0")
    monkeypatch.setenv("PUBGRAPH_NEO4J_AUTH", "false")
    with pytest.raises(ConfigError, match=r"0\.0\.0\.0.*auth.*PUBGRAPH_NEO4J_HOST"):
        load_settings()


def test_open_host_without_auth_is_one_line_on_the_cli(tmp_path: Path) -> None:
    run = cli("neo4j", "status", env={"PUBGRAPH_NEO4J_HOST": "0.0.0.0",
                                      "PUBGRAPH_NEO4J_AUTH": "false",
                                      "PUBGRAPH_DATA_DIR": str(tmp_path)})
    assert run.returncode == 2
    lines = error_lines(run.stderr)
    assert len(lines) == 1 and "auth" in lines[0] and "0.0.0.0" in lines[0], run.stderr


def test_open_host_with_auth_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(neo4j_host="0.0.0.0", neo4j_auth=True, data_dir=tmp_path)
    check_exposure(settings)
    assert "reachable from other machines" in capsys.readouterr().err
    # the refusal also guards the server object itself (settings built without validation)
    unsafe = Settings.model_construct(neo4j_host="0.0.0.0", neo4j_auth=False, data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"refusing to start Neo4j on 0\.0\.0\.0"):
        LocalNeo4j(unsafe).start(timeout=1)


@pytest.mark.parametrize(("host", "local"), [("127.0.0.1", True), ("localhost", True),
                                             ("::1", True), ("127.0.1.1", True),
                                             ("0.0.0.0", False), ("10.1.2.3", False),
                                             ("db.example.org", False)])
def test_is_loopback(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_loopback_without_auth_is_fine() -> None:
    assert Settings(neo4j_host="127.0.0.1", neo4j_auth=False).neo4j_auth is False


@pytest.mark.parametrize("text", [
    "strategies:\n  co_citation:\n    k: 99\n",
    "strategies:\n  - co_citation: {k: 99}\n",
])
def test_strategies_with_parameters_are_refused_naming_the_key(tmp_path: Path, text: str
                                                               ) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(text)
    with pytest.raises(PairingError, match=r"'strategies\.co_citation' has parameters \(k\)"):
        load_config(path)


def test_strategies_mapping_without_parameters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text("strategies:\n  cites:\n  hard:\n")
    with pytest.raises(PairingError, match=r"must be a list of names.*\[cites, hard\]"):
        load_config(path)


def test_strategy_parameters_under_params_are_used(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text("strategies: [co_citation]\nparams:\n  co_citation:\n    k: 7\n")
    cfg = load_config(path)
    assert cfg.params_for("co_citation").k == 7  # type: ignore[attr-defined]
