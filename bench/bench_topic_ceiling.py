"""How much of the MeSH reference class the article text carries: a supervised ceiling.

#17 scores topics by NMI against each article's most frequent depth-2 MeSH prefix among
its major descriptors and asks for NMI >= 0.30 on the Alzheimer corpus. If a classifier
that *sees the classes* cannot predict them from the same vectors (or from the words), no
clustering of those vectors can agree with them much better. This script measures that:

* 5-fold cross-validated logistic regression predicting the class from the stored vectors,
  from TF-IDF (1-2 grams) of title + abstract, and from both: accuracy and NMI of the
  held-out predictions;
* k-means (k = ``--k``, the topic count BERTopic found) with each cluster mapped to its
  majority class: the accuracy an unsupervised clustering reaches, to set beside it.

Classes with fewer than 5 articles are pooled only to stratify the folds.

    python bench/bench_topic_ceiling.py --uri bolt://127.0.0.1:7711 --password ... --k 74
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from _graph import add_graph_args, open_graph

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_graph_args(ap)
    ap.add_argument("--model", default=None, help="EmbeddingModel id (default: newest).")
    ap.add_argument("--k", type=int, default=74, help="k-means' k (BERTopic's topic count).")
    ap.add_argument("--c", type=float, default=10.0, help="Inverse L2 strength of the classifier.")
    ap.add_argument("--no-tfidf", action="store_true", help="Vectors only (TF-IDF fits are slow).")
    ap.add_argument("--json", default=None, help="Write the results here.")
    args = ap.parse_args()

    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, normalized_mutual_info_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from pubgraph.analysis import cluster as cl
    from pubgraph.analysis.reference import mesh_classes
    from pubgraph.analysis.vectors import choose_model, load_corpus, load_mesh

    db = open_graph(args)
    model = choose_model(db, args.model)
    corpus = load_corpus(db, model)
    classes = mesh_classes(load_mesh(db, corpus.pmids))
    pmids = pd.Index(corpus.pmids)
    keep = pmids.isin(classes.index)
    x = corpus.vectors[keep]
    y = classes.loc[pmids[keep]].to_numpy()
    counts = pd.Series(y).value_counts()
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "model": model,
        "n_labelled": len(y),
        "n_classes": len(counts),
        "largest_classes": {str(k): round(v / len(y), 3) for k, v in counts.head(4).items()},
    }
    print(json.dumps(out), flush=True)
    strata = np.where(pd.Series(y).map(counts).to_numpy() >= 5, y, "rare")

    def score(pred: np.ndarray, seconds: float) -> dict[str, Any]:
        return {
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "nmi": round(float(normalized_mutual_info_score(y, pred)), 4),
            "predicted_classes": len(set(pred)),
            "seconds": round(seconds, 1),
        }

    def supervised(features: Any) -> dict[str, Any]:
        t = time.perf_counter()
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(x, strata)
        clf = LogisticRegression(C=args.c, max_iter=3000)
        pred = cross_val_predict(clf, features, y, cv=folds)
        return score(pred, time.perf_counter() - t)

    t = time.perf_counter()
    km = cl.kmeans(corpus.vectors, args.k, 0).labels[keep]
    majority = pd.Series(y).groupby(km).agg(lambda s: s.value_counts().index[0])
    out["kmeans_majority"] = score(majority.loc[km].to_numpy(), time.perf_counter() - t)
    out["kmeans_majority"]["nmi_clusters"] = round(float(normalized_mutual_info_score(y, km)), 4)
    print("kmeans, clusters mapped to their majority class", out["kmeans_majority"], flush=True)
    out["logreg_vectors"] = supervised(x)
    print("logistic regression on the vectors", out["logreg_vectors"], flush=True)
    if not args.no_tfidf:
        texts = [t for t, k in zip(corpus.texts, keep, strict=True) if k]
        tfidf = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
        ).fit_transform(texts)
        out["logreg_tfidf"] = supervised(tfidf)
        print("logistic regression on TF-IDF", out["logreg_tfidf"], flush=True)
        both = hstack([tfidf, csr_matrix(x * 2.0)]).tocsr()
        out["logreg_tfidf_vectors"] = supervised(both)
        print("logistic regression on TF-IDF + vectors", out["logreg_tfidf_vectors"], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
