"""Does fine-tuning help the retrieval tasks? Base vs fine-tuned models (several seeds), each
task scored per query, with paired bootstrap intervals (issue #16, part 4).

Tasks, all over a whole corpus (the articles of the graph at ``--uri``, e.g. the Alzheimer
bench graph), queries from the **test split** of the pairing run the models were trained on
(``--pairs RUN_DIR``: its ``splits.parquet``), so no query article was trained on:

* ``related``: each test article with a citation-related article (it cites it or is cited
  by it) ranks every other article by exact cosine of the title + abstract vectors; nDCG@10,
  recall@100, MAP. Vector-only: the effect of the encoder alone (the graph-aware ranker adds
  the same graph features to whichever vectors it gets).
* ``title_abstract``: each test article's title retrieves its own abstract among **all** the
  corpus's abstracts (encoded without titles); MRR@10 for vector (exact cosine), BM25 (the
  schema's Neo4j full-text index, in a fresh local Neo4j) and hybrid (``fuse_hits``, the
  default fusion of ``search text``).
* ``pubmedqa``: the 1,000 PubMedQA questions against the 1,000 long answers (shared data;
  skipped with one line when absent), vector / BM25 / hybrid MRR@10 as above.
* ``biosses``: Spearman of cosine against the 100 BIOSSES scores (the general-similarity
  guard; no per-query interval).

For each fine-tuned model: Δ against the base per task with a paired bootstrap 95 %
interval over the queries; over the seeds: the per-query metric averaged over the seeds,
then the same paired bootstrap (so the interval covers the queries; the seed spread is
printed beside it as min..max of the per-seed Δ).

    python bench/bench_finetune_effect.py --uri bolt://127.0.0.1:7711 --password ... \\
        --pairs /work/benchdata/alz/pairs \\
        --models base=sentence-transformers/all-MiniLM-L6-v2,s1=runs/ft1,s2=runs/ft2,s3=runs/ft3 \\
        --json runs/finetune_effect.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ARTICLES = """
