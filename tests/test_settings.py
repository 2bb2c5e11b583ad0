"""Settings: environment over config file over defaults; bad values name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import ConfigError
from pubgraph.core.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "NEO4J_URI",
        "NEO4J_USER",
        "NEO4J_PASSWORD",
        "NEO4J_DATABASE",
        "PUBGRAPH_NEO4J_PORT",
        "PUBGRAPH_BATCH_SIZE",
        "PUBGRAPH_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_point_at_the_local_server() -> None:
    s = Settings()
    assert s.uses_local_server
    assert s.resolved_neo4j_uri == "bolt://127.0.0.1:7687"
    assert s.neo4j_auth is True
    assert s.neo4j_password is None


def test_neo4j_variables_keep_their_conventional_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://example.databases.neo4j.io")
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.setenv("NEO4J_DATABASE", "pubmed")
    s = Settings()
    assert not s.uses_local_server
    assert s.resolved_neo4j_uri == "neo4j+s://example.databases.neo4j.io"
    assert (s.neo4j_password, s.neo4j_database) == ("secret", "pubmed")


def test_environment_overrides_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text('batch_size = 123\nneo4j_port = 7999\nncbi_email = "me@example.org"\n')
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(cfg))
    monkeypatch.setenv("PUBGRAPH_BATCH_SIZE", "77")
    s = Settings()
    assert s.batch_size == 77  # env wins
    assert s.neo4j_port == 7999  # from the file
    assert s.ncbi_email == "me@example.org"


def test_default_config_file_in_working_directory(tmp_path: Path) -> None:
    (tmp_path / "pubgraph.toml").write_text('neo4j_uri = "bolt://db:7687"\n')
    assert Settings().resolved_neo4j_uri == "bolt://db:7687"


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("PUBGRAPH_NEO4J_PORT", "abc", "PUBGRAPH_NEO4J_PORT"),
        ("PUBGRAPH_NEO4J_PORT", "70000", "PUBGRAPH_NEO4J_PORT"),
        ("PUBGRAPH_BATCH_SIZE", "0", "PUBGRAPH_BATCH_SIZE"),
    ],
)
def test_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == named
    assert named in str(info.value)


def test_broken_config_file_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("batch_size = = 3\n")
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="PUBGRAPH_CONFIG"):
        load_settings()
