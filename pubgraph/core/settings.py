"""One typed settings object, read from the environment and an optional config file.

Precedence, the same for every command: command-line option > environment variable >
config file > default. The config file is TOML, found at ``$PUBGRAPH_CONFIG`` (which must
then exist) or ``./pubgraph.toml``; its keys are the field names below (e.g.
``neo4j_uri = "bolt://db:7687"``). An unknown key or table is an error naming it and the
file; a bad value names the file and key (or the environment variable it came from).

Neo4j connection variables keep Neo4j's conventional names (``NEO4J_URI``,
``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``); everything else is
``PUBGRAPH_<FIELD>``.

The data directory (Neo4j store, password file, pair runs, caches) defaults to one
absolute place whatever the working directory: ``$XDG_DATA_HOME/pubgraph``, i.e.
``~/.local/share/pubgraph``.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pubgraph.core.errors import ConfigError

DEFAULT_BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PUBMEDBERT = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext"
CONFIG_ENV = "PUBGRAPH_CONFIG"
DEFAULT_CONFIG_NAME = "pubgraph.toml"
# The connection settings read from Neo4j's own variable names.
CONNECTION_FIELDS = frozenset({"neo4j_uri", "neo4j_user", "neo4j_password", "neo4j_database"})
DEVICE_PREFIXES = ("cpu", "cuda", "mps", "xpu")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/pubgraph`` (``~/.local/share/pubgraph``): absolute, so every
    command finds the same Neo4j store and password file from any working directory."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return (Path(base).expanduser() / "pubgraph").absolute()


def config_file() -> tuple[Path, bool]:
    """The config file to read and whether it was named explicitly (``$PUBGRAPH_CONFIG``)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser(), True
    return Path(DEFAULT_CONFIG_NAME), False


def env_name(field: str) -> str:
    """The environment variable of a settings field (``NEO4J_URI``, ``PUBGRAPH_BATCH_SIZE``)."""
    return field.upper() if field in CONNECTION_FIELDS else f"PUBGRAPH_{field.upper()}"


def _env_set(field: str) -> bool:
    wanted = env_name(field)
    return any(k.upper() == wanted for k in os.environ)


def read_config_file() -> tuple[Path | None, dict[str, Any]]:
    """The config file's path and values, checked: an explicit file must exist and be a
    file; unknown keys and tables are errors naming them. Relative ``data_dir`` values are
    taken relative to the file's folder."""
    path, explicit = config_file()
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist", CONFIG_ENV)
        return None, {}
    if not path.is_file():
        raise ConfigError(f"config file {path} is not a file", CONFIG_ENV)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", CONFIG_ENV) from None
    known = set(Settings.model_fields)
    tables = sorted(k for k, v in data.items() if isinstance(v, dict))
    if tables:
        raise ConfigError(
            f"{path}: unknown table(s) {', '.join(f'[{t}]' for t in tables)}: pubgraph's "
            f"settings are plain top-level keys (known: {', '.join(sorted(known))})"
        )
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    if isinstance(data.get("data_dir"), str):
        data["data_dir"] = str((path.parent / Path(data["data_dir"]).expanduser()).absolute())
    return path, data


