"""Graph structure: PageRank and in-degree over CITES, bridge articles, citation flow.

PageRank runs on every CITES edge touching the analysed set, stubs included (a stub that
many analysed articles cite passes its rank nowhere, as a dangling node, which PageRank
redistributes uniformly): sparse power iteration, the same fixed point as
``networkx.pagerank`` (tested), linear in the edges, so 1M articles with ~20M citations
are ~20 sparse products (seconds), where building a networkx graph would take minutes
and several GB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse


def pagerank(
    src: np.ndarray, dst: np.ndarray, n: int, *, alpha: float = 0.85, tol: float = 1e-10,
    max_iter: int = 200,
) -> np.ndarray:
    """PageRank of nodes ``0..n-1`` over directed edges ``src → dst`` (duplicates count
    once); dangling nodes spread their rank uniformly, as in networkx."""
    if n == 0:
        return np.zeros(0)
    a = sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    a.data[:] = 1.0
    out_deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.where(out_deg > 0, 1.0 / np.where(out_deg > 0, out_deg, 1.0), 0.0)
    p = sparse.diags(inv) @ a  # row-stochastic where out_deg > 0
    pt = p.T.tocsr()
    dangling = out_deg == 0
    r = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nxt = alpha * (pt @ r + r[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(nxt - r).sum() < n * tol:
            r = nxt
            break
        r = nxt
    return np.asarray(r / r.sum())


def article_structure(
    pmids: list[str], labels: np.ndarray, cites: pd.DataFrame
) -> pd.DataFrame:
    """Per analysed article: ``pmid, pagerank, in_degree, in_degree_corpus, participation,
    centrality`` (and ``out_degree_corpus``).

    ``pagerank`` is scaled so the mean over all graph nodes is 1 (comparable across graph
    sizes); ``in_degree`` counts every citing article, ``in_degree_corpus`` those in the
    analysed set. ``participation`` is ``1 - Σ_t (k_t / k)^2`` over the topics of an
    article's citation neighbours in the set (0: all in one topic). ``centrality`` is the
    in-topic in-degree (citations from articles of the same topic).
    """
    n_set = len(pmids)
    codes, nodes = pd.factorize(pd.concat([pd.Series(pmids), cites["src"], cites["dst"]],
                                          ignore_index=True))
    src = codes[n_set: n_set + len(cites)]
    dst = codes[n_set + len(cites):]
    pr = pagerank(src, dst, len(nodes)) * len(nodes)
    in_deg = np.bincount(dst, minlength=len(nodes))
    set_codes = codes[:n_set]
    pos = np.full(len(nodes), -1)
    pos[set_codes] = np.arange(n_set)
    s, d = pos[src], pos[dst]
    inside = (s >= 0) & (d >= 0) & (s != d)
    s, d = s[inside], d[inside]
    in_corpus = np.bincount(d, minlength=n_set)
    out_corpus = np.bincount(s, minlength=n_set)
    same = labels[s] == labels[d]
    centrality = np.bincount(d[same], minlength=n_set)
    # participation over both directions of in-set citations
    a_end = np.concatenate([s, d])
    b_end = np.concatenate([d, s])
    nb = pd.DataFrame({"a": a_end, "t": labels[b_end]})
    part = np.zeros(n_set)
    if len(nb):
        cnt = nb.groupby(["a", "t"]).size().rename("k").reset_index()
        cnt["tot"] = cnt.groupby("a")["k"].transform("sum")
        cnt["sq"] = (cnt["k"] / cnt["tot"]) ** 2
        pc = 1.0 - cnt.groupby("a")["sq"].sum()
        part[pc.index.to_numpy()] = pc.to_numpy()
    return pd.DataFrame({
        "pmid": pmids,
        "pagerank": pr[set_codes],
        "in_degree": in_deg[set_codes],
        "in_degree_corpus": in_corpus,
        "out_degree_corpus": out_corpus,
        "participation": part,
        "centrality": centrality,
    })


def citation_flow(pmids: list[str], labels: np.ndarray, cites: pd.DataFrame) -> pd.DataFrame:
    """``source, target, citations``: how often articles of topic ``source`` cite articles
    of topic ``target`` (in-set citations, ``source != target``)."""
    index = pd.Series(np.arange(len(pmids)), index=pmids)
    s = cites["src"].map(index)
    d = cites["dst"].map(index)
    ok = s.notna() & d.notna()
    df = pd.DataFrame({"source": labels[s[ok].astype(int)], "target": labels[d[ok].astype(int)]})
    df = df[(df["source"] != df["target"]) & (df["source"] >= 0) & (df["target"] >= 0)]
    return df.groupby(["source", "target"]).size().rename("citations").reset_index()


def bridges(structure: pd.DataFrame, top: int = 50, min_links: int = 3) -> pd.DataFrame:
    """Articles linking topics: participation · log(1 + in-set citation links), among those
    with at least ``min_links`` in-set citations in either direction."""
    df = structure.copy()
    links = df["in_degree_corpus"] + df.get("out_degree_corpus", 0)
    df["bridge_score"] = df["participation"] * np.log1p(links)
    df = df[links >= min_links]
    return df.sort_values(["bridge_score", "pmid"], ascending=[False, True]).head(top)
