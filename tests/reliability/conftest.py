"""Fixtures of the reliability suite: a small real corpus as Parquet, a tiny embedding
model, and the uninterrupted runs' fingerprints (computed once, compared by every test)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.fingerprint import GraphFingerprint, graph_fingerprint
from pubgraph.graph.schema import init_schema, reset_graph
from tests.embeddings.conftest import build_tiny_model
from tests.graph.test_load_real import slice_parquet
from tests.reliability.helpers import popen

#: Articles of pubmed20n0014 in the corpus: enough for ~20 load transactions at
#: --batch-size 600, small enough for a load in seconds.
ARTICLES = 700
LOAD_BATCH = "600"


@pytest.fixture(scope="session")
def corpus(shared_data: Path) -> Path:
    """The first 700 articles of pubmed20n0014 (plus its deletions) as a record file."""
    return slice_parquet(shared_data, "pubmed20n0014", ARTICLES)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("reliability-model"), seed=5)


@dataclass
class Baseline:
    """An uninterrupted run's results: fingerprints after each stage, and how many
    transactions of each stage the test saw (``seconds``: the progress scale of kills)."""

    load: GraphFingerprint
    pairs: GraphFingerprint
    embed: GraphFingerprint
    pairs_rows: list[dict[str, object]]
    vectors: dict[str, list[float]]
    seconds: dict[str, float]


def load_args(corpus: Path) -> list[str]:
    return ["graph", "load", "--batch-size", LOAD_BATCH, str(corpus)]


def pairs_args(out: Path) -> list[str]:
    return ["pairs", "run", "--strategy", "cites,co_citation,bib_coupling,random_distant",
            "--seed", "7", "--out", str(out), "--workers", "1"]


def embed_args(model: Path) -> list[str]:
    return ["embed", "--model", str(model), "--chunk", "40", "--batch", "16", "--no-progress"]


def analyze_args(out: Path) -> list[str]:
    return ["analyze", "run", "--seed", "3", "--no-map", "--out", str(out), "--no-progress",
            "--json"]


def vectors(db: GraphDB) -> dict[str, list[float]]:
    rows = db.read("MATCH (a:Article) WHERE a.embedding IS NOT NULL "
                   "RETURN a.pmid AS pmid, a.embedding AS v")
    return {r["pmid"]: r["v"] for r in rows}


def empty(db: GraphDB) -> None:
    reset_graph(db)
    init_schema(db)


# Not the command's work: our own SHOW, and the connection check every command makes first
# (``graph.db.connect`` runs RETURN 1; a kill there is a server down at start-up, which
# ``connect`` reports as unreachable, not as a connection lost mid-work).
_FOREIGN_TX = ("SHOW TRANSACTIONS YIELD transactionId, currentQuery "
               "WHERE NOT currentQuery STARTS WITH 'SHOW' AND trim(currentQuery) <> 'RETURN 1' "
               "RETURN transactionId AS id")


def foreign_transactions(db: GraphDB) -> set[str]:
    """Ids of the transactions other clients (the command under test) are running."""
    return {r["id"] for r in db.read(_FOREIGN_TX)}


def working(db: GraphDB) -> bool:
    """True while a transaction of another client (the command under test) runs."""
    return bool(foreign_transactions(db))


def observe(db: GraphDB, proc: subprocess.Popen[str], kill_after: int | None = None) -> int:
    """Watch ``proc``'s transactions; SIGKILL it once ``kill_after`` distinct ones were seen.
    Returns how many were seen. The progress measure of a kill point: it does not depend
    on how fast this machine is today."""
    import os
    import signal

    seen: set[str] = set()
    while proc.poll() is None:
        with contextlib.suppress(Exception):  # a busy server: look again
            seen |= foreign_transactions(db)
        if kill_after is not None and len(seen) >= kill_after and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.03)
    return len(seen)


def wait_for_work(db: GraphDB, proc: subprocess.Popen[str], timeout: float = 300) -> bool:
    """Wait until ``proc`` runs its first transaction (False if it ended first)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if working(db):
            return True
        time.sleep(0.01)
    return False


def work_seconds(db: GraphDB, args: list[str]) -> float:
    """Run ``args`` to completion; returns the number of its transactions seen."""
    proc = popen(*args)
    seen = observe(db, proc)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, (out[-2000:], err[-3000:])
    return float(seen)


_BASELINE: dict[str, Baseline] = {}


@pytest.fixture
def baseline(graph_db: GraphDB, corpus: Path, tiny_model: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """Load, pair and embed the corpus without interruption (once per session)."""
    if "b" not in _BASELINE:
        out = tmp_path_factory.mktemp("baseline-pairs")
        empty(graph_db)
        seconds = {"load": work_seconds(graph_db, load_args(corpus))}
        load_fp = graph_fingerprint(graph_db)
        seconds["pairs"] = work_seconds(graph_db, pairs_args(out))
        pairs_fp = graph_fingerprint(graph_db)
        seconds["embed"] = work_seconds(graph_db, embed_args(tiny_model))
        _BASELINE["b"] = Baseline(
            load=load_fp, pairs=pairs_fp, embed=graph_fingerprint(graph_db),
            pairs_rows=pq.read_table(out / "pairs.parquet").to_pylist(),
            vectors=vectors(graph_db), seconds=seconds,
        )
        assert load_fp.duplicate_relationships == 0
        assert load_fp.nodes_by_label["Article"] > ARTICLES
    empty(graph_db)
    return _BASELINE["b"]


def assert_same(got: GraphFingerprint, want: GraphFingerprint) -> None:
    assert got.duplicate_relationships == 0
    assert got == want, got.differences(want)