MATCH (a:Article) WHERE a.stub = false AND a.title IS NOT NULL AND a.abstract IS NOT NULL
RETURN a.pmid AS pmid, a.title AS title, a.abstract AS abstract ORDER BY pmid
"""
CITES = """
MATCH (a:Article)-[:CITES]->(b:Article)
WHERE a.stub = false AND b.stub = false AND a.abstract IS NOT NULL AND b.abstract IS NOT NULL
RETURN a.pmid AS a, b.pmid AS b
"""
DEPTH = 50


def _rank(q: np.ndarray, d: np.ndarray, k: int, exclude: list[int] | None = None) -> np.ndarray:
    """Top-k document indices per query row by cosine (rows are unit vectors)."""
    sims = q @ d.T
    if exclude is not None:
        sims[np.arange(len(exclude)), exclude] = -np.inf
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1), sims


def _average_precision(ranked_scores: np.ndarray, relevant: np.ndarray) -> float:
    order = np.argsort(-ranked_scores, kind="stable")
    hits = relevant[order]
    if not hits.any():
        return 0.0
    cum = np.cumsum(hits)
    return float(np.sum(cum[hits] / (np.flatnonzero(hits) + 1)) / hits.sum())


def main() -> None:
    from _graph import add_graph_args, open_graph

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_graph_args(ap)
    ap.add_argument("--pairs", required=True, help="pairing run folder (splits.parquet)")
    ap.add_argument("--models", required=True,
                    help="name=path,...; the first is the base the others are compared with")
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import pandas as pd

    from pubgraph.core.contracts import article_text
    from pubgraph.core.models import resolve_model
    from pubgraph.core.settings import Settings, shared_data_dir
    from pubgraph.embeddings import evaluate as ev
    from pubgraph.embeddings import search as s
    from pubgraph.embeddings.embed import Embedder
    from pubgraph.graph.db import connect
    from pubgraph.graph.schema import init_schema
    from pubgraph.graph.server import LocalNeo4j, free_port
    from pubgraph.train.benchmarks import read_biosses, read_pubmedqa

    t0 = time.perf_counter()
    db = open_graph(args)
    arts = pd.DataFrame(db.read(ARTICLES))
    cites = [(str(r["a"]), str(r["b"])) for r in db.read(CITES)]
    db.close()
    arts["pmid"] = arts["pmid"].astype(str)
    arts = arts[(arts["title"].str.strip() != "") & (arts["abstract"].str.strip() != "")]
    arts = arts.reset_index(drop=True)
    pmids = list(arts["pmid"])
    pos = {p: i for i, p in enumerate(pmids)}
    splits = pd.read_parquet(Path(args.pairs) / "splits.parquet")
    split_of = dict(zip(splits["pmid"].astype(str), splits["split"].astype(str), strict=True))
    related: dict[str, set[str]] = {}
    for a, b in cites:
        if a in pos and b in pos and a != b:
            related.setdefault(a, set()).add(b)
            related.setdefault(b, set()).add(a)
    test = [p for p in pmids if split_of.get(p) == "test"]
    rel_queries = [p for p in test if related.get(p)]
    out: dict[str, Any] = {
        "uri": args.uri, "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "articles": len(pmids), "test_articles": len(test),
        "related_queries": len(rel_queries), "title_queries": len(test),
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out), flush=True)

    full_texts = [article_text(t, a) for t, a in zip(arts["title"], arts["abstract"], strict=True)]
    abstracts = [" ".join(str(a).split()) for a in arts["abstract"]]
    titles = {p: " ".join(str(arts["title"][pos[p]]).split()) for p in test}
    shared = shared_data_dir()
    qa_path = shared / "benchmarks" / "pubmedqa" / "ori_pqal.json"
    qa = read_pubmedqa(qa_path) if qa_path.is_file() else None
    if qa is None:
        print(f"skipped pubmedqa: {qa_path} not found", flush=True)
    bio_dir = shared / "benchmarks" / "biosses"
    bio = read_biosses(bio_dir) if (bio_dir / "train.tsv").is_file() else None
    if bio is None:
        print(f"skipped biosses: {bio_dir} not found", flush=True)

    # BM25 lists once (they do not depend on the model): a fresh local Neo4j with the
    # schema's full-text index, the abstracts, then the PubMedQA answers.
    tmp = Path(tempfile.mkdtemp(prefix="ft-effect-neo4j-"))
    settings = Settings(data_dir=tmp, neo4j_port=free_port(), neo4j_password="ft-effect-pass",
                        neo4j_heap="512m", neo4j_pagecache="256m", neo4j_start_timeout=900)
    server = LocalNeo4j(settings)
    bm25: dict[str, dict[str, list[Any]]] = {}
    zeros = np.zeros((1, 384), dtype=np.float32)
    try:
        server.start()
        local = connect(settings)
        init_schema(local)
        ev.load_documents(local, dict(zip(pmids, abstracts, strict=True)),
                          np.repeat(zeros, len(pmids), axis=0), "bm25-only")
        local.execute_query("CALL db.awaitIndexes(300)")
        bm25["title_abstract"] = dict(s.search_batch(local, None, list(titles.items()),
                                                     k=DEPTH, mode="fulltext"))
        if qa is not None:
            local.write("MATCH (n) DETACH DELETE n")
            ev.load_documents(local, qa.corpus, np.repeat(zeros, len(qa.corpus), axis=0),
                              "bm25-only")
            local.execute_query("CALL db.awaitIndexes(300)")
            bm25["pubmedqa"] = dict(s.search_batch(local, None, list(qa.queries.items()),
                                                   k=DEPTH, mode="fulltext"))
        local.close()
    finally:
        server.stop()
    out["bm25_seconds"] = round(time.perf_counter() - t0, 1)

    def mrr_lists(ranked: dict[str, list[str]], relevant: dict[str, set[str]],
                  order: list[str]) -> list[float]:
        return [ev.reciprocal_rank(ranked[q][:10], relevant[q], 10) for q in order]

    def hits(idx: np.ndarray, sims: np.ndarray, ids: list[str]) -> list[Any]:
        return [s.Hit(ids[j], None, None, None, float(sims[j])) for j in idx]

    per_model: dict[str, dict[str, list[float]]] = {}
    scalars: dict[str, dict[str, float]] = {}
    specs = [m.split("=", 1) for m in args.models.split(",")]
    for name, path in specs:
        t = time.perf_counter()
        emb = Embedder.load(resolve_model(path), device="cpu",
                            max_seq_length=args.max_seq_length)
        m: dict[str, list[float]] = {}
        doc = emb.encode(full_texts)
        abs_vec = emb.encode(abstracts)
        q_rel = doc[[pos[p] for p in rel_queries]]
        # The query's own article is excluded (-inf); related[p] never holds p itself.
        top, sims = _rank(q_rel, doc, 100, exclude=[pos[p] for p in rel_queries])
        nd, r100, ap = [], [], []
        for i, p in enumerate(rel_queries):
            ranked = [pmids[j] for j in top[i]]
            nd.append(ev.ndcg_at(ranked, related[p], 10))
            r100.append(len(set(ranked) & related[p]) / len(related[p]))
            rel = np.zeros(len(pmids), dtype=bool)
            rel[[pos[x] for x in related[p]]] = True
            keep = np.isfinite(sims[i])
            ap.append(_average_precision(sims[i][keep], rel[keep]))
        m["related ndcg@10"], m["related recall@100"], m["related MAP"] = nd, r100, ap
        q_title = emb.encode([titles[p] for p in test])
        top, sims = _rank(q_title, abs_vec, DEPTH)
        own = {p: {p} for p in test}
        vec_ranked = {p: [pmids[j] for j in top[i]] for i, p in enumerate(test)}
        m["title->abstract vector MRR@10"] = mrr_lists(vec_ranked, own, test)
        hyb = {p: [h.pmid for h in s.fuse_hits(hits(top[i], sims[i], pmids),
                                                 bm25["title_abstract"][p], k=10)]
               for i, p in enumerate(test)}
        m["title->abstract hybrid MRR@10"] = mrr_lists(hyb, own, test)
        if qa is not None:
            ids = list(qa.corpus)
            qids = list(qa.queries)
            dv = emb.encode(list(qa.corpus.values()))
            qv = emb.encode(list(qa.queries.values()))
            top, sims = _rank(qv, dv, DEPTH)
            vr = {q: [ids[j] for j in top[i]] for i, q in enumerate(qids)}
            m["pubmedqa vector MRR@10"] = mrr_lists(vr, qa.relevant, qids)
            hr = {q: [h.pmid for h in s.fuse_hits(hits(top[i], sims[i], ids),
                                                    bm25["pubmedqa"][q], k=10)]
                  for i, q in enumerate(qids)}
            m["pubmedqa hybrid MRR@10"] = mrr_lists(hr, qa.relevant, qids)
        sc: dict[str, float] = {}
        if bio is not None:
            from scipy.stats import spearmanr

            a = emb.encode(list(bio.sentences1))
            b = emb.encode(list(bio.sentences2))
            sc["biosses spearman"] = float(spearmanr(np.sum(a * b, axis=1), bio.scores)[0])
        per_model[name], scalars[name] = m, sc
        if args.json:  # per-query figures so far, so that a later failure loses nothing
            Path(args.json).with_suffix(".per_query.json").write_text(
                json.dumps({"per_query": per_model, "scalars": scalars}))
        summary = {k: round(statistics.fmean(v), 4) for k, v in m.items()} | {
            k: round(v, 4) for k, v in sc.items()}
        print(name, emb.info.id, f"{time.perf_counter() - t:.0f}s", summary, flush=True)
        out.setdefault("models", {})[name] = {"path": path, "id": emb.info.id,
                                              "seconds": round(time.perf_counter() - t, 1),
                                              "means": summary}
    own = {p: {p} for p in test}
    out["bm25"] = {"title->abstract BM25 MRR@10": round(statistics.fmean(mrr_lists(
        {p: [h.pmid for h in bm25["title_abstract"][p]] for p in test}, own, test)), 4)}
    if qa is not None:
        out["bm25"]["pubmedqa BM25 MRR@10"] = round(statistics.fmean(mrr_lists(
            {q: [h.pmid for h in bm25["pubmedqa"][q]] for q in qa.queries},
            qa.relevant, list(qa.queries))), 4)
    base = specs[0][0]
    tuned = [n for n, _ in specs[1:]]
    deltas: dict[str, Any] = {}
    for task, base_vals in per_model[base].items():
        row: dict[str, Any] = {}
        for n in tuned:
            row[n] = ev.paired_bootstrap(base_vals, per_model[n][task]).render()
        if len(tuned) > 1:
            avg = list(np.mean([per_model[n][task] for n in tuned], axis=0))
            per_seed = [statistics.fmean(per_model[n][task]) - statistics.fmean(base_vals)
                        for n in tuned]
            row["seed mean"] = ev.paired_bootstrap(base_vals, avg).render()
            row["seed spread"] = f"{min(per_seed):+.4f} .. {max(per_seed):+.4f}"
        deltas[task] = row
    for key in scalars[base]:
        vals = [scalars[n][key] - scalars[base][key] for n in tuned]
        deltas[key] = {n: f"{v:+.4f}" for n, v in zip(tuned, vals, strict=True)} | {
            "seed mean": f"{statistics.fmean(vals):+.4f}"}
    out["deltas_vs_base"] = deltas
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["load_average_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(deltas, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
