"""Query latency of the analysis query library on a graph that already holds embeddings.

Runs every query type ``--n`` times (200 by default) after ``--warmup`` warm-up calls, over
PMIDs drawn (seeded) from the articles with vectors, and prints p50 / p95 / mean in ms.
Each call goes through the public Python API (``analysis.search``), so it includes the
driver round trips and, in auto mode, the vector-status check. Baselines measured in the
same run: a bare ``RETURN 1`` round trip, and exact top-10 scoring over every vector
(``--exact-n`` calls), so the index's speed-up is a ratio of the same run.

Query texts for semantic search are the titles of sampled articles, encoded beforehand with
the model recorded next to the vectors (the encoding time is reported on its own line).

    NEO4J_URI=bolt://127.0.0.1:7871 NEO4J_PASSWORD=... python bench/bench_queries.py
    python bench/bench_queries.py --n 200 --json figures.json

The graph it was measured on: both shared PubMed files parsed to Parquet and loaded with
the graph loader, the MeSH hierarchy loaded (``../shared/data/mesh/tree-numbers.tsv``),
then ``pubgraph embed`` with the base model (all-MiniLM-L6-v2, max_seq_length 256).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE_PMIDS = "MATCH (a:Article) WHERE a.embedding IS NOT NULL RETURN a.pmid AS pmid"
CITING_PMIDS = """
MATCH (a:Article)-[:CITES]-(:Article)
WHERE a.embedding IS NOT NULL
RETURN DISTINCT a.pmid AS pmid
"""
TITLES = "UNWIND $pmids AS p MATCH (a:Article {pmid: p}) RETURN a.title AS title"
# A MeSH descriptor with narrower terms that tags a fair share of the embedded articles.
BUSY_MESH = """
MATCH (a:Article)-[:HAS_MESH]->(n:MeshTerm)-[:BROADER]->(m:MeshTerm)
WHERE a.embedding IS NOT NULL
RETURN m.ui AS ui, m.name AS name, count(DISTINCT a) AS n
ORDER BY n DESC LIMIT 20
"""
BUSY_YEAR = """
MATCH (a:Article) WHERE a.embedding IS NOT NULL AND a.year IS NOT NULL
RETURN a.year AS year, count(*) AS n ORDER BY n DESC LIMIT 1
"""
BUSY_JOURNAL = """
MATCH (a:Article) WHERE a.embedding IS NOT NULL AND a.journal_id IS NOT NULL
RETURN a.journal_id AS id, count(*) AS n ORDER BY n DESC LIMIT 1
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def measure(fn: Callable[[Any], Any], args: list[Any], warmup: int) -> dict[str, float]:
    for a in args[:warmup]:
        fn(a)
    times: list[float] = []
    sizes: list[int] = []
    for a in args:
        t0 = time.perf_counter()
        out = fn(a)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(out) if hasattr(out, "__len__") else 1)
    return {
        "n": len(times),
        "p50_ms": round(pct(times, 0.50), 2),
        "p95_ms": round(pct(times, 0.95), 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "mean_rows": round(statistics.fmean(sizes), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="queries per type")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up calls per type")
    ap.add_argument("--exact-n", type=int, default=30, help="calls of the exact baseline")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from pubgraph.core.settings import get_settings
    from pubgraph.embeddings import search as s
    from pubgraph.embeddings.embed import Embedder, current_model
    from pubgraph.embeddings.queries import REFRESH_MODEL_COUNTS
    from pubgraph.graph.db import connect, run_read, run_write, server_version

    driver = connect(get_settings())
    # An embed run in progress updates its own model's count per chunk; refresh all counts
    # once so the index-or-exact decision sees the vectors that exist now.
    run_write(driver, REFRESH_MODEL_COUNTS)
    s.clear_status_cache()
    status = s.vector_status(driver)
    model = current_model(driver)
    rng = random.Random(args.seed)
    pool = [r["pmid"] for r in run_read(driver, SAMPLE_PMIDS)]
    citing = [r["pmid"] for r in run_read(driver, CITING_PMIDS)]
    pmids = [rng.choice(pool) for _ in range(args.n)]
    cpmids = [rng.choice(citing) for _ in range(args.n)]
    pairs = []
    for p in cpmids:  # explain a query article against its best cited neighbour (or any)
        hits = s.cited_neighbours(driver, p, hops=2, k=1)
        pairs.append((p, hits[0].pmid if hits else rng.choice(pool)))
    mesh = run_read(driver, BUSY_MESH)
    mesh_ui = mesh[len(mesh) // 2]["ui"] if mesh else None
    journal = run_read(driver, BUSY_JOURNAL)[0]["id"]
    year = run_read(driver, BUSY_YEAR)[0]["year"]

    embedder = Embedder.load(model.path, max_seq_length=model.max_seq_length, name=model.name)
    titles = [r["title"] or "" for r in run_read(driver, TITLES, {"pmids": pmids})]
    t0 = time.perf_counter()
    vectors = [embedder.encode([t])[0] for t in titles]
    encode_ms = (time.perf_counter() - t0) * 1000 / len(titles)

    k = args.k
    f_year = s.Filters(min_year=year, max_year=year)
    f_mesh = s.Filters(mesh=mesh_ui)
    f_journal = s.Filters(journal=journal)
    cases: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "round trip (RETURN 1)": (lambda _: run_read(driver, "RETURN 1 AS one"), pmids),
        "vector top-10": (lambda v: s.search_vector(driver, v, k=k), vectors),
        f"vector top-10, year {year}": (
            lambda v: s.search_vector(driver, v, k=k, filters=f_year),
            vectors,
        ),
        f"vector top-10, MeSH {mesh_ui} + narrower": (
            lambda v: s.search_vector(driver, v, k=k, filters=f_mesh),
            vectors,
        ),
        f"vector top-10, journal {journal}": (
            lambda v: s.search_vector(driver, v, k=k, filters=f_journal),
            vectors,
        ),
        "similar PMID": (lambda p: s.similar(driver, p, k=k), pmids),
        "cited-neighbours (2 hops)": (lambda p: s.cited_neighbours(driver, p, hops=2, k=k), cpmids),
        "recommend (similar, not cited)": (lambda p: s.recommend(driver, p, k=k), cpmids),
        "blended (co-citation, alpha 0.5)": (lambda p: s.blended(driver, p, k=k), cpmids),
        "explain (MeSH + paths <= 3)": (lambda pq: s.explain(driver, *pq), pairs),
        "vector top-10, exact baseline": (
            lambda v: s.search_vector(driver, v, k=k, exact=True),
            vectors[: args.exact_n],
        ),
    }
    results: dict[str, Any] = {}
    for name, (fn, inputs) in cases.items():
        warm = min(args.warmup, len(inputs))
        results[name] = measure(fn, inputs, warm)
        r = results[name]
        print(
            f"{name:45s} n={r['n']:4d}  p50 {r['p50_ms']:8.2f} ms  p95 {r['p95_ms']:8.2f} ms"
            f"  mean {r['mean_ms']:8.2f} ms  rows {r['mean_rows']}",
            flush=True,
        )
    speedup = (
        results["vector top-10, exact baseline"]["p50_ms"] / results["vector top-10"]["p50_ms"]
    )
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "server": server_version(driver),
        "vectors": status.vectors,
        "index_online": status.index_online,
        "dimension": status.dimension,
        "model": model.id,
        "mesh_filter": mesh_ui,
        "journal_filter": journal,
        "year_filter": year,
        "query_encode_ms": round(encode_ms, 2),
        "index_speedup_p50": round(speedup, 1),
        "results": results,
    }
    print(
        f"vectors {status.vectors:,} (index online: {status.index_online}, "
        f"{status.dimension} dims, model {model.id})"
    )
    print(f"query text encoding: {encode_ms:.1f} ms per query (not included above)")
    print(f"index vs exact top-10, p50: {speedup:.1f}x faster")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    driver.close()


if __name__ == "__main__":
    main()
