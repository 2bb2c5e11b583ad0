"""Graph load throughput: both shared PubMed files into an empty local Neo4j, and the naive
one-transaction-per-article path on 2,000 of the same articles, measured in the same run.

Steps:

1. Parse ``pubmed20n0014`` and ``pubmed21n1298`` into Parquet with ``ingest.files.sync_files``
   (timed apart: the load figures use the pre-built Parquet). Reused if already there.
2. ``--runs`` times (3 by default): start a fresh local Neo4j 5.26 (empty store, heap and
   page cache from the settings); warm it up (``--warmup`` articles of pubmed21n1298 loaded
   both ways, then deleted: the JIT has compiled the hot paths, plans are cached); load
   both files with ``GraphLoader`` in a child process (its peak RSS is the loader's peak
   memory); record wall time, graph rows created (nodes, relationships) and the server's
   CPU seconds; stop the server, delete its store.
3. On one more fresh, warmed-up server: the first 2,000 articles of pubmed20n0014 loaded the
   naive way (one transaction per article, one MERGE statement per node and per
   relationship), then, after emptying, the same 2,000 with ``GraphLoader``. The speed-up
   is naive / batched.

The machine is shared: the load average is printed next to every figure.

    python bench/bench_load.py                 # 3 full runs + naive comparison
    python bench/bench_load.py --runs 1 --work /tmp/pubgraph-bench-load --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pubgraph.core.settings import shared_data_dir  # noqa: E402  (after the path insert)

SHARED = shared_data_dir()
FILES = ("pubmed20n0014", "pubmed21n1298")

# --- the naive baseline: one transaction per article, one MERGE per node/relationship ---

NAIVE_ARTICLE = """
MERGE (a:Article {pmid: $pmid})
SET a.title = $title, a.abstract = $abstract, a.year = $year, a.pub_date = $pub_date,
    a.medline_date = $medline_date, a.doi = $doi, a.pmcid = $pmcid, a.language = $language,
    a.publication_types = $publication_types, a.keywords = $keywords,
    a.journal_id = $journal_id, a.source = $source, a.source_file = $source_file,
    a.stub = false
"""
NAIVE_JOURNAL = """
MATCH (a:Article {pmid: $pmid})
MERGE (j:Journal {id: $id})
SET j.title = $title, j.iso_abbreviation = $iso_abbreviation, j.issn = $issn
MERGE (a)-[:PUBLISHED_IN]->(j)
"""
NAIVE_AUTHOR = """
MATCH (a:Article {pmid: $pmid})
MERGE (x:Author {key: $key})
SET x.last_name = $last_name, x.fore_name = $fore_name, x.initials = $initials
MERGE (a)-[r:AUTHORED_BY]->(x)
SET r.position = $position
"""
NAIVE_MESH = """
MATCH (a:Article {pmid: $pmid})
MERGE (m:MeshTerm {ui: $ui})
SET m.name = $name
MERGE (a)-[r:HAS_MESH]->(m)
SET r.major = $major, r.descriptor_major = $descriptor_major, r.qualifiers = $qualifiers,
    r.major_qualifiers = $major_qualifiers
"""
NAIVE_CITES = """
MATCH (a:Article {pmid: $pmid})
MERGE (b:Article {pmid: $ref})
ON CREATE SET b.stub = true
MERGE (a)-[:CITES]->(b)
"""
DELETE_RELS = "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS"
DELETE_NODES = "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS"
COUNT_NODES = "MATCH (n) RETURN count(n) AS n"
COUNT_RELS = "MATCH ()-[r]->() RETURN count(r) AS n"
SHOW_MEMORY = """
SHOW SETTINGS YIELD name, value
WHERE name IN ['server.memory.pagecache.size', 'server.memory.heap.max_size',
               'db.memory.transaction.total.max']
