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
        "PUBGRAPH_DATA_DIR",
        "PUBGRAPH_DEVICE",
        "PUBGRAPH_BASE_MODEL",
        "XDG_DATA_HOME",
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


def test_default_data_dir_is_absolute_and_the_same_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    first = Settings().data_dir
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert first.is_absolute()
    assert Settings().data_dir == first == tmp_path / "home" / ".local" / "share" / "pubgraph"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().data_dir == tmp_path / "xdg" / "pubgraph"


def test_relative_data_dir_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBGRAPH_DATA_DIR", "rel/data")
    assert Settings().data_dir == tmp_path / "rel" / "data"
    cfg = tmp_path / "conf" / "pubgraph.toml"
    cfg.parent.mkdir()
    cfg.write_text('data_dir = "store"\n')
    monkeypatch.delenv("PUBGRAPH_DATA_DIR")
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(cfg))
    assert Settings().data_dir == tmp_path / "conf" / "store"  # relative to the file


def test_explicit_config_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "PUBGRAPH_CONFIG"
    assert "missing.toml does not exist" in str(info.value)
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(tmp_path))  # a directory
    with pytest.raises(ConfigError, match="is not a file"):
        load_settings()


def test_unknown_key_and_table_are_errors_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text('batch_sise = 10\nneo4j_port = 7999\n')
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(cfg) in str(info.value) and "batch_sise" in str(info.value)
    cfg.write_text('[neo4j]\nuri = "bolt://x:7687"\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(cfg) in str(info.value) and "[neo4j]" in str(info.value)


def test_bad_value_in_the_file_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text("batch_size = 0\n")
    monkeypatch.setenv("PUBGRAPH_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert str(cfg) in message and "batch_size" in message
    assert "PUBGRAPH_BATCH_SIZE" not in message  # the variable is not where the value is
    monkeypatch.setenv("PUBGRAPH_BATCH_SIZE", "-1")  # now the environment's value is the bad one
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "PUBGRAPH_BATCH_SIZE"


def test_source_of_tells_environment_from_file_and_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "pubgraph.toml"
    cfg.write_text('base_model = "from/file"\n')
    s = Settings()
    assert (s.base_model, s.source_of("base_model")) == ("from/file", "config file")
    assert s.source_of("batch_size") == "default"
    monkeypatch.setenv("PUBGRAPH_BASE_MODEL", "from/env")
    s = Settings()
    assert (s.base_model, s.source_of("base_model")) == ("from/env", "environment")


def test_unknown_device_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBGRAPH_DEVICE", "gpu")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "PUBGRAPH_DEVICE"
    monkeypatch.setenv("PUBGRAPH_DEVICE", "auto")
    assert load_settings().device is None


def test_missing_gpu_is_one_error_naming_the_setting() -> None:
    import torch

    from pubgraph.core.models import check_device

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError) as info:
        check_device("cuda")
    assert info.value.setting == "PUBGRAPH_DEVICE"
    assert "no CUDA GPU" in str(info.value)
    assert check_device("cpu") == "cpu" and check_device(None) is None
