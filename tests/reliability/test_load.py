"""Load: 20 concurrent clients on loopback against the search API (the dashboard has not
landed; its search and article pages call these same functions): text search, similar
articles and the article page's read, for PUBGRAPH_LOAD_SECONDS (10 s by default; the
60 s figure in docs/reliability.md was measured with PUBGRAPH_LOAD_SECONDS=60).
No request may fail; the p95 latency is reported."""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pubgraph.embeddings.embed import Embedder, embed_articles
from pubgraph.embeddings.search import search_text, similar
from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader
from tests.reliability.conftest import empty
from tests.reliability.helpers import REPO

pytestmark = [pytest.mark.reliability, pytest.mark.neo4j, pytest.mark.load_test]

CLIENTS = 20
SECONDS = float(os.environ.get("PUBGRAPH_LOAD_SECONDS", "10"))
REPORT = REPO / ".pytest-reliability.json"

ARTICLE_PAGE = """
MATCH (a:Article {pmid: $pmid})
OPTIONAL MATCH (a)-[:HAS_MESH]->(m:MeshTerm)
OPTIONAL MATCH (a)-[:PUBLISHED_IN]->(j:Journal)
RETURN a.title AS title, a.abstract AS abstract, a.year AS year,
       collect(DISTINCT m.name) AS mesh, j.title AS journal,
       COUNT { (a)-[:CITES]->() } AS refs, COUNT { ()-[:CITES]->(a) } AS cited_by
"""


def test_twenty_clients_on_the_search_api(graph_db: GraphDB, corpus: Path,
                                          tiny_model: Path) -> None:
    empty(graph_db)
    GraphLoader(graph_db, batch_size=5000).load_parquet([corpus])
    embedder = Embedder.load(str(tiny_model))
    embed_articles(graph_db, embedder)
    rows = graph_db.read("MATCH (a:Article) WHERE a.embedding IS NOT NULL "
                         "RETURN a.pmid AS pmid, a.title AS title")
    assert len(rows) > 500

    latencies: dict[str, list[float]] = {"search": [], "similar": [], "article": []}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            row = rng.choice(rows)
            kind = rng.choice(("search", "similar", "article"))
            t = time.perf_counter()
            try:
                if kind == "search":
                    hits = search_text(graph_db, embedder, row["title"] or "cytokine", k=10)
                    ok = len(hits) > 0
                elif kind == "similar":
                    ok = len(similar(graph_db, row["pmid"], k=10)) > 0
                else:
                    ok = graph_db.read(ARTICLE_PAGE, {"pmid": row["pmid"]})[0]["title"] \
                        == row["title"]
            except Exception as exc:  # counted, reported, fails the test
                with lock:
                    errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            dt = time.perf_counter() - t
            with lock:
                latencies[kind].append(dt)
                if not ok:
                    errors.append(f"{kind}: empty answer for {row['pmid']}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))

    every = sorted(x for v in latencies.values() for x in v)
    assert every, "no request completed"
    p95 = every[int(0.95 * (len(every) - 1))]
    figures = {
        "clients": CLIENTS, "seconds": SECONDS, "requests": len(every), "errors": len(errors),
        "requests_per_second": round(len(every) / SECONDS, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
        "p95_ms_by_kind": {k: round(sorted(v)[int(0.95 * (len(v) - 1))] * 1000, 1)
                           for k, v in latencies.items() if v},
    }
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data["load_test"] = figures
    REPORT.write_text(json.dumps(data, indent=1))
    print(f"\nload: {figures}")
    assert not errors, errors[:5]
