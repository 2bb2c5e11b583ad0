"""Stand-in vectors for load and latency benchmarks: LSA (TF-IDF + truncated SVD) on the graph.

Encoding the ~51k-article corpus with all-MiniLM-L6-v2 takes 25 min to hours on 2 shared
cores. Latency, index and clustering-time benchmarks depend on the number and dimension of
the vectors, not on the encoder, so this script writes 384-dimensional LSA vectors (the
same dimension as MiniLM) through the project's own write path (``write_vectors``,
``record_model``, ``ensure_vector_index``) under the model id ``lsa-384@<digest>``.
Quality figures (NMI, nDCG, ...) must never be read off these vectors: they come from
transformer vectors, on the corpora where those exist.

    NEO4J_URI=bolt://127.0.0.1:7710 NEO4J_PASSWORD=... python bench/lsa_vectors.py \\
        --records /path/records.parquet
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=Path, required=True, help="records.parquet")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from pubgraph.core.contracts import article_text
    from pubgraph.core.settings import get_settings
    from pubgraph.embeddings.embed import (
        ModelInfo,
        ensure_vector_index,
        record_model,
        text_hash,
        write_vectors,
    )
    from pubgraph.graph.db import connect

    t0 = time.perf_counter()
    frame = pd.read_parquet(args.records, columns=["record_type", "pmid", "title", "abstract"])
    frame = frame[frame["record_type"] == "article"].drop_duplicates("pmid", keep="last")
    frame = frame.astype(object).where(frame.notna(), None)  # NaN -> None for article_text
    texts = [article_text(t, a) for t, a in zip(frame["title"], frame["abstract"], strict=True)]
    keep = [i for i, t in enumerate(texts) if t]
    pmids = [str(frame["pmid"].iloc[i]) for i in keep]
    texts = [texts[i] for i in keep]
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, max_df=0.5, stop_words="english")
    x = tfidf.fit_transform(texts)
    svd = TruncatedSVD(n_components=args.dim, random_state=args.seed)
    v = svd.fit_transform(x).astype(np.float32)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    fit = time.perf_counter() - t0
    digest = hashlib.sha256(f"lsa-{args.dim}-{args.seed}-{len(pmids)}".encode()).hexdigest()[:12]
    info = ModelInfo(
        id=f"lsa-{args.dim}@{digest}", name=f"lsa-{args.dim}", path="bench/lsa_vectors.py",
        dimension=args.dim, version=digest, max_seq_length=0, library="scikit-learn",
    )
    with connect(get_settings()) as db:
        record_model(db, info, "title+abstract")
        ensure_vector_index(db, args.dim)
        for i in range(0, len(pmids), args.chunk):
            rows = [
                {"pmid": p, "vector": vec.tolist(), "text_hash": text_hash(t)}
                for p, vec, t in zip(
                    pmids[i : i + args.chunk], v[i : i + args.chunk], texts[i : i + args.chunk],
                    strict=True,
                )
            ]
            write_vectors(db, info.id, rows)
        record_model(db, info, "title+abstract")
        ensure_vector_index(db, args.dim, wait=600)
    print(f"{len(pmids):,} LSA vectors ({args.dim} d) as {info.id}: fit {fit:.1f} s, "
          f"total {time.perf_counter() - t0:.1f} s; explained variance "
          f"{svd.explained_variance_ratio_.sum():.3f}")


if __name__ == "__main__":
    main()
