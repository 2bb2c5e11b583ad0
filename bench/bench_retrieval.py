"""Retrieval evaluation (issue #16): related articles over the whole corpus, PubMedQA
free-text retrieval, and latency. Figures go into docs/benchmarks.md.

    export NEO4J_URI=bolt://127.0.0.1:7710 NEO4J_PASSWORD=...
    python bench/bench_retrieval.py related --out runs/retrieval   # tune, train, evaluate
    python bench/bench_retrieval.py pubmedqa --out runs/retrieval   # own Neo4j, 1,000 docs
    python bench/bench_retrieval.py latency --n 200                 # p50/p95, warm

``related``: seeded hash split (``embeddings.evaluate.seeded_split``, seed 13: 80/10/10) or
``--splits RUN_DIR`` (a pairing run's splits.parquet). Candidates and features come from
``embeddings.related.related_candidates`` (the Cypher of ``search similar``), which never
reads the query article's own CITES edges. The transparent weights are tuned on
validation queries (coordinate search, nDCG@10), the logistic ranker is fitted on
train-split queries; both, and the exact-cosine vector ranking, are scored on ALL
test-split queries that have a related article, each ranking every article with a vector.
The fitted ranker is written to ``--ranker-out`` (default: the file ``search similar``
loads). ``pubmedqa``: the 1,000 PubMedQA long answers are loaded as articles into a fresh
local Neo4j (temporary folder, free port) with the schema's full-text index and a vector
index, then every question runs through ``search_batch`` in each mode.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE_PMIDS = "MATCH (a:Article) WHERE a.embedding IS NOT NULL RETURN a.pmid AS pmid"


def _db() -> Any:
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    return connect(get_settings())


def _progress(total: int, label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return bar, bar.add_task(label, total=total)


def _machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}"


def _candidates(db: Any, pmids: list[str], label: str) -> dict[str, Any]:
    from pubgraph.embeddings.related import related_candidates

    out = {}
    bar, task = _progress(len(pmids), label)
    with bar:
        for p in pmids:
            out[p] = related_candidates(db, p)
            bar.advance(task)
    return out


def related_cmd(args: argparse.Namespace) -> dict[str, Any]:
    from pubgraph.core.contracts import read_splits
    from pubgraph.embeddings import evaluate as ev
    from pubgraph.embeddings.related import (
        DEFAULT_RANKER_FILE,
        TRANSPARENT_WEIGHTS,
        LinearRanker,
        feature_matrix,
        fit_logistic,
        fit_pairwise,
    )

    t0 = time.perf_counter()
    db = _db()
    corpus = ev.load_corpus(db)
    splits = (
        read_splits(args.splits)
        if args.splits
        else {p: ev.seeded_split(p, args.seed) for p in corpus.pmids}
    )
    rng = random.Random(args.seed)
    qs = {s: ev.related_queries(corpus, splits, s) for s in ("train", "validation", "test")}
    print(
        f"corpus: {len(corpus.pmids):,} articles with vectors, "
        f"{sum(len(v) for v in corpus.related.values()) // 2:,} citation pairs among them; "
        f"queries with a related article: "
        + ", ".join(f"{s} {len(v):,}" for s, v in qs.items())
    )
    train = sorted(rng.sample(qs["train"], min(args.train, len(qs["train"]))))
    val = sorted(rng.sample(qs["validation"], min(args.val, len(qs["validation"]))))
    test = qs["test"] if not args.test else sorted(rng.sample(qs["test"], args.test))
    import pickle

    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        cand_train, cand_val, cand_test = pickle.loads(cache.read_bytes())
    else:
        cand_train = _candidates(db, train, "train candidates")
        cand_val = _candidates(db, val, "validation candidates")
        cand_test = _candidates(db, test, "test candidates")
        if cache is not None:
            cache.write_bytes(pickle.dumps((cand_train, cand_val, cand_test)))

    # Candidate recall: how many related articles any graph-aware ranking can reach.
    reach = [
        len({c.pmid for c in cand_test[p]} & corpus.related[p]) / len(corpus.related[p])
        for p in test
    ]

    start = {f: (1.0 if f == "cosine" else 0.0) for f in TRANSPARENT_WEIGHTS}
    tuned, val_ndcg = ev.tune_weights(corpus, val, cand_val, start)
    transparent = LinearRanker(
        "transparent", tuned, meta={"tuned_on": f"{len(val)} validation queries",
                                    "val_ndcg@10": val_ndcg},
    )
    x, y, _ = ev.labelled_candidates(corpus, cand_train)
    groups = [
        (feature_matrix(cs), [int(c.pmid in corpus.related[p]) for c in cs])
        for p, cs in cand_train.items()
    ]
    # Learned rankers: pointwise and pairwise logistic regression, C chosen on validation.
    fitted = []
    for c in (0.1, 1.0, 10.0):
        fitted.append(fit_logistic(x, y, c=c))
        fitted.append(fit_pairwise(groups, c=c))
    scored = [(ev.mean_ndcg(corpus, val, cand_val, f), f) for f in fitted]
    learned_val = {f"{f.name} C={f.meta['C']}": v for v, f in scored}
    best_val, best_lr = max(scored, key=lambda vf: vf[0])
    logistic = LinearRanker(
        "learned-" + best_lr.name,
        best_lr.weights,
        best_lr.intercept,
        meta={
            "trained_on": f"{len(train)} train-split queries, {len(y):,} candidates "
            f"({sum(y):,} related)",
            "model": best_lr.name,
            "C": best_lr.meta["C"],
            "val_ndcg@10": best_val,
            "split": args.splits or f"seeded_split(seed={args.seed})",
            "graph": os.environ.get("NEO4J_URI", ""),
            "articles": len(corpus.pmids),
        },
    )
    rankers = {"transparent": transparent, "learned": logistic}
    per_query = ev.evaluate_related(corpus, test, cand_test, rankers)
    result: dict[str, Any] = {
        "task": "related articles, whole corpus",
        "articles": len(corpus.pmids),
        "queries": {"train": len(train), "validation": len(val), "test": len(test)},
        "candidate_recall": statistics.fmean(reach) if reach else None,
        "weights": {"transparent": tuned, "learned": dict(logistic.weights),
                    "learned_intercept": logistic.intercept, "learned_model": logistic.name,
                    "C": logistic.meta["C"]},
        "validation_ndcg@10": {"transparent": val_ndcg, **learned_val},
        "means": {
            name: {m: statistics.fmean(v) for m, v in ms.items()} for name, ms in per_query.items()
        },
        "delta_vs_vector": {
            name: {
                m: ev.paired_bootstrap(per_query["vector"][m], per_query[name][m]).render()
                for m in ev.METRICS
            }
            for name in rankers
        },
        "delta_learned_vs_transparent": {
            m: ev.paired_bootstrap(per_query["transparent"][m], per_query["learned"][m]).render()
            for m in ev.METRICS
        },
        "seconds": round(time.perf_counter() - t0, 1),
        "machine": _machine(),
    }
    # The shipped ranker is chosen on validation nDCG@10, never on the test figures.
    key, winner = ("learned", logistic) if best_val >= val_ndcg else ("transparent", transparent)
    winner = LinearRanker(
        winner.name, winner.weights, winner.intercept,
        meta={**winner.meta, "test_ndcg@10": result["means"][key]["ndcg@10"],
              "vector_test_ndcg@10": result["means"]["vector"]["ndcg@10"]},
    )
    path = winner.save(args.ranker_out or DEFAULT_RANKER_FILE)
    result["ranker_file"] = str(path)
    result["ranker_saved"] = winner.name
    return result


def pubmedqa_cmd(args: argparse.Namespace) -> dict[str, Any]:
    from pubgraph.core.models import resolve_model
    from pubgraph.core.settings import Settings, shared_data_dir
    from pubgraph.embeddings import evaluate as ev
    from pubgraph.embeddings import search as s
    from pubgraph.embeddings.embed import Embedder, ensure_vector_index
    from pubgraph.graph.db import connect
    from pubgraph.graph.schema import init_schema
    from pubgraph.graph.server import LocalNeo4j, free_port
    from pubgraph.train.benchmarks import read_pubmedqa

    data = read_pubmedqa(shared_data_dir() / "benchmarks" / "pubmedqa" / "ori_pqal.json")
    embedder = Embedder.load(resolve_model(args.model), device="cpu")
    import numpy as np

    cache = Path(args.cache) if args.cache else None
    t = time.perf_counter()
    if cache is not None and cache.is_file():
        vectors = np.load(cache)
    else:
        vectors = embedder.encode(list(data.corpus.values()))
        if cache is not None:
            np.save(cache, vectors)
    encode_s = time.perf_counter() - t
    tmp = Path(tempfile.mkdtemp(prefix="pubmedqa-neo4j-"))
    settings = Settings(
        data_dir=tmp, neo4j_port=free_port(), neo4j_password="pubmedqa-eval-pass",
        neo4j_heap="512m", neo4j_pagecache="256m", neo4j_start_timeout=900,
    )
    server = LocalNeo4j(settings)
    try:
        server.start()
        db = connect(settings)
        init_schema(db)
        ev.load_documents(db, data.corpus, vectors, embedder.info.id)
        ensure_vector_index(db, embedder.info.dimension, wait=300)
        db.execute_query("CALL db.awaitIndexes(300)")
        queries = list(data.queries.items())
        depth = s.HYBRID_DEPTH
        vec = dict(s.search_batch(db, embedder, queries, k=depth, mode="vector", exact=False))
        txt = dict(s.search_batch(db, None, queries, k=depth, mode="fulltext"))
        hyb = dict(s.search_batch(db, embedder, queries, k=10, exact=False))  # the default

        def metrics(ranked_by_query: dict[str, list[str]]) -> dict[str, list[float]]:
            out: dict[str, list[float]] = {"mrr@10": [], "ndcg@10": [], "recall@10": []}
            for qid, _ in queries:
                ranked = ranked_by_query[qid][:10]
                rel = data.relevant[qid]
                out["mrr@10"].append(ev.reciprocal_rank(ranked, rel, 10))
                out["ndcg@10"].append(ev.ndcg_at(ranked, rel, 10))
                out["recall@10"].append(float(bool(set(ranked) & rel)))
            return out

        runs: dict[str, dict[str, list[float]]] = {
            "vector": metrics({q_: [h.pmid for h in v] for q_, v in vec.items()}),
            "fulltext": metrics({q_: [h.pmid for h in v] for q_, v in txt.items()}),
            "hybrid (search_batch default)": metrics(
                {q_: [h.pmid for h in v] for q_, v in hyb.items()}
            ),
        }
        variants = [("rrf", a) for a in (0.3, 0.4, 0.5, 0.6, 0.7)]
        variants += [("weighted", a) for a in (0.5, 0.7)]
        variants += [("minmax", a) for a in (0.3, 0.4, 0.5, 0.6, 0.7)]
        for fusion, alpha in variants:
            fused = {
                q_: [h.pmid for h in s.fuse_hits(vec[q_], txt[q_], k=10, fusion=fusion,
                                                  alpha=alpha)]
                for q_, _ in queries
            }
            runs[f"{fusion} alpha={alpha}"] = metrics(fused)
        # Choosing a fusion on the same questions it is scored on would flatter it: choose on
        # the "dev" half of the questions (seeded hash), report the other half.
        import hashlib

        half = {q_: hashlib.sha256(f"7:{q_}".encode()).digest()[0] % 2 for q_, _ in queries}
        dev = [i for i, (q_, _) in enumerate(queries) if half[q_] == 0]
        held = [i for i, (q_, _) in enumerate(queries) if half[q_] == 1]
        db.close()
    finally:
        server.stop()
    fusions = [n for n in runs if "alpha=" in n]
    chosen = max(fusions, key=lambda n: statistics.fmean(runs[n]["mrr@10"][i] for i in dev))

    def sub(values: list[float], idx: list[int]) -> list[float]:
        return [values[i] for i in idx]

    return {
        "task": f"PubMedQA: {len(data.queries)} questions -> {len(data.corpus)} long answers",
        "model": embedder.info.id,
        "encode_seconds": round(encode_s, 1),
        "means": {n: {m: statistics.fmean(v) for m, v in r.items()} for n, r in runs.items()},
        "delta_vs_vector": {
            n: {m: ev.paired_bootstrap(runs["vector"][m], r[m]).render() for m in r}
            for n, r in runs.items() if n != "vector"
        },
        "chosen_on_dev_half": chosen,
        "dev_questions": len(dev),
        "held_out_questions": len(held),
        "held_out": {
            n: {
                "mean_mrr@10": statistics.fmean(sub(runs[n]["mrr@10"], held)),
                "delta_mrr@10": ev.paired_bootstrap(
                    sub(runs["vector"]["mrr@10"], held), sub(runs[n]["mrr@10"], held)
                ).render(),
            }
            for n in ("vector", "fulltext", "hybrid (search_batch default)", chosen)
        },
        "machine": _machine(),
    }


def _pcts(times: list[float]) -> dict[str, float]:
    import numpy as np

    ms = sorted(1000 * t for t in times)
    return {
        "p50_ms": statistics.median(ms),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": statistics.fmean(ms),
    }


def latency_cmd(args: argparse.Namespace) -> dict[str, Any]:
    from pubgraph.core.settings import shared_data_dir
    from pubgraph.embeddings import search as s
    from pubgraph.embeddings.embed import Embedder, current_model
    from pubgraph.embeddings.related import load_ranker, related
    from pubgraph.graph.db import run_read
    from pubgraph.train.benchmarks import read_pubmedqa

    db = _db()
    stored = current_model(db)
    from pubgraph.core.models import resolve_model

    embedder = Embedder.load(resolve_model(stored.name), max_seq_length=stored.max_seq_length)
    rng = random.Random(args.seed)
    questions = list(
        read_pubmedqa(shared_data_dir() / "benchmarks" / "pubmedqa" / "ori_pqal.json")
        .queries.values()
    )
    texts = rng.sample(questions, args.n)
    pmids = rng.sample([r["pmid"] for r in run_read(db, SAMPLE_PMIDS)], args.n)
    ranker = load_ranker(args.ranker)
    out: dict[str, Any] = {"n": args.n, "ranker": ranker.name, "machine": _machine()}
    cases = {
        "hybrid search (encode + vector + BM25 + fusion)": lambda i: s.search_hybrid(
            db, embedder, texts[i], k=10),
        "vector search (encode + vector)": lambda i: s.search_hybrid(
            db, embedder, texts[i], k=10, mode="vector"),
        "fulltext search": lambda i: s.search_hybrid(db, None, texts[i], k=10, mode="fulltext"),
        "graph-aware similar": lambda i: related(db, pmids[i], k=10, ranker=ranker),
        "vector similar": lambda i: s.similar(db, pmids[i], k=10),
    }
    for name, fn in cases.items():
        for i in range(min(args.warmup, args.n)):
            fn(i)
        times = []
        for i in range(args.n):
            t = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - t)
        out[name] = _pcts(times)
        print(name, {k: round(v, 1) for k, v in out[name].items()})
    db.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("related")
    r.add_argument("--splits", default=None, help="pairing run folder (splits.parquet)")
    r.add_argument("--seed", type=int, default=13)
    r.add_argument("--train", type=int, default=800, help="train-split queries sampled")
    r.add_argument("--val", type=int, default=200, help="validation queries sampled")
    r.add_argument("--test", type=int, default=0, help="test queries sampled (0: all)")
    r.add_argument("--ranker-out", default=None)
    r.add_argument("--cache", default=None, help="pickle of the candidates (reused if present)")
    p = sub.add_parser("pubmedqa")
    p.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    p.add_argument("--cache", default=None, help=".npy file for the encoded long answers")
    lat = sub.add_parser("latency")
    lat.add_argument("--n", type=int, default=200)
    lat.add_argument("--warmup", type=int, default=20)
    lat.add_argument("--seed", type=int, default=13)
    lat.add_argument("--ranker", default=None)
    for sp in (r, p, lat):
        sp.add_argument("--out", default=None, help="folder for the JSON result")
    args = ap.parse_args()
    fn = {"related": related_cmd, "pubmedqa": pubmedqa_cmd, "latency": latency_cmd}[args.cmd]
    result = fn(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (Path(args.out) / f"{args.cmd}-{stamp}.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