RETURN name, value
"""
JMX_HEAP = """
CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes
RETURN attributes.HeapMemoryUsage.value.properties.max AS max
"""


def naive_load(driver: Any, rows: list[dict[str, Any]]) -> dict[str, int]:
    """The baseline: each article in its own transaction, one statement per element."""
    from pubgraph.graph.loader import (
        transform_article,
        transform_authors,
        transform_mesh,
        transform_references,
    )

    counts = {"nodes": 0, "relationships": 0}

    def one(tx: Any, row: dict[str, Any]) -> None:
        def run(query: str, **params: Any) -> None:
            c = tx.run(query, **params).consume().counters
            counts["nodes"] += c.nodes_created
            counts["relationships"] += c.relationships_created

        pmid = row["pmid"]
        run(NAIVE_ARTICLE, **transform_article(row))
        if row.get("journal_id"):
            run(NAIVE_JOURNAL, pmid=pmid, id=row["journal_id"], title=row.get("journal_title"),
                iso_abbreviation=row.get("journal_iso"), issn=row.get("journal_issn"))
        for a in transform_authors(row.get("authors")):
            run(NAIVE_AUTHOR, pmid=pmid, key=a["key"], last_name=a["last_name"],
                fore_name=a["fore_name"], initials=a["initials"], position=a["position"])
        for m in transform_mesh(row.get("mesh")):
            run(NAIVE_MESH, pmid=pmid, **m)
        for ref in transform_references(pmid, row.get("references")):
            run(NAIVE_CITES, pmid=pmid, ref=ref)

    with driver.session() as session:
        for row in rows:
            session.execute_write(one, row)
    return counts


# --- helpers ----------------------------------------------------------------------------


def loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def server_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_parquet(work: Path) -> dict[str, Any]:
    from pubgraph.ingest.files import sync_files

    out: dict[str, Any] = {"files": [], "parse_seconds": None}
    started = time.perf_counter()
    built = False
    for name in FILES:
        path = work / f"{name}.parquet"
        if not path.exists():
            sync_files([SHARED / "pubmed" / f"{name}.xml.gz"], path, progress=False)
            built = True
        out["files"].append(str(path))
    if built:
        out["parse_seconds"] = time.perf_counter() - started
    return out


class FreshServer:
    """A local Neo4j on a free port with an empty store in a temporary directory."""

    def __init__(self) -> None:
        from pubgraph.core.settings import Settings
        from pubgraph.graph.server import LocalNeo4j, free_port

        base = Settings()
        self.dir = Path(tempfile.mkdtemp(prefix="pubgraph-bench-load-"))
        self.settings = Settings(
            data_dir=self.dir, neo4j_port=free_port(), neo4j_password="bench-load-password",
            neo4j_heap=base.neo4j_heap, neo4j_pagecache=base.neo4j_pagecache,
        )
        self.server = LocalNeo4j(self.settings)

    def __enter__(self) -> FreshServer:
        self.server.start()
        self.pid = self.server.status().pid
        return self

    def env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_URI": self.settings.resolved_neo4j_uri,
                "NEO4J_USER": self.settings.neo4j_user,
                "NEO4J_PASSWORD": "bench-load-password"}

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def memory_settings(driver: Any) -> dict[str, str]:
    out = {r["name"]: str(r["value"]) for r in driver.execute_query(SHOW_MEMORY).records}
    heap = driver.execute_query(JMX_HEAP).records[0]["max"]
    out["jvm heap max (-Xmx, from JMX)"] = f"{int(heap) / 2**30:.2f} GiB"
    return out


def child_load(files: list[str], batch_size: int) -> None:
    """Child process: load ``files`` into the configured Neo4j, print JSON figures."""
    from pubgraph.core.settings import Settings
    from pubgraph.graph.db import connect
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.schema import init_schema

    settings = Settings()
    with connect(settings) as driver:
        init_schema(driver)
        cpu0 = time.process_time()
        summary = GraphLoader(driver, batch_size=batch_size).load_parquet(files)
        cpu = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"summary": summary.as_dict(), "loader_cpu_seconds": cpu,
                      "loader_peak_rss_mib": peak}))


def first_articles(path: str, n: int) -> list[dict[str, Any]]:
    import itertools

    from pubgraph.graph.loader import iter_parquet_rows

    articles = (r for r in iter_parquet_rows([Path(path)]) if r["record_type"] == "article")
    return list(itertools.islice(articles, n))


def empty(driver: Any) -> None:
    with driver.session() as session:
        session.run(DELETE_RELS).consume()
        session.run(DELETE_NODES).consume()


def warm_up(driver: Any, rows: list[dict[str, Any]], batch_size: int) -> float:
    """Load ``rows`` both ways, then delete them: the JVM has compiled the hot paths and the
    query plans are cached before anything is timed. Returns the seconds spent."""
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.schema import init_schema

    started = time.perf_counter()
    init_schema(driver)
    GraphLoader(driver, batch_size=batch_size).load_rows(rows)
    empty(driver)
    naive_load(driver, rows[: max(1, len(rows) // 10)])
    empty(driver)
    return time.perf_counter() - started


def full_run(files: list[str], batch_size: int, warmup: list[dict[str, Any]]) -> dict[str, Any]:
    from pubgraph.graph.db import connect

    with FreshServer() as server:
        with connect(server.settings) as driver:
            memory = memory_settings(driver)
            warm = warm_up(driver, warmup, batch_size) if warmup else 0.0
        cpu0 = server_cpu(server.pid)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", "--batch-size", str(batch_size), *files],
            env=server.env(), capture_output=True, text=True, check=True,
        )
        wall = time.perf_counter() - started
        cpu1 = server_cpu(server.pid)
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        with connect(server.settings) as driver:
            nodes = driver.execute_query(COUNT_NODES).records[0]["n"]
            rels = driver.execute_query(COUNT_RELS).records[0]["n"]
    s = child["summary"]
    return {
        "wall_seconds": wall,
        "load_seconds": s["seconds"],
        "nodes_created": s["nodes_created"],
        "relationships_created": s["relationships_created"],
        "graph_nodes": nodes,
        "graph_relationships": rels,
        "articles": s["articles"],
        "citations": s["citations"],
        "mesh_links": s["mesh_links"],
        "stubs_created": s["stubs_created"],
        "loader_peak_rss_mib": child["loader_peak_rss_mib"],
        "loader_cpu_seconds": child["loader_cpu_seconds"],
        "server_cpu_seconds": None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
        "loadavg": loadavg(),
        "memory": memory,
        "warmup_seconds": warm,
    }


def naive_comparison(files: list[str], n: int, batch_size: int,
                     warmup: list[dict[str, Any]], reps: int) -> dict[str, Any]:
    """Naive then batched on the same articles, ``reps`` times on one warmed server."""
    from pubgraph.graph.db import connect
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.schema import init_schema

    rows = first_articles(files[0], n)
    out: dict[str, Any] = {"articles": len(rows), "reps": []}
    with FreshServer() as server, connect(server.settings) as driver:
        if warmup:
            warm_up(driver, warmup, batch_size)
        init_schema(driver)
        for _ in range(reps):
            rep: dict[str, Any] = {}
            empty(driver)
            started = time.perf_counter()
            counts = naive_load(driver, rows)
            rep["naive_seconds"] = time.perf_counter() - started
            rep["naive_rows"] = counts["nodes"] + counts["relationships"]
            empty(driver)
            loader = GraphLoader(driver, batch_size=batch_size, ensure_schema=False)
            started = time.perf_counter()
            summary = loader.load_rows(rows)
            rep["batched_seconds"] = time.perf_counter() - started
            rep["batched_rows"] = summary.nodes_created + summary.relationships_created
            rep["speedup"] = rep["naive_seconds"] / rep["batched_seconds"]
            rep["loadavg"] = loadavg()
            out["reps"].append(rep)
    for key in ("naive_seconds", "batched_seconds", "speedup"):
        out[key] = statistics.median(r[key] for r in out["reps"])
    out["naive_rows"] = out["reps"][0]["naive_rows"]
    out["batched_rows"] = out["reps"][0]["batched_rows"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="full-load repetitions (median)")
    parser.add_argument("--naive", type=int, default=2000, help="articles for the naive path")
    parser.add_argument("--naive-runs", type=int, default=3,
                        help="repetitions of the naive/batched comparison (median)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) /
                        "pubgraph-bench-load", help="where the Parquet files go")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--warmup", type=int, default=2000,
                        help="articles of pubmed21n1298 loaded and deleted before timing, so "
                        "the server's JIT is warm (0: time a cold server)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_load(args.files, args.batch_size)
        return

    import neo4j

    args.work.mkdir(parents=True, exist_ok=True)
    parquet = build_parquet(args.work)
    files = parquet["files"]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, neo4j driver {neo4j.__version__}"
          f"{' + rust ext' if _rust_ext() else ''}")
    if parquet["parse_seconds"] is not None:
        print(f"parse (ingest.files.sync_files, both files -> Parquet): "
              f"{parquet['parse_seconds']:.1f} s")

    warmup = first_articles(files[1], args.warmup) if args.warmup else []
    print(f"warm-up before timing: {len(warmup):,} articles of {FILES[1]} loaded both ways and "
          "deleted" if warmup else "no warm-up: cold server")
    runs = []
    for i in range(args.runs):
        run = full_run(files, args.batch_size, warmup)
        runs.append(run)
        rate = (run["nodes_created"] + run["relationships_created"]) / run["load_seconds"]
        print(f"full load run {i + 1}: {run['load_seconds']:.1f} s "
              f"({run['nodes_created']:,} nodes + {run['relationships_created']:,} rels = "
              f"{rate:,.0f} graph rows/s), loader peak RSS {run['loader_peak_rss_mib']:.0f} MiB, "
              f"loader CPU {run['loader_cpu_seconds']:.1f} s, server CPU "
              f"{run['server_cpu_seconds'] or float('nan'):.1f} s, load avg {run['loadavg']}")
    secs = statistics.median(r["load_seconds"] for r in runs)
    mid = min(runs, key=lambda r: abs(r["load_seconds"] - secs))
    node_rate = mid["nodes_created"] / mid["load_seconds"]
    rel_rate = mid["relationships_created"] / mid["load_seconds"]
    print(f"median full load: {secs:.1f} s; nodes {node_rate:,.0f}/s, relationships "
          f"{rel_rate:,.0f}/s, all {node_rate + rel_rate:,.0f} graph rows/s")
    print(f"graph: {mid['graph_nodes']:,} nodes, {mid['graph_relationships']:,} relationships "
          f"({mid['articles']:,} articles written, {mid['citations']:,} citations, "
          f"{mid['mesh_links']:,} MeSH links, {mid['stubs_created']:,} stubs created)")
    print("Neo4j memory: " + ", ".join(f"{k} = {v}" for k, v in mid["memory"].items()))

    naive = naive_comparison(files, args.naive, args.batch_size, warmup, args.naive_runs)
    for i, rep in enumerate(naive["reps"], start=1):
        print(f"naive vs batched, {naive['articles']:,} articles, rep {i}: naive (1 tx/article) "
              f"{rep['naive_seconds']:.1f} s = {rep['naive_rows'] / rep['naive_seconds']:,.0f} "
              f"graph rows/s; batched {rep['batched_seconds']:.2f} s = "
              f"{rep['batched_rows'] / rep['batched_seconds']:,.0f} graph rows/s; "
              f"{rep['speedup']:.1f}x (load avg {rep['loadavg']})")
    naive_rate = naive["naive_rows"] / naive["naive_seconds"]
    print(f"median speed-up batched/naive on the same articles: {naive['speedup']:.1f}x; "
          f"median full-load rate / median naive rate: {(node_rate + rel_rate) / naive_rate:.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"parquet": parquet, "runs": runs, "naive": naive},
                                        indent=2, default=str))


def _rust_ext() -> bool:
    try:
        import neo4j._codec.packstream.v1 as v1

        return getattr(v1, "_rust_pack", None) is not None
    except ImportError:
        return False


if __name__ == "__main__":
    main()
