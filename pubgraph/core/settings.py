"""One typed settings object, read from the environment and an optional config file.

Precedence: environment variables > config file > defaults. The config file is
TOML, found at ``$PUBGRAPH_CONFIG`` or ``./pubgraph.toml``; its keys are the field
names below (e.g. ``neo4j_uri = "bolt://db:7687"``).

Neo4j connection variables keep Neo4j's conventional names (``NEO4J_URI``,
``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``); everything else is
``PUBGRAPH_<FIELD>``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pubgraph.core.errors import ConfigError

DEFAULT_BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PUBMEDBERT = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext"


def _config_file() -> Path:
    return Path(os.environ.get("PUBGRAPH_CONFIG", "pubgraph.toml"))


class Settings(BaseSettings):
    """All of pubgraph's configuration. See README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="PUBGRAPH_", extra="ignore", populate_by_name=True)

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
    data_dir: Path = Path(".pubgraph")
    neo4j_version: str = "5.26.30"
    neo4j_host: str = "127.0.0.1"
    neo4j_port: int = Field(default=7687, ge=1, le=65535)
    neo4j_auth: bool = True
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "1g"
    neo4j_start_timeout: float = 120.0
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)


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
    """Read the settings; a bad value becomes a ``ConfigError`` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "?"
        if loc == "?" and "neo4j_host" in err["msg"]:
            raise ConfigError(err["msg"].removeprefix("Value error, "),
                              "PUBGRAPH_NEO4J_HOST / PUBGRAPH_NEO4J_AUTH") from None
        conn = {"neo4j_uri", "neo4j_user", "neo4j_password", "neo4j_database"}
        name = loc.upper() if loc in conn else f"PUBGRAPH_{loc.upper()}"
        raise ConfigError(f"invalid setting {loc}: {err['msg']}", setting=name) from None
    except Exception as exc:  # a broken TOML file
        raise ConfigError(
            f"cannot read config file {_config_file()}: {exc}", "PUBGRAPH_CONFIG"
        ) from None


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
