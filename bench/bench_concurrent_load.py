"""Concurrent `graph load` of one file: time of one load, and whether two loads at once
converge to the same graph (fingerprint, duplicate relationships).

Usage (against a scratch Neo4j — it RESETS the configured database):
    python bench/bench_concurrent_load.py records.parquet [--yes]
Prints: one-load seconds, two-concurrent-loads seconds, duplicate relationships, and whether
the fingerprints match.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pubgraph.core.settings import get_settings
from pubgraph.graph.db import connect
from pubgraph.graph.fingerprint import graph_fingerprint
from pubgraph.graph.schema import init_schema, reset_graph


def _load(path: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pubgraph.cli", "graph", "load", path],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def main() -> None:
    path = sys.argv[1]
    if "--yes" not in sys.argv:
        sys.exit("this resets the configured database: pass --yes")
    db = connect(get_settings())
    reset_graph(db)
    init_schema(db)
    t = time.perf_counter()
    p = _load(path)
    assert p.wait() == 0, p.stderr.read().decode() if p.stderr else ""
    one = time.perf_counter() - t
    single = graph_fingerprint(db)
    print(f"one load: {one:.1f} s; duplicates {single.duplicate_relationships}")
    reset_graph(db)
    init_schema(db)
    t = time.perf_counter()
    procs = [_load(path), _load(path)]
    codes = [p.wait() for p in procs]
    two = time.perf_counter() - t
    for p in procs:
        if p.returncode and p.stderr is not None:
            print("stderr of a failed load:", p.stderr.read().decode()[-1500:])
    double = graph_fingerprint(db)
    print(f"two loads at once: {two:.1f} s; exit codes {codes}; "
          f"duplicates {double.duplicate_relationships}; "
          f"relationships {double.relationships_by_type} vs {single.relationships_by_type}")
    print("same fingerprint:", double == single, double.differences(single))
    print(f"file: {Path(path).name}")


if __name__ == "__main__":
    main()
