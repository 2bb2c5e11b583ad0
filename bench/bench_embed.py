"""Write-back overhead of ``pubgraph embed``: encode + write-back against encode alone.

Same model, same texts, same run. ``--n`` real articles with abstracts are taken from a
shared PubMed file, loaded into a throwaway local Neo4j (or ``--uri``), and then, for each
repetition, interleaved so both see the same machine load:

* **encode alone**: ``Embedder.encode`` over the same texts in the same chunks
  (``--chunk``), nothing else;
* **encode + write-back**: the whole ``embed_articles`` job on a graph whose vectors and
  vector index were removed first (plan scan, index creation, text fetch, encoding,
  background write-back of every chunk, model bookkeeping).

Prints medians of ``--reps`` repetitions, docs/s, and the overhead
``(t_embed / t_encode - 1)`` (goal: <= 10 %). With ``--no-overlap`` the job writes each
chunk before encoding the next, to show what the background writer saves.

    python bench/bench_embed.py                      # 2,000 abstracts, MiniLM, 3 reps
    python bench/bench_embed.py --n 500 --reps 3 --no-overlap --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pubgraph.core.settings import shared_data_dir  # noqa: E402  (after the path insert)

SHARED = shared_data_dir()

CLEAR = """
MATCH (a:Article) WHERE a.embedding IS NOT NULL
REMOVE a.embedding, a.embedding_model, a.embedding_hash
"""
DROP_MODELS = "MATCH (m:EmbeddingModel) DETACH DELETE m"


def real_rows(path: Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` articles with a title and an abstract, as RECORD_SCHEMA rows."""
    from pubgraph.ingest.pubmed import iter_pubmed
    from pubgraph.ingest.records import Article, to_row

    rows = []
    for rec in iter_pubmed(path):
        if isinstance(rec, Article) and rec.title and rec.abstract:
            rows.append(to_row(rec, path.name))
            if len(rows) == n:
                break
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="articles (with abstracts)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--model", default=None, help="default: Settings.base_model (MiniLM)")
    ap.add_argument("--file", type=Path, default=SHARED / "pubmed" / "pubmed20n0014.xml.gz")
    ap.add_argument("--no-overlap", action="store_true", help="also time the serial variant")
    ap.add_argument("--uri", help="use this Neo4j (NEO4J_USER/NEO4J_PASSWORD) instead")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from pubgraph.core.settings import Settings
    from pubgraph.embeddings.embed import Embedder, article_text, embed_articles
    from pubgraph.embeddings.queries import DROP_VECTOR_INDEX
    from pubgraph.graph.db import connect, run_write, server_version
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.schema import init_schema
    from pubgraph.graph.server import LocalNeo4j, free_port

    server = None
    if args.uri:
        settings = Settings(neo4j_uri=args.uri)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="pubgraph-bench-embed-"))
        settings = Settings(data_dir=tmp, neo4j_port=free_port(), neo4j_password="bench-embed")
        server = LocalNeo4j(settings)
        server.start()
    driver = connect(settings)
    db = settings.neo4j_database
    result: dict[str, Any] = {}
    texts: list[str] = []
    try:
        rows = real_rows(args.file, args.n)
        init_schema(driver)
        GraphLoader(driver).load_rows(rows)
        texts = [article_text(r["title"], r["abstract"]) for r in rows]
        embedder = Embedder.load(
            args.model or settings.base_model,
            max_seq_length=args.max_seq_length,
            batch_size=args.batch,
        )
        embedder.encode(texts[:64])  # warm-up (first-call allocations)

        def encode_alone() -> float:
            t0 = time.perf_counter()
            for i in range(0, len(texts), args.chunk):
                embedder.encode(texts[i : i + args.chunk])
            return time.perf_counter() - t0

        def embed_job(overlap: bool) -> tuple[float, Any]:
            run_write(driver, CLEAR)
            run_write(driver, DROP_MODELS)
            run_write(driver, DROP_VECTOR_INDEX)
            t0 = time.perf_counter()
            summary = embed_articles(
                driver, embedder, chunk_size=args.chunk, overlap=overlap
            )
            elapsed = time.perf_counter() - t0
            assert summary.written == len(texts), summary
            return elapsed, summary

        variants = ["overlap"] + (["serial"] if args.no_overlap else [])
        times: dict[str, list[float]] = {"encode": [], **{v: [] for v in variants}}
        breakdown: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for rep in range(args.reps):
            times["encode"].append(encode_alone())
            for v in variants:
                elapsed, summary = embed_job(overlap=(v == "overlap"))
                times[v].append(elapsed)
                breakdown[v].append(
                    {
                        "encode_s": round(summary.encode_seconds, 2),
                        "write_s": round(summary.write_seconds, 2),
                    }
                )
            line = ", ".join(f"{k} {t[-1]:.1f} s" for k, t in times.items())
            print(f"rep {rep + 1}: {line}", flush=True)

        med = {k: statistics.median(t) for k, t in times.items()}
        n = len(texts)
        result = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
            "server": server_version(driver),
            "model": embedder.info.id,
            "max_seq_length": embedder.info.max_seq_length,
            "texts": n,
            "mean_chars": round(statistics.fmean(len(t) for t in texts)),
            "chunk": args.chunk,
            "batch": args.batch,
            "reps": args.reps,
            "seconds": {k: [round(x, 2) for x in t] for k, t in times.items()},
            "median_seconds": {k: round(v, 2) for k, v in med.items()},
            "docs_per_s": {k: round(n / v, 2) for k, v in med.items()},
            "overhead": {v: round(med[v] / med["encode"] - 1, 4) for v in variants},
            "inside_job": breakdown,
        }
        print(
            f"{n} texts (mean {result['mean_chars']} chars), model {embedder.info.id}, "
            f"max_seq_length {embedder.info.max_seq_length}, chunk {args.chunk}"
        )
        for k, v in med.items():
            print(f"  {k:8s} median {v:7.1f} s  {n / v:6.1f} docs/s")
        for v in variants:
            print(f"  write-back overhead ({v}): {100 * result['overhead'][v]:+.1f} %")
    finally:
        driver.close()
        if server is not None:
            server.stop()  # the shutdown checkpoint flushes the vector index to disk
    if server is not None:
        index_dir = settings.neo4j_dir / "data" / "databases" / db / "schema" / "index"
        size = sum(f.stat().st_size for f in index_dir.glob("vector-*/**/*") if f.is_file())
        result["vector_index_bytes_per_vector"] = round(size / len(texts))
        print(
            f"  vector index on disk: {size / len(texts):.0f} bytes per vector "
            f"({embedder.info.dimension} dimensions)"
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
