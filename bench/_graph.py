"""The bench scripts' shared connection to a graph: ``--uri/--user/--password`` and a
:class:`GraphDB` on them (server notifications off, so benchmark output stays readable)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from pubgraph.graph.db import GraphDB


def add_graph_args(ap: argparse.ArgumentParser) -> None:
    """``--uri`` (required), ``--user`` (neo4j) and ``--password`` (``$NEO4J_PASSWORD``)."""
    ap.add_argument("--uri", required=True)
    ap.add_argument("--user", default="neo4j")
    ap.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD"))


def open_graph(args: argparse.Namespace) -> GraphDB:
    """A :class:`GraphDB` on the ``neo4j`` database of ``args.uri``."""
    from neo4j import GraphDatabase

    from pubgraph.graph.db import GraphDB

    driver = GraphDatabase.driver(
        args.uri, auth=(args.user, args.password), notifications_min_severity="OFF"
    )
    return GraphDB(driver, "neo4j")