class _TomlSource(PydanticBaseSettingsSource):
    """The checked config file (see :func:`read_config_file`)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        return read_config_file()[1]


class Settings(BaseSettings):
    """All of pubgraph's configuration. See README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="PUBGRAPH_", extra="forbid", populate_by_name=True)

    # Neo4j connection. No URI means: the local server that `pubgraph neo4j start` runs.
    neo4j_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_URI", "neo4j_uri")
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "neo4j_user")
    )
    neo4j_password: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD", "neo4j_password")
    )
    neo4j_database: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "neo4j_database")
    )

    # Local Neo4j server (no Docker): engine from Maven Central, data under data_dir.
    data_dir: Path = Field(default_factory=default_data_dir)
    neo4j_version: str = "5.26.30"
    neo4j_host: str = "127.0.0.1"
    neo4j_port: int = Field(default=7687, ge=1, le=65535)
    neo4j_auth: bool = True
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "1g"
    neo4j_start_timeout: float = Field(default=120.0, gt=0)
    java: str = "java"
    maven: str = "mvn"

    # Graph loading.
    batch_size: int = Field(default=5000, ge=1)

    # NCBI E-utilities etiquette.
    ncbi_email: str | None = None
    ncbi_api_key: str | None = None
    ncbi_tool: str = "pubgraph"
    eutils_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"

    # Models.
    base_model: str = DEFAULT_BASE_MODEL
    device: str | None = None

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return Path(value).expanduser().absolute()

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() == "auto":
            return None
        value = value.strip()
        if value.split(":", 1)[0] not in DEVICE_PREFIXES:
            raise ValueError(f"unknown torch device {value!r}; use cpu, cuda, cuda:N, mps or auto")
        return value

    @model_validator(mode="after")
    def _no_open_server_without_auth(self) -> Settings:
        # A local server reachable from other machines with no password is anyone's graph.
        if not self.neo4j_auth and not is_loopback(self.neo4j_host):
            raise ValueError(
                f"neo4j_host {self.neo4j_host} exposes the local Neo4j beyond this machine "
                "while neo4j_auth is off: turn auth on or bind to 127.0.0.1"
            )
        return self

    @property
    def neo4j_dir(self) -> Path:
        return self.data_dir / "neo4j"

    @property
    def uses_local_server(self) -> bool:
        return self.neo4j_uri is None

    @property
    def resolved_neo4j_uri(self) -> str:
        return self.neo4j_uri or f"bolt://{self.neo4j_host}:{self.neo4j_port}"

    def source_of(self, field: str) -> str:
        """Where a field's value came from: ``environment``, ``config file`` (or a value
        passed in code) or ``default``; commands use it to put the environment above a
        command-specific config file (e.g. ``base_model`` in a training YAML)."""
        if _env_set(field):
            return "environment"
        if field in self.model_fields_set:
            return "config file"
        return "default"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value becomes a ``ConfigError`` naming where it came from:
    the environment variable, or the config file and key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"] and "neo4j_host" in err["msg"]:
            raise ConfigError(err["msg"].removeprefix("Value error, "),
                              "PUBGRAPH_NEO4J_HOST / PUBGRAPH_NEO4J_AUTH") from None
        field = str(err["loc"][0]) if err["loc"] else "?"
        msg = err["msg"]
        if field in overrides or field not in Settings.model_fields:
            raise ConfigError(f"invalid setting {field}: {msg}") from None
        if not _env_set(field):
            path, data = read_config_file()
            if path is not None and field in data:
                raise ConfigError(
                    f"{path}: invalid value {data[field]!r} for key {field}: {msg}"
                ) from None
        raise ConfigError(f"invalid setting {field}: {msg}", setting=env_name(field)) from None


def shared_data_candidates(explicit: str | Path | None = None) -> list[Path]:
    """Where the shared data folder may be, in the order searched: ``explicit``, then
    ``$PUBGRAPH_SHARED_DATA``, then ``shared/data`` beside the repository or the current
    directory or any of their parents (a clone may sit deeper than ``../``)."""
    if explicit:
        return [Path(explicit)]
    env = os.environ.get("PUBGRAPH_SHARED_DATA")
    if env:
        return [Path(env)]
    repo = Path(__file__).resolve().parents[1]
    out: list[Path] = []
    for start in (repo, Path.cwd().resolve()):
        for base in (start, *start.parents):
            candidate = base / "shared" / "data"
            if candidate not in out:
                out.append(candidate)
    return out


def shared_data_dir(explicit: str | Path | None = None) -> Path:
    """The first existing folder of :func:`shared_data_candidates`; when none exists, the
    first place searched, so that a later "not found" names a real path."""
    candidates = shared_data_candidates(explicit)
    return next((p for p in candidates if p.is_dir()), candidates[0])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()
