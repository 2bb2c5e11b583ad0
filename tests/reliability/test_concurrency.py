"""Concurrent writers (issue #14, defect 1): two `graph load` of the same file at once, and
a load beside an `embed`, end in the graph one load (plus one embed) gives.

Before the fix both loads saw "no relationships yet" for the same articles and both took
the CREATE path: thousands of duplicate relationships on the 30k file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.fingerprint import graph_fingerprint
from tests.reliability.conftest import Baseline, assert_same, embed_args, empty, load_args
from tests.reliability.helpers import cli, popen

pytestmark = [pytest.mark.reliability, pytest.mark.neo4j]


def test_two_loads_at_once_equal_one_load(graph_db: GraphDB, baseline: Baseline,
                                          corpus: Path) -> None:
    empty(graph_db)
    procs = [popen(*load_args(corpus)) for _ in range(2)]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert_same(graph_fingerprint(graph_db), baseline.load)
    check = cli("graph", "check")
    assert check.returncode == 0 and "duplicate relationships: 0" in check.stdout


def test_load_beside_embed_equals_load_then_embed(graph_db: GraphDB, baseline: Baseline,
                                                  corpus: Path, tiny_model: Path) -> None:
    empty(graph_db)
    cli(*load_args(corpus), check=True)
    procs = [popen(*load_args(corpus)), popen(*embed_args(tiny_model))]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    got = graph_fingerprint(graph_db)
    want = baseline.embed
    assert got.duplicate_relationships == 0
    # Everything but the PairRun node of the baseline's pairing step.
    for name in ("articles", "cites", "relationships", "relationships_by_type", "vectors"):
        assert getattr(got, name) == getattr(want, name), name
