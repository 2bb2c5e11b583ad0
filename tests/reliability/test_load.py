"""Load: 20 concurrent clients on loopback against the running dashboard: its search page
(a free-text query: query encoding, the vector and full-text indexes, MeSH chips) and its
article page (the record, citations both ways, similar articles, the neighbourhood), each
rendered through Dash's page router over HTTP exactly as the browser asks for it, for
PUBGRAPH_LOAD_SECONDS (10 s by default; the 60 s figure in docs/reliability.md was measured
with PUBGRAPH_LOAD_SECONDS=60). No request may fail or render an error page; the p95 latency
is reported."""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from pubgraph.core.settings import Settings
from pubgraph.dashboard.app import router_body
from pubgraph.embeddings.embed import Embedder, embed_articles
from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader
from tests.dashboard.conftest import serve
from tests.reliability.conftest import empty
from tests.reliability.helpers import REPO

pytestmark = [pytest.mark.reliability, pytest.mark.neo4j, pytest.mark.load_test]

CLIENTS = 20
SECONDS = float(os.environ.get("PUBGRAPH_LOAD_SECONDS", "10"))
REPORT = REPO / ".pytest-reliability.json"
#: Text a page shows only when it failed (components.guard / the notices).
ERROR_MARKERS = ("Something went wrong", "Cannot show this", "pg-notice-error", "Traceback")


def test_twenty_clients_on_the_dashboard_search_and_article_pages(
        graph_db: GraphDB, neo4j_settings: Settings, corpus: Path, tiny_model: Path) -> None:
    empty(graph_db)
    GraphLoader(graph_db, batch_size=5000).load_parquet([corpus])
    embed_articles(graph_db, Embedder.load(str(tiny_model)))
    rows = graph_db.read("MATCH (a:Article) WHERE a.embedding IS NOT NULL "
                         "AND size(a.title) > 20 RETURN a.pmid AS pmid, a.title AS title")
    assert len(rows) > 500

    served = serve(neo4j_settings)
    url = f"{served.url}/_dash-update-component"
    latencies: dict[str, list[float]] = {"search": [], "article": []}
    errors: list[str] = []
    lock = threading.Lock()

    def render(session: requests.Session, path: str) -> str:
        r = session.post(url, json=router_body(path), timeout=120)
        r.raise_for_status()
        # Dash escapes "/" as \u002f: decoded and re-encoded, the page's hrefs read plainly.
        return json.dumps(r.json(), ensure_ascii=False)

    try:
        with requests.Session() as s:  # warm: the query encoder loads on first use
            s.get(served.url + "/", timeout=120)
            render(s, "/search?q=" + quote(rows[0]["title"]))
            render(s, f"/article/{rows[0]['pmid']}")
        stop = time.monotonic() + SECONDS

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with requests.Session() as session:
                while time.monotonic() < stop:
                    row = rng.choice(rows)
                    kind = rng.choice(("search", "article"))
                    path = (f"/search?q={quote(row['title'])}" if kind == "search"
                            else f"/article/{row['pmid']}")
                    t = time.perf_counter()
                    try:
                        page = render(session, path)
                    except Exception as exc:  # counted, reported, fails the test
                        with lock:
                            errors.append(f"{path}: {type(exc).__name__}: {exc}")
                        continue
                    dt = time.perf_counter() - t
                    bad = [m for m in ERROR_MARKERS if m in page]
                    # The page must show what was asked for: the article, or hits (links
                    # to articles; a short title need not rank its own article first).
                    shown = row["pmid"] in page if kind == "article" else "/article/" in page
                    with lock:
                        latencies[kind].append(dt)
                        if bad or not shown:
                            errors.append(f"{path}: {bad or 'not what was asked'}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
    finally:
        served.stop()

    every = sorted(x for v in latencies.values() for x in v)
    assert every, "no request completed"
    p95 = every[int(0.95 * (len(every) - 1))]
    figures = {
        "target": "dashboard pages (search, article) over HTTP",
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
    assert len(latencies["search"]) > 0 and len(latencies["article"]) > 0
