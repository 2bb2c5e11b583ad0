"""Write a run into the graph: one AnalysisRun, its Topics and their relationships.

Idempotent per run: everything the run wrote before is deleted first (its topics with
their IN_TOPIC / SIGNATURE / RELATED relationships, its MESH_TREND relationships), then
written again in ``UNWIND $rows`` batches, so writing the same run twice leaves one copy.
Other runs are never touched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pubgraph.analysis import queries as q
from pubgraph.graph.db import GraphDB, run_read, run_write, write_batches
from pubgraph.graph.schema import SCHEMA_STATEMENTS

ANALYSIS_SCHEMA = ("analysisrun_id", "topic_key", "topic_run")


def ensure_schema(db: GraphDB) -> None:
    """The analysis constraints and index (idempotent), also on a graph made before them:
    without ``topic_key`` every membership write would scan all topics."""
    for name, statement in SCHEMA_STATEMENTS:
        if name in ANALYSIS_SCHEMA:
            run_write(db, statement)


def clean(value: Any) -> Any:
    """numpy scalars → Python, NaN/inf → None (Neo4j has no null properties), recursively
    for lists."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def rows_of(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as cleaned dict rows."""
    return [clean(r) for r in df.to_dict(orient="records")]


def delete_run(db: GraphDB, run: str) -> None:
    """Remove a run: its memberships and topics (chunked), then the AnalysisRun node."""
    with db.session() as session:
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction.
        session.run(q.DELETE_RUN_MEMBERSHIPS, {"run": run}).consume()
        session.run(q.DELETE_RUN_TOPICS, {"run": run}).consume()
    run_write(db, q.DELETE_RUN_NODE, {"run": run})


def write_run(
    db: GraphDB,
    run: Mapping[str, Any],
    topics: pd.DataFrame,
    memberships: pd.DataFrame,
    signatures: pd.DataFrame,
    related: pd.DataFrame,
    mesh_trends: pd.DataFrame,
    *,
    batch_size: int | None = None,
) -> dict[str, int]:
    """Replace the run ``run["id"]`` in the graph; returns the rows written per kind."""
    run_id = str(run["id"])
    ensure_schema(db)
    delete_run(db, run_id)
    props = clean(dict(run))
    props["parameters"] = json.dumps(props.get("parameters") or {}, sort_keys=True)
    props["metrics"] = json.dumps(props.get("metrics") or {}, sort_keys=True, default=str)
    run_write(db, q.MERGE_RUN, props)
    counts = {}
    for name, query, df in (
        ("topics", q.CREATE_TOPICS, topics),
        ("memberships", q.CREATE_MEMBERSHIPS, memberships),
        ("signatures", q.CREATE_SIGNATURES, signatures),
        ("related", q.CREATE_RELATED, related),
        ("mesh_trends", q.CREATE_MESH_TRENDS, mesh_trends),
    ):
        counts[name] = write_batches(db, query, rows_of(df), batch_size=batch_size, run=run_id)
    return counts


def prune_runs(db: GraphDB, keep: int) -> list[str]:
    """Delete all but the ``keep`` most recent runs; returns the deleted ids."""
    runs = [r["id"] for r in run_read(db, q.LIST_RUNS)]
    gone = runs[max(keep, 0):]
    for r in gone:
        delete_run(db, r)
    return gone
