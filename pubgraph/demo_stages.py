"""Resumable stages for ``pubgraph demo``: markers with input fingerprints in the run folder.

Each stage writes ``<run>/stages/<name>.json`` when (and only when) it succeeds::

    {"name": ..., "fingerprint": ..., "token": ..., "seconds": ..., "finished": ..., "info": {...}}

The **fingerprint** hashes the stage's own parameters and the **tokens** of the stages it
depends on; a token is the fingerprint plus the moment the stage last ran. So a stage is
skipped when it ran before with the same parameters on the same upstream results, and it
runs again when its parameters change or when anything upstream ran again (a reloaded graph
makes the pairs, the model and the vectors of the old one stale). A stage may also declare
a ``still_valid`` check (e.g. "the graph still holds the loaded articles"): a marker whose
output has gone is not trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MARKER_DIR = "stages"


@dataclass
class Marker:
    """A finished stage: what it was run on, when, how long it took and what it reported."""

    name: str
    fingerprint: str
    token: str
    seconds: float
    finished: str
    info: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False  # this run reused it (not stored)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("skipped")
        return out


def fingerprint(name: str, params: Mapping[str, Any], upstream: Sequence[Marker]) -> str:
    """A digest of the stage name, its parameters (JSON, sorted keys) and upstream tokens."""
    payload = json.dumps(
        {"stage": name, "params": params, "upstream": [m.token for m in upstream]},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def file_fingerprint(paths: Sequence[Path]) -> list[tuple[str, int, int]]:
    """Name, size and mtime (ns) of each file: cheap, and enough to notice a new download."""
    out = []
    for p in paths:
        st = p.stat()
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return out


class StageRunner:
    """Runs named stages in a run folder, skipping those whose marker still holds."""

    def __init__(
        self,
        run_dir: Path,
        *,
        force: Sequence[str] = (),
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.run_dir = run_dir
        self.marker_dir = run_dir / MARKER_DIR
        self.force = set(force)
        self.log = log
        self.clock = clock
        self.done: dict[str, Marker] = {}

    def marker_path(self, name: str) -> Path:
        return self.marker_dir / f"{name}.json"

    def read(self, name: str) -> Marker | None:
        """The stored marker of ``name``, or None (absent or unreadable)."""
        path = self.marker_path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Marker(**data)
        except (OSError, ValueError, TypeError):
            return None

    def _write(self, marker: Marker) -> None:
        self.marker_dir.mkdir(parents=True, exist_ok=True)
        path = self.marker_path(marker.name)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(marker.as_json(), indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)

    def invalidate(self, name: str) -> None:
        """Forget a stage's marker (it runs again next time)."""
        self.marker_path(name).unlink(missing_ok=True)

    def run(
        self,
        name: str,
        action: Callable[[], Mapping[str, Any] | None],
        *,
        params: Mapping[str, Any] | None = None,
        after: Sequence[str] = (),
        still_valid: Callable[[Marker], bool] | None = None,
    ) -> Marker:
        """Run ``action`` unless a marker with the same fingerprint is still valid.

        ``after`` names the upstream stages (run earlier by this runner); ``action``
        returns the info dict kept in the marker (shown in the summary).
        """
        upstream = [self.done[u] for u in after]
        fp = fingerprint(name, params or {}, upstream)
        old = self.read(name)
        if (
            old is not None
            and name not in self.force
            and old.fingerprint == fp
            and (still_valid is None or still_valid(old))
        ):
            old.skipped = True
            self.done[name] = old
            self.log(f"{name}: done earlier ({old.seconds:.0f} s on {old.finished}), skipped")
            return old
        if old is not None and old.fingerprint != fp:
            self.log(f"{name}: inputs changed since the last run, running again")
        start = self.clock()
        info = dict(action() or {})
        seconds = self.clock() - start
        finished = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        marker = Marker(
            name=name,
            fingerprint=fp,
            token=f"{fp}:{time.time_ns()}",
            seconds=round(seconds, 2),
            finished=finished,
            info=info,
        )
        self._write(marker)
        self.done[name] = marker
        return marker
