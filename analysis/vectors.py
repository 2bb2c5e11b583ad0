"""Read what an analysis needs from the graph: one model's vectors, MeSH, citations.

Everything comes back as numpy arrays and pandas DataFrames keyed by ``pmid``; the rest of
the package works on those and never talks to Neo4j (only ``write`` and ``read`` do).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pubgraph.analysis import queries as q
from pubgraph.core.errors import InputError
from pubgraph.graph.db import GraphDB, batched, run_read

PAGE = 5000
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; total 0 when unknown."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def fetch(db: GraphDB, query: str, params: dict[str, object] | None = None) -> pd.DataFrame:
    """A read query's rows as a DataFrame, in one managed transaction.

    Records are taken as plain tuples: ``Record.data()`` walks every value again (every
    float of every vector) and was 12× slower on 1,536 vectors.
    """

    def work(tx: object) -> tuple[list[str], list[tuple[object, ...]]]:
        result = tx.run(query, params or {})  # type: ignore[attr-defined]
        return list(result.keys()), [tuple(r) for r in result]

    with db.session() as session:
        keys, rows = session.execute_read(work)
    return pd.DataFrame.from_records(rows, columns=keys)


@dataclass
class Corpus:
    """The articles of one embedding model: vectors (L2-normalised rows) and metadata."""

    model: str
    pmids: list[str]
    vectors: np.ndarray  # float32, (n, d), rows of unit length
    years: np.ndarray  # float (NaN where unknown)
    titles: list[str]
    texts: list[str]

    @property
    def n(self) -> int:
        return len(self.pmids)

    def fingerprint(self) -> str:
        """A digest of the article set and the model: equal inputs give equal run ids."""
        h = hashlib.sha256(self.model.encode())
        for p in self.pmids:
            h.update(p.encode() + b"\0")
        h.update(np.round(self.vectors[: min(50, self.n)], 4).tobytes())
        return h.hexdigest()[:16]


def embedding_models(db: GraphDB) -> pd.DataFrame:
    """The EmbeddingModel nodes: id, name, dimension, count (vectors now in the graph)."""
    return pd.DataFrame(
        run_read(db, q.EMBEDDING_MODELS), columns=["id", "name", "dimension", "count", "updated"]
    )


def choose_model(db: GraphDB, model: str | None) -> str:
    """``model`` if it has vectors, else the most recently updated model with vectors."""
    models = embedding_models(db)
    with_vectors = models[models["count"] > 0]
    if model is not None:
        hit = models[(models["id"] == model) | (models["name"] == model)]
        if hit.empty:
            known = ", ".join(models["id"]) or "none"
            raise InputError(f"no EmbeddingModel {model!r} in the graph (known: {known})",
                             field="--model")
        return str(hit.iloc[0]["id"])
    if with_vectors.empty:
        raise InputError(
            "no article vectors in the graph: run `pubgraph embed` first", field="embedding"
        )
    return str(with_vectors.iloc[0]["id"])


def load_corpus(db: GraphDB, model: str, progress: Progress = _no_progress) -> Corpus:
    """Every text article with a vector of ``model``, in pmid order."""
    from pubgraph.core.contracts import article_text

    total = int(
        embedding_models(db).set_index("id")["count"].get(model, 0)
    )
    frames: list[pd.DataFrame] = []
    vecs: list[list[float]] = []
    after = ""
    done = 0
    while True:
        page = fetch(db, q.VECTORS_PAGE, {"model": model, "after": after, "page": PAGE})
        if page.empty:
            break
        vecs.extend(page.pop("vector").tolist())
        frames.append(page)
        done += len(page)
        after = str(page["pmid"].iloc[-1])
        progress("read vectors", done, total)
        if len(page) < PAGE:
            break
    meta = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["pmid", "year", "title", "abstract"])
    pmids = meta["pmid"].astype(str).tolist()
    years = pd.to_numeric(meta["year"], errors="coerce").to_numpy(dtype=float)
    titles = meta["title"].fillna("").astype(str).tolist()
    texts = [
        article_text(t if isinstance(t, str) else None, a if isinstance(a, str) else None)
        for t, a in zip(meta["title"], meta["abstract"], strict=True)
    ]
    if not pmids:
        raise InputError(f"model {model!r} has no vectors on text articles", field="--model")
    x = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x /= np.where(norms > 0, norms, 1.0)
    return Corpus(model, pmids, x, years, titles, texts)


def load_mesh(db: GraphDB, pmids: list[str], progress: Progress = _no_progress) -> pd.DataFrame:
    """``pmid, ui, name, major, tree_numbers``: one row per (article, descriptor)."""
    cols = ["pmid", "ui", "name", "major", "tree_numbers"]
    frames = []
    done = 0
    for chunk in batched(pmids, PAGE):
        frames.append(fetch(db, q.ARTICLE_MESH, {"pmids": chunk}))
        done += len(chunk)
        progress("read MeSH", done, len(pmids))
    if not frames or all(f.empty for f in frames):
        return pd.DataFrame(columns=cols)
    m = pd.concat(frames, ignore_index=True).explode(["uis", "majors"], ignore_index=True)
    m = m.rename(columns={"uis": "ui", "majors": "major"}).dropna(subset=["ui"])
    m["major"] = m["major"].astype(bool)
    terms = fetch(db, q.MESH_TERMS, {"uis": m["ui"].drop_duplicates().tolist()})
    return m.merge(terms, on="ui", how="left")[cols]


def load_citations(
    db: GraphDB, pmids: list[str], progress: Progress = _no_progress
) -> pd.DataFrame:
    """``src, dst``: every CITES edge with at least one end in ``pmids`` (stubs included)."""
    frames = []
    done = 0
    for chunk in batched(pmids, PAGE):
        frames.append(fetch(db, q.CITES_OUT, {"pmids": chunk}).explode("dst"))
        frames.append(fetch(db, q.CITES_IN, {"pmids": chunk}).explode("src"))
        done += len(chunk)
        progress("read citations", done, len(pmids))
    if not frames:
        return pd.DataFrame(columns=["src", "dst"])
    out = pd.concat(frames, ignore_index=True)[["src", "dst"]].dropna()
    return out.astype(str).drop_duplicates(ignore_index=True)
