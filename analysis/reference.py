"""An expert labelling to score topics against: each article's MeSH tree prefix.

For every article, the depth-2 tree prefixes (``C10.228.140`` → ``C10.228``) of all tree
numbers of its *major* descriptors (descriptor- or qualifier-level major); the most frequent
prefix is its class (ties: the alphabetically first). Articles without a major descriptor
with tree numbers are unlabelled and left out. The clustering never sees MeSH; only this
score does.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd


def tree_prefix(tree_number: str, depth: int = 2) -> str:
    """``C10.228.140`` → ``C10.228`` (depth 2)."""
    return ".".join(tree_number.split(".")[:depth])


def mesh_classes(mesh: pd.DataFrame, depth: int = 2) -> pd.Series:
    """pmid → class, from ``pmid, major, tree_numbers`` rows."""
    out: dict[str, str] = {}
    major = mesh[mesh["major"].astype(bool)]
    for pmid, g in major.groupby("pmid"):
        c: Counter[str] = Counter()
        for tns in g["tree_numbers"]:
            if tns is None or (isinstance(tns, float) and np.isnan(tns)):
                continue
            c.update({tree_prefix(t, depth) for t in tns})
        if c:
            best = max(c.values())
            out[str(pmid)] = min(k for k, v in c.items() if v == best)
    return pd.Series(out, name="mesh_class", dtype=object)


def nmi(pmids: list[str], labels: np.ndarray, classes: pd.Series) -> tuple[float, int, int]:
    """(NMI of topics against the classes over labelled articles, articles, classes).

    Articles in no topic (``-1``) count as one more cluster, as BERTopic's outliers do.
    """
    from sklearn.metrics import normalized_mutual_info_score

    s = pd.Series(labels, index=pmids)
    common = s.index.intersection(classes.index)
    if len(common) == 0:
        return float("nan"), 0, 0
    ref = classes.loc[common]
    return (
        float(normalized_mutual_info_score(ref.to_numpy(), s.loc[common].to_numpy())),
        len(common),
        int(ref.nunique()),
    )
