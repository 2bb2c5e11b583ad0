"""The project's error types.

Every error a user can cause carries enough context for a one-line message: the
setting to fix, or the file and record that was bad. The CLI prints ``str(error)``
and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class PubgraphError(Exception):
    """Base class: an error with a message fit for one line of terminal output."""

    exit_code = 2


class ConfigError(PubgraphError):
    """A setting is missing or wrong; ``setting`` names the variable to fix."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        self.setting = setting
        super().__init__(f"{message} (set {setting})" if setting else message)


class Neo4jUnavailable(PubgraphError):
    """Neo4j cannot be reached, refused the credentials, or could not be started."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        self.setting = setting
        super().__init__(f"{message} (check {setting})" if setting else message)


class InputError(PubgraphError):
    """Bad input data: names the file, and the record (PMID) or byte offset where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        offset: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.record = record
        self.offset = offset
        self.field = field
        where = []
        if file:
            where.append(str(file))
        if record:
            where.append(f"record {record}")
        if offset is not None:
            where.append(f"byte {offset}")
        if field:
            where.append(f"field {field}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NcbiError(PubgraphError):
    """NCBI E-utilities answered with an error, or kept failing after the retries."""


class PairingError(PubgraphError):
    """Bad pairing parameters (k <= 0, unknown strategy) or a graph with nothing to pair."""


class TrainingError(PubgraphError):
    """Bad training configuration or data."""
