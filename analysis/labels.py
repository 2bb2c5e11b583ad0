"""What a topic is about: its MeSH signature, its c-TF-IDF terms and a readable label.

**MeSH signature.** For each topic and descriptor, ``k`` of the topic's ``n`` articles carry
the descriptor, ``K`` of all ``N`` analysed articles do. The lift is ``(k/n) / (K/N)``; the
p-value is the hypergeometric upper tail ``P(X >= k)`` (one-sided Fisher exact test), and
q-values are Benjamini–Hochberg over every (topic, descriptor) pair tested (``k >= 2``).
The test counts articles; the ranking weights major topics: ``score = weighted share ·
log2(lift)``, a major heading counting 1 and a minor one ``minor_weight``.

**c-TF-IDF** (BERTopic's class-based TF-IDF): term counts summed per topic, each topic's row
L1-normalised, times ``log(1 + A / f_t)`` with ``A`` the mean number of words per topic and
``f_t`` the term's count over all topics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import hypergeom
from statsmodels.stats.multitest import multipletests

SIGNATURE_COLUMNS = [
    "topic", "ui", "name", "n_topic", "n_all", "size", "share", "lift", "p", "q", "score",
    "rank",
]


def bh(p: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN p-values stay NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def mesh_signature(
    assign: pd.DataFrame,
    mesh: pd.DataFrame,
    *,
    alpha: float = 0.05,
    minor_weight: float = 0.5,
    min_count: int = 2,
    top: int = 20,
) -> pd.DataFrame:
    """Over-represented descriptors per topic: ``SIGNATURE_COLUMNS``, ``rank`` 1 = best.

    ``assign``: ``pmid, topic`` (the whole analysed set, also articles without MeSH);
    ``mesh``: ``pmid, ui, name, major``. Only rows with ``q < alpha`` and lift > 1 are kept,
    the ``top`` best-scored per topic.
    """
    assign = assign[assign["topic"] >= 0]
    n_all_articles = len(assign)
    sizes = assign.groupby("topic").size().rename("size")
    m = mesh.drop_duplicates(["pmid", "ui"]).merge(assign[["pmid", "topic"]], on="pmid")
    if m.empty:
        return pd.DataFrame(columns=SIGNATURE_COLUMNS)
    m = m.assign(w=np.where(m["major"].astype(bool), 1.0, minor_weight))
    names = mesh.drop_duplicates("ui").set_index("ui")["name"]
    k_all = m.groupby("ui")["pmid"].nunique().rename("n_all")
    g = m.groupby(["topic", "ui"]).agg(n_topic=("pmid", "size"), w=("w", "sum")).reset_index()
    g = g.join(k_all, on="ui").join(sizes, on="topic")
    g = g[g["n_topic"] >= min_count].copy()
    if g.empty:
        return pd.DataFrame(columns=SIGNATURE_COLUMNS)
    g["share"] = g["n_topic"] / g["size"]
    g["lift"] = g["share"] / (g["n_all"] / n_all_articles)
    g["p"] = hypergeom.sf(g["n_topic"] - 1, n_all_articles, g["n_all"], g["size"])
    g["q"] = bh(g["p"].to_numpy())
    g["score"] = (g["w"] / g["size"]) * np.log2(g["lift"].clip(lower=1.0))
    g = g[(g["q"] < alpha) & (g["lift"] > 1)]
    g = g.sort_values(["topic", "score", "ui"], ascending=[True, False, True])
    g = g.groupby("topic", sort=False).head(top).copy()
    g["rank"] = g.groupby("topic").cumcount() + 1
    g["name"] = g["ui"].map(names).fillna(g["ui"])
    return g[SIGNATURE_COLUMNS].reset_index(drop=True)


def ctfidf_scores(
    texts: list[str],
    labels: np.ndarray,
    *,
    ngram_range: tuple[int, int] = (1, 1),
    min_df: int = 2,
    stop_words: str | None = "english",
) -> tuple[np.ndarray, sparse.csr_matrix, list[str]]:
    """(topic ids, topics × terms c-TF-IDF matrix, terms)."""
    from sklearn.feature_extraction.text import CountVectorizer

    keep = labels >= 0
    texts = [t for t, k in zip(texts, keep, strict=True) if k]
    lab = labels[keep]
    vec = CountVectorizer(
        ngram_range=ngram_range, min_df=min(min_df, max(1, len(texts))), stop_words=stop_words,
        token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9\-]+\b",
    )
    x = vec.fit_transform(texts)
    ids, codes = np.unique(lab, return_inverse=True)
    onehot = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(ids), len(codes))
    )
    tf = (onehot @ x).tocsr().astype(float)
    return ids, ctfidf_transform(tf), list(vec.get_feature_names_out())


def ctfidf_transform(tf: sparse.csr_matrix | np.ndarray) -> sparse.csr_matrix:
    """c-TF-IDF of a topics × terms count matrix (BERTopic's ``ClassTfidfTransformer``
    without BM25 or frequent-word reduction)."""
    tf = sparse.csr_matrix(tf, dtype=float)
    f_t = np.asarray(tf.sum(axis=0)).ravel()
    avg_words = float(np.asarray(tf.sum(axis=1)).mean())
    idf = np.log(1.0 + avg_words / np.where(f_t > 0, f_t, 1.0))
    row = np.asarray(tf.sum(axis=1)).ravel()
    norm = sparse.diags(1.0 / np.where(row > 0, row, 1.0))
    return (norm @ tf @ sparse.diags(idf)).tocsr()


def top_terms(
    texts: list[str], labels: np.ndarray, *, top: int = 10, **kwargs: object
) -> pd.DataFrame:
    """``topic, term, score, rank``: each topic's ``top`` terms by c-TF-IDF."""
    if not len(labels) or (labels < 0).all():
        return pd.DataFrame(columns=["topic", "term", "score", "rank"])
    ids, w, terms = ctfidf_scores(texts, labels, **kwargs)  # type: ignore[arg-type]
    rows = []
    for r, t in enumerate(ids):
        line = w.getrow(r).toarray().ravel()
        best = np.argsort(-line, kind="stable")[:top]
        for rank, j in enumerate(best, start=1):
            if line[j] > 0:
                rows.append((int(t), terms[j], float(line[j]), rank))
    return pd.DataFrame(rows, columns=["topic", "term", "score", "rank"])


def topic_labels(
    topic_ids: list[int], signature: pd.DataFrame, terms: pd.DataFrame, n: int = 3
) -> dict[int, str]:
    """A readable label: the top ``n`` signature descriptors (2 when the third adds little:
    score below a quarter of the first), else the top c-TF-IDF terms."""
    out: dict[int, str] = {}
    sig = signature.sort_values(["topic", "rank"])
    by_topic = {t: g for t, g in sig.groupby("topic")}
    term_by_topic = {t: g.sort_values("rank") for t, g in terms.groupby("topic")}
    for t in topic_ids:
        g = by_topic.get(t)
        if g is not None and len(g):
            scores = g["score"].tolist()
            names = g["name"].tolist()[:n]
            if len(names) == 3 and scores[2] < 0.25 * scores[0]:
                names = names[:2]
            out[t] = " · ".join(names)
        elif t in term_by_topic:
            out[t] = " · ".join(term_by_topic[t]["term"].tolist()[:n])
        else:
            out[t] = f"topic {t}"
    return out
