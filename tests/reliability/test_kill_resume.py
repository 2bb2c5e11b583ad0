"""SIGKILL at seeded random moments of ingest, `graph load`, `pairs run`, `embed` and
`analyze run`; after
each chain of kills a plain re-run must end in the uninterrupted run's result: the same
Parquet rows (ingest), the same graph fingerprint with no duplicate relationship, the
same pairs, and the same vectors (to float tolerance: a resumed embed encodes other
batches).

A chain: start the command, SIGKILL it once it has run a seeded random number of
transactions (seen with SHOW TRANSACTIONS; ingest: after a random delay), start it again on
what the killed run left, and so on; then one run to completion. Every delivered kill is a
kill point survived (reported in .pytest-reliability.json)."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.fingerprint import graph_fingerprint
from tests.reliability.conftest import (
    Baseline,
    analyze_args,
    assert_same,
    embed_args,
    empty,
    load_args,
    observe,
    pairs_args,
    vectors,
    work_seconds,
)
from tests.reliability.helpers import REPO, cli, popen

pytestmark = [pytest.mark.reliability, pytest.mark.neo4j]

SEED = 1414
#: Kill points per stage (>= 20 in all).
KILLS = {"ingest": 5, "load": 8, "pairs": 5, "embed": 6, "analyze": 6}
REPORT = REPO / ".pytest-reliability.json"


def _record(stage: str, delivered: int, states: list[object]) -> None:
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[stage] = {"kills_delivered": delivered, "states_at_kill": states}
    REPORT.write_text(json.dumps(data, indent=1))


def kill_chain(args: list[str], n: int, scale: float, rng: random.Random,
               state: object = None, db: GraphDB | None = None,
               left: object = None) -> tuple[int, list[object]]:
    """Run ``args`` ``n`` times; with ``db``, SIGKILL it once it has run a random number of
    transactions in 1..0.9 x ``scale`` (the uninterrupted run's count; times ``left()``, the
    share of the work still to do, for a stage that resumes where it was killed); without,
    after U(0.3, 1.0) x ``scale`` seconds. Returns the kills delivered to a live process and
    ``state()`` after each."""
    delivered = 0
    states: list[object] = []
    for _ in range(n):
        proc = popen(*args)
        if db is not None:
            share = float(left()) if left is not None else 1.0  # type: ignore[operator]
            observe(db, proc, rng.randint(1, max(1, int(0.9 * scale * share))))
        else:
            deadline = time.monotonic() + rng.uniform(0.3, 1.0) * scale
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            delivered += 1
        if state is not None:
            states.append(state())  # type: ignore[operator]
    return delivered, states


def _text_articles(db: GraphDB) -> int:
    return int(db.read("MATCH (a:Article) WHERE a.stub = false RETURN count(a) AS n")[0]["n"])


def _embedded(db: GraphDB) -> int:
    return int(db.read("MATCH (a:Article) WHERE a.embedding IS NOT NULL "
                       "RETURN count(a) AS n")[0]["n"])


def test_killed_ingest_reruns_to_the_same_records(shared_data: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    files = sorted(str(p) for p in (shared_data / "pubmed_small").glob("*.xml"))[1:]
    clean = tmp_path / "clean.parquet"
    t = time.perf_counter()
    cli("ingest", "files", *files, "--out", str(clean), "--no-progress", check=True)
    seconds = time.perf_counter() - t
    out = tmp_path / "killed.parquet"
    delivered, _ = kill_chain(["ingest", "files", *files, "--out", str(out), "--no-progress"],
                              KILLS["ingest"], seconds, rng)
    cli("ingest", "files", *files, "--out", str(out), "--no-progress", check=True)
    assert pq.read_table(out).to_pylist() == pq.read_table(clean).to_pylist()
    _record("ingest", delivered, [])
    assert delivered >= KILLS["ingest"] - 1


@pytest.mark.reliability_long
def test_killed_load_pairs_embed_rerun_to_the_uninterrupted_graph(
        graph_db: GraphDB, baseline: Baseline, corpus: Path, tiny_model: Path,
        tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    empty(graph_db)

    delivered, states = kill_chain(load_args(corpus), KILLS["load"], baseline.seconds["load"],
                                   rng, lambda: _text_articles(graph_db), graph_db)
    cli(*load_args(corpus), check=True)
    assert_same(graph_fingerprint(graph_db), baseline.load)
    _record("load", delivered, states)
    total = delivered

    out = tmp_path / "pairs"
    delivered, _ = kill_chain(pairs_args(out), KILLS["pairs"], baseline.seconds["pairs"], rng,
                              None, graph_db)
    cli(*pairs_args(out), check=True)
    assert_same(graph_fingerprint(graph_db), baseline.pairs)
    assert pq.read_table(out / "pairs.parquet").to_pylist() == baseline.pairs_rows
    _record("pairs", delivered, [])
    total += delivered

    delivered, states = kill_chain(embed_args(tiny_model), KILLS["embed"],
                                   baseline.seconds["embed"], rng,
                                   lambda: _embedded(graph_db), graph_db,
                                   left=lambda: 1.0 - _embedded(graph_db) / len(
                                       baseline.vectors))
    cli(*embed_args(tiny_model), check=True)
    assert_same(graph_fingerprint(graph_db), baseline.embed)
    got = vectors(graph_db)
    assert got.keys() == baseline.vectors.keys()
    worst = max(max(abs(a - b) for a, b in zip(got[p], baseline.vectors[p], strict=True))
                for p in got)
    assert worst < 1e-4 and not math.isnan(worst)
    _record("embed", delivered, states)
    total += delivered

    # analyze run: its uninterrupted result is taken on this very graph (the vectors of a
    # resumed embed differ from the baseline's in the last bits), then pruned away, which
    # must give back the graph before it; then the kill chain and one run to completion.
    embedded = graph_fingerprint(graph_db)
    out = tmp_path / "analysis"
    scale = work_seconds(graph_db, analyze_args(out))
    analysed = graph_fingerprint(graph_db)
    assert analysed.nodes_by_label.get("AnalysisRun") == 1
    assert analysed.nodes_by_label.get("Topic", 0) >= 2
    cli("analyze", "prune", "--keep", "0", check=True)
    assert_same(graph_fingerprint(graph_db), embedded)
    delivered, states = kill_chain(analyze_args(out), KILLS["analyze"], scale, rng,
                                   lambda: graph_fingerprint(graph_db).nodes_by_label.get(
                                       "Topic", 0), graph_db)
    cli(*analyze_args(out), check=True)
    assert_same(graph_fingerprint(graph_db), analysed)
    _record("analyze", delivered, states)
    total += delivered
    # Most kills must land in a live process (the rest finished first on a fast machine).
    assert total >= sum(v for k, v in KILLS.items() if k != "ingest") // 2
