"""Topics against BERTopic and k-means, NMI against MeSH, and the whole analysis's time.

On a graph with stored vectors (``--uri``; e.g. the Alzheimer bench graph), in one run on
the same vectors:

* **BERTopic** with its defaults (UMAP 5-d → HDBSCAN → c-TF-IDF) on the stored
  embeddings (``pip install bertopic`` into the venv; it is not a pubgraph dependency).
  UMAP's numba code is compiled on a small warm-up first, so its compile time is not
  charged to BERTopic;
* **k-means** and **leiden** (with and without citation edges) at the number of topics
  BERTopic found; our **hdbscan** (UMAP 5-d, outliers re-assigned);
* an NMI curve over k (k-means and leiden).

NMI is against each article's most frequent depth-2 MeSH tree prefix among its major
descriptors (``pubgraph.analysis.reference``); the clustering never sees MeSH. Outliers
count as one more cluster. Our methods run ``--reps`` seeds: medians and [min, max].
``--whole`` also times ``run_analysis`` (read, cluster, labels, trends, structure,
write-back; the 2-D map timed apart) and writes the run into the graph.

    python bench/bench_topics.py --uri bolt://127.0.0.1:7711 --password benchpass123 \\
        --ks 25,50,76,100,150 --whole --json alz.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _nmi(pmids: list[str], labels: np.ndarray, classes: Any) -> float:
    from pubgraph.analysis.reference import nmi

    return round(nmi(pmids, labels, classes)[0], 4)


def _summ(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def main() -> None:
    from _graph import add_graph_args, open_graph

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_graph_args(ap)
    ap.add_argument("--model", default=None, help="EmbeddingModel id (default: newest).")
    ap.add_argument("--ks", default="25,50,100,150", help="k values of the NMI curve.")
    ap.add_argument("--reps", type=int, default=3, help="Seeds per method of ours.")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--match-k", type=int, default=None,
                    help="Topic count to match (default: BERTopic's).")
    ap.add_argument("--whole", action="store_true", help="Time run_analysis and write it.")
    ap.add_argument("--no-compare", action="store_true",
                    help="Skip the method comparison and the NMI curve (with --whole).")
    ap.add_argument("--whole-k", type=int, default=None,
                    help="Topics the whole run aims at (default: leiden at resolution 1).")
    ap.add_argument("--methods", default="kmeans,leiden_citations,leiden_vectors,hdbscan",
                    help="Our methods to compare at the matched topic count.")
    ap.add_argument("--json", default=None, help="Write the results here.")
    args = ap.parse_args()

    from pubgraph.analysis import cluster as cl
    from pubgraph.analysis.reference import mesh_classes
    from pubgraph.analysis.vectors import choose_model, load_citations, load_corpus, load_mesh

    db = open_graph(args)
    out: dict[str, Any] = {
        "uri": args.uri, "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "load_average_start": os.getloadavg()[0],
    }
    t = time.perf_counter()
    model = choose_model(db, args.model)
    corpus = load_corpus(db, model)
    cites = load_citations(db, corpus.pmids)
    mesh = load_mesh(db, corpus.pmids)
    out["read_s"] = round(time.perf_counter() - t, 2)
    classes = mesh_classes(mesh)
    x = corpus.vectors
    out.update(model=model, n_articles=corpus.n, n_labelled=int(classes.index.isin(
        corpus.pmids).sum()), n_classes=int(classes[classes.index.isin(corpus.pmids)].nunique()),
        n_citations=len(cites))
    print(json.dumps(out), flush=True)

    match_k = args.match_k
    if not args.no_bertopic and not args.no_compare:
        import umap
        from bertopic import BERTopic

        umap.UMAP(n_components=5, metric="cosine").fit_transform(x[:500])  # numba warm-up
        t = time.perf_counter()
        topics, _ = BERTopic().fit_transform(corpus.texts, embeddings=x)
        secs = time.perf_counter() - t
        lab = np.asarray(topics)
        out["bertopic"] = {"seconds": round(secs, 2), "topics": len(set(lab) - {-1}),
                           "outlier_share": round(float(np.mean(lab < 0)), 4),
                           "nmi": _nmi(corpus.pmids, lab, classes)}
        match_k = match_k or out["bertopic"]["topics"]
        print("bertopic", out["bertopic"], flush=True)
    match_k = match_k or 76
    out["match_k"] = match_k

    if args.no_compare:
        args.ks = ""
    edges_t = time.perf_counter()
    edges = cl.citation_edges(corpus.pmids, cites)
    out["citation_edges"] = {"n": len(edges), "seconds": round(time.perf_counter() -
                                                                    edges_t, 2),
                             "by_kind": edges["kind"].value_counts().to_dict()}

    def measure(name: str, fn: Any) -> None:
        times, nmis, ks, unassigned = [], [], [], []
        for seed in range(args.reps):
            t0 = time.perf_counter()
            res = fn(seed)
            times.append(time.perf_counter() - t0)
            nmis.append(_nmi(corpus.pmids, res.labels, classes))
            ks.append(res.n_topics)
            unassigned.append(float(np.mean(res.labels < 0)))
        out[name] = {"seconds": _summ(times), "nmi": _summ(nmis), "topics": _summ(ks),
                     "unassigned_share": max(unassigned),
                     "resolution_runs": len(res.info.get("resolutions_tried", []))}
        print(name, out[name], flush=True)

    methods = {m.strip() for m in args.methods.split(",") if m.strip()}
    if not args.no_compare:
        if "kmeans" in methods:
            measure("kmeans_matched", lambda s: cl.kmeans(x, match_k, s))
        if "leiden_citations" in methods:
            measure("leiden_matched_citations", lambda s: cl.leiden(x, s, edges=edges,
                                                                    target_k=match_k))
        if "leiden_vectors" in methods:
            measure("leiden_matched_no_citations", lambda s: cl.leiden(x, s, target_k=match_k))
        if "hdbscan" in methods:
            measure("hdbscan_umap_reassigned", lambda s: cl.hdbscan(x, s))

    curve = []
    for k in [int(v) for v in args.ks.split(",") if v]:
        km = cl.kmeans(x, k, 0)
        lc = cl.leiden(x, 0, edges=edges, target_k=k)
        ln = cl.leiden(x, 0, target_k=k)
        row = {"k": k, "kmeans": _nmi(corpus.pmids, km.labels, classes),
               "leiden_citations": _nmi(corpus.pmids, lc.labels, classes),
               "leiden_citations_k": lc.n_topics,
               "leiden_vectors_only": _nmi(corpus.pmids, ln.labels, classes),
               "leiden_vectors_only_k": ln.n_topics}
        curve.append(row)
        print("curve", row, flush=True)
    out["nmi_curve"] = curve

    if args.whole:
        from pubgraph.analysis.mapping import map_2d
        from pubgraph.analysis.run import AnalysisParams, run_analysis

        t = time.perf_counter()
        res = run_analysis(db, AnalysisParams(method="leiden", k=args.whole_k, seed=0,
                                              map=False),
                           REPO / "bench" / "out")
        out["whole"] = {"seconds": round(time.perf_counter() - t, 2), "run": res.id,
                        "timings": res.timings, "metrics": {
                            k: v for k, v in res.metrics.items() if k != "cluster_info"}}
        print("whole", out["whole"], flush=True)
        t = time.perf_counter()
        _, how = map_2d(x, 0)
        out["map"] = {"seconds": round(time.perf_counter() - t, 2), "method": how}
        print("map", out["map"], flush=True)
    out["load_average_end"] = os.getloadavg()[0]
    db.close()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
